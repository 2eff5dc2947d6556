//! What the entrances (HTTP, CLI) and the background jobs share, below all of them: the
//! database pool, the settings, the injected clock, the SLA engine as the calendars stand, the
//! e-mail settings, the wake-ups of the jobs and the public outputs' cache. Nothing here
//! knows HTTP.

use crate::config::Settings;
use crate::db::notices::NoticeChanges;
use crate::db::{DbConnection, Pool, StoreError};
use crate::mail::MailSettings;
use crate::public::cache::PublicCache;
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use std::sync::{Arc, RwLock};

/// Where "now" comes from: the system clock in production, a fixed one in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// The shared state of one running instance.
pub struct Runtime {
    /// This instance, as the holder of a job's lease.
    pub instance_id: uuid::Uuid,
    pub pool: Pool,
    pub settings: Settings,
    pub clock: Clock,
    engine: RwLock<Arc<SlaEngine>>,
    /// One reload at a time, so an older reading never replaces a newer one.
    reload: parking_lot::Mutex<()>,
    /// What composing e-mails needs of the configuration.
    pub mail: Arc<MailSettings>,
    /// Wakes the outbox worker when an event has written messages.
    pub outbox_wakeup: Arc<tokio::sync::Notify>,
    /// Wakes the calendar follower when a calendar (or an agency's calendar) changed.
    pub calendar_wakeup: Arc<tokio::sync::Notify>,
    /// Counts the public-notice changes committed here; `record_event` counts them.
    pub notice_changes: Arc<NoticeChanges>,
    /// The public outputs (`/public/notices`, the feed, the status page) in memory.
    pub public_cache: PublicCache,
    /// What this instance counts for Prometheus.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Runtime {
    pub fn new(
        pool: Pool,
        settings: Settings,
        clock: Clock,
        engine: SlaEngine,
        mail: MailSettings,
    ) -> Runtime {
        Runtime {
            instance_id: uuid::Uuid::new_v4(),
            pool,
            clock,
            engine: RwLock::new(Arc::new(engine)),
            reload: parking_lot::Mutex::new(()),
            mail: Arc::new(mail),
            outbox_wakeup: Arc::new(tokio::sync::Notify::new()),
            calendar_wakeup: Arc::new(tokio::sync::Notify::new()),
            notice_changes: Arc::new(NoticeChanges::default()),
            public_cache: PublicCache::new(settings.public_cache_seconds),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            settings,
        }
    }

    /// The current instant, from the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The SLA engine as currently configured (closures included).
    pub fn engine(&self) -> Arc<SlaEngine> {
        self.engine
            .read()
            .map(|engine| engine.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Rebuilds the engine when a calendar's version moved in the database (a definition or a
    /// closure changed, here or on another instance); returns whether it did. The first time
    /// (the database was away at start) it records the configured calendars too. Blocking:
    /// call it off the async executor.
    pub fn reload_calendars(&self, conn: &mut DbConnection) -> Result<bool, StoreError> {
        let _one_at_a_time = self.reload.lock();
        let current = self.engine();
        let stored = crate::db::calendars::calendar_versions(conn)?;
        if stored == current.versions && !stored.is_empty() {
            return Ok(false);
        }
        let engine = if stored.is_empty() {
            crate::calendars::engine_from_database(&self.settings, conn, self.now())
        } else {
            let calendars = crate::db::calendars::load_calendars(conn)?;
            crate::calendars::build_engine(&self.settings, &calendars)
        }
        .map_err(|e| StoreError::Corrupt(format!("the stored calendars: {e:#}")))?;
        if let Ok(mut slot) = self.engine.write() {
            *slot = Arc::new(engine);
        }
        Ok(true)
    }
}
