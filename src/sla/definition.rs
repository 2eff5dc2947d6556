//! A business calendar as administrators write it — in TOML (`[calendars.NAME]`) or through
//! `PUT /calendars/{name}` — and as the API shows it: a time zone, the opening hours of each
//! weekday as `HH:MM` texts, and holiday rules. Checking a definition names every bad field
//! (`week[2].hours[1].close`); a good one becomes a `Calendar`.

use super::calendar::{
    Calendar, DayInterval, FIRST_YEAR, LAST_YEAR, SECONDS_PER_DAY, WeeklySchedule,
};
use super::holidays::{HolidayDate, HolidayRule, Holidays};
use crate::domain::validation::{Checker, Invalid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The weekdays as definitions name them, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Most opening intervals in a day, and most holiday rules.
const MAX_INTERVALS: usize = 24;
const MAX_HOLIDAYS: usize = 100;

/// A calendar's time zone, weekly hours and holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDefinition {
    /// An IANA time zone: the hours and holidays are local to it.
    #[schema(max_length = 50, example = "Europe/Rome")]
    pub time_zone: String,
    /// The opening hours of each weekday the calendar opens; a day left out is closed.
    #[schema(max_items = 7)]
    pub week: Vec<DayHours>,
    /// Days closed every year (a holiday on a weekend is not moved).
    #[serde(default)]
    #[schema(max_items = 100)]
    pub holidays: Vec<HolidayDefinition>,
}

/// One weekday's opening hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayHours {
    /// `monday` … `sunday`.
    #[schema(
        max_length = 10,
        pattern = "^(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$",
        example = "monday"
    )]
    pub day: String,
    /// Intervals `[open, close)` in local time; they may not overlap.
    #[schema(max_items = 24)]
    pub hours: Vec<OpeningHours>,
}

/// Opening hours within a day, local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// `HH:MM` (or `HH:MM:SS`), from `00:00` to `23:59:59`.
    #[schema(
        max_length = 8,
        pattern = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$",
        example = "08:30"
    )]
    pub open: String,
    /// `HH:MM` (or `HH:MM:SS`), after `open`; `24:00` is the end of the day.
    #[schema(
        max_length = 8,
        pattern = r"^(([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?|24:00(:00)?)$",
        example = "13:00"
    )]
    pub close: String,
}

/// A holiday rule: a fixed date or one relative to Easter, with years of validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayDefinition {
    #[schema(max_length = 100, example = "Sant'Ambrogio")]
    pub name: String,
    /// `MM-DD` for a fixed date; `easter_monday`, `good_friday`, `easter`, `ascension`,
    /// `pentecost`, `whit_monday`, `corpus_christi`, or `easter+N` / `easter-N`.
    #[schema(
        max_length = 20,
        pattern = r"^((0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])|good_friday|easter|easter_monday|ascension|pentecost|whit_monday|corpus_christi|easter[+-]\d{1,3})$",
        example = "12-07"
    )]
    pub date: String,
    /// The first year it applies (default: always).
    #[schema(minimum = 1900, maximum = 2400)]
    pub first_year: Option<i32>,
    /// The last year it applies (default: for ever).
    #[schema(minimum = 1900, maximum = 2400)]
    pub last_year: Option<i32>,
}

/// `HH:MM` or `HH:MM:SS` as seconds after midnight (24:00 is 86,400).
fn parse_time_of_day(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let numbers: Vec<u32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (hours, minutes, seconds) = (numbers[0], numbers[1], *numbers.get(2).unwrap_or(&0));
    if minutes > 59 || seconds > 59 || hours > 24 {
        return None;
    }
    let total = hours * 3600 + minutes * 60 + seconds;
    (total <= SECONDS_PER_DAY).then_some(total)
}

fn time_of_day_text(seconds: u32) -> String {
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if rest == 0 {
        format!("{hours:02}:{minutes:02}")
    } else {
        format!("{hours:02}:{minutes:02}:{rest:02}")
    }
}

/// What a checked definition describes.
#[derive(Debug, Clone)]
pub struct CheckedDefinition {
    pub time_zone: chrono_tz::Tz,
    pub week: WeeklySchedule,
    pub holidays: Holidays,
}

impl CalendarDefinition {
    /// Checks every field, naming each bad one (`week[2].hours[1].close`).
    pub fn check(&self) -> Result<CheckedDefinition, Invalid> {
        let mut checker = Checker::new();
        let time_zone = self.time_zone.parse::<chrono_tz::Tz>().ok();
        if time_zone.is_none() {
            checker.add("time_zone", "is not a time zone like Europe/Rome");
        }
        let week = check_week(&mut checker, &self.week);
        let holidays = check_holidays(&mut checker, &self.holidays);
        checker.finish()?;
        Ok(CheckedDefinition {
            time_zone: time_zone.expect("checked"),
            week,
            holidays,
        })
    }

