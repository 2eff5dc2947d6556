//! Each ticket's SLA clocks as last computed, and the flags that make the clock watcher
//! record every crossing exactly once.

use super::schema::ticket_clocks;
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::db::error::parse_stored;
use crate::sla::{Clock, SlaEngine};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

pub use super::crossings::{Crossing, claim_crossing, unrecorded_crossings};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_clocks)]
pub(super) struct ClockRow {
    ticket_id: String,
    code: String,
    interruption: i64,
    interruption_started_at: Option<NaiveDateTime>,
    target_seconds: i64,
    calendar: String,
    started_at: NaiveDateTime,
    applies_from: NaiveDateTime,
    deadline: Option<NaiveDateTime>,
    at_risk_at: Option<NaiveDateTime>,
    stopped_at: Option<NaiveDateTime>,
    segment_started_at: NaiveDateTime,
    consumed_seconds: i64,
    paused: bool,
    risk_recorded: bool,
    breach_recorded: bool,
    reported_at: NaiveDateTime,
    agency_id: Option<String>,
    outcome: Option<String>,
    elapsed_seconds: Option<i64>,
    calendar_version: i64,
    span_end: NaiveDateTime,
}

/// What the reports need of a clock's ticket, stored beside each clock.
#[derive(Debug, Clone, Copy)]
pub struct ClockOwner<'a> {
    pub ticket_id: Uuid,
    pub reported_at: DateTime<Utc>,
    pub agency_id: Option<Uuid>,
    /// Computes a stopped clock's outcome.
    pub engine: &'a SlaEngine,
}

/// A stored clock and whether its crossings were recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredClock {
    pub ticket_id: Uuid,
    pub clock: Clock,
    pub risk_recorded: bool,
    pub breach_recorded: bool,
    /// The version of its calendar the clock was computed with.
    pub calendar_version: i64,
}

/// The last instant whose business time can change the stored clock: its stop (or its
/// deadline, when later: the time counted runs to the stop), its deadline while it runs, the
/// end of time while it is paused with time left. A calendar change that affects nothing
/// before `started_at` or after this leaves the clock as it is.
pub fn span_end(clock: &Clock) -> DateTime<Utc> {
    let end = match (clock.stopped_at, clock.deadline) {
        (Some(stop), Some(deadline)) => Some(stop.max(deadline)),
        (Some(stop), None) => Some(stop),
        (None, deadline) => deadline,
    };
    end.unwrap_or_else(|| crate::db::calendars::all_time().1)
}

/// `applies_from` may be "always" (the minimum instant); stored as 0001-01-01 to stay in the
/// range where timestamps sort as text on SQLite.
fn store_floor(at: DateTime<Utc>) -> NaiveDateTime {
    let floor = DateTime::from_timestamp(-62_135_596_800, 0).expect("0001-01-01");
    to_db_time(at.max(floor))
}

impl TryFrom<ClockRow> for StoredClock {
    type Error = StoreError;
    fn try_from(row: ClockRow) -> Result<StoredClock, StoreError> {
        Ok(StoredClock {
            ticket_id: parse_stored("ticket_clocks.ticket_id", &row.ticket_id)?,
            clock: Clock {
                interruption: match (row.interruption, row.interruption_started_at) {
                    (sequence @ 1.., Some(started)) => Some(crate::sla::InterruptionRef {
                        sequence,
                        started_at: from_db_time(started),
                    }),
                    _ => None,
                },
                code: row.code,
                target_seconds: row.target_seconds,
                calendar: row.calendar,
                started_at: from_db_time(row.started_at),
                applies_from: from_db_time(row.applies_from),
                deadline: row.deadline.map(from_db_time),
                at_risk_at: row.at_risk_at.map(from_db_time),
                stopped_at: row.stopped_at.map(from_db_time),
                segment_started_at: from_db_time(row.segment_started_at),
                consumed_seconds: row.consumed_seconds,
                paused: row.paused,
            },
            risk_recorded: row.risk_recorded,
            breach_recorded: row.breach_recorded,
            calendar_version: row.calendar_version,
        })
    }
}

/// Stores the clocks of a ticket that has none yet (inside its creating transaction).
pub fn insert_clocks(
    conn: &mut DbConnection,
    owner: &ClockOwner,
    clocks: &[Clock],
) -> Result<Vec<StoredClock>, StoreError> {
    let stored = fresh_clocks(owner, clocks);
    insert_stored_clocks(conn, &[(*owner, &stored)])?;
    Ok(stored)
}

