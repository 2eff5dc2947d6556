//! Instants as callers write them: RFC 3339, never a leap second. chrono reads `23:59:60` as
//! a second that sorts before the next minute yet prints and stores inconsistently across the
//! backends (SQLite keeps `:60`, PostgreSQL rolls it over), which breaks keyset paging; the
//! helpdesk records no time that a calendar cannot hold.

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Why a text is not an instant the helpdesk accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    #[error("must be an RFC 3339 instant like 2016-06-23T17:30:00+02:00")]
    Malformed,
    #[error("must be an RFC 3339 instant (2016-01-01T00:00:00Z) or a date (2016-01-01)")]
    MalformedInstantOrDate,
    #[error(
        "is a leap second (:60), which the helpdesk does not record; use :59 or the next minute"
    )]
    LeapSecond,
    /// Outside the years every backend stores and every client reads alike (an offset can
    /// carry `0000-01-01` or `9999-12-31` across the edge, where RFC 3339 cannot write it).
    #[error("must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z")]
    OutOfRange,
}

impl InstantError {
    /// A well-formed text with a value the helpdesk refuses (422), rather than a malformed one (400).
    pub fn is_invalid_value(self) -> bool {
        matches!(self, InstantError::LeapSecond | InstantError::OutOfRange)
    }
}

/// Whether `at` is inside a leap second (chrono keeps it as 1e9 ns or more).
pub fn is_leap_second(at: &DateTime<Utc>) -> bool {
    at.nanosecond() >= 1_000_000_000
}

/// The first and last instants the helpdesk takes: years 0001 to 9999 in UTC.
pub const EARLIEST_SECONDS: i64 = -62_135_596_800;
pub const LATEST_SECONDS: i64 = 253_402_300_799;

/// Parses an RFC 3339 instant, refusing a leap second and years outside 0001–9999 in UTC.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, InstantError> {
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|_| InstantError::Malformed)?
        .with_timezone(&Utc);
    if is_leap_second(&at) {
        return Err(InstantError::LeapSecond);
    }
    in_range(at)
}

fn in_range(at: DateTime<Utc>) -> Result<DateTime<Utc>, InstantError> {
    if (EARLIEST_SECONDS..=LATEST_SECONDS).contains(&at.timestamp()) {
        Ok(at)
    } else {
        Err(InstantError::OutOfRange)
    }
}

/// An RFC 3339 instant, or a date meaning local midnight in Europe/Rome (SPEC §6).
pub fn parse_instant_or_date(text: &str) -> Result<DateTime<Utc>, InstantError> {
    match parse_instant(text) {
        Err(InstantError::Malformed) => {}
        parsed => return parsed,
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| InstantError::MalformedInstantOrDate)?;
    in_range(
        local_midnight(chrono_tz::Europe::Rome, date)
            .ok_or(InstantError::MalformedInstantOrDate)?,
    )
}

/// Local midnight at the start of `date` in `zone` (midnight exists on every date in Rome:
/// the clocks change at 02:00 and 03:00).
pub fn local_midnight(zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|local| local.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_seconds_are_refused_in_any_offset() {
        for text in [
            "2016-12-31T23:59:60Z",
            "2026-11-30T12:59:60+01:00",
            "2016-12-31T23:59:60.5Z",
        ] {
            assert_eq!(parse_instant(text), Err(InstantError::LeapSecond), "{text}");
        }
        assert_eq!(
            parse_instant("2016-12-31T23:59:59.999999Z").unwrap(),
            "2016-12-31T23:59:59.999999Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
        for bad in [
            "",
            "2016-12-31",
            "2016-12-31T24:00:00Z",
            " 2016-12-31T10:00:00Z",
            "2016-12-31T10:00:00Z\r\n",
            "2016-02-30T10:00:00Z",
        ] {
            assert_eq!(parse_instant(bad), Err(InstantError::Malformed), "{bad}");
        }
        assert_eq!(
            parse_instant_or_date("2016-12-31T23:59:60+01:00"),
            Err(InstantError::LeapSecond)
        );
        assert_eq!(
            parse_instant_or_date("2016-13-01"),
            Err(InstantError::MalformedInstantOrDate)
        );
        // Local midnight of 0000-01-01 in Rome is in year -1 in UTC; 9999-12-31T23:59:59-01:00
        // is in year 10000.
        for outside in [
            "0000-01-01",
            "0001-01-01",
            "0000-12-31T23:59:59Z",
            "9999-12-31T23:59:59-01:00",
        ] {
            assert_eq!(
                parse_instant_or_date(outside),
                Err(InstantError::OutOfRange),
                "{outside}"
            );
        }
        assert!(parse_instant("0001-01-01T00:00:00Z").is_ok());
        assert!(parse_instant("9999-12-31T23:59:59Z").is_ok());
        assert_eq!(
            parse_instant_or_date("2016-07-01").unwrap(),
            "2016-06-30T22:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
