//! The service's Prometheus metrics, one registry per running instance (tests run several
//! in one process). The entrances and the jobs count what they do; what the database holds
//! (outbox, clocks) and the pool's state are read at each scrape.
//!
//! Crate: `prometheus` (the Prometheus project's long-standing Rust client, without its
//! protobuf feature): per-instance registries, and the Prometheus text format that
//! Prometheus scrapes and `promtool check metrics` checks. `prometheus-client` writes
//! OpenMetrics, whose `_total` counters and `# EOF` promtool's text linter reads differently;
//! `metrics` records into one global recorder, which several instances in a process share.

use crate::db::observed::Observed;
use chrono::{DateTime, Utc};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// The metrics of one instance.
pub struct Metrics {
    registry: Registry,
    /// One scrape at a time: each resets the database's series before setting them, and two
    /// at once (an HA pair of Prometheus servers) would see each other's half-done work.
    scraping: parking_lot::Mutex<()>,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pub tickets_created: IntCounter,
    outbox_deliveries: IntCounterVec,
    pub clock_watcher_passes: IntCounter,
    clock_watcher_last_pass: Gauge,
    crossings: IntCounterVec,
    report_scheduler_last_success: Gauge,
    pool_connections: IntGaugeVec,
    pool_waits: IntGauge,
    outbox_messages: IntGaugeVec,
    outbox_oldest_pending_age: Gauge,
    sla_clocks: IntGaugeVec,
}

