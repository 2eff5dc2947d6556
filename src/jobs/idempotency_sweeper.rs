//! Forgets the `Idempotency-Key`s older than `idempotency_key_hours`, every hour (and once at
//! start). Any instance may sweep: deleting what is already gone changes nothing.

use crate::runtime::Runtime;
use chrono::TimeDelta;
use std::sync::Arc;

const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Sweeps now, then every hour, until the server stops.
pub async fn run(runtime: Arc<Runtime>) {
    let mut tick = actix_web::rt::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let remembered = TimeDelta::hours(i64::from(runtime.settings.idempotency_key_hours));
    loop {
        tick.tick().await;
        let (pool, before) = (runtime.pool.clone(), runtime.now() - remembered);
        let swept = actix_web::web::block(move || {
            crate::db::with_connection(&pool, |conn| {
                crate::db::tickets::sweep_idempotency_keys(conn, before)
            })
        })
        .await;
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(swept)) => tracing::info!(swept, "expired idempotency keys forgotten"),
            Ok(Err(e)) => tracing::warn!(error = %e, "idempotency keys not swept; will retry"),
            Err(e) => tracing::warn!(error = %e, "idempotency sweep task failed; will retry"),
        }
    }
}
