//! The status-by-level counts, read from the covering index on (reported_at, status, level).

use super::schema::tickets;
use super::{DbConnection, StoreError, to_db_time};
use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use uuid::Uuid;

/// One group of the summary: tickets in `status` at `level`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLevelCount {
    pub status: String,
    pub level: i32,
    pub count: i64,
}

/// Counts tickets reported in `[from, to)`, optionally of one agency, by status and level.
pub fn count_by_status_and_level(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency_id: Option<Uuid>,
) -> Result<Vec<StatusLevelCount>, StoreError> {
    let period = tickets::reported_at
        .ge(to_db_time(from))
        .and(tickets::reported_at.lt(to_db_time(to)));
    let rows: Vec<(String, i32, i64)> = match agency_id {
        None => tickets::table
            .filter(period)
            .group_by((tickets::status, tickets::level))
            .select((tickets::status, tickets::level, count_star()))
            .load(conn)?,
        Some(agency_id) => tickets::table
            .filter(tickets::agency_id.eq(agency_id.to_string()))
            .filter(period)
            .group_by((tickets::status, tickets::level))
            .select((tickets::status, tickets::level, count_star()))
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(status, level, count)| StatusLevelCount {
            status,
            level,
            count,
        })
        .collect())
}
