//! Computing a batch of tickets' clocks again from their histories, with the calendars as
//! they stand now: the calendar follower's write. It reads and computes outside any
//! transaction, then locks the tickets as every writer of a ticket does, checks nothing moved,
//! writes what the calendars changed (deadlines, at-risk instants, counted time, the ticket's
//! next deadline), and records each outcome that changed as an event of the service, which
//! leaves the ticket's version alone.

use super::{TicketRow, clocks_of, record_service_event};
use crate::db::clocks::{
    StoredClock, StoredOutcomes as Outcomes, carry_flags, load_clocks_and_outcomes, outcome_of,
    span_end,
};
use crate::db::events::list_events_of;
use crate::db::schema::{agencies, tickets};
use crate::db::{DbConnection, StoreError, to_db_time};
use crate::domain::Action;
use crate::domain::ticket::Ticket;
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use uuid::Uuid;

/// What a batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    pub tickets: usize,
    /// Clocks whose stored values changed (a new version alone counts too).
    pub clocks: usize,
    /// Stopped clocks whose outcome (met, breached) changed: each is an event.
    pub outcomes: usize,
    /// How long the write transaction held other writers back.
    pub held: std::time::Duration,
}

/// A clock to write back, with what the reports keep of it.
struct Rewrite {
    stored: StoredClock,
    outcome: Option<(&'static str, i64)>,
}

/// What the batch read: each ticket with its history, stored clocks, the outcomes stored for
/// them and its agency's calendar.
struct Reading {
    tickets: Vec<Ticket>,
    histories: HashMap<Uuid, Vec<crate::domain::ticket::TicketEvent>>,
    stored: HashMap<Uuid, Vec<StoredClock>>,
    outcomes: Outcomes,
    calendars: HashMap<Uuid, Option<String>>,
}

/// A stopped clock whose outcome the calendar change turns around.
struct OutcomeChange {
    ticket: Uuid,
    before: StoredClock,
    after: StoredClock,
    old: (String, i64),
    new: (&'static str, i64),
}

/// What the batch will write.
#[derive(Default)]
struct Plan {
    rewrites: Vec<Rewrite>,
    /// Every ticket's next deadline, with the last event it was computed after.
    deadlines: Vec<(Uuid, i64, Option<DateTime<Utc>>)>,
    /// Tickets whose clocks do not pair one to one with the stored ones: written anew.
    anew: Vec<(Ticket, Vec<crate::sla::Clock>)>,
    outcomes: Vec<OutcomeChange>,
}

/// Computes the clocks of `ticket_ids` again with `engine`. The batch is read and computed
/// outside any transaction, then written in a short one that locks the tickets and checks
/// that none changed meanwhile (its last event and its agency's calendar are what was read);
/// one that did is read and computed again inside. Writers are held back by the writes only.
pub fn recompute_tickets(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    ticket_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Recomputed, StoreError> {
    let reading = read_batch(conn, ticket_ids)?;
    let mut plan = plan_batch(engine, &reading, now)?;
    let started = std::time::Instant::now();
    let mut done = crate::db::write_transaction(conn, |conn| {
        crate::db::commit_without_waiting_for_disk(conn)?;
        // One statement locks every ticket that has no new event since it was read and
        // stores its next deadline; a ticket that moved is read and computed again here.
        let kept = store_deadlines_if_unmoved(conn, &plan.deadlines)?;
        let mut moved: Vec<Uuid> = ticket_ids
            .iter()
            .copied()
            .filter(|id| !kept.contains(id))
            .collect();
        moved.extend(agencies_moved(conn, &reading, &kept)?);
        if !moved.is_empty() {
            lock_tickets(conn, &moved)?;
            let again = plan_batch(engine, &read_batch(conn, &moved)?, now)?;
            plan.retain_others(&moved);
            for chunk in again.deadlines.chunks(REWRITES_PER_STATEMENT) {
                write_next_deadlines(conn, chunk)?;
            }
            plan.extend(again);
        }
        write_plan(conn, engine, &plan, now)?;
        Ok::<_, StoreError>(Recomputed {
            tickets: ticket_ids.len(),
            clocks: plan.rewrites.len() + plan.anew.iter().map(|(_, c)| c.len()).sum::<usize>(),
            outcomes: plan.outcomes.len(),
            held: std::time::Duration::ZERO,
        })
    })?;
    done.held = started.elapsed();
    Ok(done)
}

fn agency_of(reading: &Reading, ticket: &Ticket) -> Option<String> {
    ticket
        .agency_id
        .and_then(|id| reading.calendars.get(&id).cloned().flatten())
}

fn read_batch(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Reading, StoreError> {
    let tickets: Vec<Ticket> = tickets::table
        .filter(tickets::id.eq_any(ids.iter().map(Uuid::to_string)))
        .select(TicketRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Ticket::try_from)
        .collect::<Result<_, _>>()?;
    let calendars = agency_calendars(conn, &tickets)?;
    let (stored, outcomes) = load_clocks_and_outcomes(conn, ids)?;
    Ok(Reading {
        histories: list_events_of(conn, ids)?,
        stored,
        outcomes,
        calendars,
        tickets,
    })
}

fn plan_batch(
    engine: &SlaEngine,
    reading: &Reading,
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();
    for ticket in &reading.tickets {
        let history = reading
            .histories
            .get(&ticket.id)
            .map_or(&[][..], Vec::as_slice);
        let agency_calendar = agency_of(reading, ticket);
        let clocks = clocks_of(engine, ticket, history, agency_calendar.as_deref())?;
        let before = reading
            .stored
            .get(&ticket.id)
            .map_or(&[][..], Vec::as_slice);
        plan.deadlines.push((
            ticket.id,
            ticket.last_sequence,
            SlaEngine::next_deadline(&clocks, now),
        ));
        let same_codes = before.len() == clocks.len()
            && before
                .iter()
                .zip(&clocks)
                .all(|(b, c)| b.clock.key() == c.key());
        if !same_codes {
            // Not what a calendar changes; write the ticket's clocks anew.
            plan.anew.push((ticket.clone(), clocks));
            continue;
        }
        for (previous, clock) in before.iter().zip(&clocks) {
            let next = carry_flags(Some(previous), ticket.id, clock, engine);
            if next == *previous {
                continue;
            }
            let outcome =
                outcome_of(engine, clock)?.map(|(state, elapsed)| (state.as_str(), elapsed));
            if let (Some(old), Some(new)) =
                (reading.outcomes.get(&(ticket.id, clock.key())), outcome)
                && old.0 != new.0
            {
                plan.outcomes.push(OutcomeChange {
                    ticket: ticket.id,
                    before: previous.clone(),
                    after: next.clone(),
                    old: old.clone(),
                    new,
                });
            }
            plan.rewrites.push(Rewrite {
                stored: next,
                outcome,
            });
        }
    }
    Ok(plan)
}

impl Plan {
    /// Drops what was planned for `tickets` (they changed; their plan is made again).
    fn retain_others(&mut self, tickets: &[Uuid]) {
        self.rewrites
            .retain(|r| !tickets.contains(&r.stored.ticket_id));
        self.deadlines.retain(|(id, _, _)| !tickets.contains(id));
        self.anew.retain(|(t, _)| !tickets.contains(&t.id));
        self.outcomes.retain(|o| !tickets.contains(&o.ticket));
    }

    fn extend(&mut self, other: Plan) {
        self.rewrites.extend(other.rewrites);
        self.deadlines.extend(other.deadlines);
        self.anew.extend(other.anew);
        self.outcomes.extend(other.outcomes);
    }
}

fn write_plan(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (ticket, clocks) in &plan.anew {
        let owner = crate::db::clocks::ClockOwner {
            ticket_id: ticket.id,
            reported_at: ticket.reported_at,
            agency_id: ticket.agency_id,
            engine,
        };
        crate::db::clocks::replace_clocks(conn, &owner, clocks)?;
    }
    for change in &plan.outcomes {
        record_outcome_change(conn, change, engine, now)?;
    }
    for chunk in plan.rewrites.chunks(REWRITES_PER_STATEMENT) {
        write_clocks(conn, chunk)?;
    }
    Ok(())
}

/// Rows per `UPDATE … FROM (VALUES …)`: 18 parameters each, well under PostgreSQL's 65,535.
const REWRITES_PER_STATEMENT: usize = 1000;

/// Stores each ticket's next deadline if its last event is still the one it was computed
/// after, taking its row lock (PostgreSQL; SQLite's `BEGIN IMMEDIATE` holds the database's);
/// returns the tickets it stored. The follower is the only writer of several tickets at
/// once, so its row locks cannot meet another's in opposite order.
fn store_deadlines_if_unmoved(
    conn: &mut DbConnection,
    deadlines: &[(Uuid, i64, Option<DateTime<Utc>>)],
) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    #[derive(QueryableByName)]
    struct Stored {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let mut kept = std::collections::HashSet::new();
    for chunk in deadlines.chunks(REWRITES_PER_STATEMENT) {
        let mut query = diesel::sql_query(format!(
            "UPDATE tickets SET next_deadline = v.column3 FROM (VALUES {}) AS v \
             WHERE tickets.id = v.column1 AND tickets.last_sequence = v.column2 \
             RETURNING tickets.id",
            crate::db::values_list(conn, chunk.len(), 3)
        ))
        .into_boxed();
        for (id, sequence, deadline) in chunk {
            query = query
                .bind::<Text, _>(id.to_string())
                .bind::<BigInt, _>(*sequence)
                .bind::<Timestamp, _>(crate::db::clocks::deadline_column(*deadline));
        }
        for row in query.load::<Stored>(conn)? {
            kept.insert(super::super::error::parse_stored("tickets.id", &row.id)?);
        }
    }
    Ok(kept)
}

/// The tickets of `kept` whose agency names another calendar than the one read (share-locked
/// on PostgreSQL, as an event reads it).
fn agencies_moved(
    conn: &mut DbConnection,
    reading: &Reading,
    kept: &std::collections::HashSet<Uuid>,
) -> Result<Vec<Uuid>, StoreError> {
    let mut ids: Vec<String> = reading
        .tickets
        .iter()
        .filter(|t| kept.contains(&t.id))
        .filter_map(|t| t.agency_id.map(|id| id.to_string()))
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = agencies::table
        .filter(agencies::id.eq_any(ids))
        .order(agencies::id)
        .select((agencies::id, agencies::calendar));
    let rows: Vec<(String, Option<String>)> = match conn {
        DbConnection::Postgresql(pg) => query.for_share().load(pg)?,
        DbConnection::Sqlite(_) => query.load(conn)?,
    };
    let now: HashMap<String, Option<String>> = rows.into_iter().collect();
    Ok(reading
        .tickets
        .iter()
        .filter(|t| kept.contains(&t.id))
        .filter(|t| {
            t.agency_id.is_some_and(|agency| {
                now.get(&agency.to_string()) != reading.calendars.get(&agency)
            })
        })
        .map(|t| t.id)
        .collect())
}

/// Locks the tickets' rows in id order (PostgreSQL).
fn lock_tickets(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        let mut sorted: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        sorted.sort();
        tickets::table
            .filter(tickets::id.eq_any(&sorted))
            .order(tickets::id)
            .select(tickets::id)
            .for_update()
            .load::<String>(pg)?;
    }
    Ok(())
}

/// The calendar each ticket's agency names (read without a lock: the write checks it again).
fn agency_calendars(
    conn: &mut DbConnection,
    tickets: &[Ticket],
) -> Result<HashMap<Uuid, Option<String>>, StoreError> {
    let mut ids: Vec<String> = tickets
        .iter()
        .filter_map(|t| t.agency_id.map(|id| id.to_string()))
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, Option<String>)> = agencies::table
        .filter(agencies::id.eq_any(ids))
        .select((agencies::id, agencies::calendar))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, calendar)| id.parse().ok().map(|id| (id, calendar)))
        .collect())
}

