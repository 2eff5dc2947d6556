//! Outages open malfunctions (SPEC §9): after `monitoring_ticket_after_seconds` of hard
//! `down`, a system's outage opens a malfunction ticket (channel `monitoring`, the system's
//! services and agencies, `interruption_start` at the monitor's time) or joins the open
//! malfunction of that system; its `up` records `interruption_end` at the monitor's time. A
//! late or repeated report finds its outage in `monitor_outages` and never opens a second
//! ticket. Tickets and events go through `db::tickets::create_ticket` and `record_event`,
//! the functions behind the REST API, with the monitor as the actor. This runs after the
//! report's own transaction has committed (each ticket write is its own transaction).

use crate::db::monitoring_history::load_history;
use crate::db::monitoring_outages::{
    end_outage, insert_outage, open_malfunction_of, open_outages, overlapping_outages,
};
use crate::db::systems::{System, find_system};
use crate::db::tickets::{EventContext, IdempotencyKey, create_ticket, record_event};
use crate::db::{DbConnection, StoreError};
use crate::domain::malfunction::MalfunctionDetails;
use crate::domain::ticket::{NewTicket, Requester};
use crate::domain::{Action, Channel, EventCommand, LifecycleError, VersionCheck};
use crate::sla::availability::{HealthState, reported_stretches};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// What following a report did to the tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutageActions {
    pub tickets_opened: Vec<Uuid>,
    pub interruptions_started: usize,
    pub interruptions_ended: usize,
}

/// Stores `report` (one transaction) and then follows the outages of every system it speaks
/// of: the one path every entrance that reports live states takes.
pub fn record_and_follow(
    conn: &mut DbConnection,
    context: &EventContext,
    ticket_after_seconds: i64,
    report: &super::record::MonitorReport,
) -> Result<(super::record::Recorded, OutageActions), StoreError> {
    let recorded = super::record::record(conn, report, context.now)?;
    let mut actions = OutageActions::default();
    // Followed even when nothing was new: a report sent again after a failure heals.
    for (system, since) in report.touched_systems() {
        let done = follow_outages(conn, context, ticket_after_seconds, &system, since)?;
        actions.tickets_opened.extend(done.tickets_opened);
        actions.interruptions_started += done.interruptions_started;
        actions.interruptions_ended += done.interruptions_ended;
    }
    Ok((recorded, actions))
}

