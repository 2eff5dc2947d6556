//! Holidays as rules with years of validity (a law adds San Francesco from 2026 on), the
//! Italian national calendar with Easter Monday from the computus, and patron saints by
//! municipality. Exposed through `bdays::HolidayCalendar`.

use chrono::{Datelike, Duration, NaiveDate};

/// When a holiday falls in a given year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolidayDate {
    /// The same day every year.
    Fixed { month: u32, day: u32 },
    /// Easter Monday (Lunedì dell'Angelo), from the Gregorian computus.
    EasterMonday,
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
            HolidayDate::EasterMonday => bdays::easter::easter_naive_date(year)
                .ok()
                .map(|easter| easter + Duration::days(1)),
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
            date: HolidayDate::EasterMonday,
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
