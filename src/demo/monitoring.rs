//! The demo's year of monitoring: the five systems of SLA.1–SLA.5 and a history whose
//! figures are the 2016 report's measured column (99,92 %, 99,75 %, 7 ms, 99,25 %, 99,61 %),
//! stored through the ingest endpoints' own storage (`monitoring::record`).

use crate::db;
use crate::db::monitoring::{NewResponseTime, NewState, StateSource};
use crate::db::systems::SystemDefinition;
use crate::monitoring::record::{MonitorReport, record};
use crate::sla::availability::HealthState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rand::rngs::StdRng;

/// The systems and the share of the year each is down (SLA.1's two hosts share theirs).
const SYSTEMS: &[(&str, &str, &[&str], f64)] = &[
    (
        "CSDB1",
        "Database server 1",
        &["Anagrafe online", "SUAP"],
        0.0004,
    ),
    (
        "CSDB2",
        "Database server 2",
        &["Anagrafe online", "SUAP"],
        0.0004,
    ),
    ("ICMSCMF", "ICMS (CMF)", &["Protocollo informatico"], 0.0025),
    (
        "PORTALE",
        "Portale dei servizi",
        &["Portale dei servizi online"],
        0.0075,
    ),
    (
        "ACCESSO",
        "Accesso ai servizi",
        &["Portale dei servizi online", "PagoPA"],
        0.0039,
    ),
];

/// What the year of monitoring made.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeededMonitoring {
    pub systems: usize,
    pub outages: usize,
    pub check_results: usize,
}

/// Records `year`'s monitoring, reproducibly from `rng`.
pub fn seed_monitoring(
    conn: &mut db::DbConnection,
    rng: &mut StdRng,
    year: i32,
    now: DateTime<Utc>,
) -> anyhow::Result<SeededMonitoring> {
    let zone = chrono_tz::Europe::Rome;
    let midnight = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|day| crate::domain::time::local_midnight(zone, day))
            .ok_or_else(|| anyhow::anyhow!("no local midnight for {y}"))
    };
    let (start, end) = (midnight(year)?, midnight(year + 1)?);
    let seconds = (end - start).num_seconds();
    let mut seeded = SeededMonitoring::default();
    let mut report = MonitorReport::default();
    let state = |system: &str, at: DateTime<Utc>, state: HealthState, output: &str| NewState {
        system: system.to_owned(),
        at,
        state,
        hard: true,
        source: StateSource::Event,
        problem_id: None,
        output: Some(output.to_owned()),
    };
    // Each system's days of outage, apart from the others' (SLA.1 counts both hosts).
    let mut days: Vec<i64> = (1..(seconds / 86_400) - 1).collect();
    for i in (1..days.len()).rev() {
        days.swap(i, rng.random_range(0..=i));
    }
    let mut free_days = days.into_iter();
    for &(code, name, services, share) in SYSTEMS {
        db::systems::put_system(
            conn,
            code,
            SystemDefinition {
                name: name.to_owned(),
                services: services.iter().map(|s| (*s).to_owned()).collect(),
                agency_ids: Vec::new(),
            },
            now,
        )?;
        seeded.systems += 1;
        report
            .states
            .push(state(code, start, HealthState::Up, "PING OK"));
        // The downtime to the second, split over a few outages on days of their own.
        let total = (share * seconds as f64).round() as i64;
        // Outages of about the same length, none above half a day: each fits in its day.
        let outages = rng.random_range(3..=7_i64).max((total + 43_199) / 43_200);
        let base = total / outages;
        let mut left = total;
        for k in 0..outages {
            let length = if k + 1 == outages {
                left
            } else {
                base + rng.random_range(-(base / 20)..=base / 20)
            };
            left -= length;
            let day = free_days
                .next()
                .ok_or_else(|| anyhow::anyhow!("too few days"))?;
            let offset = rng.random_range(0..(86_400 - length).max(1));
            let down = start + Duration::seconds(day * 86_400 + offset);
            report
                .states
                .push(state(code, down, HealthState::Down, "CRITICAL - no answer"));
            report.states.push(state(
                code,
                down + Duration::seconds(length),
                HealthState::Up,
                "OK",
            ));
            seeded.outages += 1;
        }
    }
    // SLA.3: the portal's page every ten minutes, never slower than 7 ms.
    let mut at = start;
    while at < end {
        let response_ms = if rng.random_bool(0.001) {
            7.0
        } else {
            f64::from(rng.random_range(20..=69)) / 10.0
        };
        report.response_times.push(NewResponseTime {
            system: "PORTALE".into(),
            at,
            response_ms,
        });
        at += Duration::minutes(10);
    }
    seeded.check_results = report.response_times.len();
    // One sample at the very top of the target, so the year's maximum is exactly it.
    if let Some(first) = report.response_times.first_mut() {
        first.response_ms = 7.0;
    }
    record(conn, &report, now)?;
    Ok(seeded)
}
