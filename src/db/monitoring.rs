//! The monitor's history (SPEC §9): reported states, Alertmanager's alerts, check results'
//! response times and maintenance windows. Every write is a set insertion, so a report sent
//! twice stores once and the order of arrival does not matter; where two reports of the same
//! key differ, the stored value is the one the order cannot change (the larger response time,
//! the earlier end of an alert). Multi-row statements with `ON CONFLICT`, which both backends
//! write alike, are raw SQL here (diesel's own need a `match` on the connection).

use super::error::parse_stored;
use super::schema::monitor_downtimes;
use super::{DbConnection, StoreError, from_db_time, to_db_time, values_list};
use crate::sla::availability::HealthState;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Nullable, Text, Timestamp};
use uuid::Uuid;

/// Rows per statement: well under both backends' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 500;

/// Where a state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateSource {
    Event,
    Check,
    Nagios,
}

impl StateSource {
    fn as_str(self) -> &'static str {
        match self {
            StateSource::Event => "event",
            StateSource::Check => "check",
            StateSource::Nagios => "nagios",
        }
    }
}

/// A reported state to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewState {
    pub system: String,
    pub at: DateTime<Utc>,
    pub state: HealthState,
    pub hard: bool,
    pub source: StateSource,
    pub problem_id: Option<String>,
    pub output: Option<String>,
}

/// Stores the states not stored yet; returns how many were new.
pub fn insert_states(
    conn: &mut DbConnection,
    states: &[NewState],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut stored = 0;
    for chunk in states.chunks(ROWS_PER_STATEMENT) {
        let mut query = diesel::sql_query(format!(
            "INSERT INTO monitor_states (system, at, state, hard, source, problem_id, output, \
             recorded_at) VALUES {} ON CONFLICT DO NOTHING",
            values_list(conn, chunk.len(), 8)
        ))
        .into_boxed();
        for state in chunk {
            query = query
                .bind::<Text, _>(state.system.clone())
                .bind::<Timestamp, _>(to_db_time(state.at))
                .bind::<Text, _>(state.state.as_str())
                .bind::<Bool, _>(state.hard)
                .bind::<Text, _>(state.source.as_str())
                .bind::<Nullable<Text>, _>(state.problem_id.clone())
                .bind::<Nullable<Text>, _>(state.output.clone())
                .bind::<Timestamp, _>(to_db_time(now));
        }
        stored += query.execute(conn)?;
    }
    // Each system's changes over the instants this insertion touched.
    let mut ranges: std::collections::BTreeMap<&str, (DateTime<Utc>, DateTime<Utc>)> =
        std::collections::BTreeMap::new();
    for state in states.iter().filter(|s| s.hard) {
        let range = ranges
            .entry(state.system.as_str())
            .or_insert((state.at, state.at));
        range.0 = range.0.min(state.at);
        range.1 = range.1.max(state.at);
    }
    if stored > 0 {
        for (system, (first, last)) in ranges {
            super::monitoring_changes::refresh_changes(
                conn,
                system,
                to_db_time(first),
                to_db_time(last),
            )?;
        }
    }
    Ok(stored)
}

/// A check result's response time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponseTime {
    pub system: String,
    pub at: DateTime<Utc>,
    pub response_ms: f64,
}

/// Stores response times, one per system and instant: of two for the same, the larger stays
/// (whichever came first). Returns how many rows were written or raised.
pub fn insert_response_times(
    conn: &mut DbConnection,
    results: &[NewResponseTime],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    // One statement may not touch a row twice (PostgreSQL refuses): merge the batch first.
    let mut merged: Vec<&NewResponseTime> = results.iter().collect();
    merged.sort_by(|a, b| {
        (&a.system, a.at)
            .cmp(&(&b.system, b.at))
            .then(b.response_ms.total_cmp(&a.response_ms))
    });
    merged.dedup_by(|next, kept| (&next.system, next.at) == (&kept.system, kept.at));
    let mut written = 0;
    for chunk in merged.chunks(ROWS_PER_STATEMENT) {
        let mut query = diesel::sql_query(format!(
            "INSERT INTO check_results (system, at, response_ms, recorded_at) VALUES {} \
             ON CONFLICT (system, at) DO UPDATE SET response_ms = excluded.response_ms \
             WHERE excluded.response_ms > check_results.response_ms",
            values_list(conn, chunk.len(), 4)
        ))
        .into_boxed();
        for result in chunk {
            query = query
                .bind::<Text, _>(result.system.clone())
                .bind::<Timestamp, _>(to_db_time(result.at))
                .bind::<Double, _>(result.response_ms)
                .bind::<Timestamp, _>(to_db_time(now));
        }
        written += query.execute(conn)?;
    }
    Ok(written)
}

/// One Alertmanager alert, by its identity (fingerprint, startsAt).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub fingerprint: String,
    pub starts_at: DateTime<Utc>,
    pub system: String,
    /// Set once resolved.
    pub ends_at: Option<DateTime<Utc>>,
}

