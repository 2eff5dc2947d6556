//! The clock watcher: records each SLA threshold crossing (at risk, breached) as a ticket
//! event exactly once, across restarts and instances. A crossing is claimed by flipping its
//! flag in the same transaction that records the event; whoever flips it records it.

use crate::db::clocks::{Crossing, claim_crossing, unrecorded_crossings};
use crate::db::tickets::lock_ticket;
use crate::db::tickets::record_service_event;
use crate::db::{Pool, StoreError, is_retryable, write_transaction};
use crate::domain::Action;
use crate::runtime::Runtime;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Crossings handled per pass; the next pass takes the rest.
const BATCH: i64 = 500;
const ATTEMPTS: usize = 5;

/// How many crossings a pass recorded, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub at_risk: usize,
    pub breached: usize,
}

/// Records every crossing that happened by `now` and is not yet recorded; returns how many
/// this call recorded.
pub fn record_crossings(pool: &Pool, now: DateTime<Utc>) -> Result<usize, StoreError> {
    record_crossings_by_kind(pool, now).map(|recorded| recorded.at_risk + recorded.breached)
}

/// `record_crossings`, counted by kind.
pub fn record_crossings_by_kind(pool: &Pool, now: DateTime<Utc>) -> Result<Recorded, StoreError> {
    crate::db::with_connection(pool, |conn| {
        // A clock that applies from now on (SLA.10 at its interruption's 30th minute) joins
        // its ticket's next deadline, so the queue and the crossings below agree.
        if let Err(e) = crate::db::late_clocks::refresh_next_deadlines(conn, now) {
            // The crossings below do not depend on it: record them all the same.
            tracing::warn!(error = %e, "next deadlines not brought up to date; will retry");
        }
        record_with(conn, now)
    })
}

fn record_with(
    conn: &mut crate::db::DbConnection,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let mut recorded = Recorded::default();
    loop {
        let due = unrecorded_crossings(conn, now, BATCH)?;
        let found = due.len();
        for (stored, crossing) in due {
            let clock = &stored.clock;
            let (action, at) = match crossing {
                Crossing::AtRisk => (Action::SlaAtRisk, clock.at_risk_at),
                Crossing::Breached => (Action::SlaBreached, clock.deadline),
            };
            let Some(at) = at else { continue };
            let mut details = Map::new();
            details.insert("code".into(), Value::String(clock.code.clone()));
            if let Some(interruption) = clock.interruption {
                details.insert("interruption".into(), json!(interruption));
            }
            details.insert("deadline".into(), json!(clock.deadline));
            for attempt in 1..=ATTEMPTS {
                let result = write_transaction(conn, |conn| {
                    // The ticket row first, as an agent's event does, so the two never wait
                    // on each other in opposite order.
                    lock_ticket(conn, stored.ticket_id)?;
                    if !claim_crossing(
                        conn,
                        stored.ticket_id,
                        (&clock.code, clock.interruption_number()),
                        crossing,
                        at,
                    )? {
                        return Ok(false); // recorded by another instance, or the clock moved
                    }
                    record_service_event(conn, stored.ticket_id, action, at, details.clone(), now)?;
                    Ok(true)
                });
                match result {
                    Ok(true) if crossing == Crossing::AtRisk => recorded.at_risk += 1,
                    Ok(true) => recorded.breached += 1,
                    Ok(false) => {}
                    // An agent's event changed the ticket meanwhile: try again.
                    Err(StoreError::Contended) if attempt < ATTEMPTS => continue,
                    Err(StoreError::Db(ref e)) if is_retryable(e) && attempt < ATTEMPTS => continue,
                    Err(e) => return Err(e),
                }
                break;
            }
        }
        if (found as i64) < BATCH {
            return Ok(recorded);
        }
    }
}

/// Runs `record_crossings` every `interval` until the server stops.
pub async fn watch(runtime: std::sync::Arc<Runtime>, interval: std::time::Duration) {
    let mut tick = actix_web::rt::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (pool, now) = (runtime.pool.clone(), runtime.now());
        match actix_web::web::block(move || record_crossings_by_kind(&pool, now)).await {
            Ok(Ok(recorded)) => {
                runtime
                    .metrics
                    .observe_watcher_pass(now, recorded.at_risk, recorded.breached);
                if recorded != Recorded::default() {
                    tracing::info!(
                        at_risk = recorded.at_risk,
                        breached = recorded.breached,
                        "SLA crossings recorded"
                    );
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "clock watcher pass failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "clock watcher task failed; will retry"),
        }
    }
}
