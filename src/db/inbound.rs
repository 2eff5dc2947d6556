//! Received mail, raw (`inbound_messages`, the bytes apart in `inbound_raw`): a message is
//! stored once, and the same message received again finds its row; the ingest
//! (`crate::ingest`) records its outcome here (ingested, quarantined). Attachments kept with
//! tickets are `db::attachments`.

use super::error::parse_stored;
use super::schema::{inbound_messages, inbound_raw, outbox, tickets};
use super::{DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time};
use super::{truncate_to_micros, write_transaction};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Longest reason kept for a quarantined message.
const MAX_REASON: usize = 2000;

/// Where a received message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundStatus {
    /// Stored, not yet ingested (the ingest failed midway, and runs again).
    Stored,
    Ingested,
    Quarantined,
}

impl InboundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundStatus::Stored => "stored",
            InboundStatus::Ingested => "ingested",
            InboundStatus::Quarantined => "quarantined",
        }
    }

    fn parse(text: &str) -> Result<InboundStatus, StoreError> {
        match text {
            "stored" => Ok(InboundStatus::Stored),
            "ingested" => Ok(InboundStatus::Ingested),
            "quarantined" => Ok(InboundStatus::Quarantined),
            other => Err(StoreError::Corrupt(format!(
                "inbound_messages.status: `{other}`"
            ))),
        }
    }
}

/// A received message without its raw text.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEntry {
    pub id: Uuid,
    pub message_id: Option<String>,
    pub source: String,
    pub received_at: DateTime<Utc>,
    pub stored_by: Option<Uuid>,
    pub size: i64,
    pub status: InboundStatus,
    pub reason: Option<String>,
    pub ticket_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// The helpdesk's address it was delivered to, when the entrance said.
    pub recipient: Option<String>,
}

type EntryColumns = (
    String,
    Option<String>,
    String,
    NaiveDateTime,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    Option<String>,
);

fn entry_columns() -> (
    inbound_messages::id,
    inbound_messages::message_id,
    inbound_messages::source,
    inbound_messages::received_at,
    inbound_messages::stored_by,
    inbound_messages::size,
    inbound_messages::status,
    inbound_messages::reason,
    inbound_messages::ticket_id,
    inbound_messages::event_id,
    inbound_messages::updated_at,
    inbound_messages::recipient,
) {
    use inbound_messages::*;
    (
        id,
        message_id,
        source,
        received_at,
        stored_by,
        size,
        status,
        reason,
        ticket_id,
        event_id,
        updated_at,
        recipient,
    )
}

fn to_entry(row: EntryColumns) -> Result<InboundEntry, StoreError> {
    let uuid = |column: &str, value: Option<String>| {
        value.map(|v| parse_stored::<Uuid>(column, &v)).transpose()
    };
    Ok(InboundEntry {
        id: parse_stored("inbound_messages.id", &row.0)?,
        message_id: row.1,
        source: row.2,
        received_at: from_db_time(row.3),
        stored_by: uuid("inbound_messages.stored_by", row.4)?,
        size: row.5,
        status: InboundStatus::parse(&row.6)?,
        reason: row.7,
        ticket_id: uuid("inbound_messages.ticket_id", row.8)?,
        event_id: uuid("inbound_messages.event_id", row.9)?,
        updated_at: from_db_time(row.10),
        recipient: row.11,
    })
}

/// How a received message is recognised when it comes again: its Message-ID with the hash of
/// its raw bytes, or the hash alone.
pub fn dedupe_key(message_id: Option<&str>, raw: &[u8]) -> String {
    let hash: String = Sha256::digest(raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match message_id {
        Some(id) => format!("{id} sha256:{hash}"),
        None => format!("sha256:{hash}"),
    }
}

/// A message to store.
#[derive(Debug, Clone, Copy)]
pub struct NewInbound<'a> {
    pub raw: &'a [u8],
    pub message_id: Option<&'a str>,
    pub source: &'a str,
    pub received_at: DateTime<Utc>,
    pub stored_by: Option<Uuid>,
    /// The helpdesk's address it was delivered to, when the entrance knows it.
    pub recipient: Option<&'a str>,
}

