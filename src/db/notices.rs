//! Public notices as stored (`public_notices`, `public_notice_updates`): kept in step with
//! a ticket's events inside `record_event`'s transaction, and read for the public outputs.
//! Reads nothing of the ticket beyond what the notice copied, so no private field can leak.

use super::error::parse_stored;
use super::schema::{public_notice_updates, public_notices, tickets};
use super::tickets::{json_column, parse_json_column};
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::domain::notice::{NoticeChange, NoticeUpdate, PublicNotice, follow_event};
use crate::domain::ticket::{Ticket, TicketEvent};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

/// Most notices one public output lists (newest changes first): a page stays readable.
pub const MAX_PUBLIC_NOTICES: i64 = 500;

/// Counts the changes of public notices committed on this instance. The public outputs'
/// cache holds for one count; `record_event` counts a change once it is committed.
#[derive(Debug, Default)]
pub struct NoticeChanges(AtomicU64);

impl NoticeChanges {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    pub fn count_one(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = public_notices, treat_none_as_null = true)]
struct NoticeRow {
    id: String,
    ticket_id: String,
    ticket_number: String,
    services: String,
    text: String,
    interruption_started_at: Option<NaiveDateTime>,
    interruption_ended_at: Option<NaiveDateTime>,
    published_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    withdrawn_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = public_notice_updates)]
struct UpdateRow {
    notice_id: String,
    sequence: i32,
    event_id: String,
    at: NaiveDateTime,
    text: String,
    services: String,
}

fn to_row(notice: &PublicNotice) -> NoticeRow {
    NoticeRow {
        id: notice.id.to_string(),
        ticket_id: notice.ticket_id.to_string(),
        ticket_number: notice.ticket_number.clone(),
        services: json_column(&notice.services),
        text: notice.text.clone(),
        interruption_started_at: notice.interruption_started_at.map(to_db_time),
        interruption_ended_at: notice.interruption_ended_at.map(to_db_time),
        published_at: to_db_time(notice.published_at),
        updated_at: to_db_time(notice.updated_at),
        withdrawn_at: notice.withdrawn_at.map(to_db_time),
    }
}

fn from_row(row: NoticeRow) -> Result<PublicNotice, StoreError> {
    Ok(PublicNotice {
        id: parse_stored("public_notices.id", &row.id)?,
        ticket_id: parse_stored("public_notices.ticket_id", &row.ticket_id)?,
        ticket_number: row.ticket_number,
        services: parse_json_column("public_notices.services", &row.services)?,
        text: row.text,
        interruption_started_at: row.interruption_started_at.map(from_db_time),
        interruption_ended_at: row.interruption_ended_at.map(from_db_time),
        published_at: from_db_time(row.published_at),
        updated_at: from_db_time(row.updated_at),
        withdrawn_at: row.withdrawn_at.map(from_db_time),
        updates: Vec::new(),
    })
}

fn update_from_row(row: UpdateRow) -> Result<NoticeUpdate, StoreError> {
    Ok(NoticeUpdate {
        event_id: parse_stored("public_notice_updates.event_id", &row.event_id)?,
        at: from_db_time(row.at),
        text: row.text,
        services: parse_json_column("public_notice_updates.services", &row.services)?,
    })
}

/// Brings the ticket's public notice in step with `event`, inside the event's transaction
/// (which holds the ticket's row lock): a `notify_users` publishes or updates it,
/// `interruption_start`/`interruption_end` make it current or resolved, `withdraw_notice`
/// takes it off the public outputs. Sets `ticket.public_notice_id`; returns whether a notice
/// changed. `history` includes `event`.
pub fn follow_ticket_event(
    conn: &mut DbConnection,
    ticket: &mut Ticket,
    history: &[TicketEvent],
    event: &TicketEvent,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if !crate::domain::notice::touches_notices(event.action) {
        return Ok(false);
    }
    let published = match ticket.public_notice_id {
        Some(id) => Some(find_notice(conn, id)?.ok_or(StoreError::NotFound("public notice"))?),
        None => None,
    };
    let Some(change) = follow_event(published.as_ref(), ticket, history, event, now) else {
        return Ok(false);
    };
    match change {
        NoticeChange::Published(notice) => {
            diesel::insert_into(public_notices::table)
                .values(to_row(&notice))
                .execute(conn)?;
            for update in &notice.updates {
                insert_update(conn, notice.id, update)?;
            }
            set_ticket_notice(conn, ticket, Some(notice.id))?;
        }
        NoticeChange::Changed { notice, update } => {
            store_notice(conn, &notice)?;
            if let Some(update) = update {
                insert_update(conn, notice.id, &update)?;
            }
        }
        NoticeChange::Withdrawn(notice) => {
            store_notice(conn, &notice)?;
            set_ticket_notice(conn, ticket, None)?;
        }
    }
    Ok(true)
}

