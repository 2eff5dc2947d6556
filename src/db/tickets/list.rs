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
    /// An agency's view: its own tickets and the malfunctions that affect it.
    pub readable_by_agency: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub reported_from: Option<DateTime<Utc>>,
    pub reported_to: Option<DateTime<Utc>>,
    /// A clock state and the instant it is judged at.
    pub sla_state: Option<(SlaStateFilter, DateTime<Utc>)>,
}

/// Oldest first or newest first by `reported_at`, or nearest running deadline first (ties
/// by id, in the same direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    ReportedAsc,
    ReportedDesc,
    Deadline,
}

/// Tickets with at least one SLA clock in this state at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaStateFilter {
    Running,
    AtRisk,
    Breached,
    Met,
    Paused,
}

impl ListOrder {
    /// The value of `ticket` this order sorts on (the cursor's first half).
    pub fn key_of(self, ticket: &Ticket) -> DateTime<Utc> {
        match self {
            ListOrder::ReportedAsc | ListOrder::ReportedDesc => ticket.reported_at,
            ListOrder::Deadline => {
                crate::db::from_db_time(crate::db::clocks::deadline_column(ticket.next_deadline))
            }
        }
    }
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
    if let Some(agency_id) = filter.readable_by_agency {
        use crate::db::schema::ticket_affected_agencies as affected;
        let agency_id = agency_id.to_string();
        query = query.filter(
            tickets::agency_id
                .eq(agency_id.clone())
                .or(tickets::id.eq_any(
                    affected::table
                        .filter(affected::agency_id.eq(agency_id))
                        .select(affected::ticket_id),
                )),
        );
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
    if let Some((state, now)) = filter.sla_state {
        use crate::db::schema::ticket_clocks as clocks;
        let now = to_db_time(now);
        let visible = clocks::applies_from.le(now);
        let running = clocks::stopped_at.is_null().and(clocks::paused.eq(false));
        let ids = clocks::table.select(clocks::ticket_id).filter(visible);
        query = match state {
            SlaStateFilter::Running => query
                .filter(tickets::id.eq_any(ids.filter(running).filter(clocks::deadline.ge(now)))),
            SlaStateFilter::AtRisk => query.filter(
                tickets::id.eq_any(
                    ids.filter(running)
                        .filter(clocks::deadline.ge(now))
                        .filter(clocks::at_risk_at.le(now)),
                ),
            ),
            SlaStateFilter::Breached => query.filter(
                tickets::id.eq_any(
                    ids.filter(
                        running
                            .and(clocks::deadline.lt(now))
                            .or(clocks::stopped_at.gt(clocks::deadline)),
                    ),
                ),
            ),
            SlaStateFilter::Met => query
                .filter(tickets::id.eq_any(ids.filter(clocks::stopped_at.le(clocks::deadline)))),
            SlaStateFilter::Paused => query.filter(
                tickets::id.eq_any(
                    ids.filter(clocks::paused.eq(true))
                        .filter(clocks::stopped_at.is_null()),
                ),
            ),
        };
    }
    if let Some((key, id)) = after {
        let (key, id) = (to_db_time(key), id.to_string());
        let (reported_at, next_deadline) = (key, key);
        query = match order {
            ListOrder::Deadline => query.filter(
                tickets::next_deadline
                    .gt(next_deadline)
                    .or(tickets::next_deadline
                        .eq(next_deadline)
                        .and(tickets::id.gt(id))),
            ),
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
        ListOrder::Deadline => query.order((tickets::next_deadline.asc(), tickets::id.asc())),
    };
    query
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(Ticket::try_from)
        .collect()
}
