//! The outbox: messages written in the transaction of what caused them, then delivered by
//! the outbox worker. A worker claims one due row at a time (on PostgreSQL skipping rows
//! another instance holds; on SQLite one writer at a time), sends it, and records the
//! outcome only if its claim still holds, so no row is sent by two instances.

use super::error::parse_stored;
use super::schema::outbox;
use super::tickets::{json_column, parse_json_column};
use super::{
    DbConnection, StoreError, from_db_time, to_db_time, truncate_to_micros, write_transaction,
};
use crate::mail::{OutboxStatus, OutgoingMail};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// Longest error text kept on a row.
const MAX_ERROR: usize = 2000;

/// A message as the outbox API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub message_id: String,
    pub kind: String,
    pub ticket_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub agency_id: Option<Uuid>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct EntryRow {
    id: String,
    message_id: String,
    kind: String,
    ticket_id: Option<String>,
    event_id: Option<String>,
    agency_id: Option<String>,
    recipients: String,
    subject: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

impl TryFrom<EntryRow> for OutboxEntry {
    type Error = StoreError;
    fn try_from(row: EntryRow) -> Result<OutboxEntry, StoreError> {
        let id = |column: &str, value: Option<String>| {
            value.map(|v| parse_stored::<Uuid>(column, &v)).transpose()
        };
        Ok(OutboxEntry {
            id: parse_stored("outbox.id", &row.id)?,
            message_id: row.message_id,
            kind: row.kind,
            ticket_id: id("outbox.ticket_id", row.ticket_id)?,
            event_id: id("outbox.event_id", row.event_id)?,
            agency_id: id("outbox.agency_id", row.agency_id)?,
            recipients: parse_json_column("outbox.recipients", &row.recipients)?,
            subject: row.subject,
            status: parse_stored("outbox.status", &row.status)?,
            attempts: row.attempts,
            next_attempt_at: from_db_time(row.next_attempt_at),
            last_error: row.last_error,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            sent_at: row.sent_at.map(from_db_time),
        })
    }
}

/// Writes `mails` as pending, due now, inside the caller's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    mails: &[OutgoingMail],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = to_db_time(truncate_to_micros(now));
    for mail in mails {
        diesel::insert_into(outbox::table)
            .values((
                outbox::id.eq(mail.id.to_string()),
                outbox::message_id.eq(&mail.message_id),
                outbox::kind.eq(&mail.kind),
                outbox::ticket_id.eq(mail.ticket_id.map(|id| id.to_string())),
                outbox::event_id.eq(mail.event_id.map(|id| id.to_string())),
                outbox::agency_id.eq(mail.agency_id.map(|id| id.to_string())),
                outbox::sender.eq(&mail.sender),
                outbox::recipients.eq(json_column(&mail.recipients)),
                outbox::subject.eq(&mail.subject),
                outbox::message.eq(&mail.message),
                outbox::status.eq(OutboxStatus::Pending.as_str()),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A claimed message, ready to hand to the transport.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub id: String,
    pub sender: String,
    pub recipients: Vec<String>,
    pub message: String,
    /// Attempts before this one.
    pub attempts: i32,
}

/// Claims the pending message due soonest for `lease`, under `claim` (one worker pass's id).
pub fn claim_next(
    conn: &mut DbConnection,
    claim: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<ClaimedMail>, StoreError> {
    let now_db = to_db_time(truncate_to_micros(now));
    let until = to_db_time(truncate_to_micros(now + lease));
    write_transaction(conn, |conn| {
        let due = outbox::table
            .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
            .filter(outbox::next_attempt_at.le(now_db))
            .filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.lt(now_db)),
            )
            .order((outbox::next_attempt_at, outbox::id))
            .select(outbox::id)
            .limit(1);
        let id: Option<String> = match conn {
            // Another instance's claim in progress is skipped, not waited for.
            DbConnection::Postgresql(pg) => due.for_update().skip_locked().get_result(pg),
            DbConnection::Sqlite(sqlite) => due.get_result(sqlite),
        }
        .optional()?;
        let Some(id) = id else { return Ok(None) };
        let claimed = diesel::update(outbox::table.find(&id))
            .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
            .filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.lt(now_db)),
            )
            .set((
                outbox::claimed_by.eq(claim),
                outbox::claimed_until.eq(until),
            ))
            .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        let (sender, recipients, message, attempts): (String, String, String, i32) = outbox::table
            .find(&id)
            .select((
                outbox::sender,
                outbox::recipients,
                outbox::message,
                outbox::attempts,
            ))
            .get_result(conn)?;
        Ok(Some(ClaimedMail {
            recipients: parse_json_column("outbox.recipients", &recipients)?,
            id,
            sender,
            message,
            attempts,
        }))
    })
}

