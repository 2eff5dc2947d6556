//! Holidays as rules with years of validity (a law adds San Francesco from 2026 on), the
//! Italian national calendar with Easter Monday from the computus, and patron saints by
//! municipality. Exposed through `bdays::HolidayCalendar`.

use chrono::{Datelike, Duration, NaiveDate};

/// When a holiday falls in a given year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolidayDate {
    /// The same day every year (29 February only in leap years).
    Fixed { month: u32, day: u32 },
    /// This many days after Easter Sunday (Gregorian computus): 1 is Easter Monday (Lunedì
    /// dell'Angelo), -2 Good Friday, 60 Corpus Domini.
    Easter { offset: i32 },
}

/// The Easter-relative days that have a name, as definitions write them.
pub const EASTER_DAYS: &[(&str, i32)] = &[
    ("good_friday", -2),
    ("easter", 0),
    ("easter_monday", 1),
    ("ascension", 39),
    ("pentecost", 49),
    ("whit_monday", 50),
    ("corpus_christi", 60),
];

impl HolidayDate {
    /// Easter Monday, the Italian national holiday.
    pub const EASTER_MONDAY: HolidayDate = HolidayDate::Easter { offset: 1 };

    /// `MM-DD`, a named Easter day (`easter_monday`) or `easter+N` / `easter-N` (N up to 100).
    pub fn parse(text: &str) -> Option<HolidayDate> {
        if let Some(&(_, offset)) = EASTER_DAYS.iter().find(|(name, _)| *name == text) {
            return Some(HolidayDate::Easter { offset });
        }
        if let Some(offset) = text.strip_prefix("easter") {
            let offset: i32 = offset.strip_prefix('+').unwrap_or(offset).parse().ok()?;
            return (offset.abs() <= 100 && text.len() > 6)
                .then_some(HolidayDate::Easter { offset });
        }
        let (month, day) = text.split_once('-')?;
        if month.len() != 2 || day.len() != 2 {
            return None;
        }
        let (month, day) = (month.parse().ok()?, day.parse().ok()?);
        // 2000 is a leap year: 02-29 is a valid rule (it falls in leap years only).
        NaiveDate::from_ymd_opt(2000, month, day).map(|_| HolidayDate::Fixed { month, day })
    }

    /// The form `parse` reads.
    pub fn to_text(&self) -> String {
        match *self {
            HolidayDate::Fixed { month, day } => format!("{month:02}-{day:02}"),
            HolidayDate::Easter { offset } => EASTER_DAYS
                .iter()
                .find(|(_, o)| *o == offset)
                .map(|(name, _)| (*name).to_owned())
                .unwrap_or_else(|| format!("easter{offset:+}")),
        }
    }
}

/// A holiday and the years it applies (inclusive; `None` = unbounded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayRule {
    pub name: String,
    pub date: HolidayDate,
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
}

impl HolidayRule {
    pub fn fixed(name: &str, month: u32, day: u32) -> HolidayRule {
        HolidayRule {
            name: name.to_owned(),
            date: HolidayDate::Fixed { month, day },
            first_year: None,
            last_year: None,
        }
    }

    pub fn from_year(mut self, year: i32) -> HolidayRule {
        self.first_year = Some(year);
        self
    }

    /// The rule's date in `year`, if it applies that year.
    pub fn date_in(&self, year: i32) -> Option<NaiveDate> {
        if self.first_year.is_some_and(|first| year < first)
            || self.last_year.is_some_and(|last| year > last)
        {
            return None;
        }
        match self.date {
            HolidayDate::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            HolidayDate::Easter { offset } => bdays::easter::easter_naive_date(year)
                .ok()
                .map(|easter| easter + Duration::days(offset.into())),
        }
    }
}

/// The national holidays of Italy. A holiday on a weekend is not moved.
pub fn italian_national_holidays() -> Vec<HolidayRule> {
    vec![
        HolidayRule::fixed("Capodanno", 1, 1),
        HolidayRule::fixed("Epifania", 1, 6),
        HolidayRule {
            name: "Lunedì dell'Angelo".into(),
            date: HolidayDate::EASTER_MONDAY,
            first_year: None,
            last_year: None,
        },
        HolidayRule::fixed("Festa della Liberazione", 4, 25),
        HolidayRule::fixed("Festa del Lavoro", 5, 1),
        HolidayRule::fixed("Festa della Repubblica", 6, 2),
        HolidayRule::fixed("Ferragosto", 8, 15),
        // Law 151 of 8 October 2025: San Francesco d'Assisi is a national holiday again.
        HolidayRule::fixed("San Francesco d'Assisi", 10, 4).from_year(2026),
        HolidayRule::fixed("Ognissanti", 11, 1),
        HolidayRule::fixed("Immacolata Concezione", 12, 8),
        HolidayRule::fixed("Natale", 12, 25),
        HolidayRule::fixed("Santo Stefano", 12, 26),
    ]
}

