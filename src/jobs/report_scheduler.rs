//! The report scheduler: once a period has closed (and the send delay has passed), it
//! delivers every agency's malfunction report for it, and for every earlier closed period the
//! agency lacks since it existed (or since `report_catch_up_from`, when later), so that a
//! period with the service down is caught up, not skipped; a period that ended before the
//! agency existed is never sent. Delivering is idempotent per (agency, period), so passes
//! after the first, restarts, a second instance and an on-demand request for the same period
//! send nothing more.

use crate::db::agencies::list_agencies;
use crate::db::deliveries::delivered_periods_of;
use crate::db::{Pool, StoreError};
use crate::reports::delivery::{Deliverer, Outcome, Request, Trigger};
use crate::reports::period::{ReportPeriod, closed_periods_since, last_closed_period};
use chrono::{DateTime, Duration, Utc};

/// When reports are due.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub zone: chrono_tz::Tz,
    pub cadence_months: u32,
    pub delay: Duration,
    /// No period that ended before this is caught up on.
    pub catch_up_from: Option<DateTime<Utc>>,
}

impl Schedule {
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<Schedule> {
        Ok(Schedule {
            zone: settings.report_zone()?,
            cadence_months: settings.report_cadence_months,
            delay: Duration::minutes(
                i64::try_from(settings.report_send_delay_minutes).unwrap_or(i64::MAX / 120_000),
            ),
            catch_up_from: settings.report_catch_up_instant()?,
        })
    }

    /// The period whose reports are due at `now`.
    pub fn due_period(&self, now: DateTime<Utc>) -> Option<ReportPeriod> {
        last_closed_period(self.zone, now, self.cadence_months, self.delay)
    }

    /// The closed periods an agency created at `created_at` is owed at `now`, oldest first.
    pub fn owed_periods(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> Vec<ReportPeriod> {
        let since = self
            .catch_up_from
            .map_or(created_at, |from| from.max(created_at));
        closed_periods_since(self.zone, since, now, self.cadence_months, self.delay)
    }
}

const SCHEDULED: Request = Request {
    trigger: Trigger::Schedule,
    requested_by: None,
    resend: false,
};

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    pub period: String,
    pub delivered: usize,
    pub already_delivered: usize,
    /// Agencies without a contact address (nothing can be sent; retried next pass).
    pub without_contacts: Vec<String>,
    /// Deliveries that failed (logged; retried next pass).
    pub failed: usize,
}

/// Delivers to every agency each closed period it is owed and has not had.
pub fn deliver_due_reports(
    pool: &Pool,
    deliverer: &Deliverer,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> Result<Pass, StoreError> {
    let Some(period) = schedule.due_period(now) else {
        return Ok(Pass::default());
    };
    crate::db::with_connection(pool, |conn| {
        let mut pass = Pass {
            period: period.label.clone(),
            ..Pass::default()
        };
        for agency in list_agencies(conn)? {
            let mut silent = false;
            let owed = schedule.owed_periods(agency.created_at, now);
            let Some(first) = owed.first() else { continue };
            // One read first: most periods of most agencies were delivered long ago.
            let delivered = delivered_periods_of(conn, agency.id, first.from)?;
            for owed in owed {
                if delivered.contains(&(owed.from, owed.to)) {
                    pass.already_delivered += 1;
                    continue;
                }
                match deliverer.deliver(conn, &agency, &owed, SCHEDULED, now) {
                    Ok(Outcome::Delivered(_)) => pass.delivered += 1,
                    Ok(Outcome::AlreadyDelivered(_)) => pass.already_delivered += 1,
                    Ok(Outcome::NoContacts) => silent = true,
                    // One agency's failure (a report that cannot be built) must not hold
                    // back every agency after it; the next pass tries it again.
                    Err(e) => {
                        tracing::warn!(agency = %agency.code, period = %owed.label, error = %e,
                            "malfunction report not delivered; will retry");
                        pass.failed += 1;
                    }
                }
            }
            if silent {
                pass.without_contacts.push(agency.code);
            }
        }
        Ok(pass)
    })
}

/// Runs `deliver_due_reports` every `interval` until the server stops.
pub async fn run(
    state: std::sync::Arc<crate::runtime::Runtime>,
    schedule: Schedule,
    interval: std::time::Duration,
) {
    let mut tick = actix_web::rt::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut warned_without_contacts = Vec::new();
    loop {
        tick.tick().await;
        let work_state = state.clone();
        let outcome = actix_web::web::block(move || {
            let (engine, now) = (work_state.engine(), work_state.now());
            let deliverer = Deliverer {
                engine: &engine,
                mail: &work_state.mail,
            };
            deliver_due_reports(&work_state.pool, &deliverer, &schedule, now)
        })
        .await;
        match outcome {
            Ok(Ok(pass)) => {
                state.metrics.observe_report_pass(state.now());
                if pass.delivered > 0 {
                    tracing::info!(period = %pass.period, delivered = pass.delivered, "malfunction reports written to the outbox");
                    state.outbox_wakeup.notify_one();
                }
                if !pass.without_contacts.is_empty()
                    && pass.without_contacts != warned_without_contacts
                {
                    tracing::warn!(period = %pass.period, agencies = ?pass.without_contacts, "agencies without a contact address get no malfunction report");
                    warned_without_contacts = pass.without_contacts;
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "report scheduler pass failed; will retry"),
            Err(e) => tracing::warn!(error = %e, "report scheduler task failed; will retry"),
        }
    }
}
