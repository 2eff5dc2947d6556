//! Tickets: creation with a gap-free per-year number and `Idempotency-Key`, reads; keyset
//! lists (`list`), numbering (`numbers`) and recording events (`record`) beside it.

use super::clocks::{deadline_column, deadline_from_column};
use super::error::parse_stored;
use super::schema::{idempotency_keys, tickets};
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::domain::malfunction::MalfunctionDetails;
use crate::domain::ticket::{Requester, Ticket, TicketEvent};
use crate::domain::{Invalid, Level};
use crate::sla::{Clock, ClockEvent, SlaEngine, TicketFacts};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

mod create;
mod list;
pub mod malfunction;
pub mod recompute;
mod record;
pub use create::{Created, IdempotencyKey, create_ticket};
pub(crate) use create::{
    FreshTicket, Prepared, insert_fresh, insert_unnumbered_ticket, prepare_ticket,
};
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

/// Forgets the idempotency keys used before `before` (`idempotency_key_hours` ago); returns
/// how many.
pub fn sweep_idempotency_keys(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(to_db_time(before))),
    )
    .execute(conn)?)
}

/// How many tickets there are.
pub fn count_tickets(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(tickets::table.count().get_result(conn)?)
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

/// Whether a ticket sent any message and holds any attachment: `GET /tickets/{id}` reads
/// those lists only when they are not empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailFlags {
    pub has_messages: bool,
    pub has_attachments: bool,
}

/// `find_ticket` with its `MailFlags`, in the same statement.
pub fn find_ticket_with_mail_flags(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<(Ticket, MailFlags)>, StoreError> {
    use super::schema::{outbox, ticket_attachments};
    use diesel::dsl::exists;
    let found: Option<(TicketRow, bool, bool)> = tickets::table
        .find(id.to_string())
        .select((
            TicketRow::as_select(),
            exists(outbox::table.filter(outbox::ticket_id.eq(tickets::id.nullable()))),
            exists(ticket_attachments::table.filter(ticket_attachments::ticket_id.eq(tickets::id))),
        ))
        .get_result(conn)
        .optional()?;
    found
        .map(|(row, has_messages, has_attachments)| {
            let flags = MailFlags {
                has_messages,
                has_attachments,
            };
            Ticket::try_from(row).map(|ticket| (ticket, flags))
        })
        .transpose()
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
