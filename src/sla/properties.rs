//! Property tests over random calendars and instants.

use super::calendar::{Calendar, Closure, DayInterval, WeeklySchedule};
use super::holidays::{HolidayRule, Holidays};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

const ZONES: &[chrono_tz::Tz] = &[
    chrono_tz::Europe::Rome,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe, // a 30-minute daylight-saving shift
    chrono_tz::Asia::Kolkata,
    chrono_tz::UTC,
];

/// Up to three intervals a day, on any second (including ones crossing 02:00-03:00).
fn day_intervals() -> impl Strategy<Value = Vec<DayInterval>> {
    prop::collection::vec(0u32..=86_400, 0..=6).prop_map(|mut bounds| {
        bounds.sort_unstable();
        bounds.dedup();
        bounds
            .chunks_exact(2)
            .map(|pair| DayInterval {
                open: pair[0],
                close: pair[1],
            })
            .collect()
    })
}

fn calendars() -> impl Strategy<Value = Calendar> {
    (
        0..ZONES.len(),
        prop::array::uniform7(day_intervals()),
        prop::collection::vec((1u32..=12, 1u32..=28), 0..6),
        prop::collection::vec((2015i32..2019, 1u32..=365, 0i64..10), 0..3),
    )
        // At least 4 open hours a week: the longest duration drawn (~5,500 h) then ends within
        // about 27 years, inside the years the engine answers for even from 2200.
        .prop_filter("open at least 4 hours a week", |(_, days, _, _)| {
            days.iter().flatten().map(|i| i.close - i.open).sum::<u32>() >= 4 * 3600
        })
        .prop_filter_map(
            "a calendar that opens",
            |(zone, days, holidays, closures)| {
                let holidays = Holidays {
                    rules: holidays
                        .into_iter()
                        .map(|(month, day)| HolidayRule::fixed("festa", month, day))
                        .collect(),
                };
                let closures = closures
                    .into_iter()
                    .filter_map(|(year, ordinal, length)| {
                        let first = NaiveDate::from_yo_opt(year, ordinal)?;
                        Some(Closure {
                            first,
                            last: first + Duration::days(length),
                            reason: "chiuso".into(),
                        })
                    })
                    .collect();
                Calendar::new(
                    "random",
                    ZONES[zone],
                    WeeklySchedule { days },
                    holidays,
                    closures,
                )
                .ok()
            },
        )
}

/// Calendars as administrators define them (`PUT /calendars/{name}`): `HH:MM[:SS]` texts,
/// any weekdays, fixed and Easter-relative holidays with years of validity, then checked and
/// built like the API builds them.
fn defined_calendars() -> impl Strategy<Value = Calendar> {
    use super::definition::{
        CalendarDefinition, DayHours, HolidayDefinition, OpeningHours, WEEKDAYS,
    };
    let text = |seconds: u32| {
        let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
        if s == 0 {
            format!("{h:02}:{m:02}")
        } else {
            format!("{h:02}:{m:02}:{s:02}")
        }
    };
    let holiday = (
        prop_oneof![
            (1u32..=12, 1u32..=28).prop_map(|(m, d)| format!("{m:02}-{d:02}")),
            Just("easter_monday".to_owned()),
            Just("good_friday".to_owned()),
            (-46i32..=60).prop_map(|n| format!("easter{n:+}")),
        ],
        prop::option::of(1990i32..2030),
        0i32..40,
    )
        .prop_map(|(date, first_year, length)| HolidayDefinition {
            name: "festa".into(),
            date,
            first_year,
            last_year: first_year.map(|y| y + length),
        });
    (
        0..ZONES.len(),
        prop::array::uniform7(day_intervals()),
        prop::collection::vec(holiday, 0..8),
    )
        .prop_filter("open at least 4 hours a week", |(_, days, _)| {
            days.iter().flatten().map(|i| i.close - i.open).sum::<u32>() >= 4 * 3600
        })
        .prop_map(move |(zone, days, holidays)| CalendarDefinition {
            time_zone: ZONES[zone].name().to_owned(),
            week: WEEKDAYS
                .iter()
                .zip(days)
                .map(|(day, intervals)| DayHours {
                    day: (*day).to_owned(),
                    hours: intervals
                        .iter()
                        .map(|i| OpeningHours {
                            open: text(i.open),
                            close: text(i.close),
                        })
                        .collect(),
                })
                .collect(),
            holidays,
        })
        .prop_map(|definition| {
            definition
                .to_calendar("defined")
                .expect("a definition made of valid parts is valid")
        })
}

/// Calendars built directly or from definitions.
fn any_calendar() -> impl Strategy<Value = Calendar> {
    prop_oneof![calendars(), defined_calendars()]
}

/// Instants from 1970 to 2200, to the microsecond.
fn instants() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..7_258_118_400, 0i64..1_000_000).prop_map(|(seconds, micros)| {
        DateTime::from_timestamp(seconds, 0).unwrap() + Duration::microseconds(micros)
    })
}

/// Up to about a year of business time.
fn durations() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..=3_600, 0i64..=86_400, 0i64..=20_000_000]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn elapsed_up_to_the_deadline_is_the_duration(calendar in any_calendar(), start in instants(), d in durations()) {
        let deadline = calendar.deadline(start, d).unwrap();
        prop_assert!(deadline >= start);
        prop_assert_eq!(calendar.elapsed(start, deadline).unwrap(), d);
    }

    #[test]
    fn deadline_is_monotonic_in_duration_and_start(
        calendar in any_calendar(), start in instants(), shift in 0i64..1_000_000, a in durations(), b in durations()
    ) {
        let (short, long) = (a.min(b), a.max(b));
        prop_assert!(calendar.deadline(start, short).unwrap() <= calendar.deadline(start, long).unwrap());
        let later = start + Duration::seconds(shift);
        prop_assert!(calendar.deadline(start, a).unwrap() <= calendar.deadline(later, a).unwrap());
    }

    #[test]
    fn deadlines_compose(calendar in any_calendar(), start in instants(), a in 1i64..=2_000_000, b in durations()) {
        let step = calendar.deadline(start, a).unwrap();
        prop_assert_eq!(calendar.deadline(step, b).unwrap(), calendar.deadline(start, a + b).unwrap());
    }

    #[test]
    fn elapsed_is_additive(calendar in any_calendar(), start in instants(), x in 0i64..40_000_000, y in 0i64..40_000_000) {
        let middle = start + Duration::seconds(x);
        let end = middle + Duration::seconds(y);
        let whole = calendar.elapsed_micros(start.timestamp_micros(), end.timestamp_micros()).unwrap();
        let parts = calendar.elapsed_micros(start.timestamp_micros(), middle.timestamp_micros()).unwrap()
            + calendar.elapsed_micros(middle.timestamp_micros(), end.timestamp_micros()).unwrap();
        prop_assert_eq!(whole, parts);
    }
}
