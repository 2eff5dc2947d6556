//! The status-by-level counts, each backend the way its planner does it fastest.

use super::schema::tickets;
use super::{DbConnection, StoreError, to_db_time};
use crate::domain::{Level, Status};
use chrono::NaiveDateTime;
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
///
/// The backends differ in what is fast. PostgreSQL runs one `GROUP BY` as a parallel
/// index-only scan of `(reported_at, status, level)`. SQLite would sort the whole period for
/// a `GROUP BY`, so it runs one range count per (status, level) on `(status, level,
/// reported_at)`, each reading only its own index range. Each backend's migration creates
/// the index its strategy reads.
pub fn count_by_status_and_level(
    conn: &mut DbConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency_id: Option<Uuid>,
) -> Result<Vec<StatusLevelCount>, StoreError> {
    let (from, to) = (to_db_time(from), to_db_time(to));
    match conn {
        DbConnection::Postgresql(_) => group_by_status_and_level(conn, from, to, agency_id),
        DbConnection::Sqlite(_) => range_counts(conn, from, to, agency_id),
    }
}

fn group_by_status_and_level(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    agency_id: Option<Uuid>,
) -> Result<Vec<StatusLevelCount>, StoreError> {
    let period = tickets::reported_at
        .ge(from)
        .and(tickets::reported_at.lt(to));
    // Boxed, so diesel does not prepare it: PostgreSQL plans it with the period's dates on
    // every run, where a generic plan made without them would misjudge how much it reads.
    let rows: Vec<(String, i32, i64)> = match agency_id {
        None => tickets::table
            .filter(period)
            .group_by((tickets::status, tickets::level))
            .select((tickets::status, tickets::level, count_star()))
            .into_boxed()
            .load(conn)?,
        Some(agency_id) => tickets::table
            .filter(tickets::agency_id.eq(agency_id.to_string()))
            .filter(period)
            .group_by((tickets::status, tickets::level))
            .select((tickets::status, tickets::level, count_star()))
            .into_boxed()
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

fn range_counts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    agency_id: Option<Uuid>,
) -> Result<Vec<StatusLevelCount>, StoreError> {
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