fn find_notice(conn: &mut DbConnection, id: Uuid) -> Result<Option<PublicNotice>, StoreError> {
    public_notices::table
        .find(id.to_string())
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

fn store_notice(conn: &mut DbConnection, notice: &PublicNotice) -> Result<(), StoreError> {
    diesel::update(public_notices::table.find(notice.id.to_string()))
        .set(to_row(notice))
        .execute(conn)?;
    Ok(())
}

fn insert_update(
    conn: &mut DbConnection,
    notice_id: Uuid,
    update: &NoticeUpdate,
) -> Result<(), StoreError> {
    let last: Option<i32> = public_notice_updates::table
        .filter(public_notice_updates::notice_id.eq(notice_id.to_string()))
        .select(diesel::dsl::max(public_notice_updates::sequence))
        .first(conn)?;
    diesel::insert_into(public_notice_updates::table)
        .values(UpdateRow {
            notice_id: notice_id.to_string(),
            sequence: last.unwrap_or(0) + 1,
            event_id: update.event_id.to_string(),
            at: to_db_time(update.at),
            text: update.text.clone(),
            services: json_column(&update.services),
        })
        .execute(conn)?;
    Ok(())
}

fn set_ticket_notice(
    conn: &mut DbConnection,
    ticket: &mut Ticket,
    notice: Option<Uuid>,
) -> Result<(), StoreError> {
    diesel::update(tickets::table.find(ticket.id.to_string()))
        .set(tickets::public_notice_id.eq(notice.map(|id| id.to_string())))
        .execute(conn)?;
    ticket.public_notice_id = notice;
    Ok(())
}

/// What the public outputs show, read at one instant.
#[derive(Debug, Clone, Default)]
pub struct PublishedNotices {
    /// The notices not withdrawn that are current or changed since the cut-off, newest
    /// change first (at most `MAX_PUBLIC_NOTICES`), each with its texts.
    pub notices: Vec<PublicNotice>,
    /// The latest change of any notice, withdrawals included (the feed's `updated`).
    pub last_change: Option<DateTime<Utc>>,
}

/// The notices the public may read: every current one, and those changed since `since`.
pub fn published_notices(
    conn: &mut DbConnection,
    since: DateTime<Utc>,
) -> Result<PublishedNotices, StoreError> {
    let rows: Vec<NoticeRow> = public_notices::table
        .filter(public_notices::withdrawn_at.is_null())
        .filter(
            public_notices::updated_at
                .ge(to_db_time(since))
                .or(public_notices::interruption_ended_at.is_null()),
        )
        .order((public_notices::updated_at.desc(), public_notices::id.desc()))
        .limit(MAX_PUBLIC_NOTICES)
        .select(NoticeRow::as_select())
        .load(conn)?;
    let mut notices = rows
        .into_iter()
        .map(from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = notices.iter().map(|n| n.id.to_string()).collect();
    let mut texts: HashMap<String, Vec<NoticeUpdate>> = HashMap::new();
    let updates: Vec<UpdateRow> = public_notice_updates::table
        .filter(public_notice_updates::notice_id.eq_any(&ids))
        .order((
            public_notice_updates::notice_id,
            public_notice_updates::sequence,
        ))
        .select(UpdateRow::as_select())
        .load(conn)?;
    for row in updates {
        texts
            .entry(row.notice_id.clone())
            .or_default()
            .push(update_from_row(row)?);
    }
    for notice in &mut notices {
        notice.updates = texts.remove(&notice.id.to_string()).unwrap_or_default();
    }
    let last_change: Option<NaiveDateTime> = public_notices::table
        .select(diesel::dsl::max(public_notices::updated_at))
        .first(conn)?;
    Ok(PublishedNotices {
        notices,
        last_change: last_change.map(from_db_time),
    })
}