/// Patron saints' days by municipality (lower-case name → saint, month, day).
pub const PATRON_SAINTS: &[(&str, &str, u32, u32)] = &[
    ("bologna", "San Petronio", 10, 4),
    ("cagliari", "San Saturnino", 10, 30),
    ("firenze", "San Giovanni Battista", 6, 24),
    ("genova", "San Giovanni Battista", 6, 24),
    ("milano", "Sant'Ambrogio", 12, 7),
    ("napoli", "San Gennaro", 9, 19),
    ("palermo", "Santa Rosalia", 7, 15),
    ("prato", "Santo Stefano", 12, 26),
    ("roma", "Santi Pietro e Paolo", 6, 29),
    ("torino", "San Giovanni Battista", 6, 24),
    ("trieste", "San Giusto", 11, 3),
    ("venezia", "San Marco", 4, 25),
];

/// The patron saint's holiday of `municipality`, if the table knows it.
pub fn patron_saint(municipality: &str) -> Option<HolidayRule> {
    let wanted = municipality.to_lowercase();
    PATRON_SAINTS
        .iter()
        .find(|(name, ..)| *name == wanted)
        .map(|&(_, saint, month, day)| HolidayRule::fixed(saint, month, day))
}

/// A set of holiday rules, answering for any date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    pub rules: Vec<HolidayRule>,
}

impl Holidays {
    /// The holidays of `year`, sorted, each with its name.
    pub fn in_year(&self, year: i32) -> Vec<(NaiveDate, &str)> {
        let mut dates: Vec<_> = self
            .rules
            .iter()
            .filter_map(|rule| rule.date_in(year).map(|date| (date, rule.name.as_str())))
            .collect();
        dates.sort();
        dates.dedup_by_key(|(date, _)| *date);
        dates
    }
}

impl bdays::HolidayCalendar<NaiveDate> for Holidays {
    fn is_holiday(&self, date: NaiveDate) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.date_in(date.year()) == Some(date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bdays::HolidayCalendar;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn easter_mondays_follow_the_computus() {
        let rule = &italian_national_holidays()[2];
        let expected = [
            (2015, "2015-04-06"),
            (2016, "2016-03-28"),
            (2019, "2019-04-22"),
            (2024, "2024-04-01"),
            (2025, "2025-04-21"),
            (2026, "2026-04-06"),
            (2030, "2030-04-22"),
        ];
        for (year, monday) in expected {
            assert_eq!(rule.date_in(year), Some(date(monday)), "{year}");
        }
    }

    #[test]
    fn holiday_dates_read_and_write_their_text() {
        for (text, date) in [
            ("06-24", HolidayDate::Fixed { month: 6, day: 24 }),
            ("02-29", HolidayDate::Fixed { month: 2, day: 29 }),
            ("easter_monday", HolidayDate::EASTER_MONDAY),
            ("good_friday", HolidayDate::Easter { offset: -2 }),
            ("easter+3", HolidayDate::Easter { offset: 3 }),
            ("easter-1", HolidayDate::Easter { offset: -1 }),
        ] {
            assert_eq!(HolidayDate::parse(text), Some(date.clone()), "{text}");
            assert_eq!(date.to_text(), text);
        }
        for bad in [
            "02-30",
            "13-01",
            "6-24",
            "06/24",
            "easter+101",
            "easter",
            "easterx",
            "",
        ] {
            if bad == "easter" {
                continue; // a named day
            }
            assert_eq!(HolidayDate::parse(bad), None, "{bad}");
        }
        let corpus = HolidayRule {
            name: "Corpus Domini".into(),
            date: HolidayDate::parse("corpus_christi").unwrap(),
            first_year: None,
            last_year: None,
        };
        assert_eq!(corpus.date_in(2016), Some(date("2016-05-26")));
    }

    #[test]
    fn san_francesco_is_a_holiday_from_2026_only() {
        let mut holidays = Holidays {
            rules: italian_national_holidays(),
        };
        assert!(!holidays.is_holiday(date("2025-10-04")));
        assert!(holidays.is_holiday(date("2026-10-04")));
        holidays.rules.push(patron_saint("Firenze").unwrap());
        assert!(holidays.is_holiday(date("2016-06-24")));
        assert!(!holidays.is_bday(date("2016-12-26")));
        assert_eq!(holidays.in_year(2016).len(), 12);
    }
}
