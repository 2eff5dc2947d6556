//! `helpdesk monitoring import --nagios-log FILE…`: a past year of Nagios or Icinga logs
//! stored as the monitor's history, through `record` (the ingest endpoints' own storage),
//! in batches. A history import opens no tickets: those outages are past.

use super::nagios_log::NagiosLog;
use super::record::{MonitorReport, record};
use crate::db::monitoring::{NewState, StateSource, insert_downtime};
use crate::db::{DbConnection, StoreError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::BufRead;

/// States per transaction.
const BATCH: usize = 20_000;

/// What an import read and stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub lines: u64,
    pub states_read: u64,
    pub states_stored: u64,
    pub downtimes_stored: u64,
    pub unmapped: u64,
    pub skipped: u64,
    pub malformed: u64,
    pub downtimes_left_open: u64,
}

/// Imports the logs `readers` yields, in order, with `mapping` (`host` or `host;service`
/// → system code); every system named must exist.
pub fn import_nagios_logs(
    conn: &mut DbConnection,
    readers: impl IntoIterator<Item = Box<dyn BufRead>>,
    mapping: BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> anyhow::Result<ImportSummary> {
    let mut systems: Vec<&str> = mapping.values().map(String::as_str).collect();
    systems.sort_unstable();
    systems.dedup();
    let unknown = super::record::unknown_systems(conn, &systems)?;
    anyhow::ensure!(
        unknown.is_empty(),
        "not systems (define them with PUT /api/v1/systems/CODE): {}",
        unknown
            .iter()
            .map(|&i| systems[i])
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut log = NagiosLog::new(mapping);
    let mut summary = ImportSummary::default();
    for reader in readers {
        for line in reader.lines() {
            log.feed(&line?);
            if log.states.len() >= BATCH {
                flush(conn, &mut log, &mut summary, now)?;
            }
        }
    }
    flush(conn, &mut log, &mut summary, now)?;
    for downtime in std::mem::take(&mut log.downtimes) {
        let (_, created) = insert_downtime(
            conn,
            &downtime.system,
            downtime.start,
            downtime.end,
            "Nagios downtime",
            now,
        )?;
        summary.downtimes_stored += u64::from(created);
    }
    summary.lines = log.lines;
    summary.unmapped = log.unmapped;
    summary.skipped = log.skipped;
    summary.malformed = log.malformed;
    summary.downtimes_left_open = log.open_downtimes() as u64;
    Ok(summary)
}

fn flush(
    conn: &mut DbConnection,
    log: &mut NagiosLog,
    summary: &mut ImportSummary,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let states: Vec<NewState> = log
        .states
        .drain(..)
        .map(|s| NewState {
            system: s.system,
            at: s.at,
            state: s.state,
            hard: s.hard,
            source: StateSource::Nagios,
            problem_id: None,
            output: s.output.map(|o| o.chars().take(1000).collect()),
        })
        .collect();
    summary.states_read += states.len() as u64;
    let report = MonitorReport {
        states,
        ..MonitorReport::default()
    };
    summary.states_stored += record(conn, &report, now)?.states as u64;
    Ok(())
}
