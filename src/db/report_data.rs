//! What the periodic reports read: the clocks of tickets reported in a period (through the
//! report columns kept on each clock), the delivered malfunction reports, and the
//! interruptions that overlap a period.

use super::schema::{outbox, report_deliveries, ticket_affected_agencies, ticket_clocks};
use super::schema::{ticket_events, ticket_interruptions, tickets};
use super::tickets::parse_json_column;
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::db::error::parse_stored;
use crate::domain::Action;
use crate::reports::sla_compliance::ClockTally;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;
use uuid::Uuid;

/// The clocks of SLA `code` on tickets reported in `[from, to)` (of `agency`), as seen at
/// `now`: stopped ones by their stored outcome and time, the others running or, past their
/// deadline, breached.
pub fn clock_tally(
    conn: &mut DbConnection,
    code: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<ClockTally, StoreError> {
    let base = || {
        let mut query = ticket_clocks::table
            .filter(ticket_clocks::code.eq(code.to_owned()))
            .filter(ticket_clocks::reported_at.ge(to_db_time(from)))
            .filter(ticket_clocks::reported_at.lt(to_db_time(to)))
            .filter(ticket_clocks::applies_from.le(to_db_time(now)))
            .into_boxed();
        if let Some(agency) = agency {
            query = query.filter(ticket_clocks::agency_id.eq(agency.to_string()));
        }
        query
    };
    let stopped: Vec<(Option<String>, Option<i64>)> = base()
        .filter(ticket_clocks::outcome.is_not_null())
        .select((ticket_clocks::outcome, ticket_clocks::elapsed_seconds))
        .load(conn)?;
    let open: Vec<Option<NaiveDateTime>> = base()
        .filter(ticket_clocks::outcome.is_null())
        .select(ticket_clocks::deadline)
        .load(conn)?;
    let mut tally = ClockTally::default();
    tally.elapsed_seconds.reserve(stopped.len());
    for (outcome, elapsed) in stopped {
        match outcome.as_deref() {
            Some("met") => tally.met += 1,
            _ => tally.breached += 1,
        }
        tally.elapsed_seconds.extend(elapsed);
    }
    let now = to_db_time(now);
    for deadline in open {
        match deadline {
            Some(deadline) if deadline < now => tally.breached += 1,
            _ => tally.running += 1,
        }
    }
    Ok(tally)
}

/// A period's `[from, to)`.
pub type PeriodBounds = (DateTime<Utc>, DateTime<Utc>);

/// The distinct periods within `[from, to)` for which a malfunction report was delivered (its
/// e-mail sent), to `agency` or to any.
pub fn delivered_periods(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency: Option<Uuid>,
) -> Result<Vec<PeriodBounds>, StoreError> {
    let mut query = report_deliveries::table
        .inner_join(outbox::table)
        .filter(outbox::status.eq("sent"))
        .filter(report_deliveries::period_from.ge(to_db_time(from)))
        .filter(report_deliveries::period_to.le(to_db_time(to)))
        .select((report_deliveries::period_from, report_deliveries::period_to))
        .distinct()
        .into_boxed();
    if let Some(agency) = agency {
        query = query.filter(report_deliveries::agency_id.eq(agency.to_string()));
    }
    Ok(query
        .load::<(NaiveDateTime, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(from, to)| (from_db_time(from), from_db_time(to)))
        .collect())
}

/// An interruption overlapping a period, with what the report shows of its ticket.
#[derive(Debug, Clone)]
pub struct InterruptionRow {
    pub ticket_id: Uuid,
    pub number: String,
    pub subject: String,
    pub services: Vec<String>,
    pub cause: Option<String>,
    pub actions_taken: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

type RawInterruption = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

/// The interruptions that overlap `[from, to)` of malfunctions affecting `agency` (or any).
pub fn interruptions(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency: Option<Uuid>,
) -> Result<Vec<InterruptionRow>, StoreError> {
    let mut query = ticket_interruptions::table
        .inner_join(tickets::table)
        .filter(ticket_interruptions::started_at.lt(to_db_time(to)))
        .filter(
            ticket_interruptions::ended_at
                .is_null()
                .or(ticket_interruptions::ended_at.gt(to_db_time(from))),
        )
        .select((
            tickets::id,
            tickets::number,
            tickets::subject,
            tickets::affected_services,
            tickets::cause,
            tickets::actions_taken,
            ticket_interruptions::started_at,
            ticket_interruptions::ended_at,
        ))
        .into_boxed();
    if let Some(agency) = agency {
        query = query.filter(
            ticket_interruptions::ticket_id.eq_any(
                ticket_affected_agencies::table
                    .filter(ticket_affected_agencies::agency_id.eq(agency.to_string()))
                    .select(ticket_affected_agencies::ticket_id),
            ),
        );
    }
    query
        .load::<RawInterruption>(conn)?
        .into_iter()
        .map(
            |(id, number, subject, services, cause, actions, started, ended)| {
                Ok(InterruptionRow {
                    ticket_id: parse_stored("tickets.id", &id)?,
                    number,
                    subject,
                    services: parse_json_column("tickets.affected_services", &services)?,
                    cause,
                    actions_taken: actions,
                    started_at: from_db_time(started),
                    ended_at: ended.map(from_db_time),
                })
            },
        )
        .collect()
}

/// A history reduced to what places interruptions: each event's kind and instant.
pub type InterruptionEvents = Vec<(Action, DateTime<Utc>)>;

/// The events that place each ticket's interruptions, interventions and communications, in
/// order: what `sla::interruption_windows` reads.
pub fn interruption_events(
    conn: &mut DbConnection,
    ticket_ids: &[Uuid],
) -> Result<HashMap<Uuid, InterruptionEvents>, StoreError> {
    let ids: Vec<String> = ticket_ids.iter().map(Uuid::to_string).collect();
    let mut found: HashMap<Uuid, InterruptionEvents> = HashMap::new();
    let kinds = [
        Action::InterruptionStart,
        Action::InterruptionEnd,
        Action::StartIntervention,
        Action::NotifyAgency,
        Action::NotifyUsers,
    ];
    for chunk in ids.chunks(500) {
        let events: Vec<(String, String, NaiveDateTime)> = ticket_events::table
            .filter(ticket_events::ticket_id.eq_any(chunk))
            .filter(ticket_events::event_type.eq_any(kinds.map(Action::as_str)))
            .order((ticket_events::ticket_id, ticket_events::sequence))
            .select((
                ticket_events::ticket_id,
                ticket_events::event_type,
                ticket_events::at,
            ))
            .load(conn)?;
        for (ticket_id, event_type, at) in events {
            let action: Action = event_type
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("ticket_events.event_type: {e}")))?;
            found
                .entry(parse_stored("ticket_events.ticket_id", &ticket_id)?)
                .or_default()
                .push((action, from_db_time(at)));
        }
    }
    Ok(found)
}
