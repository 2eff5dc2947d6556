//! Clocks that begin to apply after they start (SLA.10 from its interruption's 30th minute)
//! join their ticket's next deadline only when that instant comes: a ticket's stored next
//! deadline is computed at each write with the write's `now`, and the clock watcher brings
//! it up to date here once such a clock applies. Also the queue of tickets whose clocks a
//! migration left in an older shape, computed again at start.

use super::clocks::deadline_column;
use super::schema::{ticket_clocks, tickets};
use super::{DbConnection, StoreError, to_db_time, write_transaction};
use crate::db::error::parse_stored;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// Tickets with a running clock that applies by `now` and is due before the ticket's stored
/// next deadline.
fn tickets_behind(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<String> = ticket_clocks::table
        .inner_join(tickets::table)
        .filter(ticket_clocks::stopped_at.is_null())
        .filter(ticket_clocks::applies_from.gt(ticket_clocks::started_at))
        .filter(ticket_clocks::applies_from.le(to_db_time(now)))
        .filter(ticket_clocks::paused.eq(false))
        .filter(ticket_clocks::deadline.lt(tickets::next_deadline.nullable()))
        .select(ticket_clocks::ticket_id)
        .distinct()
        .limit(limit)
        // Not prepared: planned with `now` on every pass (a generic plan guesses).
        .into_boxed()
        .load(conn)?;
    ids.iter()
        .map(|id| parse_stored("ticket_clocks.ticket_id", id))
        .collect()
}

/// Stores the ticket's next deadline as of `now` from its stored clocks (the ticket row
/// locked first, as every writer of a ticket does). Leaves its version alone: nothing a
/// person did changed.
fn refresh(conn: &mut DbConnection, ticket_id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        super::tickets::lock_ticket(conn, ticket_id)?;
        let next = ticket_clocks::table
            .filter(ticket_clocks::ticket_id.eq(ticket_id.to_string()))
            .filter(ticket_clocks::stopped_at.is_null())
            .filter(ticket_clocks::paused.eq(false))
            .filter(ticket_clocks::applies_from.le(to_db_time(now)))
            .select(diesel::dsl::min(ticket_clocks::deadline))
            .first::<Option<chrono::NaiveDateTime>>(conn)?;
        diesel::update(tickets::table.find(ticket_id.to_string()))
            .set(tickets::next_deadline.eq(deadline_column(next.map(super::from_db_time))))
            .execute(conn)?;
        Ok(())
    })
}

/// Brings every ticket whose next deadline misses a clock that now applies up to date;
/// returns how many.
pub fn refresh_next_deadlines(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    const BATCH: i64 = 500;
    let mut refreshed = 0;
    loop {
        let behind = tickets_behind(conn, now, BATCH)?;
        let mut done = 0;
        for &ticket_id in &behind {
            match refresh(conn, ticket_id, now) {
                Ok(()) => done += 1,
                // A writer of the ticket stores its next deadline itself; if it is still
                // behind, the next pass finds it again.
                Err(StoreError::Contended) => {}
                Err(StoreError::Db(ref e)) if super::is_retryable(e) => {}
                Err(e) => return Err(e),
            }
        }
        refreshed += done;
        if (behind.len() as i64) < BATCH || done == 0 {
            return Ok(refreshed);
        }
    }
}

/// Computes again the clocks of the tickets a migration queued (those whose stored clocks
/// predate a change in what the clocks are), a batch at a time, and takes them off the
/// queue; returns how many. Idempotent: an instance stopped halfway goes on at next start.
pub fn drain_recompute_queue(
    conn: &mut DbConnection,
    engine: &crate::sla::SlaEngine,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use super::schema::clock_recompute_queue as queue;
    let mut done = 0;
    loop {
        let ids: Vec<String> = queue::table
            .select(queue::ticket_id)
            .order(queue::ticket_id)
            .limit(100)
            .load(conn)?;
        if ids.is_empty() {
            return Ok(done);
        }
        let tickets = ids
            .iter()
            .map(|id| parse_stored("clock_recompute_queue.ticket_id", id))
            .collect::<Result<Vec<Uuid>, _>>()?;
        super::tickets::recompute::recompute_tickets(conn, engine, &tickets, now)?;
        diesel::delete(queue::table.filter(queue::ticket_id.eq_any(&ids))).execute(conn)?;
        done += tickets.len();
    }
}