/// Records on the ticket that a calendar change altered a stopped clock's outcome.
fn record_outcome_change(
    conn: &mut DbConnection,
    change: &OutcomeChange,
    engine: &SlaEngine,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (before, after) = (&change.before.clock, &change.after.clock);
    let mut details = Map::new();
    details.insert("code".into(), Value::String(after.code.clone()));
    if let Some(interruption) = after.interruption {
        details.insert("interruption".into(), json!(interruption));
    }
    details.insert("calendar".into(), Value::String(after.calendar.clone()));
    details.insert(
        "calendar_version".into(),
        json!(engine.version_of(&after.calendar)),
    );
    details.insert("outcome_before".into(), json!(change.old.0));
    details.insert("outcome".into(), json!(change.new.0));
    details.insert("elapsed_seconds_before".into(), json!(change.old.1));
    details.insert("elapsed_seconds".into(), json!(change.new.1));
    details.insert("deadline_before".into(), json!(before.deadline));
    details.insert("deadline".into(), json!(after.deadline));
    record_service_event(
        conn,
        change.ticket,
        Action::SlaOutcomeChanged,
        now,
        details,
        now,
    )?;
    Ok(())
}

/// Writes changed clocks back in one statement (`UPDATE … FROM (VALUES …)`, which reads the
/// same on both backends: the VALUES columns are `column1`, `column2`, …).
fn write_clocks(conn: &mut DbConnection, rewrites: &[Rewrite]) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE ticket_clocks SET calendar = v.column3, started_at = v.column4, \
         applies_from = v.column5, deadline = v.column6, at_risk_at = v.column7, \
         stopped_at = v.column8, segment_started_at = v.column9, consumed_seconds = v.column10, \
         paused = v.column11, risk_recorded = v.column12, breach_recorded = v.column13, \
         outcome = v.column14, elapsed_seconds = v.column15, calendar_version = v.column16, \
         span_end = v.column17 \
         FROM (VALUES {}) AS v \
         WHERE ticket_clocks.ticket_id = v.column1 AND ticket_clocks.code = v.column2 \
         AND ticket_clocks.interruption = v.column18",
        crate::db::values_list(conn, rewrites.len(), 18)
    );
    let floor = crate::db::calendars::all_time().0;
    let mut query = diesel::sql_query(sql).into_boxed();
    for rewrite in rewrites {
        let clock = &rewrite.stored.clock;
        query = query
            .bind::<Text, _>(rewrite.stored.ticket_id.to_string())
            .bind::<Text, _>(clock.code.clone())
            .bind::<Text, _>(clock.calendar.clone())
            .bind::<Timestamp, _>(to_db_time(clock.started_at))
            .bind::<Timestamp, _>(to_db_time(clock.applies_from.max(floor)))
            .bind::<Nullable<Timestamp>, _>(clock.deadline.map(to_db_time))
            .bind::<Nullable<Timestamp>, _>(clock.at_risk_at.map(to_db_time))
            .bind::<Nullable<Timestamp>, _>(clock.stopped_at.map(to_db_time))
            .bind::<Timestamp, _>(to_db_time(clock.segment_started_at))
            .bind::<BigInt, _>(clock.consumed_seconds)
            .bind::<Bool, _>(clock.paused)
            .bind::<Bool, _>(rewrite.stored.risk_recorded)
            .bind::<Bool, _>(rewrite.stored.breach_recorded)
            .bind::<Nullable<Text>, _>(rewrite.outcome.map(|(state, _)| state.to_owned()))
            .bind::<Nullable<BigInt>, _>(rewrite.outcome.map(|(_, elapsed)| elapsed))
            .bind::<BigInt, _>(rewrite.stored.calendar_version)
            .bind::<Timestamp, _>(to_db_time(span_end(clock)))
            .bind::<BigInt, _>(clock.interruption_number());
    }
    query.execute(conn)?;
    Ok(())
}

/// Writes the tickets' new next deadlines (the queue's order) in one statement.
fn write_next_deadlines(
    conn: &mut DbConnection,
    deadlines: &[(Uuid, i64, Option<DateTime<Utc>>)],
) -> Result<(), StoreError> {
    let mut query = diesel::sql_query(format!(
        "UPDATE tickets SET next_deadline = v.column2 FROM (VALUES {}) AS v \
         WHERE tickets.id = v.column1",
        crate::db::values_list(conn, deadlines.len(), 2)
    ))
    .into_boxed();
    for (id, _, deadline) in deadlines {
        query = query
            .bind::<Text, _>(id.to_string())
            .bind::<Timestamp, _>(crate::db::clocks::deadline_column(*deadline));
    }
    query.execute(conn)?;
    Ok(())
}
