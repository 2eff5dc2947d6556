//! The worked examples of SPEC §9's rules, one row each, over the day 2016-01-01 (24x7)
//! unless a row says otherwise; and the response-time statistics.

use super::availability::{
    AvailabilityRules, GroupRule, HealthState, MaintenanceRule, StateReport, SystemHistory,
    UnknownRule, Window, measure_availability,
};
use super::calendar::Calendar;
use super::response_time::{ResponseSample, Statistic, measure_response_time};
use chrono::{DateTime, Utc};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// `"2016-01-01T10:00:00Z down"` lines, hard unless they end in `soft`.
fn history(lines: &[&str], maintenance: &[(&str, &str)]) -> SystemHistory {
    SystemHistory {
        states: lines
            .iter()
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                StateReport {
                    at: at(words[0]),
                    state: match words[1] {
                        "up" => HealthState::Up,
                        "down" => HealthState::Down,
                        _ => HealthState::Unknown,
                    },
                    hard: words.get(2) != Some(&"soft"),
                }
            })
            .collect(),
        maintenance: maintenance
            .iter()
            .map(|(start, end)| Window {
                start: at(start),
                end: at(end),
            })
            .collect(),
    }
}

struct Case {
    name: &'static str,
    members: Vec<SystemHistory>,
    rules: AvailabilityRules,
    /// (counted, downtime, outages, coverage)
    expected: (i64, i64, usize, f64),
}

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

fn rules(
    group: GroupRule,
    min_outage_seconds: i64,
    maintenance: MaintenanceRule,
    unknown: UnknownRule,
) -> AvailabilityRules {
    AvailabilityRules {
        group,
        min_outage_seconds,
        maintenance,
        unknown,
    }
}

fn plain() -> AvailabilityRules {
    AvailabilityRules::default()
}

