//! The clock watcher's side of the stored clocks: the crossings (at risk, breached) that
//! happened and are not yet recorded, and claiming one so that it is recorded exactly once.

use super::clocks::{ClockRow, StoredClock};
use super::schema::ticket_clocks;
use super::{DbConnection, StoreError, to_db_time};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// A threshold a clock has crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    AtRisk,
    Breached,
}

/// Whether a clock was computed with its calendar's current version.
fn computed_with_current_calendar() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(
        "EXISTS (SELECT 1 FROM calendars c WHERE c.name = ticket_clocks.calendar \
         AND c.version = ticket_clocks.calendar_version)",
    )
}

/// Clocks with a crossing that happened by `now` and is not yet recorded, oldest first.
pub fn unrecorded_crossings(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(StoredClock, Crossing)>, StoreError> {
    let now = to_db_time(now);
    // A clock computed with an older version of its calendar waits for the calendar follower:
    // its deadline may be one the calendar no longer gives.
    let current = computed_with_current_calendar;
    // The literal conditions match the partial indexes' (a bound value would not, on SQLite):
    // met clocks, most of history, never cross.
    let breached: Vec<ClockRow> = ticket_clocks::table
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "(outcome IS NULL OR outcome = 'breached')",
        ))
        .filter(current())
        .filter(ticket_clocks::breach_recorded.eq(false))
        .filter(ticket_clocks::deadline.lt(now))
        .filter(ticket_clocks::applies_from.le(now))
        .filter(
            ticket_clocks::stopped_at
                .is_null()
                .and(ticket_clocks::paused.eq(false))
                .or(ticket_clocks::stopped_at.gt(ticket_clocks::deadline)),
        )
        .order(ticket_clocks::deadline)
        .limit(limit)
        .select(ClockRow::as_select())
        .load(conn)?;
    let at_risk: Vec<ClockRow> = ticket_clocks::table
        .filter(ticket_clocks::outcome.is_null())
        .filter(current())
        .filter(ticket_clocks::risk_recorded.eq(false))
        .filter(ticket_clocks::breach_recorded.eq(false))
        .filter(ticket_clocks::at_risk_at.le(now))
        .filter(ticket_clocks::deadline.ge(now))
        .filter(ticket_clocks::applies_from.le(now))
        .filter(ticket_clocks::stopped_at.is_null())
        .filter(ticket_clocks::paused.eq(false))
        .order(ticket_clocks::at_risk_at)
        .limit(limit)
        .select(ClockRow::as_select())
        // Not prepared (as the literal above keeps the other from being): planned with `now`
        // on every pass, where a generic plan would guess how many clocks are due.
        .into_boxed()
        .load(conn)?;
    let mut crossings = Vec::new();
    for row in at_risk {
        crossings.push((StoredClock::try_from(row)?, Crossing::AtRisk));
    }
    for row in breached {
        crossings.push((StoredClock::try_from(row)?, Crossing::Breached));
    }
    Ok(crossings)
}

/// Marks a crossing recorded; `false` if another worker got there first, or if the clock
/// changed since it was seen (`seen` is the crossing's instant then). A breach also settles
/// the at-risk crossing, which no longer needs telling.
pub fn claim_crossing(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    (code, interruption): (&str, i64),
    crossing: Crossing,
    seen: DateTime<Utc>,
) -> Result<bool, StoreError> {
    // A calendar change committed since the crossing was read leaves the clock stale: it is
    // claimed only while computed with its calendar's current version.
    let target = ticket_clocks::table
        .filter(ticket_clocks::ticket_id.eq(ticket_id.to_string()))
        .filter(ticket_clocks::code.eq(code))
        .filter(ticket_clocks::interruption.eq(interruption))
        .filter(computed_with_current_calendar());
    let seen = to_db_time(seen);
    let changed = match crossing {
        Crossing::AtRisk => diesel::update(
            target
                .filter(ticket_clocks::risk_recorded.eq(false))
                .filter(ticket_clocks::at_risk_at.eq(seen)),
        )
        .set(ticket_clocks::risk_recorded.eq(true))
        .execute(conn)?,
        Crossing::Breached => diesel::update(
            target
                .filter(ticket_clocks::breach_recorded.eq(false))
                .filter(ticket_clocks::deadline.eq(seen)),
        )
        .set((
            ticket_clocks::breach_recorded.eq(true),
            ticket_clocks::risk_recorded.eq(true),
        ))
        .execute(conn)?,
    };
    Ok(changed == 1)
}
