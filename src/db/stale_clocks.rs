//! Clocks computed with an older version of their calendar: how many, which tickets a change
//! affects (their span meets the instants it changed), and marking the rest current without
//! computing them again. The calendar follower drives these; the recomputation itself is
//! `tickets::recompute`.

use super::calendars::CalendarChange;
use super::schema::ticket_clocks;
use super::{DbConnection, StoreError, to_db_time};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use uuid::Uuid;

/// How many clocks count in an older version of `calendar` than `version`.
pub fn clocks_behind(
    conn: &mut DbConnection,
    calendar: &str,
    version: i64,
) -> Result<i64, StoreError> {
    Ok(ticket_clocks::table
        .filter(ticket_clocks::calendar.eq(calendar))
        .filter(ticket_clocks::calendar_version.lt(version))
        .count()
        .get_result(conn)?)
}

/// The oldest version of `calendar` a clock still counts in, when older than `version`.
pub fn oldest_version_behind(
    conn: &mut DbConnection,
    calendar: &str,
    version: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(ticket_clocks::table
        .filter(ticket_clocks::calendar.eq(calendar))
        .filter(ticket_clocks::calendar_version.lt(version))
        .select(diesel::dsl::min(ticket_clocks::calendar_version))
        .get_result(conn)?)
}

/// Up to `limit` tickets with a clock in `calendar` older than `change` whose span meets the
/// instants the change affects.
pub fn affected_tickets(
    conn: &mut DbConnection,
    calendar: &str,
    change: &CalendarChange,
    limit: i64,
) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<String> = ticket_clocks::table
        .filter(ticket_clocks::calendar.eq(calendar))
        .filter(ticket_clocks::calendar_version.lt(change.version))
        .filter(ticket_clocks::started_at.lt(to_db_time(change.affects_to)))
        .filter(ticket_clocks::span_end.ge(to_db_time(change.affects_from)))
        .select(ticket_clocks::ticket_id)
        .distinct()
        .limit(limit)
        .load(conn)?;
    ids.iter()
        .map(|id| super::error::parse_stored("ticket_clocks.ticket_id", id))
        .collect()
}

/// Marks up to `limit` clocks in `calendar` older than `change`, whose span the change does
/// not meet, as computed with its version: nothing in them can differ. Returns how many.
pub fn mark_unaffected(
    conn: &mut DbConnection,
    calendar: &str,
    change: &CalendarChange,
    limit: i64,
) -> Result<usize, StoreError> {
    // The version is checked again outside the subquery: PostgreSQL re-reads a row another
    // transaction changed meanwhile against the outer conditions only.
    let sql = "UPDATE ticket_clocks SET calendar_version = $1 \
               WHERE calendar = $2 AND calendar_version < $1 AND (ticket_id, code) IN ( \
                 SELECT ticket_id, code FROM ticket_clocks \
                 WHERE calendar = $2 AND calendar_version < $1 \
                   AND NOT (started_at < $3 AND span_end >= $4) \
                 LIMIT $5)";
    let changed = super::write_transaction(conn, |conn| {
        diesel::sql_query(sql)
            .bind::<BigInt, _>(change.version)
            .bind::<Text, _>(calendar)
            .bind::<Timestamp, _>(to_db_time(change.affects_to))
            .bind::<Timestamp, _>(to_db_time(change.affects_from))
            .bind::<BigInt, _>(limit)
            .execute(conn)
    })?;
    Ok(changed)
}
