//! A malfunction's details on its ticket: the affected agencies as rows (for per-agency
//! questions) beside the ticket's own columns, and `PATCH` with its `malfunction_updated`
//! event.

use super::{find_ticket, json_column};
use crate::db::agencies::find_agency;
use crate::db::events::insert_event;
use crate::db::schema::{ticket_affected_agencies, tickets};
use crate::db::{DbConnection, StoreError, to_db_time, truncate_to_micros, write_transaction};
use crate::domain::malfunction::{MalfunctionPatch, changed_fields};
use crate::domain::ticket::{Agency, Ticket, TicketEvent};
use crate::domain::{Action, Invalid, Principal, VersionCheck};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Refuses ids that name no agency, naming each by its index.
pub fn check_agencies_exist(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), StoreError> {
    let mut unknown = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        if find_agency(conn, *id)?.is_none() {
            unknown.push(crate::domain::FieldError::new(
                format!("affected_agency_ids[{index}]"),
                "is not a known agency",
            ));
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Invalid(unknown).into())
    }
}

pub fn insert_affected_agencies(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    agency_ids: &[Uuid],
) -> Result<(), StoreError> {
    insert_affected_agencies_of(conn, &[(ticket_id, agency_ids)])
}

/// The affected agencies of several tickets, in one statement.
pub fn insert_affected_agencies_of(
    conn: &mut DbConnection,
    tickets: &[(Uuid, &[Uuid])],
) -> Result<(), StoreError> {
    let rows: Vec<_> = tickets
        .iter()
        .flat_map(|(ticket_id, agency_ids)| {
            agency_ids.iter().map(move |agency_id| {
                (
                    ticket_affected_agencies::ticket_id.eq(ticket_id.to_string()),
                    ticket_affected_agencies::agency_id.eq(agency_id.to_string()),
                )
            })
        })
        .collect();
    crate::db::insert_rows!(conn, ticket_affected_agencies::table, &rows)?;
    Ok(())
}

/// The ticket's affected agencies, in the order the ticket names them.
pub fn affected_agencies(
    conn: &mut DbConnection,
    ticket: &Ticket,
) -> Result<Vec<Agency>, StoreError> {
    let mut agencies = Vec::new();
    for id in &ticket.details.affected_agency_ids {
        agencies.push(find_agency(conn, *id)?.ok_or(StoreError::NotFound("agency"))?);
    }
    Ok(agencies)
}

/// Applies `patch` to the ticket's malfunction details and records a `malfunction_updated`
/// event naming what changed. A patch that changes nothing records nothing. The event's `at`
/// is `now`, but it does not move the ticket's latest-event instant: a back-dated event may
/// still follow it.
pub fn update_malfunction(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    patch: &MalfunctionPatch,
    actor: &Principal,
    expected: &VersionCheck,
    now: DateTime<Utc>,
) -> Result<(Ticket, Option<TicketEvent>), StoreError> {
    const ATTEMPTS: usize = 8;
    let now = truncate_to_micros(now);
    let mut outcome = Err(StoreError::Contended);
    for _ in 0..ATTEMPTS {
        outcome = write_transaction(conn, |conn| {
            apply_patch(conn, ticket_id, patch, actor, expected, now)
        });
        match &outcome {
            Err(StoreError::Contended) => continue,
            Err(StoreError::Db(e)) if crate::db::is_retryable(e) => continue,
            _ => break,
        }
    }
    outcome
}

fn apply_patch(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    patch: &MalfunctionPatch,
    actor: &Principal,
    expected: &VersionCheck,
    now: DateTime<Utc>,
) -> Result<(Ticket, Option<TicketEvent>), StoreError> {
    super::lock_ticket(conn, ticket_id)?;
    let mut ticket = find_ticket(conn, ticket_id)?.ok_or(StoreError::NotFound("ticket"))?;
    if !expected.admits(ticket.version) {
        return Err(StoreError::StaleVersion {
            current: ticket.version,
        });
    }
    if !ticket.malfunction {
        return Err(Invalid::one(
            "malfunction",
            "the ticket is not a malfunction: these details apply to malfunctions only",
        )
        .into());
    }
    if let Some(ids) = &patch.affected_agency_ids {
        check_agencies_exist(conn, ids)?;
    }
    let after = patch.apply(&ticket.details);
    let changed = changed_fields(&ticket.details, &after);
    if changed.is_empty() {
        return Ok((ticket, None));
    }
    let previous_version = ticket.version;
    ticket.version += 1;
    ticket.last_sequence += 1;
    ticket.updated_at = now;
    let updated = diesel::update(
        tickets::table
            .find(ticket_id.to_string())
            .filter(tickets::version.eq(previous_version)),
    )
    .set((
        tickets::affected_services.eq(json_column(&after.affected_services)),
        tickets::affected_agencies.eq(json_column(&after.affected_agency_ids)),
        tickets::cause.eq(after.cause.clone()),
        tickets::actions_taken.eq(after.actions_taken.clone()),
        tickets::updated_at.eq(to_db_time(now)),
        tickets::version.eq(ticket.version),
        tickets::last_sequence.eq(ticket.last_sequence),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::Contended);
    }
    if changed.contains(&"affected_agency_ids") {
        diesel::delete(
            ticket_affected_agencies::table
                .filter(ticket_affected_agencies::ticket_id.eq(ticket_id.to_string())),
        )
        .execute(conn)?;
        insert_affected_agencies(conn, ticket_id, &after.affected_agency_ids)?;
    }
    let mut details = Map::new();
    details.insert("changed".into(), json!(changed));
    for field in &changed {
        let value = match *field {
            "affected_services" => json!(after.affected_services),
            "affected_agency_ids" => json!(after.affected_agency_ids),
            "cause" => json!(after.cause),
            _ => json!(after.actions_taken),
        };
        details.insert((*field).to_owned(), value);
    }
    ticket.details = after;
    let event = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id,
        sequence: ticket.last_sequence,
        action: Action::MalfunctionUpdated,
        at: now,
        recorded_at: now,
        actor_id: Some(actor.user_id),
        status: ticket.status,
        level: ticket.level,
        assignee_id: ticket.assignee_id,
        details: details.into_iter().collect::<Map<String, Value>>(),
    };
    insert_event(conn, &event)?;
    Ok((ticket, Some(event)))
}
