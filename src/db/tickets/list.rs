//! Keyset pages of the ticket list: `(reported_at, id)` is the cursor, so rows inserted
//! while a caller pages never shift or repeat what it has already seen.

use super::TicketRow;
use crate::db::schema::tickets;
use crate::db::{DbConnection, StoreError, to_db_time};
use crate::domain::Level;
use crate::domain::Status;
use crate::domain::ticket::Ticket;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// The list filters of `GET /tickets`.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub status: Option<Status>,
    pub level: Option<Level>,
    pub agency_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub reported_from: Option<DateTime<Utc>>,
    pub reported_to: Option<DateTime<Utc>>,
}

/// Oldest first or newest first by `reported_at` (ties by id, in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    ReportedAsc,
    ReportedDesc,
}

/// Up to `limit` tickets after the cursor `after` (the last row of the previous page).
pub fn list_tickets(
    conn: &mut DbConnection,
    filter: &TicketFilter,
    order: ListOrder,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Ticket>, StoreError> {
    let mut query = tickets::table.select(TicketRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(tickets::status.eq(status.as_str()));
    }
    if let Some(level) = filter.level {
        query = query.filter(tickets::level.eq(level.number()));
    }
    if let Some(agency_id) = filter.agency_id {
        query = query.filter(tickets::agency_id.eq(agency_id.to_string()));
    }
    if let Some(assignee_id) = filter.assignee_id {
        query = query.filter(tickets::assignee_id.eq(assignee_id.to_string()));
    }
    if let Some(from) = filter.reported_from {
        query = query.filter(tickets::reported_at.ge(to_db_time(from)));
    }
    if let Some(to) = filter.reported_to {
        query = query.filter(tickets::reported_at.lt(to_db_time(to)));
    }
    if let Some((reported_at, id)) = after {
        let (reported_at, id) = (to_db_time(reported_at), id.to_string());
        query = match order {
            ListOrder::ReportedAsc => query.filter(
                tickets::reported_at
                    .gt(reported_at)
                    .or(tickets::reported_at.eq(reported_at).and(tickets::id.gt(id))),
            ),
            ListOrder::ReportedDesc => query.filter(
                tickets::reported_at
                    .lt(reported_at)
                    .or(tickets::reported_at.eq(reported_at).and(tickets::id.lt(id))),
            ),
        };
    }
    query = match order {
        ListOrder::ReportedAsc => query.order((tickets::reported_at.asc(), tickets::id.asc())),
        ListOrder::ReportedDesc => query.order((tickets::reported_at.desc(), tickets::id.desc())),
    };
    query
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(Ticket::try_from)
        .collect()
}
