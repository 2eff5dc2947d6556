//! Tickets: creation with a gap-free per-year number and `Idempotency-Key`, reads; keyset
//! lists (`list`), numbering (`numbers`) and recording events (`record`) beside it.

use super::clocks::{
    ClockOwner, StoredClock, deadline_column, deadline_from_column, insert_clocks, load_clocks,
};
use super::error::parse_stored;
use super::events::insert_event;
use super::schema::{idempotency_keys, tickets};
use super::{
    DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time, truncate_to_micros,
    write_transaction,
};
use crate::domain::malfunction::MalfunctionDetails;
use crate::domain::ticket::{NewTicket, Requester, Ticket, TicketEvent};
use crate::domain::{Action, Invalid, Level, Principal};
use crate::sla::{Clock, ClockEvent, SlaEngine, TicketFacts};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

mod list;
pub mod malfunction;
pub mod recompute;
mod record;
pub use record::{EventContext, record_event, record_service_event};
pub mod numbers;
pub use list::{ListOrder, SlaStateFilter, TicketFilter, list_tickets};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tickets)]
struct TicketRow {
    id: String,
    number: String,
    subject: String,
    description: String,
    channel: String,
    status: String,
    level: i32,
    assignee_id: Option<String>,
    agency_id: Option<String>,
    requester_name: Option<String>,
    requester_email: Option<String>,
    requester_phone: Option<String>,
    malfunction: bool,
    interruption_open: bool,
    reported_at: NaiveDateTime,
    last_event_at: NaiveDateTime,
    next_deadline: NaiveDateTime,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    affected_services: String,
    affected_agencies: String,
    cause: Option<String>,
    actions_taken: Option<String>,
    interruption_started_at: Option<NaiveDateTime>,
    last_sequence: i64,
    public_notice_id: Option<String>,
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(row: TicketRow) -> Result<Ticket, StoreError> {
        let optional_id = |column: &str, value: Option<String>| {
            value
                .map(|id| parse_stored::<Uuid>(column, &id))
                .transpose()
        };
        Ok(Ticket {
            id: parse_stored("tickets.id", &row.id)?,
            number: row.number,
            subject: row.subject,
            description: row.description,
            channel: parse_stored("tickets.channel", &row.channel)?,
            status: parse_stored("tickets.status", &row.status)?,
            level: Level::from_number(row.level.into())
                .ok_or_else(|| StoreError::Corrupt(format!("tickets.level = {}", row.level)))?,
            assignee_id: optional_id("tickets.assignee_id", row.assignee_id)?,
            agency_id: optional_id("tickets.agency_id", row.agency_id)?,
            requester: Requester {
                name: row.requester_name,
                email: row.requester_email,
                phone: row.requester_phone,
            },
            malfunction: row.malfunction,
            interruption_open: row.interruption_open,
            interruption_started_at: row.interruption_started_at.map(from_db_time),
            details: MalfunctionDetails {
                affected_services: parse_json_column(
                    "tickets.affected_services",
                    &row.affected_services,
                )?,
                affected_agency_ids: parse_json_column(
                    "tickets.affected_agencies",
                    &row.affected_agencies,
                )?,
                cause: row.cause,
                actions_taken: row.actions_taken,
            },
            reported_at: from_db_time(row.reported_at),
            last_event_at: from_db_time(row.last_event_at),
            next_deadline: deadline_from_column(row.next_deadline),
            created_by: parse_stored("tickets.created_by", &row.created_by)?,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
            last_sequence: row.last_sequence,
            public_notice_id: optional_id("tickets.public_notice_id", row.public_notice_id)?,
        })
    }
}

