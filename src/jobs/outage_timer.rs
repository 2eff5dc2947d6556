//! With `monitoring_ticket_after_seconds` above 0, an outage opens its malfunction ticket
//! once it has lasted that long, whether or not the monitor speaks again: a monitor that
//! reports a `down` once (a Nagios notification, an Alertmanager alert) and then nothing until
//! the `up` must still get its ticket on time. Every pass follows the systems that are down
//! without an outage through `monitoring::outages::follow_outages`, the one path the ingest
//! endpoints take, as the `monitor` user `Outage timer`. Several instances may run it: a
//! ticket is opened under an idempotency key, so they find one.

use crate::db::tickets::EventContext;
use crate::domain::{Principal, Role};
use crate::runtime::Runtime;
use std::sync::Arc;
use std::time::Duration;

/// How often the systems are looked at: a tenth of the threshold, from 1 s to 30 s, so a
/// ticket opens at most that late.
pub fn cadence(ticket_after_seconds: u32) -> Duration {
    Duration::from_secs(u64::from(ticket_after_seconds / 10).clamp(1, 30))
}

/// The principal the timer acts as: the active `monitor` user named `Outage timer`, created
/// the first time.
fn timer_principal(runtime: &Runtime) -> Result<Principal, crate::db::StoreError> {
    crate::db::with_connection(&runtime.pool, |conn| {
        crate::db::users::machine_principal(conn, Role::Monitor, "Outage timer", runtime.now())
    })
}

/// One pass: follows every system down without an outage; returns the tickets opened.
pub fn pass(runtime: &Runtime) -> Result<Vec<uuid::Uuid>, crate::db::StoreError> {
    let ticket_after = i64::from(runtime.settings.monitoring_ticket_after_seconds);
    let down = crate::db::with_connection(&runtime.pool, |conn| {
        crate::db::monitoring_outages::down_without_outage(conn)
    })?;
    if down.is_empty() {
        return Ok(Vec::new());
    }
    let actor = timer_principal(runtime)?;
    let engine = runtime.engine();
    let mut opened = Vec::new();
    for (system, since) in down {
        let context = EventContext {
            engine: &engine,
            mail: &runtime.mail,
            actor: &actor,
            rules: runtime.settings.event_rules(),
            now: runtime.now(),
            notice_changes: &runtime.notice_changes,
        };
        let actions = crate::db::with_connection(&runtime.pool, |conn| {
            crate::monitoring::outages::follow_outages(conn, &context, ticket_after, &system, since)
        })?;
        opened.extend(actions.tickets_opened);
    }
    Ok(opened)
}

/// Runs a pass every `cadence` until the server stops.
pub async fn run(runtime: Arc<Runtime>) {
    let mut tick =
        actix_web::rt::time::interval(cadence(runtime.settings.monitoring_ticket_after_seconds));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let job_runtime = runtime.clone();
        match actix_web::web::block(move || pass(&job_runtime)).await {
            Ok(Ok(opened)) if !opened.is_empty() => {
                runtime.metrics.tickets_created.inc_by(opened.len() as u64);
                tracing::info!(tickets = ?opened, "outages that lasted opened malfunction tickets");
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "outage timer pass failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "outage timer task failed; will retry"),
        }
    }
}