/// What a delivery attempt came to.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryOutcome {
    Sent,
    Failed,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "helpdesk_http_requests_total",
                "HTTP requests answered, by route and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "helpdesk_http_request_duration_seconds",
                "Time to answer an HTTP request, by route.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let metrics = Metrics {
            http_requests,
            http_duration,
            tickets_created: IntCounter::new(
                "helpdesk_tickets_created_total",
                "Tickets created by this instance.",
            )
            .expect("valid metric"),
            outbox_deliveries: IntCounterVec::new(
                Opts::new(
                    "helpdesk_outbox_deliveries_total",
                    "Outbox delivery attempts by this instance, by outcome (sent, failed).",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
            clock_watcher_passes: IntCounter::new(
                "helpdesk_clock_watcher_passes_total",
                "Passes of the clock watcher that completed.",
            )
            .expect("valid metric"),
            clock_watcher_last_pass: Gauge::new(
                "helpdesk_clock_watcher_last_pass_timestamp_seconds",
                "When the clock watcher last completed a pass (Unix time; 0: not yet).",
            )
            .expect("valid metric"),
            crossings: IntCounterVec::new(
                Opts::new(
                    "helpdesk_sla_crossings_recorded_total",
                    "SLA clocks recorded as at risk or breached by this instance's clock watcher.",
                ),
                &["crossing"],
            )
            .expect("valid metric"),
            report_scheduler_last_success: Gauge::new(
                "helpdesk_report_scheduler_last_success_timestamp_seconds",
                "When the report scheduler last completed a pass (Unix time; 0: not yet).",
            )
            .expect("valid metric"),
            pool_connections: IntGaugeVec::new(
                Opts::new(
                    "helpdesk_db_pool_connections",
                    "Database connections of the pool, by state (in_use, idle).",
                ),
                &["state"],
            )
            .expect("valid metric"),
            pool_waits: IntGauge::new(
                "helpdesk_db_pool_waits",
                "Times this process asked for a database connection when none was idle.",
            )
            .expect("valid metric"),
            outbox_messages: IntGaugeVec::new(
                Opts::new(
                    "helpdesk_outbox_messages",
                    "Outbox messages by state (pending, sent, failed).",
                ),
                &["state"],
            )
            .expect("valid metric"),
            outbox_oldest_pending_age: Gauge::new(
                "helpdesk_outbox_oldest_pending_age_seconds",
                "Age of the oldest pending outbox message (0: none pending).",
            )
            .expect("valid metric"),
            sla_clocks: IntGaugeVec::new(
                Opts::new(
                    "helpdesk_sla_clocks",
                    "SLA clocks not stopped, by SLA and state (running, at_risk, breached, paused).",
                ),
                &["sla", "state"],
            )
            .expect("valid metric"),
            registry,
            scraping: parking_lot::Mutex::new(()),
        };
        let build_info = IntGaugeVec::new(
            Opts::new("helpdesk_build_info", "The running build (always 1)."),
            &["version"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(metrics.http_requests.clone()),
            Box::new(metrics.http_duration.clone()),
            Box::new(metrics.tickets_created.clone()),
            Box::new(metrics.outbox_deliveries.clone()),
            Box::new(metrics.clock_watcher_passes.clone()),
            Box::new(metrics.clock_watcher_last_pass.clone()),
            Box::new(metrics.crossings.clone()),
            Box::new(metrics.report_scheduler_last_success.clone()),
            Box::new(metrics.pool_connections.clone()),
            Box::new(metrics.pool_waits.clone()),
            Box::new(metrics.outbox_messages.clone()),
            Box::new(metrics.outbox_oldest_pending_age.clone()),
            Box::new(metrics.sla_clocks.clone()),
            Box::new(build_info),
        ];
        for collector in collectors {
            metrics
                .registry
                .register(collector)
                .expect("each metric registered once");
        }
        // Zero series, so that a rate() has a start and an alert a value before the first event.
        for outcome in ["sent", "failed"] {
            metrics.outbox_deliveries.with_label_values(&[outcome]);
        }
        for crossing in ["at_risk", "breached"] {
            metrics.crossings.with_label_values(&[crossing]);
        }
        metrics
    }

    /// Counts an answered request: `route` is the matched pattern (`/api/v1/tickets/{id}`),
    /// never the path itself, so that ids do not make a series each.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.http_requests
            .with_label_values(&[method, route, &status])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    pub fn observe_deliveries(&self, outcome: DeliveryOutcome, count: usize) {
        let label = match outcome {
            DeliveryOutcome::Sent => "sent",
            DeliveryOutcome::Failed => "failed",
        };
        self.outbox_deliveries
            .with_label_values(&[label])
            .inc_by(count as u64);
    }

    /// A completed clock-watcher pass at `now` and what it recorded.
    pub fn observe_watcher_pass(&self, now: DateTime<Utc>, at_risk: usize, breached: usize) {
        self.clock_watcher_passes.inc();
        self.clock_watcher_last_pass.set(unix_seconds(now));
        self.crossings
            .with_label_values(&["at_risk"])
            .inc_by(at_risk as u64);
        self.crossings
            .with_label_values(&["breached"])
            .inc_by(breached as u64);
    }

    pub fn observe_report_pass(&self, now: DateTime<Utc>) {
        self.report_scheduler_last_success.set(unix_seconds(now));
    }

    /// The metrics in the Prometheus text format, with the pool's state and what the
    /// database holds at `now` (`None` when the database could not be read: those series
    /// are then left out rather than reported as zero).
    pub fn render(
        &self,
        pool: &crate::db::Pool,
        observed: Option<&Observed>,
        now: DateTime<Utc>,
    ) -> String {
        let _one_scrape = self.scraping.lock();
        let state = pool.state();
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(state.connections - state.idle_connections));
        self.pool_connections
            .with_label_values(&["idle"])
            .set(i64::from(state.idle_connections));
        self.pool_waits
            .set(i64::try_from(crate::db::pool_waits()).unwrap_or(i64::MAX));
        self.outbox_messages.reset();
        self.sla_clocks.reset();
        if let Some(observed) = observed {
            for status in ["pending", "sent", "failed"] {
                let count = observed.outbox_by_state.get(status).copied().unwrap_or(0);
                self.outbox_messages.with_label_values(&[status]).set(count);
            }
            let age = observed
                .oldest_pending_since
                .map_or(0.0, |since| (now - since).as_seconds_f64().max(0.0));
            self.outbox_oldest_pending_age.set(age);
            for ((sla, state), count) in &observed.clocks {
                self.sla_clocks
                    .with_label_values(&[sla.as_str(), state])
                    .set(*count);
            }
        }
        let mut text = Vec::new();
        // Encoding into memory fails only on a metric family the registry would not hold.
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            tracing::error!(%error, "metrics not encoded");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn unix_seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_micros() as f64 / 1e6
}
