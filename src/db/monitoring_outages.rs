//! The outages monitoring reported and the malfunction tickets they opened or joined.

use super::error::parse_stored;
use super::schema::{monitor_outages, tickets};
use super::{DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// One outage and its ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorOutage {
    pub system: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ticket_id: Uuid,
}

type Row = (String, NaiveDateTime, Option<NaiveDateTime>, String);

fn from_row(row: Row) -> Result<MonitorOutage, StoreError> {
    Ok(MonitorOutage {
        system: row.0,
        started_at: from_db_time(row.1),
        ended_at: row.2.map(from_db_time),
        ticket_id: parse_stored("monitor_outages.ticket_id", &row.3)?,
    })
}

/// The outages of `system` recorded as overlapping `[start, end)` (`end` `None`: open).
pub fn overlapping_outages(
    conn: &mut DbConnection,
    system: &str,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
) -> Result<Vec<MonitorOutage>, StoreError> {
    let mut query = monitor_outages::table
        .filter(monitor_outages::system.eq(system.to_owned()))
        .filter(
            monitor_outages::ended_at
                .is_null()
                .or(monitor_outages::ended_at.gt(to_db_time(start))),
        )
        .into_boxed();
    if let Some(end) = end {
        query = query.filter(monitor_outages::started_at.lt(to_db_time(end)));
    }
    query
        .order(monitor_outages::started_at)
        .select((
            monitor_outages::system,
            monitor_outages::started_at,
            monitor_outages::ended_at,
            monitor_outages::ticket_id,
        ))
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// The outages of `system` whose end is not recorded yet.
pub fn open_outages(
    conn: &mut DbConnection,
    system: &str,
) -> Result<Vec<MonitorOutage>, StoreError> {
    monitor_outages::table
        .filter(monitor_outages::system.eq(system.to_owned()))
        .filter(monitor_outages::ended_at.is_null())
        .order(monitor_outages::started_at)
        .select((
            monitor_outages::system,
            monitor_outages::started_at,
            monitor_outages::ended_at,
            monitor_outages::ticket_id,
        ))
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// The latest ticket an outage of `system` opened or joined that is still being worked
/// (`new`, `open` or `on_hold`): the open malfunction a new outage joins.
pub fn open_malfunction_of(
    conn: &mut DbConnection,
    system: &str,
) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> = monitor_outages::table
        .inner_join(tickets::table.on(tickets::id.eq(monitor_outages::ticket_id)))
        .filter(monitor_outages::system.eq(system.to_owned()))
        .filter(tickets::status.eq_any(["new", "open", "on_hold"]))
        .order(monitor_outages::started_at.desc())
        .select(monitor_outages::ticket_id)
        .first(conn)
        .optional()?;
    id.map(|id| parse_stored("monitor_outages.ticket_id", &id))
        .transpose()
}

/// Records that the outage of `system` from `started_at` is on `ticket_id`; `false` when
/// another report recorded it first.
pub fn insert_outage(
    conn: &mut DbConnection,
    system: &str,
    started_at: DateTime<Utc>,
    ticket_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = diesel::insert_into(monitor_outages::table)
        .values((
            monitor_outages::system.eq(system),
            monitor_outages::started_at.eq(to_db_time(started_at)),
            monitor_outages::ticket_id.eq(ticket_id.to_string()),
            monitor_outages::created_at.eq(to_db_time(now)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Marks the outage ended at `ended_at` (its `interruption_end` is recorded).
pub fn end_outage(
    conn: &mut DbConnection,
    system: &str,
    started_at: DateTime<Utc>,
    ended_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(monitor_outages::table.find((system.to_owned(), to_db_time(started_at))))
        .set(monitor_outages::ended_at.eq(Some(to_db_time(ended_at))))
        .execute(conn)?;
    Ok(())
}

/// The systems down now (their latest hard state is `down`, or an alert of theirs is still
/// firing) that no open outage follows yet, with when the latest such state began: those
/// whose outage may have lasted long enough to open a ticket since the monitor last spoke.
pub fn down_without_outage(
    conn: &mut DbConnection,
) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
    #[derive(QueryableByName)]
    struct DownSince {
        #[diesel(sql_type = diesel::sql_types::Text)]
        system: String,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        at: NaiveDateTime,
    }
    let rows: Vec<DownSince> = diesel::sql_query(
        "SELECT c.system, c.at FROM monitor_state_changes c \
         WHERE c.state = 'down' \
           AND c.at = (SELECT max(m.at) FROM monitor_state_changes m WHERE m.system = c.system) \
           AND NOT EXISTS (SELECT 1 FROM monitor_outages o \
                           WHERE o.system = c.system AND o.ended_at IS NULL) \
         UNION ALL \
         SELECT a.system, min(a.starts_at) AS at FROM monitor_alerts a \
         WHERE a.ends_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM monitor_outages o \
                           WHERE o.system = a.system AND o.ended_at IS NULL) \
         GROUP BY a.system",
    )
    .load(conn)?;
    let mut down: Vec<(String, DateTime<Utc>)> = rows
        .into_iter()
        .map(|row| (row.system, from_db_time(row.at)))
        .collect();
    down.sort();
    down.dedup_by(|b, a| a.0 == b.0);
    Ok(down)
}
