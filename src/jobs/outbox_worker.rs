//! The outbox worker: delivers due messages one at a time, retries with backoff, and marks a
//! message `failed` when it is refused for good or out of attempts. Each message is claimed
//! for a lease before it is sent, so two instances never send the same row; a crash between
//! the server's acceptance and our record of it is the one case that sends a message again,
//! with the same `Message-ID`.

use crate::db::outbox::{claim_next, mark_attempt_failed, mark_sent};
use crate::db::{Pool, StoreError};
use crate::mail::{Mailer, OutboxStatus};
use crate::metrics::{DeliveryOutcome, Metrics};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    /// Attempts that failed (the message waits for its next one, or has failed for good).
    pub failed_attempts: usize,
}

/// How the worker delivers.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub max_attempts: i32,
    /// How long a claim holds: well beyond one delivery and the clock skew between
    /// instances. Only a crash mid-delivery waits for it to run out.
    pub lease: Duration,
}

impl Delivery {
    pub fn from_settings(settings: &crate::config::Settings) -> Delivery {
        let timeout = i64::try_from(settings.smtp_timeout_seconds).unwrap_or(i64::MAX / 8);
        Delivery {
            max_attempts: i32::try_from(settings.outbox_max_attempts).unwrap_or(i32::MAX),
            // Connect, greet, authenticate, send and quit, each within the timeout.
            lease: Duration::seconds(timeout.saturating_mul(6).max(600)),
        }
    }
}

/// Delivers every message that is due, reading `clock` afresh for each (a pass may take a
/// while). Stops at the first transient failure: the server is likely away, and the other
/// messages keep their attempts for when it is back.
pub fn deliver_due(
    pool: &Pool,
    mailer: &Mailer,
    delivery: Delivery,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Pass, StoreError> {
    crate::db::with_connection(pool, |conn| deliver_with(conn, mailer, delivery, clock))
}

fn deliver_with(
    conn: &mut crate::db::DbConnection,
    mailer: &Mailer,
    delivery: Delivery,
    clock: &dyn Fn() -> DateTime<Utc>,
) -> Result<Pass, StoreError> {
    let claim = uuid::Uuid::now_v7().to_string();
    let mut pass = Pass::default();
    while let Some(mail) = claim_next(conn, &claim, clock(), delivery.lease)? {
        match mailer.send(&mail.id, &mail.sender, &mail.recipients, &mail.message) {
            Ok(()) => {
                if !mark_sent(conn, &mail.id, &claim, clock())? {
                    tracing::warn!(outbox_id = %mail.id, "message sent after its claim expired");
                }
                pass.sent += 1;
            }
            Err(error) => {
                pass.failed_attempts += 1;
                let status = mark_attempt_failed(
                    conn,
                    &mail,
                    &claim,
                    clock(),
                    &error,
                    delivery.max_attempts,
                )?;
                tracing::warn!(
                    outbox_id = %mail.id,
                    attempts = mail.attempts + 1,
                    error = %error,
                    failed_for_good = (status == OutboxStatus::Failed),
                    "message not delivered"
                );
                if !error.permanent {
                    break;
                }
            }
        }
    }
    Ok(pass)
}

/// Runs `deliver_due` every `interval`, and at once when `wakeup` is notified, until the
/// server stops.
pub async fn run(
    pool: Pool,
    mailer: Arc<Mailer>,
    delivery: Delivery,
    clock: crate::runtime::Clock,
    interval: std::time::Duration,
    wakeup: Arc<tokio::sync::Notify>,
    metrics: Arc<Metrics>,
) {
    loop {
        let (pool, mailer, clock) = (pool.clone(), mailer.clone(), clock.clone());
        match actix_web::web::block(move || deliver_due(&pool, &mailer, delivery, &*clock)).await {
            Ok(Ok(pass)) => {
                metrics.observe_deliveries(DeliveryOutcome::Sent, pass.sent);
                metrics.observe_deliveries(DeliveryOutcome::Failed, pass.failed_attempts);
                if pass.sent > 0 {
                    tracing::info!(sent = pass.sent, "outbox messages delivered");
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "outbox pass failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "outbox task failed; will retry"),
        }
        let _ = tokio::time::timeout(interval, wakeup.notified()).await;
    }
}
