//! Timestamps are stored as `TIMESTAMP` holding UTC, truncated to microseconds so that both
//! backends keep exactly the same value (SQLite would keep nanoseconds).

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// `at` as the database stores it.
pub fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    truncate_to_micros(at).naive_utc()
}

/// A stored timestamp back as UTC.
pub fn from_db_time(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}

/// The instant as both backends can hold it.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
