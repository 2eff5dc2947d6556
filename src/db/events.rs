//! The append-only ticket history: insert entries, read a ticket's entries in order.

use super::error::parse_stored;
use super::schema::ticket_events;
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::domain::Level;
use crate::domain::ticket::TicketEvent;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_events)]
struct EventRow {
    id: String,
    ticket_id: String,
    sequence: i64,
    event_type: String,
    at: NaiveDateTime,
    recorded_at: NaiveDateTime,
    actor_id: Option<String>,
    status_after: String,
    level_after: i32,
    assignee_after: Option<String>,
    details: String,
}

impl TryFrom<EventRow> for TicketEvent {
    type Error = StoreError;
    fn try_from(row: EventRow) -> Result<TicketEvent, StoreError> {
        Ok(TicketEvent {
            id: parse_stored("ticket_events.id", &row.id)?,
            ticket_id: parse_stored("ticket_events.ticket_id", &row.ticket_id)?,
            sequence: row.sequence,
            action: parse_stored("ticket_events.type", &row.event_type)?,
            at: from_db_time(row.at),
            recorded_at: from_db_time(row.recorded_at),
            actor_id: row
                .actor_id
                .map(|id| parse_stored("ticket_events.actor_id", &id))
                .transpose()?,
            status: parse_stored("ticket_events.status_after", &row.status_after)?,
            level: Level::from_number(row.level_after.into())
                .ok_or_else(|| StoreError::Corrupt(format!("level_after = {}", row.level_after)))?,
            assignee_id: row
                .assignee_after
                .map(|id| parse_stored("ticket_events.assignee_after", &id))
                .transpose()?,
            details: serde_json::from_str(&row.details)
                .map_err(|e| StoreError::Corrupt(format!("ticket_events.details: {e}")))?,
        })
    }
}

/// Appends `event` to its ticket's history (inside the caller's transaction).
pub fn insert_event(conn: &mut DbConnection, event: &TicketEvent) -> Result<(), StoreError> {
    insert_events(conn, std::slice::from_ref(event))
}

/// Appends several events, to one ticket or many, in one statement.
pub fn insert_events(conn: &mut DbConnection, events: &[TicketEvent]) -> Result<(), StoreError> {
    let rows: Vec<EventRow> = events.iter().map(event_row).collect();
    super::insert_rows!(conn, ticket_events::table, &rows)?;
    Ok(())
}

fn event_row(event: &TicketEvent) -> EventRow {
    EventRow {
        id: event.id.to_string(),
        ticket_id: event.ticket_id.to_string(),
        sequence: event.sequence,
        event_type: event.action.as_str().to_owned(),
        at: to_db_time(event.at),
        recorded_at: to_db_time(event.recorded_at),
        actor_id: event.actor_id.map(|id| id.to_string()),
        status_after: event.status.as_str().to_owned(),
        level_after: event.level.number(),
        assignee_after: event.assignee_id.map(|id| id.to_string()),
        details: serde_json::Value::Object(event.details.clone()).to_string(),
    }
}

/// A ticket's history, oldest first.
pub fn list_events(
    conn: &mut DbConnection,
    ticket_id: uuid::Uuid,
) -> Result<Vec<TicketEvent>, StoreError> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id.to_string()))
        .order(ticket_events::sequence.asc())
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TicketEvent::try_from)
        .collect()
}

/// How many events the history holds, over all tickets.
pub fn count_events(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(ticket_events::table.count().get_result(conn)?)
}

/// The histories of several tickets, each oldest first.
pub fn list_events_of(
    conn: &mut DbConnection,
    ticket_ids: &[uuid::Uuid],
) -> Result<std::collections::HashMap<uuid::Uuid, Vec<TicketEvent>>, StoreError> {
    let mut histories: std::collections::HashMap<uuid::Uuid, Vec<TicketEvent>> =
        std::collections::HashMap::new();
    let rows: Vec<EventRow> = ticket_events::table
        .filter(ticket_events::ticket_id.eq_any(ticket_ids.iter().map(uuid::Uuid::to_string)))
        .order((ticket_events::ticket_id, ticket_events::sequence.asc()))
        .select(EventRow::as_select())
        .load(conn)?;
    for row in rows {
        let event = TicketEvent::try_from(row)?;
        histories.entry(event.ticket_id).or_default().push(event);
    }
    Ok(histories)
}