#[test]
fn each_rule_gives_its_worked_example() {
    use GroupRule::{All, Any};
    use MaintenanceRule as M;
    use UnknownRule as U;
    let up_all_day = "2015-12-31T00:00:00Z up";
    let a_and_b = || {
        vec![
            history(
                &[
                    up_all_day,
                    "2016-01-01T10:00:00Z down",
                    "2016-01-01T12:00:00Z up",
                ],
                &[],
            ),
            history(
                &[
                    up_all_day,
                    "2016-01-01T11:00:00Z down",
                    "2016-01-01T13:00:00Z up",
                ],
                &[],
            ),
        ]
    };
    let maintained = || {
        vec![history(
            &[
                up_all_day,
                "2016-01-01T10:00:00Z down",
                "2016-01-01T12:00:00Z up",
            ],
            &[("2016-01-01T09:00:00Z", "2016-01-01T11:00:00Z")],
        )]
    };
    let unknown = || {
        vec![history(
            &[
                up_all_day,
                "2016-01-01T06:00:00Z unknown",
                "2016-01-01T08:00:00Z up",
            ],
            &[],
        )]
    };
    let cases = vec![
        Case {
            name: "an outage across the period's start counts from the start",
            members: vec![history(
                &["2015-12-31T23:00:00Z down", "2016-01-01T01:00:00Z up"],
                &[],
            )],
            rules: plain(),
            expected: (DAY, HOUR, 1, 1.0),
        },
        Case {
            name: "a down inside maintenance, exclude: the window is not counted",
            members: maintained(),
            rules: plain(),
            expected: (
                DAY - 2 * HOUR,
                HOUR,
                1,
                (DAY - 2 * HOUR) as f64 / DAY as f64,
            ),
        },
        Case {
            name: "a down inside maintenance, up: the window counts as up",
            members: maintained(),
            rules: rules(All, 0, M::Up, U::Exclude),
            expected: (DAY, HOUR, 1, 1.0),
        },
        Case {
            name: "unknown, exclude: not counted",
            members: unknown(),
            rules: plain(),
            expected: (DAY - 2 * HOUR, 0, 0, (DAY - 2 * HOUR) as f64 / DAY as f64),
        },
        Case {
            name: "unknown, down: counted as down",
            members: unknown(),
            rules: rules(All, 0, M::Exclude, U::Down),
            expected: (DAY, 2 * HOUR, 1, 1.0),
        },
        Case {
            name: "all over two hosts: down while either is down (10:00-13:00)",
            members: a_and_b(),
            rules: rules(All, 0, M::Exclude, U::Exclude),
            expected: (DAY, 3 * HOUR, 1, 1.0),
        },
        Case {
            name: "any over two hosts: down only while both are (11:00-12:00)",
            members: a_and_b(),
            rules: rules(Any, 0, M::Exclude, U::Exclude),
            expected: (DAY, HOUR, 1, 1.0),
        },
        Case {
            name: "a flap shorter than min_outage_seconds counts as up; a longer one counts",
            members: vec![history(
                &[
                    up_all_day,
                    "2016-01-01T10:00:00Z down",
                    "2016-01-01T10:00:30Z up",
                    "2016-01-01T14:00:00Z down",
                    "2016-01-01T14:05:00Z up",
                ],
                &[],
            )],
            rules: rules(All, 60, M::Exclude, U::Exclude),
            expected: (DAY, 300, 1, 1.0),
        },
        Case {
            name: "the flap filter looks at reported states: a short down ending in \
                   maintenance is still a flap",
            members: vec![history(
                &[
                    up_all_day,
                    "2016-01-01T10:00:00Z down",
                    "2016-01-01T10:00:30Z up",
                ],
                &[("2016-01-01T10:00:10Z", "2016-01-01T11:00:00Z")],
            )],
            rules: rules(All, 60, M::Exclude, U::Exclude),
            expected: (DAY - 3590, 0, 0, (DAY - 3590) as f64 / DAY as f64),
        },
        Case {
            name: "no data before the first state",
            members: vec![history(&["2016-01-01T06:00:00Z up"], &[])],
            rules: plain(),
            expected: (18 * HOUR, 0, 0, 0.75),
        },
        Case {
            name: "soft states are ignored",
            members: vec![history(
                &[up_all_day, "2016-01-01T10:00:00Z down soft"],
                &[],
            )],
            rules: plain(),
            expected: (DAY, 0, 0, 1.0),
        },
        Case {
            name: "two states at one instant: the worst holds, whatever the order",
            members: vec![history(
                &[
                    up_all_day,
                    "2016-01-01T10:00:00Z down",
                    "2016-01-01T10:00:00Z up",
                    "2016-01-01T11:00:00Z up",
                ],
                &[],
            )],
            rules: plain(),
            expected: (DAY, HOUR, 1, 1.0),
        },
        Case {
            name: "a member without data leaves an all group not counted",
            members: vec![
                history(&[up_all_day], &[]),
                history(&["2016-01-01T12:00:00Z up"], &[]),
            ],
            rules: plain(),
            expected: (12 * HOUR, 0, 0, 0.5),
        },
    ];
    let calendar = Calendar::always_open();
    for case in cases {
        let figures = measure_availability(
            &case.members,
            &case.rules,
            &calendar,
            at("2016-01-01T00:00:00Z"),
            at("2016-01-02T00:00:00Z"),
            at("2016-02-01T00:00:00Z"),
        )
        .unwrap();
        let (counted, downtime, outages, coverage) = case.expected;
        assert_eq!(
            (
                figures.counted_seconds,
                figures.downtime_seconds,
                figures.outages.len()
            ),
            (counted, downtime, outages),
            "{}",
            case.name
        );
        assert!(
            (figures.coverage().unwrap() - coverage).abs() < 1e-12,
            "{}: coverage {:?}",
            case.name,
            figures.coverage()
        );
        let measured = (counted - downtime) as f64 / counted as f64;
        assert!(
            (figures.measured().unwrap() - measured).abs() < 1e-12,
            "{}",
            case.name
        );
    }
}

