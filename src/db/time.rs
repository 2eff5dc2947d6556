//! Timestamps are stored as `TIMESTAMP` holding UTC, truncated to microseconds so that both
//! backends keep exactly the same value (SQLite would keep nanoseconds).

use chrono::{DateTime, NaiveDateTime, SubsecRound, Timelike, Utc};

/// `at` as the database stores it.
pub fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    truncate_to_micros(at).naive_utc()
}

/// A stored timestamp back as UTC.
pub fn from_db_time(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}

/// The instant as both backends can hold it. A leap second (refused where callers' times are
/// parsed) would be kept as `:60` by SQLite and rolled over by PostgreSQL; it is held as the
/// last microsecond before it, so the backends and the keyset cursors agree.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let at = if crate::domain::time::is_leap_second(&at) {
        at.with_nanosecond(999_999_000).unwrap_or(at)
    } else {
        at
    };
    at.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leap_second_is_stored_as_the_microsecond_before_the_next_minute() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert!(crate::domain::time::is_leap_second(&leap));
        assert_eq!(
            to_db_time(leap).to_string(),
            "2016-12-31 23:59:59.999999",
            "sorts before the next minute, on both backends"
        );
    }
}