/// Follows the outages of `system` that the states reported from `since` on may have begun
/// or ended, and ends the open ones whose `up` is now known. An outage that began more than
/// `max_backdate` before now is history, not news: it opens nothing.
pub fn follow_outages(
    conn: &mut DbConnection,
    context: &EventContext,
    ticket_after_seconds: i64,
    system: &str,
    since: DateTime<Utc>,
) -> Result<OutageActions, StoreError> {
    let mut actions = OutageActions::default();
    let Some(found) = find_system(conn, system)? else {
        return Ok(actions);
    };
    let now = context.now;
    // The open outages' stretches are read too, so that an `up` reported out of order (or
    // while this instance was away) still ends them.
    let open = open_outages(conn, system)?;
    let since = open.iter().map(|o| o.started_at).fold(since, DateTime::min);
    let history = load_history(conn, system, since, now)?;
    let horizon = now.timestamp_micros();
    let oldest_news = now - context.rules.max_backdate;
    let micros = |t: i64| DateTime::from_timestamp_micros(t).ok_or(StoreError::NotFound("instant"));
    let stretches = reported_stretches(&history.states, horizon);
    let downs: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = stretches
        .iter()
        .filter(|s| s.state == HealthState::Down && s.end >= since.timestamp_micros())
        .map(|s| {
            Ok((
                micros(s.start)?,
                (s.end < horizon).then(|| micros(s.end)).transpose()?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    for outage in &open {
        // The down stretch the outage began in; once it has ended, so has the interruption.
        let ended = downs
            .iter()
            .find(|(start, end)| {
                *start <= outage.started_at && end.is_none_or(|end| outage.started_at < end)
            })
            .and_then(|(_, end)| *end);
        if let Some(end) = ended {
            end_interruption(
                conn,
                context,
                outage.ticket_id,
                system,
                outage.started_at,
                end,
                &found,
            )?;
            actions.interruptions_ended += 1;
        }
    }
    for &(start, end) in &downs {
        // History, not news: an import of a past year must not open a year of tickets.
        if start < oldest_news {
            continue;
        }
        if !overlapping_outages(conn, system, start, end)?.is_empty() {
            continue;
        }
        let lasted = end.unwrap_or(now) - start;
        if lasted < Duration::seconds(ticket_after_seconds) {
            continue;
        }
        let reported_at = start + Duration::seconds(ticket_after_seconds);
        let ticket_id = match open_malfunction_of(conn, system)? {
            Some(ticket_id) => ticket_id,
            None => {
                let ticket_id = open_ticket(conn, context, &found, reported_at)?;
                actions.tickets_opened.push(ticket_id);
                ticket_id
            }
        };
        if record(
            conn,
            context,
            ticket_id,
            Action::InterruptionStart,
            start,
            &found,
        )? {
            actions.interruptions_started += 1;
        }
        if insert_outage(conn, system, start, ticket_id, now)?
            && let Some(end) = end
        {
            end_interruption(conn, context, ticket_id, system, start, end, &found)?;
            actions.interruptions_ended += 1;
        }
    }
    Ok(actions)
}

/// The malfunction ticket of an outage, opened as the monitor; the idempotency key makes two
/// instances following the same report find one ticket.
fn open_ticket(
    conn: &mut DbConnection,
    context: &EventContext,
    system: &System,
    reported_at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let services = if system.services.is_empty() {
        vec![system.name.clone()]
    } else {
        system.services.clone()
    };
    let new = NewTicket {
        subject: format!("Interruzione rilevata dal monitoraggio: {}", system.name)
            .chars()
            .take(200)
            .collect(),
        description: format!(
            "Il monitoraggio ha rilevato il sistema {} ({}) non disponibile.",
            system.code, system.name
        ),
        channel: Channel::Monitoring,
        reported_at: Some(reported_at.min(context.now)),
        agency_id: None,
        requester: Requester::default(),
        malfunction: true,
        details: MalfunctionDetails {
            affected_services: services,
            affected_agency_ids: system.agency_ids.clone(),
            cause: None,
            actions_taken: None,
        },
    };
    let key = format!(
        "monitoring-outage:{}:{}",
        system.code,
        reported_at.timestamp_micros()
    );
    let idempotency = IdempotencyKey {
        request_hash: key.clone(),
        key,
        used_since: context.now - Duration::days(3650),
    };
    let created = create_ticket(
        conn,
        context.engine,
        &new,
        context.actor,
        Some(&idempotency),
        context.now,
    )?;
    Ok(created.ticket.id)
}

/// Records an interruption event at the monitor's time; `false` when the ticket already has
/// it (another report's follower got there first).
fn record(
    conn: &mut DbConnection,
    context: &EventContext,
    ticket_id: Uuid,
    action: Action,
    at: DateTime<Utc>,
    system: &System,
) -> Result<bool, StoreError> {
    let command = EventCommand {
        action: Some(action),
        at: Some(at),
        service: system.services.first().cloned(),
        ..EventCommand::default()
    };
    match record_event(conn, context, ticket_id, &command, &VersionCheck::Any) {
        Ok(_) => Ok(true),
        Err(StoreError::Lifecycle(LifecycleError::NotAllowed { .. })) => Ok(false),
        // A late report of an outage older than the ticket's last interruption (or than it
        // may be back-dated) cannot become an interruption of this ticket.
        Err(StoreError::Lifecycle(LifecycleError::Invalid(invalid)))
            if action == Action::InterruptionStart =>
        {
            tracing::warn!(%ticket_id, system = system.code, %at, ?invalid,
                "an outage reported late could not start an interruption");
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

fn end_interruption(
    conn: &mut DbConnection,
    context: &EventContext,
    ticket_id: Uuid,
    system: &str,
    started_at: DateTime<Utc>,
    end: DateTime<Utc>,
    found: &System,
) -> Result<(), StoreError> {
    match record(
        conn,
        context,
        ticket_id,
        Action::InterruptionEnd,
        end,
        found,
    ) {
        // An agent's event later than the monitor's `up` (a late report) makes that instant
        // unrecordable: the end is then recorded now, and the log says so.
        Err(StoreError::Lifecycle(LifecycleError::Invalid(invalid))) => {
            tracing::warn!(%ticket_id, system, %end, ?invalid,
                "the interruption's end at the monitor's time was refused; recorded now");
            let command = EventCommand {
                action: Some(Action::InterruptionEnd),
                ..EventCommand::default()
            };
            record_event(conn, context, ticket_id, &command, &VersionCheck::Any)?;
        }
        other => {
            other?;
        }
    }
    end_outage(conn, system, started_at, end)
}