#[test]
fn the_business_calendar_counts_across_daylight_saving_and_easter() {
    // Down from Fri 25 Mar 2016 17:00 CET to Tue 29 Mar 09:00 CEST: an hour on Friday, the
    // weekend and Easter Monday closed, DST begins on the 27th, an hour on Tuesday.
    let members = [history(
        &[
            "2016-03-01T00:00:00Z up",
            "2016-03-25T16:00:00Z down",
            "2016-03-29T07:00:00Z up",
        ],
        &[],
    )];
    let figures = measure_availability(
        &members,
        &plain(),
        &Calendar::italian_default(),
        at("2016-03-25T00:00:00+01:00"),
        at("2016-03-30T00:00:00+02:00"),
        at("2016-04-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(figures.calendar_seconds, 20 * HOUR);
    assert_eq!(figures.counted_seconds, 20 * HOUR);
    assert_eq!(figures.downtime_seconds, 2 * HOUR);
    assert_eq!(figures.measured(), Some(0.9));
    assert_eq!(figures.outages.len(), 1);
    assert_eq!(figures.outages[0].start, at("2016-03-25T16:00:00Z"));
    assert_eq!(figures.outages[0].end, Some(at("2016-03-29T07:00:00Z")));
}

#[test]
fn the_last_state_holds_until_now_and_an_ongoing_outage_has_no_end() {
    let members = [history(
        &["2016-01-01T00:00:00Z up", "2016-01-01T18:00:00Z down"],
        &[],
    )];
    let figures = measure_availability(
        &members,
        &plain(),
        &Calendar::always_open(),
        at("2016-01-01T00:00:00Z"),
        at("2016-01-02T00:00:00Z"),
        at("2016-01-01T20:00:00Z"),
    )
    .unwrap();
    assert_eq!(figures.calendar_seconds, 20 * HOUR);
    assert_eq!(figures.counted_seconds, 20 * HOUR);
    assert_eq!(figures.downtime_seconds, 2 * HOUR);
    assert_eq!(figures.outages[0].end, None);
}

#[test]
fn nothing_counted_measures_nothing() {
    let figures = measure_availability(
        &[SystemHistory::default()],
        &plain(),
        &Calendar::always_open(),
        at("2016-01-01T00:00:00Z"),
        at("2016-01-02T00:00:00Z"),
        at("2016-02-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(figures.measured(), None);
    assert_eq!(figures.coverage(), Some(0.0));
    assert_eq!(figures.deviation_points(99.0), None);
}

#[test]
fn the_deviation_is_in_points() {
    let members = [history(
        &["2016-01-01T00:00:00Z up", "2016-01-01T00:00:00Z up"],
        &[],
    )];
    let figures = measure_availability(
        &members,
        &plain(),
        &Calendar::always_open(),
        at("2016-01-01T00:00:00Z"),
        at("2016-01-02T00:00:00Z"),
        at("2016-02-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(figures.deviation_points(99.0), Some(1.0));
}

fn samples(values: &[(&'static str, &str, f64)]) -> Vec<ResponseSample<'static>> {
    values
        .iter()
        .map(|(system, time, ms)| ResponseSample {
            system,
            at: at(time),
            response_ms: *ms,
        })
        .collect()
}

#[test]
fn response_time_statistics_use_nearest_rank() {
    // 1..=100 ms, one a minute; plus one outside the period and one of another system.
    let mut values: Vec<(&'static str, String, f64)> = (1..=100)
        .map(|i| {
            (
                "PORTALE",
                format!("2016-01-01T{:02}:{:02}:00Z", i / 60, i % 60),
                i as f64,
            )
        })
        .collect();
    values.push(("PORTALE", "2015-12-31T23:59:00Z".into(), 1000.0));
    values.push(("ALTRO", "2016-01-01T05:00:00Z".into(), 1000.0));
    let borrowed: Vec<(&'static str, &str, f64)> = values
        .iter()
        .map(|(s, t, v)| (*s, t.as_str(), *v))
        .collect();
    let samples = samples(&borrowed);
    let systems = vec!["PORTALE".to_owned()];
    let figure = |statistic| {
        measure_response_time(
            &samples,
            &systems,
            statistic,
            at("2016-01-01T00:00:00Z"),
            at("2016-01-02T00:00:00Z"),
            at("2016-02-01T00:00:00Z"),
        )
    };
    assert_eq!(figure(Statistic::Max).measured_ms, Some(100.0));
    assert_eq!(figure(Statistic::P95).measured_ms, Some(95.0));
    assert_eq!(figure(Statistic::P99).measured_ms, Some(99.0));
    assert_eq!(figure(Statistic::Mean).measured_ms, Some(50.5));
    assert_eq!(figure(Statistic::Max).samples, 100);
}

#[test]
fn a_repeated_check_result_counts_once_and_the_deviation_favours_faster() {
    let samples = samples(&[
        ("PORTALE", "2016-01-01T10:00:00Z", 7.0),
        ("PORTALE", "2016-01-01T10:00:00Z", 7.0),
        ("PORTALE", "2016-01-01T11:00:00Z", 3.5),
    ]);
    let figures = measure_response_time(
        &samples,
        &["PORTALE".to_owned()],
        Statistic::Mean,
        at("2016-01-01T00:00:00Z"),
        at("2016-01-02T00:00:00Z"),
        at("2016-02-01T00:00:00Z"),
    );
    assert_eq!(figures.samples, 2);
    assert_eq!(figures.measured_ms, Some(5.25));
    assert_eq!(figures.deviation_percent(7.0), Some(25.0));
    let none = measure_response_time(
        &[],
        &["PORTALE".to_owned()],
        Statistic::Max,
        at("2016-01-01T00:00:00Z"),
        at("2016-01-02T00:00:00Z"),
        at("2016-02-01T00:00:00Z"),
    );
    assert_eq!((none.samples, none.measured_ms), (0, None));
}
