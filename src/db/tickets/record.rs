//! Recording an event on a ticket: judged by the lifecycle rules against the stored state,
//! with the clocks recomputed, in one transaction; and the service's own SLA events.

use super::malfunction::affected_agencies;
use super::{clocks_of, find_ticket, json_column, lock_ticket};
use crate::db::clocks::{ClockOwner, StoredClock, deadline_column, replace_clocks};
use crate::db::events::{insert_event, list_events};
use crate::db::notices::{NoticeChanges, follow_ticket_event};
use crate::db::outbox::enqueue;
use crate::db::schema::{ticket_interruptions, tickets};
use crate::db::users::find_user;
use crate::db::{DbConnection, StoreError, to_db_time, truncate_to_micros, write_transaction};
use crate::domain::lifecycle::{EventRules, decide};
use crate::domain::notice::touches_notices;
use crate::domain::ticket::Ticket;
use crate::domain::ticket::TicketEvent;
use crate::domain::{Action, EventCommand, Principal, ReplyChannel, VersionCheck};
use crate::mail::MailSettings;
use crate::mail::notices::{agency_notices, public_notice};
use crate::mail::replies::reply_mail;
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// Who records an event, when, and what the recording needs of the configuration.
#[derive(Debug, Clone, Copy)]
pub struct EventContext<'a> {
    pub engine: &'a SlaEngine,
    /// For the messages `notify_agency` and `notify_users` write to the outbox.
    pub mail: &'a MailSettings,
    pub actor: &'a Principal,
    /// Limits from the configuration (how far back an interruption may start).
    pub rules: EventRules,
    pub now: DateTime<Utc>,
    /// Told once an event that changed a public notice is committed (the public outputs'
    /// cache on this instance).
    pub notice_changes: &'a NoticeChanges,
}

/// Records `command` on the ticket and returns the event with the updated ticket; a
/// notification's e-mails, and the public notice `notify_users` publishes (and the events
/// after it change), are written in the same transaction.
/// `expected` comes from `If-Match`. Writers on one ticket queue on its row lock and are
/// judged one after the other against the state the previous one left (so of two
/// simultaneous `take_charge`, the second is refused as a transition, not lost).
pub fn record_event(
    conn: &mut DbConnection,
    context: &EventContext,
    ticket_id: Uuid,
    command: &EventCommand,
    expected: &VersionCheck,
) -> Result<(TicketEvent, Ticket, Vec<StoredClock>), StoreError> {
    const ATTEMPTS: usize = 8;
    let attempt = |conn: &mut DbConnection| {
        write_transaction(conn, |conn| {
            apply_event(conn, context, ticket_id, command, expected)
        })
    };
    let mut outcome = attempt(conn);
    for _ in 1..ATTEMPTS {
        match outcome {
            Err(StoreError::Contended) => outcome = attempt(conn),
            Err(StoreError::Db(ref e)) if crate::db::is_retryable(e) => outcome = attempt(conn),
            _ => break,
        }
    }
    // Only now that it is committed: a reader that rebuilt the cache before would otherwise
    // keep the old notices under the new count.
    if let Ok((event, _, _)) = &outcome
        && touches_notices(event.action)
    {
        context.notice_changes.count_one();
    }
    outcome
}

