//! The calendar follower: after a calendar changes (its definition, a closure, or an
//! agency's choice of calendar), it computes again every clock the change can alter —
//! running clocks whose deadline may move, stopped ones whose counted span it touches — and
//! marks the others current. It works in small batches, each a short transaction that holds
//! writers back for a few milliseconds, on one instance at a time (a lease), and resumes after
//! a crash where it stopped: each clock keeps the version of its calendar it was computed
//! with, so what is left to do is always in the database.

use crate::db::calendars::{calendar_versions, changes_after};
use crate::db::leases::{claim_lease, release_lease};
use crate::db::stale_clocks::{
    affected_tickets, agencies_switching_calendar, mark_agency_clocks_stale, mark_unaffected,
    oldest_version_behind,
};
use crate::db::tickets::recompute::{Recomputed, recompute_tickets};
use crate::db::{DbConnection, StoreError};
use crate::runtime::Runtime;
use crate::sla::SlaEngine;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LEASE: &str = "calendar-follower";
const LEASE_TTL_SECONDS: i64 = 30;
/// How long one batch may hold writers back. On SQLite every writer waits for it (the
/// database has one write lock); on PostgreSQL only writers of the batch's tickets do, so a
/// larger batch, with fewer statements per clock, costs the others nothing.
fn batch_target(conn: &DbConnection) -> Duration {
    match conn {
        DbConnection::Sqlite(_) => Duration::from_millis(20),
        DbConnection::Postgresql(_) => Duration::from_millis(50),
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Tickets whose clocks were computed again.
    pub tickets: usize,
    /// Clocks whose stored values changed.
    pub clocks: usize,
    /// Stopped clocks whose outcome changed (each recorded on its ticket).
    pub outcomes: usize,
    /// Clocks the changes could not affect, marked current.
    pub marked: usize,
}

impl Pass {
    fn add(&mut self, other: Recomputed) {
        self.tickets += other.tickets;
        self.clocks += other.clocks;
        self.outcomes += other.outcomes;
    }
}

/// A batch size that grows while batches are quick and shrinks when one is slow.
struct Batch {
    size: i64,
    max: i64,
    target: Duration,
}

impl Batch {
    /// Sizes the next batch to take about `target` at the pace of the last one (at most
    /// twice as large, at least half as large as it).
    fn adapt(&mut self, took: Duration) {
        let took = took.as_secs_f64().max(1e-4);
        let wanted = (self.size as f64 * self.target.as_secs_f64() / took) as i64;
        self.size = wanted.clamp((self.size / 2).max(1), (self.size * 2).min(self.max));
    }
}

/// Brings every stale clock up to its calendar as it stands, unless another instance holds
/// the lease; returns what it did.
pub fn follow_calendars(runtime: &Runtime) -> Result<Pass, StoreError> {
    crate::db::with_connection(&runtime.pool, |conn| {
        runtime.reload_calendars(conn)?;
        let engine = runtime.engine();
        let holder = runtime.instance_id.to_string();
        let ttl = chrono::Duration::seconds(LEASE_TTL_SECONDS);
        if !claim_lease(conn, LEASE, &holder, runtime.now(), ttl)? {
            return Ok(Pass::default());
        }
        let followed = follow_with(conn, runtime, &engine, &holder);
        release_lease(conn, LEASE, &holder)?;
        followed
    })
}

fn follow_with(
    conn: &mut DbConnection,
    runtime: &Runtime,
    engine: &SlaEngine,
    holder: &str,
) -> Result<Pass, StoreError> {
    let mut pass = Pass::default();
    let target = batch_target(conn);
    let mut tickets = Batch {
        size: 64,
        max: 4000,
        target,
    };
    let mut marks = Batch {
        size: 1000,
        max: 50_000,
        target,
    };
    let mut renewed = Instant::now();
    // An agency that names another calendar: its clocks become stale (version 0), for the
    // walk below to compute again from the calendar's first version.
    for agency in agencies_switching_calendar(conn)? {
        loop {
            let started = Instant::now();
            let marked = retrying(|| mark_agency_clocks_stale(conn, agency, marks.size))?;
            marks.adapt(started.elapsed());
            renew_now_and_then(conn, runtime, holder, &mut renewed)?;
            if marked == 0 {
                break;
            }
        }
    }
    for (calendar, version) in calendar_versions(conn)? {
        // The engine was reloaded just now; a change newer than it waits for the next pass
        // (computing with an older definition would leave the clocks stale again).
        let known = if engine.calendar(&calendar).is_some() {
            version.min(engine.version_of(&calendar))
        } else {
            version // removed: its clocks move to the calendars that count now
        };
        let Some(oldest) = oldest_version_behind(conn, &calendar, known)? else {
            continue;
        };
        // One version at a time: the clocks of version v-1 are either computed again (to
        // the newest version) or marked v. A clock that became older meanwhile waits for the
        // next pass, which starts from the oldest version again.
        for change in changes_after(conn, &calendar, oldest)? {
            if change.version > known {
                break;
            }
            let mut after = None;
            loop {
                let ids = affected_tickets(conn, &calendar, &change, after, tickets.size)?;
                let Some(&last) = ids.last() else { break };
                after = Some(last);
                let done = recompute_or_skip(conn, engine, &ids, runtime.now());
                // Sized by how long writers waited: the reading happens outside the lock.
                tickets.adapt(done.held);
                pass.add(done);
                renew_now_and_then(conn, runtime, holder, &mut renewed)?;
            }
            loop {
                let started = Instant::now();
                let marked = retrying(|| mark_unaffected(conn, &calendar, &change, marks.size))?;
                marks.adapt(started.elapsed());
                pass.marked += marked;
                renew_now_and_then(conn, runtime, holder, &mut renewed)?;
                if marked == 0 {
                    break;
                }
            }
        }
    }
    Ok(pass)
}

/// Computes a batch again; when the batch fails, each ticket alone, so that one ticket the
/// engine cannot compute (logged, left stale for the next pass) holds up no other.
fn recompute_or_skip(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    ids: &[uuid::Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Recomputed {
    if let Ok(done) = retrying(|| recompute_tickets(conn, engine, ids, now)) {
        return done;
    }
    let mut done = Recomputed::default();
    for id in ids {
        match retrying(|| recompute_tickets(conn, engine, std::slice::from_ref(id), now)) {
            Ok(one) => {
                done.tickets += one.tickets;
                done.clocks += one.clocks;
                done.outcomes += one.outcomes;
                done.held += one.held;
            }
            Err(e) => {
                tracing::warn!(ticket = %id, error = %e, "clocks left stale: cannot compute them")
            }
        }
    }
    done
}

/// Runs `work` again when PostgreSQL gave it up for another transaction (a deadlock or a
/// serialization failure).
fn retrying<T>(mut work: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut attempts = 0;
    loop {
        match work() {
            Err(StoreError::Db(e)) if crate::db::is_retryable(&e) && attempts < 4 => attempts += 1,
            other => return other,
        }
    }
}

/// Keeps the lease while a long pass goes on.
fn renew_now_and_then(
    conn: &mut DbConnection,
    runtime: &Runtime,
    holder: &str,
    renewed: &mut Instant,
) -> Result<(), StoreError> {
    if renewed.elapsed() > Duration::from_secs(10) {
        let ttl = chrono::Duration::seconds(LEASE_TTL_SECONDS);
        if !claim_lease(conn, LEASE, holder, runtime.now(), ttl)? {
            return Err(StoreError::Conflict(
                "the calendar follower's lease was lost".into(),
            ));
        }
        *renewed = Instant::now();
    }
    Ok(())
}

/// Runs `follow_calendars` at start, whenever a calendar change wakes it, and every
/// `interval` (changes made on other instances, clocks written by an instance that had not
/// reloaded yet).
pub async fn run(runtime: Arc<Runtime>, interval: Duration) {
    loop {
        let work = runtime.clone();
        match actix_web::web::block(move || follow_calendars(&work)).await {
            Ok(Ok(pass)) if pass != Pass::default() => tracing::info!(
                tickets = pass.tickets,
                clocks = pass.clocks,
                outcomes_changed = pass.outcomes,
                marked_current = pass.marked,
                "clocks follow their calendars"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "calendar follower pass failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "calendar follower task failed; will retry"),
        }
        let _ = tokio::time::timeout(interval, runtime.calendar_wakeup.notified()).await;
    }
}
