//! `monitor_state_changes`: the instants at which a system's hard state changed, kept in the
//! transaction of every insertion of states. An insertion touching the instants
//! `[first, last]` can change only whether those instants, and the first instant after them,
//! are changes; that range is computed again from `monitor_states` (each instant folded to
//! its worst state), so the table is always what the whole set of stored states gives,
//! whatever order the reports came in.

use super::schema::monitor_state_changes;
use super::{DbConnection, StoreError, lock_for_transaction, values_list};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamp};

/// The stored text of a severity (0 up, 1 unknown, 2 down).
fn state_text(severity: i32) -> &'static str {
    match severity {
        2 => "down",
        1 => "unknown",
        _ => "up",
    }
}

const SEVERITY: &str = "MAX(CASE state WHEN 'down' THEN 2 WHEN 'unknown' THEN 1 ELSE 0 END)";

/// Advisory-lock keys of the per-system refreshes (PostgreSQL: two instances inserting
/// states of one system take turns, so each sees the other's rows).
fn lock_key(system: &str) -> i64 {
    let hash = system.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (hash >> 1) as i64 ^ 0x4d4f_4e00_0000_0000
}

/// Brings the changes of `system` up to date after states at `[first, last]` were stored
/// (inside that transaction).
pub fn refresh_changes(
    conn: &mut DbConnection,
    system: &str,
    first: NaiveDateTime,
    last: NaiveDateTime,
) -> Result<(), StoreError> {
    #[derive(QueryableByName)]
    struct Severity {
        #[diesel(sql_type = Nullable<Integer>)]
        severity: Option<i32>,
    }
    #[derive(QueryableByName)]
    struct Instant {
        #[diesel(sql_type = Nullable<Timestamp>)]
        at: Option<NaiveDateTime>,
    }
    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = Timestamp)]
        at: NaiveDateTime,
        #[diesel(sql_type = Integer)]
        severity: i32,
    }
    lock_for_transaction(conn, lock_key(system))?;
    let before: Severity = diesel::sql_query(format!(
        "SELECT {SEVERITY} AS severity FROM monitor_states WHERE system = $1 AND hard AND at = \
         (SELECT MAX(at) FROM monitor_states WHERE system = $2 AND hard AND at < $3)"
    ))
    .bind::<Text, _>(system)
    .bind::<Text, _>(system)
    .bind::<Timestamp, _>(first)
    .get_result(conn)?;
    let after: Instant = diesel::sql_query(
        "SELECT MIN(at) AS at FROM monitor_states WHERE system = $1 AND hard AND at > $2",
    )
    .bind::<Text, _>(system)
    .bind::<Timestamp, _>(last)
    .get_result(conn)?;
    let end = after.at.unwrap_or(last);
    let folded: Vec<Folded> = diesel::sql_query(format!(
        "SELECT at, {SEVERITY} AS severity FROM monitor_states \
         WHERE system = $1 AND hard AND at >= $2 AND at <= $3 GROUP BY at ORDER BY at"
    ))
    .bind::<Text, _>(system)
    .bind::<Timestamp, _>(first)
    .bind::<Timestamp, _>(end)
    .load(conn)?;
    diesel::delete(
        monitor_state_changes::table
            .filter(monitor_state_changes::system.eq(system))
            .filter(monitor_state_changes::at.ge(first))
            .filter(monitor_state_changes::at.le(end)),
    )
    .execute(conn)?;
    let mut previous = before.severity;
    let mut changes: Vec<(NaiveDateTime, i32)> = Vec::new();
    for row in folded {
        if previous != Some(row.severity) {
            changes.push((row.at, row.severity));
        }
        previous = Some(row.severity);
    }
    for chunk in changes.chunks(500) {
        let mut query = diesel::sql_query(format!(
            "INSERT INTO monitor_state_changes (system, at, state) VALUES {}",
            values_list(conn, chunk.len(), 3)
        ))
        .into_boxed();
        for (at, severity) in chunk {
            query = query
                .bind::<Text, _>(system.to_owned())
                .bind::<Timestamp, _>(*at)
                .bind::<Text, _>(state_text(*severity));
        }
        query.execute(conn)?;
    }
    Ok(())
}
