//! The status-by-level counts, read from the index on (status, level, reported_at).

use super::schema::tickets;
use super::{DbConnection, StoreError, to_db_time};
use crate::domain::{Level, Status};
use chrono::{DateTime, Utc};
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
/// One range count per (status, level) on the index that starts with them: each reads only
/// its own index range, with no sort or hash, on both backends (a `GROUP BY` over the period
/// made SQLite sort a million rows).
pub fn count_by_status_and_level(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency_id: Option<Uuid>,
) -> Result<Vec<StatusLevelCount>, StoreError> {
    let (from, to) = (to_db_time(from), to_db_time(to));
    let mut counts = Vec::new();
    for status in Status::ALL {
        for level in [Level::First, Level::Second] {
            let query = tickets::table
                .filter(tickets::status.eq(status.as_str()))
                .filter(tickets::level.eq(level.number()))
                .filter(tickets::reported_at.ge(from))
                .filter(tickets::reported_at.lt(to))
                .count();
            let count: i64 = match agency_id {
                None => query.get_result(conn)?,
                Some(agency_id) => query
                    .filter(tickets::agency_id.eq(agency_id.to_string()))
                    .get_result(conn)?,
            };
            if count > 0 {
                counts.push(StatusLevelCount {
                    status: status.as_str().to_owned(),
                    level: level.number(),
                    count,
                });
            }
        }
    }
    Ok(counts)
}