/// New clocks as they will be stored: no crossing recorded yet.
pub fn fresh_clocks(owner: &ClockOwner, clocks: &[Clock]) -> Vec<StoredClock> {
    clocks
        .iter()
        .map(|clock| StoredClock {
            ticket_id: owner.ticket_id,
            clock: clock.clone(),
            risk_recorded: false,
            breach_recorded: false,
            calendar_version: owner.engine.version_of(&clock.calendar),
        })
        .collect()
}

/// Stores clocks not stored yet, of one ticket or of many, in one statement.
pub fn insert_stored_clocks(
    conn: &mut DbConnection,
    clocks: &[(ClockOwner, &[StoredClock])],
) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for (owner, stored) in clocks {
        for clock in stored.iter() {
            rows.push(clock_row(owner, clock)?);
        }
    }
    super::insert_rows!(conn, ticket_clocks::table, &rows)?;
    Ok(())
}

/// Replaces a ticket's clocks (inside the event's transaction). A crossing already recorded
/// stays recorded while the instant it was about stays the same.
pub fn replace_clocks(
    conn: &mut DbConnection,
    owner: &ClockOwner,
    clocks: &[Clock],
) -> Result<Vec<StoredClock>, StoreError> {
    let ticket_id = owner.ticket_id;
    let before: HashMap<(String, i64), StoredClock> = load_clocks(conn, &[ticket_id])?
        .remove(&ticket_id)
        .unwrap_or_default()
        .into_iter()
        .map(|stored| (stored.clock.key(), stored))
        .collect();
    diesel::delete(ticket_clocks::table.filter(ticket_clocks::ticket_id.eq(ticket_id.to_string())))
        .execute(conn)?;
    let stored: Vec<StoredClock> = clocks
        .iter()
        .map(|clock| carry_flags(before.get(&clock.key()), ticket_id, clock, owner.engine))
        .collect();
    insert_stored_clocks(conn, &[(*owner, &stored)])?;
    Ok(stored)
}

/// `clock` as it will be stored, computed again over `previous`: a crossing already recorded
/// stays recorded while the instant it was about stays the same.
pub fn carry_flags(
    previous: Option<&StoredClock>,
    ticket_id: Uuid,
    clock: &Clock,
    engine: &SlaEngine,
) -> StoredClock {
    StoredClock {
        ticket_id,
        clock: clock.clone(),
        risk_recorded: previous
            .is_some_and(|p| p.risk_recorded && p.clock.at_risk_at == clock.at_risk_at),
        breach_recorded: previous
            .is_some_and(|p| p.breach_recorded && p.clock.deadline == clock.deadline),
        calendar_version: engine.version_of(&clock.calendar),
    }
}

/// A stopped clock's outcome and counted time (for the reports), `None` while it runs or when
/// its calendar is unknown.
pub fn outcome_of(
    engine: &SlaEngine,
    clock: &Clock,
) -> Result<Option<(crate::sla::ClockState, i64)>, StoreError> {
    match engine.calendar(&clock.calendar) {
        Some(calendar) => clock
            .outcome(calendar)
            .map_err(|e| StoreError::Corrupt(format!("clock {}: {e}", clock.code))),
        None => Ok(None),
    }
}

/// A clock as its row, with what the reports need of its ticket and its outcome.
fn clock_row(owner: &ClockOwner, stored: &StoredClock) -> Result<ClockRow, StoreError> {
    let clock = &stored.clock;
    let outcome = outcome_of(owner.engine, clock)?;
    let row = ClockRow {
        ticket_id: stored.ticket_id.to_string(),
        code: clock.code.clone(),
        interruption: clock.interruption_number(),
        interruption_started_at: clock.interruption.map(|i| to_db_time(i.started_at)),
        target_seconds: clock.target_seconds,
        calendar: clock.calendar.clone(),
        started_at: to_db_time(clock.started_at),
        applies_from: store_floor(clock.applies_from),
        deadline: clock.deadline.map(to_db_time),
        at_risk_at: clock.at_risk_at.map(to_db_time),
        stopped_at: clock.stopped_at.map(to_db_time),
        segment_started_at: to_db_time(clock.segment_started_at),
        consumed_seconds: clock.consumed_seconds,
        paused: clock.paused,
        risk_recorded: stored.risk_recorded,
        breach_recorded: stored.breach_recorded,
        reported_at: to_db_time(owner.reported_at),
        agency_id: owner.agency_id.map(|id| id.to_string()),
        outcome: outcome.map(|(state, _)| state.as_str().to_owned()),
        elapsed_seconds: outcome.map(|(_, elapsed)| elapsed),
        calendar_version: stored.calendar_version,
        span_end: to_db_time(span_end(clock)),
    };
    Ok(row)
}

