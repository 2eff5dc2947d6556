//! The worked examples of SPEC §3 and a table of edge cases, on the default calendar unless
//! a case says otherwise.

use super::calendar::{Calendar, Closure, DayInterval, WeeklySchedule};
use super::holidays::Holidays;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

const HOUR: i64 = 3600;

#[test]
fn worked_examples_of_the_spec() {
    let calendar = Calendar::italian_default();
    let cases = [
        (
            "2016-06-23T17:30:00+02:00",
            HOUR,
            "2016-06-27T06:30:00Z",
            "San Giovanni, then the weekend",
        ),
        (
            "2016-06-23T17:30:00+02:00",
            6 * HOUR,
            "2016-06-27T11:30:00Z",
            "SLA.7 of the same report",
        ),
        (
            "2016-06-23T17:00:00+02:00",
            HOUR,
            "2016-06-23T16:00:00Z",
            "runs out exactly at closing",
        ),
        (
            "2016-03-25T16:00:00+01:00",
            6 * HOUR,
            "2016-03-29T10:00:00Z",
            "Easter Monday, DST starts",
        ),
        (
            "2016-10-29T10:00:00+02:00",
            HOUR,
            "2016-10-31T08:00:00Z",
            "Saturday, DST ends",
        ),
        (
            "2016-12-23T15:00:00+01:00",
            6 * HOUR,
            "2016-12-27T10:00:00Z",
            "Christmas, Santo Stefano",
        ),
    ];
    for (start, seconds, expected, why) in cases {
        assert_eq!(
            calendar.deadline(at(start), seconds).unwrap(),
            at(expected),
            "{why}"
        );
        assert_eq!(
            calendar.elapsed(at(start), at(expected)).unwrap(),
            seconds,
            "{why}"
        );
    }
}

#[test]
fn edge_cases_of_the_default_calendar() {
    let calendar = Calendar::italian_default();
    let cases = [
        (
            "2016-06-20T08:00:00+02:00",
            HOUR,
            "2016-06-20T09:00:00+02:00",
            "start exactly at opening",
        ),
        (
            "2016-06-20T18:00:00+02:00",
            HOUR,
            "2016-06-21T09:00:00+02:00",
            "start exactly at closing",
        ),
        (
            "2016-06-20T08:00:00+02:00",
            10 * HOUR,
            "2016-06-20T18:00:00+02:00",
            "a whole day ends at closing",
        ),
        (
            "2016-06-20T07:59:59+02:00",
            1,
            "2016-06-20T08:00:01+02:00",
            "one second before opening",
        ),
        (
            "2016-06-20T17:59:59+02:00",
            1,
            "2016-06-20T18:00:00+02:00",
            "the last second of the day",
        ),
        (
            "2016-06-20T17:59:59+02:00",
            2,
            "2016-06-21T08:00:01+02:00",
            "one second over the night",
        ),
        (
            "2016-08-15T10:00:00+02:00",
            HOUR,
            "2016-08-16T09:00:00+02:00",
            "start on Ferragosto",
        ),
        (
            "2016-06-17T19:00:00+02:00",
            HOUR,
            "2016-06-20T09:00:00+02:00",
            "Friday evening",
        ),
        (
            "2016-12-30T17:00:00+01:00",
            6 * HOUR,
            "2017-01-02T13:00:00+01:00",
            "over New Year",
        ),
        (
            "2017-01-05T17:00:00+01:00",
            2 * HOUR,
            "2017-01-09T09:00:00+01:00",
            "Epiphany on a Friday",
        ),
        (
            "2021-12-31T17:00:00+01:00",
            2 * HOUR,
            "2022-01-03T09:00:00+01:00",
            "year end, 1 January a Saturday",
        ),
        (
            "2016-10-28T17:00:00+02:00",
            2 * HOUR,
            "2016-10-31T09:00:00+01:00",
            "over the autumn change",
        ),
        (
            "2016-03-24T17:00:00+01:00",
            21 * HOUR,
            "2016-03-29T18:00:00+02:00",
            "over Easter and the spring change",
        ),
        (
            "2016-04-22T17:00:00+02:00",
            2 * HOUR,
            "2016-04-26T09:00:00+02:00",
            "weekend then 25 April",
        ),
        (
            "2026-10-02T17:00:00+02:00",
            2 * HOUR,
            "2026-10-05T09:00:00+02:00",
            "4 Oct 2026 is a Sunday anyway",
        ),
        (
            "2027-10-01T17:00:00+02:00",
            2 * HOUR,
            "2027-10-05T09:00:00+02:00",
            "San Francesco, Monday 4 Oct 2027",
        ),
        (
            "2016-06-25T12:00:00+02:00",
            0,
            "2016-06-25T12:00:00+02:00",
            "zero gives the start, even closed",
        ),
        (
            "2016-06-20T08:00:00+02:00",
            200 * HOUR,
            "2016-07-18T18:00:00+02:00",
            "200 business hours (24 June closed)",
        ),
    ];
    for (start, seconds, expected, why) in cases {
        assert_eq!(
            calendar.deadline(at(start), seconds).unwrap(),
            at(expected),
            "{why}"
        );
    }
}