/// Records a delivery; `false` if the claim no longer held (the row is someone else's now).
pub fn mark_sent(
    conn: &mut DbConnection,
    id: &str,
    claim: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = to_db_time(truncate_to_micros(now));
    let changed = diesel::update(outbox::table.find(id))
        .filter(outbox::claimed_by.eq(claim))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::sent_at.eq(Some(now)),
            outbox::updated_at.eq(now),
            outbox::claimed_by.eq(None::<String>),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 8) - 1;
    Duration::seconds((30_i64 << doublings).min(3600))
}

/// Records a failed attempt: the row waits for its next attempt, or is `failed` when the
/// error is permanent or `max_attempts` are spent. Returns the row's status after it.
pub fn mark_attempt_failed(
    conn: &mut DbConnection,
    mail: &ClaimedMail,
    claim: &str,
    now: DateTime<Utc>,
    error: &crate::mail::SendError,
    max_attempts: i32,
) -> Result<OutboxStatus, StoreError> {
    let attempts = mail.attempts + 1;
    let status = if error.permanent || attempts >= max_attempts {
        OutboxStatus::Failed
    } else {
        OutboxStatus::Pending
    };
    let message: String = error.message.chars().take(MAX_ERROR).collect();
    let next = to_db_time(truncate_to_micros(now + backoff(attempts)));
    let now = to_db_time(truncate_to_micros(now));
    diesel::update(outbox::table.find(&mail.id))
        .filter(outbox::claimed_by.eq(claim))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(next),
            outbox::last_error.eq(Some(message)),
            outbox::updated_at.eq(now),
            outbox::claimed_by.eq(None::<String>),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(status)
}

/// Every message `ticket_id` wrote, oldest first, with its delivery state.
pub fn list_ticket_messages(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<OutboxEntry>, StoreError> {
    outbox::table
        .filter(outbox::ticket_id.eq(ticket_id.to_string()))
        .select(EntryRow::as_select())
        // Ids are UUIDv7: in the order the messages were written.
        .order(outbox::id)
        .load(conn)?
        .into_iter()
        .map(OutboxEntry::try_from)
        .collect()
}

/// The messages the helpdesk sent to `ticket_id`'s requester (replies, acknowledgements),
/// oldest first, as (outbox id, `Message-ID`): part of the thread the next reply names.
pub fn requester_message_ids(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(outbox::table
        .filter(outbox::ticket_id.eq(ticket_id.to_string()))
        .filter(outbox::kind.eq_any([
            crate::mail::replies::REPLY_KIND,
            crate::mail::replies::ACKNOWLEDGEMENT_KIND,
        ]))
        .order(outbox::id)
        .select((outbox::id, outbox::message_id))
        .load(conn)?)
}

/// Records what a bounce or a PEC receipt says of the message the helpdesk sent as
/// `message_id`: `bounced` (with `reason`) or `delivered`. Returns the message's (id, ticket),
/// or `None` when no message of the helpdesk has that id. A message that `failed` stays so.
pub fn record_delivery_report(
    conn: &mut DbConnection,
    message_id: &str,
    status: Option<OutboxStatus>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, Option<Uuid>)>, StoreError> {
    let Some(entry) = outbox::table
        .filter(outbox::message_id.eq(message_id))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?
        .map(OutboxEntry::try_from)
        .transpose()?
    else {
        return Ok(None);
    };
    if let Some(status) = status.filter(|_| entry.status != OutboxStatus::Failed) {
        let reason: String = reason.chars().take(MAX_ERROR).collect();
        let error = (status == OutboxStatus::Bounced).then_some(reason);
        diesel::update(outbox::table.find(entry.id.to_string()))
            .set((
                outbox::status.eq(status.as_str()),
                outbox::last_error.eq(error),
                outbox::updated_at.eq(to_db_time(truncate_to_micros(now))),
            ))
            .execute(conn)?;
    }
    Ok(Some((entry.id, entry.ticket_id)))
}

/// How many acknowledgements went to `address` since `since`.
/// Holds, until the caller's transaction ends, the right to count and add acknowledgements
/// to `address`: two instances ingesting one sender's messages at once would each count
/// the same and both send the last one allowed. SQLite's writers are one at a time already.
pub fn lock_acknowledgements_to(conn: &mut DbConnection, address: &str) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7012, hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(address.to_ascii_lowercase())
            .execute(pg)?;
    }
    Ok(())
}

