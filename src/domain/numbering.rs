//! Per-year ticket numbers (`2016-000042`): the year is the one of `reported_at` in the
//! centre's time zone, so a call at 00:30 on 1 January belongs to the new year.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Europe::Rome;

/// The numbering year of a ticket reported at `reported_at`.
pub fn numbering_year(reported_at: DateTime<Utc>) -> i32 {
    reported_at.with_timezone(&Rome).year()
}

/// The ticket number shown to people: year, dash, sequence padded to six digits.
pub fn format_ticket_number(year: i32, sequence: i64) -> String {
    format!("{year}-{sequence:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_is_year_and_padded_sequence() {
        assert_eq!(format_ticket_number(2016, 42), "2016-000042");
        assert_eq!(format_ticket_number(2016, 1_234_567), "2016-1234567");
    }

    #[test]
    fn new_year_begins_at_local_midnight() {
        let before = "2016-12-31T22:59:59Z".parse().unwrap();
        let after = "2016-12-31T23:00:00Z".parse().unwrap();
        assert_eq!(numbering_year(before), 2016);
        assert_eq!(numbering_year(after), 2017);
    }
}
