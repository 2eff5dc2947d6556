//! Report periods: a year, semester, quarter or month of local (Europe/Rome) dates, written
//! `2016`, `2016-H2`, `2016-Q4`, `2016-11`, as the instants `[from, to)` from local midnight
//! to local midnight; and the period a scheduler should report on at `now`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

/// A period of whole local days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPeriod {
    /// `2016-Q4`, …; for arbitrary bounds, `2016-10-01..2017-01-01`.
    pub label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

pub use crate::domain::time::{local_midnight, parse_instant_or_date};

/// The cadences a period can have, in months: they divide the year.
pub const CADENCES: [u32; 4] = [1, 3, 6, 12];

/// The `months`-long period of `year` that starts in `first_month` (1-based).
pub fn calendar_period(zone: Tz, year: i32, first_month: u32, months: u32) -> Option<ReportPeriod> {
    if !CADENCES.contains(&months)
        || !(1..=12).contains(&first_month)
        || !(first_month - 1).is_multiple_of(months)
    {
        return None;
    }
    let start = NaiveDate::from_ymd_opt(year, first_month, 1)?;
    let end = start.checked_add_months(chrono::Months::new(months))?;
    let index = (first_month - 1) / months + 1;
    let label = match months {
        1 => format!("{year}-{first_month:02}"),
        3 => format!("{year}-Q{index}"),
        6 => format!("{year}-H{index}"),
        _ => format!("{year}"),
    };
    Some(ReportPeriod {
        label,
        from: local_midnight(zone, start)?,
        to: local_midnight(zone, end)?,
    })
}

/// Parses `2016`, `2016-H2`, `2016-Q4` or `2016-11`.
pub fn parse_period(zone: Tz, text: &str) -> Result<ReportPeriod, String> {
    let invalid = || format!("`{text}` is not a period like 2016-Q4, 2016-H2, 2016-11 or 2016");
    let (year, rest) = match text.split_once('-') {
        Some((year, rest)) => (year, Some(rest)),
        None => (text, None),
    };
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (1970..=9998).contains(y))
        .ok_or_else(invalid)?;
    let (first_month, months) = match rest {
        None => (1, 12),
        Some(rest) => {
            let number = |s: &str| s.parse::<u32>().ok();
            if let Some(q) = rest
                .strip_prefix('Q')
                .and_then(number)
                .filter(|q| (1..=4).contains(q))
            {
                (3 * q - 2, 3)
            } else if let Some(h) = rest
                .strip_prefix('H')
                .and_then(number)
                .filter(|h| (1..=2).contains(h))
            {
                (6 * h - 5, 6)
            } else if let Some(m) = number(rest).filter(|m| (1..=12).contains(m) && rest.len() == 2)
            {
                (m, 1)
            } else {
                return Err(invalid());
            }
        }
    };
    calendar_period(zone, year, first_month, months).ok_or_else(invalid)
}

/// The latest period of `months` that ended at least `delay` before `now`.
pub fn last_closed_period(
    zone: Tz,
    now: DateTime<Utc>,
    months: u32,
    delay: chrono::Duration,
) -> Option<ReportPeriod> {
    let local = (now - delay).with_timezone(&zone).date_naive();
    // The period containing `local` is still open; the one before it is the last closed.
    let first_month = (local.month() - 1) / months * months + 1;
    let current = NaiveDate::from_ymd_opt(local.year(), first_month, 1)?;
    let previous = current.checked_sub_months(chrono::Months::new(months))?;
    calendar_period(zone, previous.year(), previous.month(), months)
}

/// Every period of `months` that ended at least `delay` before `now` and after `since`
/// (the periods of which `since` saw some part), oldest first.
pub fn closed_periods_since(
    zone: Tz,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    months: u32,
    delay: chrono::Duration,
) -> Vec<ReportPeriod> {
    let mut periods = Vec::new();
    let mut next = last_closed_period(zone, now, months, delay);
    while let Some(period) =
        next.filter(|p| p.to > since && p.from.with_timezone(&zone).year() >= 1970)
    {
        let start = period.from.with_timezone(&zone).date_naive();
        next = start
            .checked_sub_months(chrono::Months::new(months))
            .and_then(|earlier| calendar_period(zone, earlier.year(), earlier.month(), months));
        periods.push(period);
    }
    periods.reverse();
    periods
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Rome;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn periods_run_from_local_midnight_to_local_midnight() {
        let q4 = parse_period(Rome, "2016-Q4").unwrap();
        assert_eq!(q4.label, "2016-Q4");
        assert_eq!(q4.from, at("2016-09-30T22:00:00Z"), "1 Oct, CEST");
        assert_eq!(q4.to, at("2016-12-31T23:00:00Z"), "1 Jan, CET");
        assert_eq!(
            parse_period(Rome, "2016-H2").unwrap().from,
            q4.from - chrono::Duration::days(92)
        );
        assert_eq!(parse_period(Rome, "2016-11").unwrap().label, "2016-11");
        assert_eq!(parse_period(Rome, "2016").unwrap().to, q4.to);
        for bad in [
            "2016-Q5", "2016-H0", "2016-13", "2016-1", "16", "2016-W3", "",
        ] {
            assert!(parse_period(Rome, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_last_closed_period_waits_for_the_delay() {
        let delay = chrono::Duration::hours(6);
        let q = |now| last_closed_period(Rome, at(now), 3, delay).unwrap().label;
        assert_eq!(
            q("2017-01-01T04:59:00Z"),
            "2016-Q3",
            "Q4 closed at 23:00Z, plus 6 h"
        );
        assert_eq!(q("2017-01-01T05:00:00Z"), "2016-Q4");
        assert_eq!(q("2017-03-31T12:00:00Z"), "2016-Q4");
        let h = last_closed_period(Rome, at("2016-07-02T00:00:00Z"), 6, delay).unwrap();
        assert_eq!(h.label, "2016-H1");
    }

    #[test]
    fn the_closed_periods_since_a_day_include_the_one_it_falls_in() {
        let delay = chrono::Duration::hours(1);
        let labels = |since, now| -> Vec<String> {
            closed_periods_since(Rome, at(since), at(now), 3, delay)
                .into_iter()
                .map(|p| p.label)
                .collect()
        };
        // Created in Q3: Q3 and Q4, never Q2.
        assert_eq!(
            labels("2016-08-10T09:00:00Z", "2017-01-05T00:00:00Z"),
            ["2016-Q3", "2016-Q4"]
        );
        // Created at the first instant of Q3 (local midnight): Q2 ended then, so not Q2.
        assert_eq!(
            labels("2016-06-30T22:00:00Z", "2016-10-01T12:00:00Z"),
            ["2016-Q3"]
        );
        // Created after the last closed one ended: nothing yet.
        assert!(labels("2017-01-02T00:00:00Z", "2017-01-05T00:00:00Z").is_empty());
        assert_eq!(
            labels("1900-01-01T00:00:00Z", "1970-07-05T00:00:00Z"),
            ["1970-Q1", "1970-Q2"]
        );
    }
}