    /// The calendar this definition describes, named `name`, with no closures.
    pub fn to_calendar(&self, name: &str) -> Result<Calendar, Invalid> {
        let checked = self.check()?;
        Calendar::new(
            name,
            checked.time_zone,
            checked.week,
            checked.holidays,
            Vec::new(),
        )
        .map_err(|e| Invalid::one("week", e.to_string()))
    }

    /// The definition of `calendar`, as the API shows it (every weekday, closed ones with no
    /// hours).
    pub fn of(calendar: &Calendar) -> CalendarDefinition {
        CalendarDefinition {
            time_zone: calendar.time_zone.name().to_owned(),
            week: WEEKDAYS
                .iter()
                .zip(&calendar.week.days)
                .map(|(day, intervals)| DayHours {
                    day: (*day).to_owned(),
                    hours: intervals
                        .iter()
                        .map(|i| OpeningHours {
                            open: time_of_day_text(i.open),
                            close: time_of_day_text(i.close),
                        })
                        .collect(),
                })
                .collect(),
            holidays: calendar
                .holidays
                .rules
                .iter()
                .map(|rule| HolidayDefinition {
                    name: rule.name.clone(),
                    date: rule.date.to_text(),
                    first_year: rule.first_year,
                    last_year: rule.last_year,
                })
                .collect(),
        }
    }
}

fn check_week(checker: &mut Checker, days: &[DayHours]) -> WeeklySchedule {
    let mut week = WeeklySchedule::default();
    let mut seen = [false; 7];
    for (i, day) in days.iter().enumerate() {
        let Some(index) = WEEKDAYS.iter().position(|name| *name == day.day) else {
            checker.add(
                format!("week[{i}].day"),
                "must be monday, tuesday, … or sunday",
            );
            continue;
        };
        if std::mem::replace(&mut seen[index], true) {
            checker.add(
                format!("week[{i}].day"),
                format!("lists {} a second time", day.day),
            );
            continue;
        }
        if day.hours.len() > MAX_INTERVALS {
            checker.add(
                format!("week[{i}].hours"),
                format!("at most {MAX_INTERVALS} intervals a day"),
            );
            continue;
        }
        let mut intervals: Vec<(usize, DayInterval)> = Vec::new();
        for (j, hours) in day.hours.iter().enumerate() {
            let field = |part: &str| format!("week[{i}].hours[{j}].{part}");
            let open = parse_time_of_day(&hours.open).filter(|&t| t < SECONDS_PER_DAY);
            let close = parse_time_of_day(&hours.close);
            if open.is_none() {
                checker.add(
                    field("open"),
                    "must be a time from 00:00 to 23:59, like 08:30",
                );
            }
            match (open, close) {
                (_, None) => checker.add(
                    field("close"),
                    "must be a time from 00:01 to 24:00, like 13:00",
                ),
                (Some(open), Some(close)) if close <= open => {
                    checker.add(
                        field("close"),
                        format!("must be after open ({})", hours.open),
                    );
                }
                (Some(open), Some(close)) => intervals.push((j, DayInterval { open, close })),
                (None, Some(_)) => {}
            }
        }
        intervals.sort_by_key(|(_, interval)| interval.open);
        for pair in intervals.windows(2) {
            let ((_, earlier), (j, later)) = (pair[0], pair[1]);
            if later.open < earlier.close {
                checker.add(
                    format!("week[{i}].hours[{j}].open"),
                    format!(
                        "overlaps the interval that closes at {}",
                        time_of_day_text(earlier.close)
                    ),
                );
            }
        }
        week.days[index] = intervals
            .into_iter()
            .map(|(_, interval)| interval)
            .collect();
    }
    if days.iter().all(|day| day.hours.is_empty()) {
        checker.add("week", "must open at least once a week");
    }
    week
}

