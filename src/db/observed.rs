//! What the metrics read from the database at a scrape: the outbox by state, its oldest
//! pending message, and the running SLA clocks by SLA and state. Small reads: the outbox by
//! its status, the clocks not stopped (the open tickets' only).

use super::schema::{outbox, ticket_clocks};
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// The database's side of the metrics at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Outbox messages by state (`pending`, `sent`, `failed`).
    pub outbox_by_state: BTreeMap<String, i64>,
    /// When the oldest pending message was written; `None` with none pending.
    pub oldest_pending_since: Option<DateTime<Utc>>,
    /// Clocks not stopped, by SLA code and state (`running`, `at_risk`, `breached`,
    /// `paused`).
    pub clocks: BTreeMap<(String, &'static str), i64>,
}

pub fn observe(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Observed, StoreError> {
    let mut observed = Observed::default();
    let by_state: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, count_star()))
        .load(conn)?;
    observed.outbox_by_state.extend(by_state);
    let oldest: Option<NaiveDateTime> = outbox::table
        .filter(outbox::status.eq("pending"))
        .select(min(outbox::created_at))
        .get_result(conn)?;
    observed.oldest_pending_since = oldest.map(from_db_time);
    type OpenClock = (String, Option<NaiveDateTime>, Option<NaiveDateTime>, bool);
    let open: Vec<OpenClock> = ticket_clocks::table
        .filter(ticket_clocks::stopped_at.is_null())
        .filter(ticket_clocks::applies_from.le(to_db_time(now)))
        .select((
            ticket_clocks::code,
            ticket_clocks::deadline,
            ticket_clocks::at_risk_at,
            ticket_clocks::paused,
        ))
        // Not prepared: planned with `now` on every scrape (a generic plan guesses).
        .into_boxed()
        .load(conn)?;
    let now = to_db_time(now);
    for (code, deadline, at_risk_at, paused) in open {
        let state = if paused {
            "paused"
        } else if deadline.is_some_and(|deadline| deadline <= now) {
            "breached"
        } else if at_risk_at.is_some_and(|at| at <= now) {
            "at_risk"
        } else {
            "running"
        };
        *observed.clocks.entry((code, state)).or_default() += 1;
    }
    Ok(observed)
}