/// Stores `new` and returns its entry, or the entry of the same message stored before
/// (`true` when it was).
pub fn store_inbound(
    conn: &mut DbConnection,
    new: NewInbound,
    now: DateTime<Utc>,
) -> Result<(InboundEntry, bool), StoreError> {
    let key = dedupe_key(new.message_id, new.raw);
    let now = to_db_time(truncate_to_micros(now));
    let id = Uuid::now_v7();
    // The row and its raw bytes together, or neither. A unique violation (the message was
    // stored before) undoes the transaction; the stored row is read after it.
    let inserted = write_transaction(conn, |conn| {
        diesel::insert_into(inbound_messages::table)
            .values((
                inbound_messages::id.eq(id.to_string()),
                inbound_messages::dedupe_key.eq(&key),
                inbound_messages::message_id.eq(new.message_id),
                inbound_messages::source.eq(new.source),
                inbound_messages::received_at.eq(to_db_time(truncate_to_micros(new.received_at))),
                inbound_messages::stored_by.eq(new.stored_by.map(|u| u.to_string())),
                inbound_messages::recipient.eq(new.recipient),
                inbound_messages::size.eq(new.raw.len() as i64),
                inbound_messages::status.eq(InboundStatus::Stored.as_str()),
                inbound_messages::created_at.eq(now),
                inbound_messages::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::insert_into(inbound_raw::table)
            .values((
                inbound_raw::inbound_id.eq(id.to_string()),
                inbound_raw::raw.eq(new.raw),
            ))
            .execute(conn)
    });
    let (found, duplicate) = match inserted {
        Ok(_) => (
            inbound_messages::table
                .find(id.to_string())
                .select(entry_columns())
                .get_result::<EntryColumns>(conn)?,
            false,
        ),
        Err(e) if is_unique_violation(&e) => (
            inbound_messages::table
                .filter(inbound_messages::dedupe_key.eq(&key))
                .select(entry_columns())
                .get_result::<EntryColumns>(conn)?,
            true,
        ),
        Err(e) => return Err(e.into()),
    };
    Ok((to_entry(found)?, duplicate))
}

pub fn find_inbound(conn: &mut DbConnection, id: Uuid) -> Result<Option<InboundEntry>, StoreError> {
    inbound_messages::table
        .find(id.to_string())
        .select(entry_columns())
        .get_result::<EntryColumns>(conn)
        .optional()?
        .map(to_entry)
        .transpose()
}

/// The message as received.
pub fn find_raw(conn: &mut DbConnection, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(inbound_raw::table
        .find(id.to_string())
        .select(inbound_raw::raw)
        .get_result(conn)
        .optional()?)
}

/// Runs `work` while no other ingest of message `id` runs, on any instance: two entrances
/// (two pollers of one mailbox, a poller and the gateway) may hold the same stored message,
/// and only one may open its ticket. On PostgreSQL a session advisory lock (released even
/// when `work` fails); on SQLite one ingest at a time in this process.
pub fn with_ingest_lock<T>(
    conn: &mut DbConnection,
    id: Uuid,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    static SQLITE_INGEST: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    match conn {
        DbConnection::Postgresql(_) => {
            // Two keys: a namespace for ingests, and the message's id hashed by the server.
            let lock = format!("SELECT pg_advisory_lock(7011, hashtext('{id}'))");
            diesel::sql_query(lock).execute(conn)?;
            let outcome = work(conn);
            let unlock = format!("SELECT pg_advisory_unlock(7011, hashtext('{id}'))");
            diesel::sql_query(unlock).execute(conn)?;
            outcome
        }
        DbConnection::Sqlite(_) => {
            let _one_at_a_time = SQLITE_INGEST.lock();
            work(conn)
        }
    }
}

/// Marks the message ingested into `ticket_id` (by `event_id`, for a continuation; no ticket
/// for a delivery report), inside
/// the caller's transaction; refused (`Conflict`) when it already was, so that the
/// transaction that would ingest it twice is undone.
pub fn mark_ingested(
    conn: &mut DbConnection,
    id: Uuid,
    ticket_id: Option<Uuid>,
    event_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = diesel::update(inbound_messages::table.find(id.to_string()))
        .filter(inbound_messages::status.ne(InboundStatus::Ingested.as_str()))
        .set((
            inbound_messages::status.eq(InboundStatus::Ingested.as_str()),
            inbound_messages::reason.eq(None::<String>),
            inbound_messages::ticket_id.eq(ticket_id.map(|t| t.to_string())),
            inbound_messages::event_id.eq(event_id.map(|e| e.to_string())),
            inbound_messages::updated_at.eq(to_db_time(truncate_to_micros(now))),
        ))
        .execute(conn)?;
    match changed {
        1 => Ok(()),
        _ => Err(StoreError::Conflict(
            "the message was ingested already".into(),
        )),
    }
}

/// Puts the message in the quarantine with `reason` (unless it was ingested meanwhile).
pub fn quarantine(
    conn: &mut DbConnection,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let reason: String = reason.chars().take(MAX_REASON).collect();
    diesel::update(inbound_messages::table.find(id.to_string()))
        .filter(inbound_messages::status.ne(InboundStatus::Ingested.as_str()))
        .set((
            inbound_messages::status.eq(InboundStatus::Quarantined.as_str()),
            inbound_messages::reason.eq(Some(reason)),
            inbound_messages::updated_at.eq(to_db_time(truncate_to_micros(now))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Quarantined messages, newest first, older than `before` (the page's cursor).
pub fn list_quarantine(
    conn: &mut DbConnection,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<InboundEntry>, StoreError> {
    let mut query = inbound_messages::table
        .filter(inbound_messages::status.eq(InboundStatus::Quarantined.as_str()))
        .select(entry_columns())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(inbound_messages::id.lt(before.to_string()));
    }
    query
        .order(inbound_messages::id.desc())
        .limit(limit)
        .load::<EntryColumns>(conn)?
        .into_iter()
        .map(to_entry)
        .collect()
}

/// The ticket one of `message_ids` belongs to — a message the helpdesk sent for it or
/// received into it — trying them in order.
pub fn ticket_of_messages(
    conn: &mut DbConnection,
    message_ids: &[String],
) -> Result<Option<Uuid>, StoreError> {
    for message_id in message_ids {
        let sent: Option<Option<String>> = outbox::table
            .filter(outbox::message_id.eq(message_id))
            .select(outbox::ticket_id)
            .first(conn)
            .optional()?;
        let received = match sent.flatten() {
            Some(ticket) => Some(ticket),
            None => inbound_messages::table
                .filter(inbound_messages::message_id.eq(message_id))
                .filter(inbound_messages::ticket_id.is_not_null())
                .select(inbound_messages::ticket_id)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten(),
        };
        if let Some(ticket) = received {
            return Ok(Some(parse_stored("ticket_id", &ticket)?));
        }
    }
    Ok(None)
}

/// The ticket numbered `number`.
pub fn ticket_numbered(conn: &mut DbConnection, number: &str) -> Result<Option<Uuid>, StoreError> {
    tickets::table
        .filter(tickets::number.eq(number))
        .select(tickets::id)
        .first::<String>(conn)
        .optional()?
        .map(|id| parse_stored("tickets.id", &id))
        .transpose()
}

/// The requester's latest message on `ticket_id` (`<id@domain>`), which a reply answers.
pub fn latest_requester_message(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(inbound_messages::table
        .filter(inbound_messages::ticket_id.eq(ticket_id.to_string()))
        .filter(inbound_messages::message_id.is_not_null())
        .order(inbound_messages::id.desc())
        .select(inbound_messages::message_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The helpdesk's address the first message of `ticket_id` that names one was delivered to:
/// the mailbox the ticket came in through.
pub fn ticket_mailbox_address(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Option<String>, StoreError> {
    Ok(inbound_messages::table
        .filter(inbound_messages::ticket_id.eq(ticket_id.to_string()))
        .filter(inbound_messages::recipient.is_not_null())
        .order(inbound_messages::id)
        .select(inbound_messages::recipient)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The Message-IDs of every message received into `ticket_id`, oldest first.
pub fn received_message_ids(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows: Vec<(String, Option<String>)> = inbound_messages::table
        .filter(inbound_messages::ticket_id.eq(ticket_id.to_string()))
        .order(inbound_messages::id)
        .select((inbound_messages::id, inbound_messages::message_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, message_id)| Some((id, message_id?)))
        .collect())
}