fn check_holidays(checker: &mut Checker, holidays: &[HolidayDefinition]) -> Holidays {
    if holidays.len() > MAX_HOLIDAYS {
        checker.add("holidays", format!("at most {MAX_HOLIDAYS} rules"));
        return Holidays::default();
    }
    let mut rules = Vec::new();
    let years = FIRST_YEAR..=LAST_YEAR;
    for (i, holiday) in holidays.iter().enumerate() {
        checker.required_line(&format!("holidays[{i}].name"), Some(&holiday.name), 100);
        let date = HolidayDate::parse(&holiday.date);
        if date.is_none() {
            checker.add(
                format!("holidays[{i}].date"),
                "must be MM-DD (a real date, like 12-07) or an Easter day (easter_monday, easter+60)",
            );
        }
        for (field, year) in [
            ("first_year", holiday.first_year),
            ("last_year", holiday.last_year),
        ] {
            if year.is_some_and(|y| !years.contains(&y)) {
                checker.add(
                    format!("holidays[{i}].{field}"),
                    format!("must be from {FIRST_YEAR} to {LAST_YEAR}"),
                );
            }
        }
        if let (Some(first), Some(last)) = (holiday.first_year, holiday.last_year)
            && last < first
        {
            checker.add(
                format!("holidays[{i}].last_year"),
                "must not be before first_year",
            );
        }
        if let Some(date) = date {
            rules.push(HolidayRule {
                name: holiday.name.trim().to_owned(),
                date,
                first_year: holiday.first_year,
                last_year: holiday.last_year,
            });
        }
    }
    Holidays { rules }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(open: &str, close: &str) -> OpeningHours {
        OpeningHours {
            open: open.into(),
            close: close.into(),
        }
    }

    fn split_day() -> CalendarDefinition {
        CalendarDefinition {
            time_zone: "Europe/Rome".into(),
            week: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                .iter()
                .map(|day| DayHours {
                    day: (*day).into(),
                    hours: vec![hours("08:30", "13:00"), hours("14:00", "17:30")],
                })
                .collect(),
            holidays: vec![HolidayDefinition {
                name: "Sant'Ambrogio".into(),
                date: "12-07".into(),
                first_year: None,
                last_year: None,
            }],
        }
    }

    fn fields_of(definition: &CalendarDefinition) -> Vec<String> {
        match definition.check() {
            Ok(_) => Vec::new(),
            Err(invalid) => invalid.0.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_split_day_definition_round_trips_through_its_calendar() {
        let calendar = split_day().to_calendar("ufficio").unwrap();
        assert_eq!(
            calendar.week.days[0],
            vec![
                DayInterval::hm(8, 30, 13, 0),
                DayInterval::hm(14, 0, 17, 30)
            ]
        );
        assert!(calendar.week.days[5].is_empty());
        let shown = CalendarDefinition::of(&calendar);
        assert_eq!(shown.week.len(), 7, "closed days are listed without hours");
        assert!(shown.week[6].hours.is_empty());
        let again = shown.to_calendar("ufficio").unwrap();
        assert_eq!(
            (&again.week, &again.holidays),
            (&calendar.week, &calendar.holidays)
        );
    }

    #[test]
    fn bad_definitions_name_their_fields() {
        let mut cases: Vec<(CalendarDefinition, Vec<&str>)> = Vec::new();
        let with = |change: &dyn Fn(&mut CalendarDefinition)| {
            let mut definition = split_day();
            change(&mut definition);
            definition
        };
        cases.push((
            with(&|d| d.week[2].hours[1] = hours("12:00", "17:30")),
            vec!["week[2].hours[1].open"],
        ));
        cases.push((
            with(&|d| d.week[0].hours[0] = hours("13:00", "08:30")),
            vec!["week[0].hours[0].close"],
        ));
        cases.push((
            with(&|d| d.week[1].hours[1].close = "25:00".into()),
            vec!["week[1].hours[1].close"],
        ));
        cases.push((
            with(&|d| d.week[1].hours[0].open = "24:00".into()),
            vec!["week[1].hours[0].open"],
        ));
        cases.push((
            with(&|d| d.week[1].hours[0].open = "8:30".into()),
            vec!["week[1].hours[0].open"],
        ));
        cases.push((
            with(&|d| d.time_zone = "Europe/Firenze".into()),
            vec!["time_zone"],
        ));
        cases.push((
            with(&|d| d.holidays[0].date = "02-30".into()),
            vec!["holidays[0].date"],
        ));
        cases.push((
            with(&|d| {
                d.holidays[0].first_year = Some(2030);
                d.holidays[0].last_year = Some(2020);
            }),
            vec!["holidays[0].last_year"],
        ));
        cases.push((with(&|d| d.week.clear()), vec!["week"]));
        cases.push((
            with(&|d| d.week.iter_mut().for_each(|day| day.hours.clear())),
            vec!["week"],
        ));
        cases.push((
            with(&|d| d.week[4].day = "monday".into()),
            vec!["week[4].day"],
        ));
        cases.push((
            with(&|d| d.week[4].day = "lunedì".into()),
            vec!["week[4].day"],
        ));
        for (definition, expected) in cases {
            assert_eq!(fields_of(&definition), expected, "{definition:?}");
        }
        let mut midnight = split_day();
        midnight.week[0].hours = vec![hours("00:00", "24:00")];
        assert_eq!(
            fields_of(&midnight),
            Vec::<String>::new(),
            "24:00 closes a day"
        );
    }
}
