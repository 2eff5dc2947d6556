//! How the reports write instants and durations for people: local (Europe/Rome) dates and
//! times, durations in words.

use chrono::{DateTime, Datelike, Utc};

/// A report bound as a local date; open ends (year 1, year 9999) read as a dash.
pub fn local_day(at: DateTime<Utc>) -> String {
    if at.year() <= 1 || at.year() >= 9999 {
        return "—".into();
    }
    at.with_timezone(&chrono_tz::Europe::Rome)
        .format("%d/%m/%Y")
        .to_string()
}

/// The last day of a period that ends (exclusive) at `to`.
pub fn last_local_day(to: DateTime<Utc>) -> String {
    local_day(to - chrono::Duration::microseconds(1))
}

/// `23/12/2016 09:22`, local time.
pub fn local_minute(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Rome)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// `5400` → "1 h 30 min"; under a minute, seconds; from a day, days and hours.
pub fn duration_words(seconds: i64) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} g {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(45), "45 s");
        assert_eq!(duration_words(5400), "1 h 30 min");
        assert_eq!(duration_words(7200), "2 h");
        assert_eq!(duration_words(90_000), "1 g 1 h");
    }

    #[test]
    fn a_quarter_reads_from_its_first_to_its_last_local_day() {
        let from = "2016-09-30T22:00:00Z".parse().unwrap();
        let to = "2016-12-31T23:00:00Z".parse().unwrap();
        assert_eq!(
            (local_day(from), last_local_day(to)),
            ("01/10/2016".into(), "31/12/2016".into())
        );
    }
}