#[test]
fn easter_weeks_2015_to_2030_skip_easter_monday() {
    let calendar = Calendar::italian_default();
    let rome = chrono_tz::Europe::Rome;
    for year in 2015..=2030 {
        let easter = bdays::easter::easter_naive_date(year).unwrap();
        let saturday = easter.pred_opt().unwrap();
        let tuesday = easter.succ_opt().unwrap().succ_opt().unwrap();
        assert_ne!(
            (tuesday.format("%m-%d")).to_string(),
            "04-25",
            "guard: {year}"
        );
        let start = rome
            .from_local_datetime(&saturday.and_hms_opt(10, 0, 0).unwrap())
            .unwrap();
        let expected = rome
            .from_local_datetime(&tuesday.and_hms_opt(9, 0, 0).unwrap())
            .unwrap();
        assert_eq!(
            calendar.deadline(start.with_timezone(&Utc), HOUR).unwrap(),
            expected.with_timezone(&Utc),
            "Easter {year}"
        );
    }
}

#[test]
fn elapsed_counts_business_seconds_and_is_antisymmetric() {
    let calendar = Calendar::italian_default();
    let cases = [
        ("2016-10-29T00:00:00Z", "2016-10-31T08:00:00Z", HOUR),
        ("2016-06-20T06:00:00Z", "2016-06-24T06:00:00Z", 40 * HOUR), // Friday is San Giovanni
        ("2016-06-20T06:00:00Z", "2016-06-20T06:00:00Z", 0),
        (
            "2015-12-31T16:00:00Z",
            "2017-01-02T08:00:00Z",
            251 * 10 * HOUR + 2 * HOUR,
        ),
    ];
    for (from, to, seconds) in cases {
        assert_eq!(
            calendar.elapsed(at(from), at(to)).unwrap(),
            seconds,
            "{from}..{to}"
        );
        assert_eq!(
            calendar.elapsed(at(to), at(from)).unwrap(),
            -seconds,
            "{to}..{from}"
        );
    }
}

fn split_day_calendar(closures: Vec<Closure>) -> Calendar {
    Calendar::new(
        "split",
        chrono_tz::Europe::Rome,
        WeeklySchedule::weekdays(&[
            DayInterval::hm(8, 30, 13, 0),
            DayInterval::hm(14, 0, 17, 30),
        ]),
        Holidays::default(),
        closures,
    )
    .unwrap()
}

#[test]
fn several_intervals_a_day_and_closures() {
    let calendar = split_day_calendar(Vec::new());
    let cases = [
        (
            "2016-06-20T12:30:00+02:00",
            HOUR,
            "2016-06-20T14:30:00+02:00",
            "over lunch",
        ),
        (
            "2016-06-20T13:00:00+02:00",
            1800,
            "2016-06-20T14:30:00+02:00",
            "start at lunch",
        ),
        (
            "2016-06-20T12:00:00+02:00",
            HOUR,
            "2016-06-20T13:00:00+02:00",
            "ends exactly at lunch",
        ),
        (
            "2016-06-20T08:30:00+02:00",
            8 * HOUR,
            "2016-06-20T17:30:00+02:00",
            "a whole split day",
        ),
    ];
    for (start, seconds, expected, why) in cases {
        assert_eq!(
            calendar.deadline(at(start), seconds).unwrap(),
            at(expected),
            "{why}"
        );
    }
    let bridge = NaiveDate::from_ymd_opt(2016, 6, 21).unwrap();
    let closed = split_day_calendar(vec![Closure {
        first: bridge,
        last: bridge,
        reason: "ponte".into(),
    }]);
    assert_eq!(
        closed
            .deadline(at("2016-06-20T17:00:00+02:00"), HOUR)
            .unwrap(),
        at("2016-06-22T09:00:00+02:00"),
        "the closure is skipped"
    );
    let with_closure = Calendar::italian_default()
        .with_closures(vec![Closure {
            first: NaiveDate::from_ymd_opt(2016, 6, 27).unwrap(),
            last: NaiveDate::from_ymd_opt(2016, 6, 27).unwrap(),
            reason: "chiusura straordinaria".into(),
        }])
        .unwrap();
    assert_eq!(
        with_closure
            .deadline(at("2016-06-23T15:30:00Z"), HOUR)
            .unwrap(),
        at("2016-06-28T06:30:00Z")
    );
}