pub fn acknowledgements_to(
    conn: &mut DbConnection,
    address: &str,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(outbox::table
        .filter(outbox::kind.eq(crate::mail::replies::ACKNOWLEDGEMENT_KIND))
        .filter(outbox::recipients.eq(json_column(&[address])))
        .filter(outbox::created_at.ge(to_db_time(truncate_to_micros(since))))
        .count()
        .get_result(conn)?)
}

/// Which messages a list shows.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub ticket_id: Option<Uuid>,
    /// Only messages older than this one (the page's cursor).
    pub before_id: Option<Uuid>,
}

/// Newest first.
pub fn list_outbox(
    conn: &mut DbConnection,
    filter: &OutboxFilter,
    limit: i64,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut query = outbox::table.select(EntryRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(outbox::status.eq(status.as_str()));
    }
    if let Some(ticket_id) = filter.ticket_id {
        query = query.filter(outbox::ticket_id.eq(ticket_id.to_string()));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(outbox::id.lt(before.to_string()));
    }
    query
        .order(outbox::id.desc())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(OutboxEntry::try_from)
        .collect()
}

pub fn find_entry(conn: &mut DbConnection, id: Uuid) -> Result<Option<OutboxEntry>, StoreError> {
    outbox::table
        .find(id.to_string())
        .select(EntryRow::as_select())
        .get_result(conn)
        .optional()?
        .map(OutboxEntry::try_from)
        .transpose()
}

/// The message as it is (or was) sent.
pub fn find_message(conn: &mut DbConnection, id: Uuid) -> Result<Option<String>, StoreError> {
    Ok(outbox::table
        .find(id.to_string())
        .select(outbox::message)
        .get_result(conn)
        .optional()?)
}

/// Makes a failed (or waiting) message due now, with a fresh set of attempts. A sent message
/// is never sent again.
pub fn retry(
    conn: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<OutboxEntry, StoreError> {
    let now = to_db_time(truncate_to_micros(now));
    write_transaction(conn, |conn| {
        let entry = find_entry(conn, id)?.ok_or(StoreError::NotFound("message"))?;
        // A bounced or delivered message was sent too: sending it again would be a second
        // copy with the same Message-ID, which the receiver drops or counts twice.
        if matches!(
            entry.status,
            OutboxStatus::Sent | OutboxStatus::Bounced | OutboxStatus::Delivered
        ) {
            return Err(StoreError::Conflict(format!(
                "the message was sent at {}; it is never sent twice",
                entry
                    .sent_at
                    .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default()
            )));
        }
        diesel::update(outbox::table.find(id.to_string()))
            .filter(outbox::status.eq_any([
                OutboxStatus::Pending.as_str(),
                OutboxStatus::Failed.as_str(),
            ]))
            .set((
                outbox::status.eq(OutboxStatus::Pending.as_str()),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::updated_at.eq(now),
            ))
            .execute(conn)?;
        find_entry(conn, id)?.ok_or(StoreError::NotFound("message"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        let seconds: Vec<i64> = (1..=10).map(|a| super::backoff(a).num_seconds()).collect();
        assert_eq!(
            seconds,
            [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
        );
    }
}
