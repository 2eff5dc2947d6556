//! Property tests of the availability arithmetic over random histories: measured is a share,
//! periods add up, and neither the order of arrival nor repetition changes a figure.

use super::availability::{
    AvailabilityFigures, AvailabilityRules, GroupRule, HealthState, MaintenanceRule, StateReport,
    SystemHistory, UnknownRule, Window, measure_availability,
};
use super::calendar::Calendar;
use super::response_time::{ResponseSample, Statistic, measure_response_time};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

/// Ten days of history from 2016-03-20 (DST begins on the 27th in Europe/Rome).
fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2016-03-20T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

const SPAN: i64 = 10 * 86_400;

fn instant(seconds: i64) -> DateTime<Utc> {
    base() + Duration::seconds(seconds)
}

fn system_history() -> impl Strategy<Value = SystemHistory> {
    (
        prop::collection::vec((0..SPAN, 0u8..3, any::<bool>(), any::<bool>()), 0..25),
        prop::collection::vec((0..SPAN, 0i64..20_000), 0..3),
    )
        .prop_map(|(states, windows)| SystemHistory {
            states: states
                .into_iter()
                .map(|(at, state, soft, _)| StateReport {
                    at: instant(at),
                    state: [HealthState::Up, HealthState::Down, HealthState::Unknown]
                        [state as usize],
                    hard: !soft || at % 3 == 0,
                })
                .collect(),
            maintenance: windows
                .into_iter()
                .map(|(start, length)| Window {
                    start: instant(start),
                    end: instant(start + length),
                })
                .collect(),
        })
}

fn rules() -> impl Strategy<Value = AvailabilityRules> {
    (any::<bool>(), 0i64..4_000, any::<bool>(), any::<bool>()).prop_map(
        |(any_rule, min_outage_seconds, maintenance_up, unknown_down)| AvailabilityRules {
            group: if any_rule {
                GroupRule::Any
            } else {
                GroupRule::All
            },
            min_outage_seconds,
            maintenance: if maintenance_up {
                MaintenanceRule::Up
            } else {
                MaintenanceRule::Exclude
            },
            unknown: if unknown_down {
                UnknownRule::Down
            } else {
                UnknownRule::Exclude
            },
        },
    )
}

fn calendar(business: bool) -> Calendar {
    if business {
        Calendar::italian_default()
    } else {
        Calendar::always_open()
    }
}

fn figures(
    members: &[SystemHistory],
    rules: &AvailabilityRules,
    calendar: &Calendar,
    from: i64,
    to: i64,
) -> AvailabilityFigures {
    measure_availability(
        members,
        rules,
        calendar,
        instant(from),
        instant(to),
        instant(SPAN),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn measured_is_a_share_and_downtime_is_within_counted(
        members in prop::collection::vec(system_history(), 1..4),
        rules in rules(),
        business in any::<bool>(),
        (from, to) in (0..SPAN, 0..SPAN),
    ) {
        let calendar = calendar(business);
        let f = figures(&members, &rules, &calendar, from.min(to), from.max(to));
        if let Some(measured) = f.measured() {
            prop_assert!((0.0..=1.0).contains(&measured), "{measured}");
        }
        prop_assert!(0 <= f.downtime_seconds && f.downtime_seconds <= f.counted_seconds);
        prop_assert!(f.counted_seconds <= f.calendar_seconds);
        let outage_seconds: i64 = f.outages.iter().map(|o| o.counted_seconds).sum();
        prop_assert_eq!(outage_seconds, f.downtime_seconds);
    }

    #[test]
    fn splitting_a_period_adds_counted_and_downtime(
        members in prop::collection::vec(system_history(), 1..4),
        rules in rules(),
        business in any::<bool>(),
        mut cuts in prop::array::uniform3(0..SPAN),
    ) {
        cuts.sort_unstable();
        let [a, b, c] = cuts;
        let calendar = calendar(business);
        let whole = figures(&members, &rules, &calendar, a, c);
        let first = figures(&members, &rules, &calendar, a, b);
        let second = figures(&members, &rules, &calendar, b, c);
        prop_assert_eq!(whole.counted_seconds, first.counted_seconds + second.counted_seconds);
        prop_assert_eq!(
            whole.downtime_seconds,
            first.downtime_seconds + second.downtime_seconds
        );
        prop_assert_eq!(whole.calendar_seconds, first.calendar_seconds + second.calendar_seconds);
    }

    #[test]
    fn order_of_arrival_and_repetition_change_nothing(
        members in prop::collection::vec(system_history(), 1..4),
        rules in rules(),
        business in any::<bool>(),
        (from, to) in (0..SPAN, 0..SPAN),
        seed in any::<u64>(),
    ) {
        let calendar = calendar(business);
        let (from, to) = (from.min(to), from.max(to));
        let shuffled: Vec<SystemHistory> = members
            .iter()
            .map(|member| {
                let mut states = member.states.clone();
                states.extend(member.states.iter().step_by(2).copied());
                let mut maintenance = member.maintenance.clone();
                maintenance.extend(member.maintenance.iter().copied());
                shuffle(&mut states, seed);
                states.reverse();
                shuffle(&mut maintenance, seed);
                SystemHistory { states, maintenance }
            })
            .collect();
        prop_assert_eq!(
            figures(&members, &rules, &calendar, from, to),
            figures(&shuffled, &rules, &calendar, from, to)
        );
    }

    #[test]
    fn response_times_ignore_order_and_repetition(
        values in prop::collection::vec((0..SPAN, 0u32..10_000), 0..60),
        seed in any::<u64>(),
        statistic in 0usize..4,
    ) {
        let statistic = [Statistic::Max, Statistic::P95, Statistic::P99, Statistic::Mean]
            [statistic];
        let samples: Vec<ResponseSample> = values
            .iter()
            .map(|(at, ms)| ResponseSample {
                system: "PORTALE",
                at: instant(*at),
                response_ms: f64::from(*ms) / 100.0,
            })
            .collect();
        let mut again = samples.clone();
        again.extend(samples.iter().copied());
        shuffle(&mut again, seed);
        let systems = vec!["PORTALE".to_owned()];
        let measure = |samples: &[ResponseSample]| {
            measure_response_time(samples, &systems, statistic, instant(0), instant(SPAN), instant(SPAN))
        };
        prop_assert_eq!(measure(&samples), measure(&again));
    }
}

/// A deterministic shuffle (Fisher–Yates over a small LCG): enough to change the order.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        items.swap(i, (state >> 33) as usize % (i + 1));
    }
}
