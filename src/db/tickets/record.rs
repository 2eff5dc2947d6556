//! Recording an event on a ticket: judged by the lifecycle rules against the stored state,
//! with the clocks recomputed, in one transaction; and the service's own SLA events.

use super::{clocks_of, find_ticket};
use crate::db::clocks::{StoredClock, deadline_column, replace_clocks};
use crate::db::events::{insert_event, list_events};
use crate::db::schema::tickets;
use crate::db::users::find_user;
use crate::db::{DbConnection, StoreError, to_db_time, truncate_to_micros, write_transaction};
use crate::domain::lifecycle::decide;
use crate::domain::ticket::Ticket;
use crate::domain::ticket::TicketEvent;
use crate::domain::{Action, EventCommand, Principal};
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// Records `command` on the ticket and returns the event with the updated ticket.
/// `expected_version` comes from `If-Match`. Without it, a concurrent change makes us judge
/// the command again against the new state (so of two simultaneous `take_charge`, the second
/// is refused as a transition, not lost).
pub fn record_event(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    ticket_id: Uuid,
    command: &EventCommand,
    actor: &Principal,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(TicketEvent, Ticket, Vec<StoredClock>), StoreError> {
    const ATTEMPTS: usize = 8;
    let attempt = |conn: &mut DbConnection| {
        write_transaction(conn, |conn| {
            apply_event(
                conn,
                engine,
                ticket_id,
                command,
                actor,
                expected_version,
                now,
            )
        })
    };
    for _ in 1..ATTEMPTS {
        match attempt(conn) {
            Err(StoreError::Contended) => continue,
            Err(StoreError::Db(ref e)) if crate::db::is_retryable(e) => continue,
            other => return other,
        }
    }
    attempt(conn)
}

fn apply_event(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    ticket_id: Uuid,
    command: &EventCommand,
    actor: &Principal,
    expected_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(TicketEvent, Ticket, Vec<StoredClock>), StoreError> {
    let mut ticket = find_ticket(conn, ticket_id)?.ok_or(StoreError::NotFound("ticket"))?;
    if expected_version.is_some_and(|v| v != ticket.version) {
        return Err(StoreError::StaleVersion {
            current: ticket.version,
        });
    }
    let assignee = match command.assignee_id {
        Some(id) => find_user(conn, id)?.map(|user| user.principal),
        None => None,
    };
    let now = truncate_to_micros(now);
    let command = EventCommand {
        at: command.at.map(truncate_to_micros),
        ..command.clone()
    };
    let next = decide(&ticket.state(), &command, actor, assignee.as_ref(), now)?;

    let previous_version = ticket.version;
    ticket.status = next.status;
    ticket.level = next.level;
    ticket.assignee_id = next.assignee_id;
    ticket.interruption_open = next.interruption_open;
    ticket.last_event_at = next.last_event_at;
    ticket.updated_at = now;
    ticket.version += 1;
    let event = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id,
        sequence: ticket.version,
        action: next.action,
        at: next.at,
        recorded_at: now,
        actor_id: Some(actor.user_id),
        status: ticket.status,
        level: ticket.level,
        assignee_id: ticket.assignee_id,
        details: next.details,
    };
    let mut history = list_events(conn, ticket_id)?;
    history.push(event.clone());
    let clocks = clocks_of(engine, &ticket, &history)?;
    ticket.next_deadline = SlaEngine::next_deadline(&clocks);

    let changed = diesel::update(
        tickets::table
            .find(ticket_id.to_string())
            .filter(tickets::version.eq(previous_version)),
    )
    .set((
        tickets::status.eq(ticket.status.as_str()),
        tickets::level.eq(ticket.level.number()),
        tickets::assignee_id.eq(ticket.assignee_id.map(|id| id.to_string())),
        tickets::interruption_open.eq(ticket.interruption_open),
        tickets::last_event_at.eq(to_db_time(ticket.last_event_at)),
        tickets::next_deadline.eq(deadline_column(ticket.next_deadline)),
        tickets::updated_at.eq(to_db_time(now)),
        tickets::version.eq(ticket.version),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(match expected_version {
            Some(_) => StoreError::StaleVersion {
                current: find_ticket(conn, ticket_id)?.map_or(previous_version, |t| t.version),
            },
            None => StoreError::Contended,
        });
    }
    insert_event(conn, &event)?;
    let clocks = replace_clocks(conn, ticket_id, &clocks)?;
    Ok((event, ticket, clocks))
}

/// Records an event of the service itself (an SLA crossing) at `at`, inside the caller's
/// transaction: a new version of the ticket, no change of state.
pub fn record_service_event(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    action: Action,
    at: DateTime<Utc>,
    details: serde_json::Map<String, serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<TicketEvent, StoreError> {
    let ticket = find_ticket(conn, ticket_id)?.ok_or(StoreError::NotFound("ticket"))?;
    let now = truncate_to_micros(now);
    let version = ticket.version + 1;
    let changed = diesel::update(
        tickets::table
            .find(ticket_id.to_string())
            .filter(tickets::version.eq(ticket.version)),
    )
    .set((
        tickets::version.eq(version),
        tickets::updated_at.eq(to_db_time(now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(StoreError::Contended);
    }
    let event = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id,
        sequence: version,
        action,
        at: truncate_to_micros(at),
        recorded_at: now,
        actor_id: None,
        status: ticket.status,
        level: ticket.level,
        assignee_id: ticket.assignee_id,
        details,
    };
    insert_event(conn, &event)?;
    Ok(event)
}