/// Stores alerts: a new identity is inserted; a known one gains an end it lacked, or an
/// earlier end than the one it has (a resolution is never undone by a late firing copy).
pub fn record_alerts(
    conn: &mut DbConnection,
    alerts: &[NewAlert],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut merged: Vec<NewAlert> = alerts.to_vec();
    merged.sort_by(|a, b| {
        (&a.fingerprint, a.starts_at)
            .cmp(&(&b.fingerprint, b.starts_at))
            // Ends first (earliest first), then the unresolved copies.
            .then(match (a.ends_at, b.ends_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    merged.dedup_by(|next, kept| {
        (&next.fingerprint, next.starts_at) == (&kept.fingerprint, kept.starts_at)
    });
    let mut written = 0;
    for chunk in merged.chunks(ROWS_PER_STATEMENT) {
        let mut query = diesel::sql_query(format!(
            "INSERT INTO monitor_alerts (fingerprint, starts_at, system, ends_at, recorded_at) \
             VALUES {} ON CONFLICT (fingerprint, starts_at) DO UPDATE SET ends_at = \
             excluded.ends_at WHERE excluded.ends_at IS NOT NULL AND \
             (monitor_alerts.ends_at IS NULL OR excluded.ends_at < monitor_alerts.ends_at)",
            values_list(conn, chunk.len(), 5)
        ))
        .into_boxed();
        for alert in chunk {
            query = query
                .bind::<Text, _>(alert.fingerprint.clone())
                .bind::<Timestamp, _>(to_db_time(alert.starts_at))
                .bind::<Text, _>(alert.system.clone())
                .bind::<Nullable<Timestamp>, _>(alert.ends_at.map(to_db_time))
                .bind::<Timestamp, _>(to_db_time(now));
        }
        written += query.execute(conn)?;
    }
    Ok(written)
}

/// A maintenance window as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Downtime {
    pub id: Uuid,
    pub system: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = monitor_downtimes)]
struct DowntimeRow {
    id: String,
    system: String,
    start_at: NaiveDateTime,
    end_at: NaiveDateTime,
    reason: String,
    created_at: NaiveDateTime,
}

impl TryFrom<DowntimeRow> for Downtime {
    type Error = StoreError;
    fn try_from(row: DowntimeRow) -> Result<Downtime, StoreError> {
        Ok(Downtime {
            id: parse_stored("monitor_downtimes.id", &row.id)?,
            system: row.system,
            start: from_db_time(row.start_at),
            end: from_db_time(row.end_at),
            reason: row.reason,
            created_at: from_db_time(row.created_at),
        })
    }
}

/// Stores a maintenance window; the same window of the same system again returns the stored
/// one (with `false`: nothing new).
pub fn insert_downtime(
    conn: &mut DbConnection,
    system: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(Downtime, bool), StoreError> {
    let row = DowntimeRow {
        id: Uuid::now_v7().to_string(),
        system: system.to_owned(),
        start_at: to_db_time(start),
        end_at: to_db_time(end),
        reason: reason.to_owned(),
        created_at: to_db_time(now),
    };
    let inserted = diesel::sql_query(
        "INSERT INTO monitor_downtimes (id, system, start_at, end_at, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (system, start_at, end_at) DO NOTHING",
    )
    .bind::<Text, _>(&row.id)
    .bind::<Text, _>(&row.system)
    .bind::<Timestamp, _>(row.start_at)
    .bind::<Timestamp, _>(row.end_at)
    .bind::<Text, _>(&row.reason)
    .bind::<Timestamp, _>(row.created_at)
    .execute(conn)?;
    let stored = monitor_downtimes::table
        .filter(monitor_downtimes::system.eq(system))
        .filter(monitor_downtimes::start_at.eq(row.start_at))
        .filter(monitor_downtimes::end_at.eq(row.end_at))
        .select(DowntimeRow::as_select())
        .get_result(conn)?;
    Ok((Downtime::try_from(stored)?, inserted > 0))
}

/// The maintenance windows of `system` (or all) overlapping `[from, to)`, by start.
pub fn list_downtimes(
    conn: &mut DbConnection,
    system: Option<&str>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<Downtime>, StoreError> {
    let mut query = monitor_downtimes::table
        .select(DowntimeRow::as_select())
        .order((monitor_downtimes::start_at, monitor_downtimes::id))
        .into_boxed();
    if let Some(system) = system {
        query = query.filter(monitor_downtimes::system.eq(system.to_owned()));
    }
    if let Some(from) = from {
        query = query.filter(monitor_downtimes::end_at.gt(to_db_time(from)));
    }
    if let Some(to) = to {
        query = query.filter(monitor_downtimes::start_at.lt(to_db_time(to)));
    }
    query
        .load(conn)?
        .into_iter()
        .map(Downtime::try_from)
        .collect()
}

/// Deletes a maintenance window; `false` when there was none with this id.
pub fn delete_downtime(conn: &mut DbConnection, id: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(monitor_downtimes::table.find(id.to_string())).execute(conn)? > 0)
}