fn apply_event(
    conn: &mut DbConnection,
    context: &EventContext,
    ticket_id: Uuid,
    command: &EventCommand,
    expected: &VersionCheck,
) -> Result<(TicketEvent, Ticket, Vec<StoredClock>), StoreError> {
    let (engine, actor, now) = (context.engine, context.actor, context.now);
    lock_ticket(conn, ticket_id)?;
    let mut ticket = find_ticket(conn, ticket_id)?.ok_or(StoreError::NotFound("ticket"))?;
    if !expected.admits(ticket.version) {
        return Err(StoreError::StaleVersion {
            current: ticket.version,
        });
    }
    let assignee = match command
        .assignee_id
        .map(|id| find_user(conn, id))
        .transpose()?
    {
        Some(Some(user)) if !user.active => {
            let refused = crate::domain::Invalid::one("assignee_id", "is a deactivated user");
            return Err(refused.into());
        }
        found => found.flatten().map(|user| user.principal),
    };
    let now = truncate_to_micros(now);
    let command = EventCommand {
        at: command.at.map(truncate_to_micros),
        ..command.clone()
    };
    let mut history = list_events(conn, ticket_id)?;
    let mut state = ticket.state();
    state.last_interruption_end = history
        .iter()
        .rev()
        .find(|e| e.action == Action::InterruptionEnd)
        .map(|e| e.at);
    let next = decide(
        &state,
        &command,
        actor,
        assignee.as_ref(),
        &context.rules,
        now,
    )?;

    let previous_version = ticket.version;
    let agency_calendar = crate::db::agencies::agency_calendar(conn, ticket.agency_id)?;
    ticket.status = next.status;
    ticket.level = next.level;
    ticket.assignee_id = next.assignee_id;
    ticket.interruption_open = next.interruption_open;
    ticket.interruption_started_at = next.interruption_started_at;
    if let Some(service) = &command.service
        && ticket.malfunction
    {
        ticket.details.add_service(service);
    }
    ticket.last_event_at = next.last_event_at;
    ticket.updated_at = now;
    ticket.version += 1;
    ticket.last_sequence += 1;
    let event = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id,
        sequence: ticket.last_sequence,
        action: next.action,
        at: next.at,
        recorded_at: now,
        actor_id: Some(actor.user_id),
        status: ticket.status,
        level: ticket.level,
        assignee_id: ticket.assignee_id,
        details: next.details,
    };
    let mails = match event.action {
        Action::NotifyAgency => {
            let agencies = affected_agencies(conn, &ticket)?;
            agency_notices(context.mail, &ticket, &history, &event, &agencies)?
        }
        Action::NotifyUsers => public_notice(context.mail, &ticket, &history, &event)?,
        // A phone reply was spoken: nothing to send.
        Action::Reply if command.channel == Some(ReplyChannel::Email) => {
            let thread = crate::db::mail_threads::reply_thread(conn, &ticket)?;
            vec![reply_mail(context.mail, &ticket, &event, &thread)?]
        }
        _ => Vec::new(),
    };
    let mut event = event;
    if !mails.is_empty() {
        let recipients: Vec<&String> = mails.iter().flat_map(|m| &m.recipients).collect();
        let outbox_ids: Vec<String> = mails.iter().map(|m| m.id.to_string()).collect();
        event
            .details
            .insert("recipients".into(), serde_json::json!(recipients));
        event
            .details
            .insert("outbox_ids".into(), serde_json::json!(outbox_ids));
    }
    history.push(event.clone());
    let clocks = clocks_of(engine, &ticket, &history, agency_calendar.as_deref())?;
    ticket.next_deadline = SlaEngine::next_deadline(&clocks, now);

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
        tickets::interruption_started_at.eq(ticket.interruption_started_at.map(to_db_time)),
        tickets::affected_services.eq(json_column(&ticket.details.affected_services)),
        tickets::last_event_at.eq(to_db_time(ticket.last_event_at)),
        tickets::next_deadline.eq(deadline_column(ticket.next_deadline)),
        tickets::updated_at.eq(to_db_time(now)),
        tickets::version.eq(ticket.version),
        tickets::last_sequence.eq(ticket.last_sequence),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(match expected.is_guarded() {
            true => StoreError::StaleVersion {
                current: find_ticket(conn, ticket_id)?.map_or(previous_version, |t| t.version),
            },
            false => StoreError::Contended,
        });
    }
    insert_event(conn, &event)?;
    // The received message this event records is ingested with it, or not at all.
    if let Some(inbound_id) = command.inbound_id {
        crate::db::inbound::mark_ingested(conn, inbound_id, Some(ticket_id), Some(event.id), now)?;
    }
    record_interruption(conn, &event)?;
    follow_ticket_event(conn, &mut ticket, &history, &event, now)?;
    enqueue(conn, &mails, now)?;
    let owner = ClockOwner {
        ticket_id,
        reported_at: ticket.reported_at,
        agency_id: ticket.agency_id,
        engine,
    };
    let clocks = replace_clocks(conn, &owner, &clocks)?;
    Ok((event, ticket, clocks))
}

/// Keeps `ticket_interruptions` in step with the interruption events.
fn record_interruption(conn: &mut DbConnection, event: &TicketEvent) -> Result<(), StoreError> {
    let ticket_id = event.ticket_id.to_string();
    match event.action {
        Action::InterruptionStart => {
            diesel::insert_into(ticket_interruptions::table)
                .values((
                    ticket_interruptions::ticket_id.eq(ticket_id),
                    ticket_interruptions::started_at.eq(to_db_time(event.at)),
                ))
                .execute(conn)?;
        }
        Action::InterruptionEnd => {
            diesel::update(
                ticket_interruptions::table
                    .filter(ticket_interruptions::ticket_id.eq(ticket_id))
                    .filter(ticket_interruptions::ended_at.is_null()),
            )
            .set(ticket_interruptions::ended_at.eq(Some(to_db_time(event.at))))
            .execute(conn)?;
        }
        _ => {}
    }
    Ok(())
}

/// Records an event of the service itself (an SLA crossing, an outcome a calendar change
/// altered) at `at`, inside the caller's transaction, which holds `lock_ticket`. It is in the
/// history, but it is no change of the ticket: the version (the `ETag` an agent's `If-Match`
/// names) stays.
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
    let sequence = ticket.last_sequence + 1;
    diesel::update(tickets::table.find(ticket_id.to_string()))
        .set(tickets::last_sequence.eq(sequence))
        .execute(conn)?;
    let event = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id,
        sequence,
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
