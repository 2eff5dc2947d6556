//! Storing what monitors report, in one transaction per report or batch: the systems named
//! must exist, and nothing of a batch is stored when one item names an unknown system.

use crate::db::monitoring::{
    NewAlert, NewResponseTime, NewState, insert_response_times, insert_states, record_alerts,
};
use crate::db::{DbConnection, StoreError, write_transaction};
use chrono::{DateTime, Utc};

/// What one report or batch brings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorReport {
    pub states: Vec<NewState>,
    pub response_times: Vec<NewResponseTime>,
    pub alerts: Vec<NewAlert>,
}

impl MonitorReport {
    /// Each system the report speaks of, with the earliest instant it reports: from there
    /// on its outages may have begun or ended.
    pub fn touched_systems(&self) -> Vec<(String, DateTime<Utc>)> {
        let mut earliest: std::collections::BTreeMap<&str, DateTime<Utc>> =
            std::collections::BTreeMap::new();
        let instants = self
            .states
            .iter()
            .filter(|s| s.hard)
            .map(|s| (s.system.as_str(), s.at))
            .chain(self.alerts.iter().map(|a| (a.system.as_str(), a.starts_at)));
        for (system, at) in instants {
            let entry = earliest.entry(system).or_insert(at);
            *entry = (*entry).min(at);
        }
        earliest
            .into_iter()
            .map(|(system, at)| (system.to_owned(), at))
            .collect()
    }
}

/// How much of it was new.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub states: usize,
    pub response_times: usize,
    pub alerts: usize,
}

/// Of `codes`, the positions of those that name no system.
pub fn unknown_systems(conn: &mut DbConnection, codes: &[&str]) -> Result<Vec<usize>, StoreError> {
    let known = crate::db::systems::system_codes(conn)?;
    Ok(codes
        .iter()
        .enumerate()
        .filter(|(_, code)| known.binary_search_by(|k| k.as_str().cmp(code)).is_err())
        .map(|(i, _)| i)
        .collect())
}

/// Stores the report in one transaction (the systems must exist: a foreign key refuses
/// others).
pub fn record(
    conn: &mut DbConnection,
    report: &MonitorReport,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    write_transaction(conn, |conn| {
        Ok(Recorded {
            states: insert_states(conn, &report.states, now)?,
            response_times: insert_response_times(conn, &report.response_times, now)?,
            alerts: record_alerts(conn, &report.alerts, now)?,
        })
    })
}
