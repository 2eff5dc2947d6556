//! The attachments kept with tickets (`ticket_attachments`): the parts of received messages
//! up to `max_attachment_bytes`, each found again by its message and place, so that an ingest
//! run twice keeps it once.

use super::error::parse_stored;
use super::schema::ticket_attachments;
use super::{DbConnection, StoreError, to_db_time};
use super::{truncate_to_micros, write_transaction};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// An attachment kept with a ticket, without its body.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAttachment {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// Keeps `attachments` of message `inbound_id` with `ticket_id`; those kept by an earlier run
/// of the same ingest are found, not doubled. Returns them all, in the message's order.
pub fn keep_attachments(
    conn: &mut DbConnection,
    inbound_id: Uuid,
    ticket_id: Uuid,
    attachments: &[crate::mail::inbound::InboundAttachment],
    now: DateTime<Utc>,
) -> Result<Vec<StoredAttachment>, StoreError> {
    let now = to_db_time(truncate_to_micros(now));
    write_transaction(conn, |conn| {
        let kept: Vec<i32> = ticket_attachments::table
            .filter(ticket_attachments::inbound_id.eq(inbound_id.to_string()))
            .select(ticket_attachments::part)
            .load(conn)?;
        for attachment in attachments {
            let part = attachment.part as i32;
            if kept.contains(&part) {
                continue;
            }
            diesel::insert_into(ticket_attachments::table)
                .values((
                    ticket_attachments::id.eq(Uuid::now_v7().to_string()),
                    ticket_attachments::ticket_id.eq(ticket_id.to_string()),
                    ticket_attachments::inbound_id.eq(inbound_id.to_string()),
                    ticket_attachments::part.eq(part),
                    ticket_attachments::filename.eq(&attachment.filename),
                    ticket_attachments::content_type.eq(&attachment.content_type),
                    ticket_attachments::size.eq(attachment.body.len() as i64),
                    ticket_attachments::body.eq(&attachment.body),
                    ticket_attachments::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        let rows: Vec<(String, String, String, String, i64)> = ticket_attachments::table
            .filter(ticket_attachments::inbound_id.eq(inbound_id.to_string()))
            .order(ticket_attachments::part)
            .select((
                ticket_attachments::id,
                ticket_attachments::ticket_id,
                ticket_attachments::filename,
                ticket_attachments::content_type,
                ticket_attachments::size,
            ))
            .load(conn)?;
        rows.into_iter().map(to_attachment).collect()
    })
}

fn to_attachment(
    row: (String, String, String, String, i64),
) -> Result<StoredAttachment, StoreError> {
    Ok(StoredAttachment {
        id: parse_stored("ticket_attachments.id", &row.0)?,
        ticket_id: parse_stored("ticket_attachments.ticket_id", &row.1)?,
        filename: row.2,
        content_type: row.3,
        size: row.4,
    })
}

/// One attachment of `ticket_id`, with its body.
pub fn find_attachment(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    id: Uuid,
) -> Result<Option<(StoredAttachment, Vec<u8>)>, StoreError> {
    let row: Option<(String, String, String, String, i64, Vec<u8>)> = ticket_attachments::table
        .find(id.to_string())
        .filter(ticket_attachments::ticket_id.eq(ticket_id.to_string()))
        .select((
            ticket_attachments::id,
            ticket_attachments::ticket_id,
            ticket_attachments::filename,
            ticket_attachments::content_type,
            ticket_attachments::size,
            ticket_attachments::body,
        ))
        .get_result(conn)
        .optional()?;
    row.map(|(id, ticket, filename, content_type, size, body)| {
        Ok((
            to_attachment((id, ticket, filename, content_type, size))?,
            body,
        ))
    })
    .transpose()
}

/// Every attachment of `ticket_id`, oldest first, without bodies.
pub fn list_attachments(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<StoredAttachment>, StoreError> {
    let rows: Vec<(String, String, String, String, i64)> = ticket_attachments::table
        .filter(ticket_attachments::ticket_id.eq(ticket_id.to_string()))
        .order(ticket_attachments::id)
        .select((
            ticket_attachments::id,
            ticket_attachments::ticket_id,
            ticket_attachments::filename,
            ticket_attachments::content_type,
            ticket_attachments::size,
        ))
        .load(conn)?;
    rows.into_iter().map(to_attachment).collect()
}