fn to_row(ticket: &Ticket) -> TicketRow {
    TicketRow {
        id: ticket.id.to_string(),
        number: ticket.number.clone(),
        subject: ticket.subject.clone(),
        description: ticket.description.clone(),
        channel: ticket.channel.as_str().to_owned(),
        status: ticket.status.as_str().to_owned(),
        level: ticket.level.number(),
        assignee_id: ticket.assignee_id.map(|id| id.to_string()),
        agency_id: ticket.agency_id.map(|id| id.to_string()),
        requester_name: ticket.requester.name.clone(),
        requester_email: ticket.requester.email.clone(),
        requester_phone: ticket.requester.phone.clone(),
        malfunction: ticket.malfunction,
        interruption_open: ticket.interruption_open,
        reported_at: to_db_time(ticket.reported_at),
        last_event_at: to_db_time(ticket.last_event_at),
        next_deadline: deadline_column(ticket.next_deadline),
        created_by: ticket.created_by.to_string(),
        created_at: to_db_time(ticket.created_at),
        updated_at: to_db_time(ticket.updated_at),
        version: ticket.version,
        affected_services: json_column(&ticket.details.affected_services),
        affected_agencies: json_column(&ticket.details.affected_agency_ids),
        cause: ticket.details.cause.clone(),
        actions_taken: ticket.details.actions_taken.clone(),
        interruption_started_at: ticket.interruption_started_at.map(to_db_time),
        last_sequence: ticket.last_sequence,
        public_notice_id: ticket.public_notice_id.map(|id| id.to_string()),
    }
}

/// A list stored as a JSON array in a TEXT column.
pub(crate) fn json_column<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).expect("lists of strings and ids serialize")
}

pub(crate) fn parse_json_column<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// The caller's `Idempotency-Key` and a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// The ticket with its clocks, and whether it was created now or by an earlier request with
/// the same key.
#[derive(Debug, Clone)]
pub struct Created {
    pub ticket: Ticket,
    pub clocks: Vec<StoredClock>,
    pub replayed: bool,
}