#[test]
fn whole_local_days_last_23_and_25_hours_on_the_changes() {
    let all_day = Calendar::new(
        "rome-all-day",
        chrono_tz::Europe::Rome,
        WeeklySchedule {
            days: std::array::from_fn(|_| vec![DayInterval::hm(0, 0, 24, 0)]),
        },
        Holidays::default(),
        Vec::new(),
    )
    .unwrap();
    let day = |from: &str, to: &str| all_day.elapsed(at(from), at(to)).unwrap();
    assert_eq!(
        day("2016-03-27T00:00:00+01:00", "2016-03-28T00:00:00+02:00"),
        23 * HOUR
    );
    assert_eq!(
        day("2016-10-30T00:00:00+02:00", "2016-10-31T00:00:00+01:00"),
        25 * HOUR
    );
    let night_shift = Calendar::new(
        "nights",
        chrono_tz::Europe::Rome,
        WeeklySchedule {
            days: std::array::from_fn(|_| vec![DayInterval::hm(1, 0, 4, 0)]),
        },
        Holidays::default(),
        Vec::new(),
    )
    .unwrap();
    let night = |from: &str, to: &str| night_shift.elapsed(at(from), at(to)).unwrap();
    assert_eq!(
        night("2016-03-27T00:00:00Z", "2016-03-27T12:00:00Z"),
        2 * HOUR,
        "02:00-03:00 skipped"
    );
    assert_eq!(
        night("2016-10-29T12:00:00Z", "2016-10-30T12:00:00Z"),
        4 * HOUR,
        "02:00-03:00 twice"
    );
}

#[test]
fn the_24x7_calendar_counts_every_second() {
    let calendar = Calendar::always_open();
    let start = at("2016-12-24T23:30:00Z");
    assert_eq!(
        calendar.deadline(start, 7200).unwrap(),
        at("2016-12-25T01:30:00Z")
    );
    assert_eq!(
        calendar.elapsed(start, at("2016-12-26T23:30:00Z")).unwrap(),
        48 * HOUR
    );
}

#[test]
fn explain_lists_the_counted_intervals() {
    let calendar = Calendar::italian_default();
    let spans = calendar
        .explain(at("2016-06-23T15:30:00Z"), 6 * HOUR)
        .unwrap();
    let shown: Vec<_> = spans
        .iter()
        .map(|s| (s.from.to_rfc3339(), s.to.to_rfc3339(), s.seconds))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "2016-06-23T15:30:00+00:00".to_owned(),
                "2016-06-23T16:00:00+00:00".to_owned(),
                1800
            ),
            (
                "2016-06-27T06:00:00+00:00".to_owned(),
                "2016-06-27T11:30:00+00:00".to_owned(),
                19800
            ),
        ]
    );
}

#[test]
fn years_1970_to_2200_are_answered_and_beyond_is_refused() {
    let calendar = Calendar::italian_default();
    let early = calendar.deadline(at("1970-01-02T07:00:00Z"), HOUR).unwrap();
    assert_eq!(early, at("1970-01-02T08:00:00Z"));
    let late = calendar.deadline(at("2200-06-02T07:00:00Z"), HOUR).unwrap();
    assert_eq!(
        late,
        at("2200-06-03T07:00:00Z"),
        "2 June is Festa della Repubblica"
    );
    let summer_2150 = calendar.deadline(at("2150-07-01T05:00:00Z"), HOUR).unwrap();
    assert_eq!(
        summer_2150,
        at("2150-07-01T07:00:00Z"),
        "daylight saving goes on after 2099"
    );
    let winter_2150 = calendar.deadline(at("2150-01-07T05:00:00Z"), HOUR).unwrap();
    assert_eq!(winter_2150, at("2150-01-07T08:00:00Z"));
    assert!(
        calendar
            .deadline(at("2400-12-31T12:00:00Z"), 400 * HOUR)
            .is_err()
    );
}