/// The clocks of several tickets, by ticket.
pub fn load_clocks(
    conn: &mut DbConnection,
    ticket_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<StoredClock>>, StoreError> {
    Ok(load_clocks_and_outcomes(conn, ticket_ids)?.0)
}

/// The stored outcome and counted time of each stopped clock, by ticket and clock key.
pub type StoredOutcomes = HashMap<(Uuid, (String, i64)), (String, i64)>;

/// The clocks of several tickets, by ticket, and what the reports keep of the stopped ones.
pub fn load_clocks_and_outcomes(
    conn: &mut DbConnection,
    ticket_ids: &[Uuid],
) -> Result<(HashMap<Uuid, Vec<StoredClock>>, StoredOutcomes), StoreError> {
    let order = (
        ticket_clocks::ticket_id,
        ticket_clocks::code,
        ticket_clocks::interruption,
    );
    // One ticket (the common case) by equality, and not boxed: a statement diesel prepares
    // once per connection (a boxed query is prepared again on every run).
    let rows: Vec<ClockRow> = match ticket_ids {
        [] => Vec::new(),
        [only] => ticket_clocks::table
            .filter(ticket_clocks::ticket_id.eq(only.to_string()))
            .order(order)
            .select(ClockRow::as_select())
            .load(conn)?,
        many => ticket_clocks::table
            .filter(ticket_clocks::ticket_id.eq_any(many.iter().map(Uuid::to_string)))
            .order(order)
            .select(ClockRow::as_select())
            .load(conn)?,
    };
    let mut by_ticket: HashMap<Uuid, Vec<StoredClock>> = HashMap::new();
    let mut outcomes = StoredOutcomes::new();
    for row in rows {
        let kept = row
            .outcome
            .clone()
            .map(|o| (o, row.elapsed_seconds.unwrap_or(0)));
        let stored = StoredClock::try_from(row)?;
        if let Some(kept) = kept {
            outcomes.insert((stored.ticket_id, stored.clock.key()), kept);
        }
        by_ticket.entry(stored.ticket_id).or_default().push(stored);
    }
    for clocks in by_ticket.values_mut() {
        sort_clocks(clocks);
    }
    Ok((by_ticket, outcomes))
}

/// A ticket's clocks in the order the API shows them: by SLA, then by interruption.
fn sort_clocks(clocks: &mut [StoredClock]) {
    clocks.sort_by_key(|stored| {
        (
            code_order(&stored.clock.code),
            stored.clock.interruption_number(),
        )
    });
}

/// SLA.6 before SLA.10 (text order would put SLA.10 first).
fn code_order(code: &str) -> (u32, String) {
    let number = code
        .rsplit('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(u32::MAX);
    (number, code.to_owned())
}

/// Stored for "no running deadline", so the queue index needs no NULL ordering.
pub fn no_deadline() -> NaiveDateTime {
    DateTime::from_timestamp(253_402_300_799, 0)
        .expect("9999-12-31 is representable")
        .naive_utc()
}

pub fn deadline_column(next_deadline: Option<DateTime<Utc>>) -> NaiveDateTime {
    next_deadline.map_or_else(no_deadline, to_db_time)
}

pub fn deadline_from_column(stored: NaiveDateTime) -> Option<DateTime<Utc>> {
    (stored != no_deadline()).then(|| from_db_time(stored))
}

/// Fills the report columns of stopped clocks stored before they existed (the outcome and
/// the time counted need the calendars, so the migration could not). Returns how many.
pub fn backfill_outcomes(conn: &mut DbConnection, engine: &SlaEngine) -> Result<usize, StoreError> {
    let mut filled = 0;
    loop {
        let rows: Vec<ClockRow> = ticket_clocks::table
            .filter(ticket_clocks::stopped_at.is_not_null())
            .filter(ticket_clocks::outcome.is_null())
            .select(ClockRow::as_select())
            .limit(1000)
            .load(conn)?;
        let mut progressed = false;
        for row in rows.iter().cloned() {
            let stored = StoredClock::try_from(row)?;
            let clock = &stored.clock;
            let Some(calendar) = engine.calendar(&clock.calendar) else {
                continue;
            };
            let Some((state, elapsed)) = clock
                .outcome(calendar)
                .map_err(|e| StoreError::Corrupt(format!("clock {}: {e}", clock.code)))?
            else {
                continue;
            };
            diesel::update(ticket_clocks::table.find((
                stored.ticket_id.to_string(),
                clock.code.clone(),
                clock.interruption_number(),
            )))
            .set((
                ticket_clocks::outcome.eq(Some(state.as_str())),
                ticket_clocks::elapsed_seconds.eq(Some(elapsed)),
            ))
            .execute(conn)?;
            filled += 1;
            progressed = true;
        }
        if rows.len() < 1000 || !progressed {
            return Ok(filled);
        }
    }
}