/// Opens a ticket with the next number of its year and its `created` event.
pub fn create_ticket(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    new: &NewTicket,
    actor: &Principal,
    idempotency: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Created, StoreError> {
    let attempt = |conn: &mut DbConnection| {
        write_transaction(conn, |conn| {
            let mut created = insert_unnumbered_ticket(conn, engine, new, actor, idempotency, now)?;
            if !created.replayed {
                numbers::number_tickets(conn, &mut [&mut created.ticket])?;
            }
            Ok(created)
        })
    };
    match attempt(conn) {
        // A concurrent request with the same key committed first: answer with its ticket.
        Err(StoreError::Db(e)) if idempotency.is_some() && is_unique_violation(&e) => attempt(conn),
        other => other,
    }
}

/// Inserts a ticket with a placeholder number (or finds the one an earlier request with the
/// same key created); the caller numbers it before commit with `numbers::number_tickets`.
pub(crate) fn insert_unnumbered_ticket(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    new: &NewTicket,
    actor: &Principal,
    idempotency: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Created, StoreError> {
    let user_id = actor.user_id.to_string();
    if let Some(idempotency) = idempotency {
        let earlier: Option<(String, String)> = idempotency_keys::table
            .find((&user_id, &idempotency.key))
            .select((idempotency_keys::request_hash, idempotency_keys::ticket_id))
            .get_result(conn)
            .optional()?;
        if let Some((request_hash, ticket_id)) = earlier {
            if request_hash != idempotency.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            let ticket_id = parse_stored("idempotency_keys.ticket_id", &ticket_id)?;
            let ticket = find_ticket(conn, ticket_id)?.ok_or(StoreError::NotFound("ticket"))?;
            let clocks = load_clocks(conn, &[ticket_id])?
                .remove(&ticket_id)
                .unwrap_or_default();
            return Ok(Created {
                ticket,
                clocks,
                replayed: true,
            });
        }
    }
    // One read checks the agency and gives the calendar its clocks count in.
    let agency_calendar = match new.agency_id {
        Some(agency_id) => super::agencies::existing_agency_calendar(conn, agency_id)?
            .ok_or_else(|| StoreError::from(Invalid::one("agency_id", "is not a known agency")))?,
        None => None,
    };
    malfunction::check_agencies_exist(conn, &new.details.affected_agency_ids)?;

    let reported_at = truncate_to_micros(new.reported_at.unwrap_or(now));
    let now = truncate_to_micros(now);
    let id = Uuid::now_v7();
    let mut ticket = Ticket {
        id,
        number: numbers::placeholder_number(id),
        subject: new.subject.clone(),
        description: new.description.clone(),
        channel: new.channel,
        status: crate::domain::Status::New,
        level: Level::First,
        assignee_id: None,
        agency_id: new.agency_id,
        requester: new.requester.clone(),
        malfunction: new.malfunction,
        interruption_open: false,
        interruption_started_at: None,
        details: new.details.clone(),
        reported_at,
        last_event_at: reported_at,
        next_deadline: None,
        created_by: actor.user_id,
        created_at: now,
        updated_at: now,
        version: 1,
        last_sequence: 1,
        public_notice_id: None,
    };
    let created = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id: ticket.id,
        sequence: 1,
        action: Action::Created,
        at: reported_at,
        recorded_at: now,
        actor_id: Some(actor.user_id),
        status: ticket.status,
        level: ticket.level,
        assignee_id: None,
        details: serde_json::Map::new(),
    };
    let clocks = clocks_of(
        engine,
        &ticket,
        std::slice::from_ref(&created),
        agency_calendar.as_deref(),
    )?;
    ticket.next_deadline = SlaEngine::next_deadline(&clocks, now);
    diesel::insert_into(tickets::table)
        .values(&to_row(&ticket))
        .execute(conn)?;
    insert_event(conn, &created)?;
    let owner = ClockOwner {
        ticket_id: ticket.id,
        reported_at: ticket.reported_at,
        agency_id: ticket.agency_id,
        engine,
    };
    let clocks = insert_clocks(conn, &owner, &clocks)?;
    malfunction::insert_affected_agencies(conn, ticket.id, &ticket.details.affected_agency_ids)?;
    if let Some(idempotency) = idempotency {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(&user_id),
                idempotency_keys::key.eq(&idempotency.key),
                idempotency_keys::request_hash.eq(&idempotency.request_hash),
                idempotency_keys::ticket_id.eq(ticket.id.to_string()),
                idempotency_keys::created_at.eq(to_db_time(now)),
            ))
            .execute(conn)?;
    }
    Ok(Created {
        ticket,
        clocks,
        replayed: false,
    })
}

/// Takes the ticket row's write lock for the rest of the transaction, before the ticket is
/// read: writers on one ticket then queue and each reads what the previous one committed
/// (PostgreSQL, READ COMMITTED). SQLite's `BEGIN IMMEDIATE` already holds the database's.
/// Every writer of a ticket takes this lock first, so none waits on another in opposite order.
pub fn lock_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::update(tickets::table.find(ticket_id.to_string()))
            .set(tickets::version.eq(tickets::version))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_ticket(conn: &mut DbConnection, id: Uuid) -> Result<Option<Ticket>, StoreError> {
    tickets::table
        .find(id.to_string())
        .select(TicketRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Ticket::try_from)
        .transpose()
}

/// The ticket's clocks from its history (which must include the event being recorded), in
/// the calendar of its agency where it names one.
pub(crate) fn clocks_of(
    engine: &SlaEngine,
    ticket: &Ticket,
    history: &[TicketEvent],
    agency_calendar: Option<&str>,
) -> Result<Vec<Clock>, StoreError> {
    let events: Vec<ClockEvent> = history
        .iter()
        .map(|event| ClockEvent {
            action: event.action,
            at: event.at,
            status: event.status,
        })
        .collect();
    let facts = TicketFacts {
        reported_at: ticket.reported_at,
        channel: ticket.channel,
        malfunction: ticket.malfunction,
        events: &events,
        agency_calendar,
    };
    engine
        .clocks(&facts)
        .map_err(|e| Invalid::one("at", format!("cannot compute the SLA clocks: {e}")).into())
}
