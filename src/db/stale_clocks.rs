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

/// How many clocks of `calendar` are still to be computed again: those computed with an
/// older version than `version`, and those of an agency whose switch to another calendar
/// the follower has not reached yet.
pub fn clocks_behind(
    conn: &mut DbConnection,
    calendar: &str,
    version: i64,
) -> Result<i64, StoreError> {
    use super::schema::agency_calendar_changes as switching;
    let behind: i64 = ticket_clocks::table
        .filter(ticket_clocks::calendar.eq(calendar))
        .filter(ticket_clocks::calendar_version.lt(version))
        .count()
        .get_result(conn)?;
    // Few agencies switch at once: count from their side, through (agency_id, version).
    let agencies: Vec<String> = switching::table.select(switching::agency_id).load(conn)?;
    let of_switching_agencies: i64 = if agencies.is_empty() {
        0
    } else {
        ticket_clocks::table
            .filter(ticket_clocks::agency_id.eq_any(agencies.into_iter().map(Some)))
            .filter(ticket_clocks::calendar_version.ge(version))
            .filter(ticket_clocks::calendar.eq(calendar))
            .count()
            .get_result(conn)?
    };
    Ok(behind + of_switching_agencies)
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

/// Up to `limit` tickets, after `after` in id order, with a clock computed with the version
/// just before `change` whose span meets the instants the change affects. The follower walks
/// one version at a time: a clock older than that (it became stale meanwhile) waits for the
/// follower's next pass, which starts from the oldest version again.
pub fn affected_tickets(
    conn: &mut DbConnection,
    calendar: &str,
    change: &CalendarChange,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Uuid>, StoreError> {
    let mut query = ticket_clocks::table
        .filter(ticket_clocks::calendar.eq(calendar))
        .filter(ticket_clocks::calendar_version.eq(change.version - 1))
        .filter(ticket_clocks::started_at.lt(to_db_time(change.affects_to)))
        .filter(ticket_clocks::span_end.ge(to_db_time(change.affects_from)))
        .select(ticket_clocks::ticket_id)
        .distinct()
        .order(ticket_clocks::ticket_id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(ticket_clocks::ticket_id.gt(after.to_string()));
    }
    let ids: Vec<String> = query.load(conn)?;
    ids.iter()
        .map(|id| super::error::parse_stored("ticket_clocks.ticket_id", id))
        .collect()
}

/// Marks up to `limit` clocks computed with the version just before `change`, whose span
/// the change does not meet, as computed with its version: nothing in them can differ.
/// Returns how many.
pub fn mark_unaffected(
    conn: &mut DbConnection,
    calendar: &str,
    change: &CalendarChange,
    limit: i64,
) -> Result<usize, StoreError> {
    // The conditions are repeated outside the subquery: PostgreSQL re-reads a row another
    // transaction changed meanwhile against the outer conditions only.
    let sql = "UPDATE ticket_clocks SET calendar_version = $1 \
               WHERE calendar = $2 AND calendar_version = $1 - 1 \
                 AND NOT (started_at < $3 AND span_end >= $4) \
                 AND (ticket_id, code, interruption) IN ( \
                   SELECT ticket_id, code, interruption FROM ticket_clocks \
                   WHERE calendar = $2 AND calendar_version = $1 - 1 \
                     AND NOT (started_at < $3 AND span_end >= $4) \
                   LIMIT $5)";
    let changed = super::write_transaction(conn, |conn| {
        super::commit_without_waiting_for_disk(conn)?;
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

/// Agencies whose choice of calendar changed and whose clocks are still to be marked stale.
pub fn agencies_switching_calendar(conn: &mut DbConnection) -> Result<Vec<Uuid>, StoreError> {
    use super::schema::agency_calendar_changes;
    let ids: Vec<String> = agency_calendar_changes::table
        .select(agency_calendar_changes::agency_id)
        .order(agency_calendar_changes::agency_id)
        .load(conn)?;
    ids.iter()
        .map(|id| super::error::parse_stored("agency_calendar_changes.agency_id", id))
        .collect()
}

/// Marks up to `limit` clocks of the agency's tickets stale (version 0: the follower computes
/// them again in whatever calendar the agency names now); when none is left, takes the
/// agency off the queue. Returns how many it marked.
pub fn mark_agency_clocks_stale(
    conn: &mut DbConnection,
    agency_id: Uuid,
    limit: i64,
) -> Result<usize, StoreError> {
    use super::schema::agency_calendar_changes;
    let sql = "UPDATE ticket_clocks SET calendar_version = 0 \
               WHERE agency_id = $1 AND calendar_version > 0 \
                 AND (ticket_id, code, interruption) IN ( \
                 SELECT ticket_id, code, interruption FROM ticket_clocks \
                 WHERE agency_id = $1 AND calendar_version > 0 LIMIT $2)";
    super::write_transaction(conn, |conn| {
        super::commit_without_waiting_for_disk(conn)?;
        let marked = diesel::sql_query(sql)
            .bind::<Text, _>(agency_id.to_string())
            .bind::<BigInt, _>(limit)
            .execute(conn)?;
        if marked == 0 {
            diesel::delete(agency_calendar_changes::table.find(agency_id.to_string()))
                .execute(conn)?;
        }
        Ok(marked)
    })
}
