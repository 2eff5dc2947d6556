//! `GET /metrics`: after real traffic (a ticket created, an e-mail sent to a real SMTP server,
//! a breach recorded by the clock watcher) the counters say so, `promtool check metrics`
//! accepts the output, and only those who may read it do.

mod common;

use common::smtp::{SmtpSink, wait_until};
use common::{TestApp, mail_settings, spawn_app_with, test_settings};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

fn metrics_url(app: &TestApp) -> String {
    app.base.trim_end_matches("/api/v1").to_owned() + "/metrics"
}

fn value(series: &BTreeMap<String, f64>, key: &str) -> f64 {
    series.get(key).copied().unwrap_or(0.0)
}

/// Runs `promtool check metrics` on `text`; panics (failing the test) if promtool is missing.
fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian package `prometheus`; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_scrape_after_traffic_counts_what_it_caused_and_passes_promtool() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(Settings {
        sla_watch_interval_seconds: 1,
        ..mail_settings(&sink.url())
    });
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency_with("FI", &["urp@comune.fi.it"]);
    app.set_now("2026-03-02T08:00:00Z");
    let ticket = app.open_ticket(
        &agent,
        json!({"subject": "Pagamenti online non disponibili", "channel": "phone",
               "malfunction": true, "affected_agency_ids": [firenze],
               "affected_services": ["PagoPA"]}),
    );
    let id = ticket["id"].as_str().unwrap();
    app.event_ok(
        &agent,
        id,
        json!({"type": "interruption_start", "at": "2026-03-02T07:55:00Z"}),
    );
    app.event_ok(
        &agent,
        id,
        json!({"type": "notify_agency", "message": "Servizio interrotto."}),
    );
    sink.wait_for(1);
    // Two days later nobody has taken charge: SLA.6 is breached, and the watcher says so.
    app.set_now("2026-03-04T12:00:00Z");

    let mut last = BTreeMap::new();
    wait_until(Duration::from_secs(30), || {
        last = scrape_metrics(&app).1;
        value(
            &last,
            r#"helpdesk_sla_crossings_recorded_total{crossing="breached"}"#,
        ) >= 1.0
            && value(&last, r#"helpdesk_outbox_deliveries_total{outcome="sent"}"#) >= 1.0
    });
    let (text, series) = scrape_metrics(&app);
    assert_eq!(value(&series, "helpdesk_tickets_created_total"), 1.0);
    assert_eq!(
        value(
            &series,
            r#"helpdesk_http_requests_total{method="POST",route="/api/v1/tickets",status="201"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &series,
            r#"helpdesk_http_requests_total{method="POST",route="/api/v1/tickets/{id}/events",status="201"}"#
        ),
        2.0,
        "routes by pattern, never by id"
    );
    assert!(!text.contains(id), "no ticket id in a label");
    assert!(
        value(
            &series,
            r#"helpdesk_http_request_duration_seconds_count{method="POST",route="/api/v1/tickets"}"#
        ) >= 1.0
    );
    assert!(
        value(
            &series,
            r#"helpdesk_outbox_deliveries_total{outcome="sent"}"#
        ) >= 1.0
    );
    assert_eq!(
        value(&series, r#"helpdesk_outbox_messages{state="sent"}"#),
        1.0
    );
    assert_eq!(
        value(&series, r#"helpdesk_outbox_messages{state="pending"}"#),
        0.0
    );
    assert_eq!(
        value(&series, "helpdesk_outbox_oldest_pending_age_seconds"),
        0.0
    );
    assert!(
        value(
            &series,
            r#"helpdesk_sla_crossings_recorded_total{crossing="breached"}"#
        ) >= 1.0
    );
    assert_eq!(
        value(
            &series,
            r#"helpdesk_sla_clocks{sla="SLA.6",state="breached"}"#
        ),
        1.0
    );
    assert!(value(&series, "helpdesk_clock_watcher_passes_total") >= 1.0);
    assert!(
        value(
            &series,
            "helpdesk_clock_watcher_last_pass_timestamp_seconds"
        ) > 1.7e9
    );
    assert!(series.contains_key(r#"helpdesk_db_pool_connections{state="idle"}"#));
    assert_eq!(
        value(
            &series,
            &format!(
                r#"helpdesk_build_info{{version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
    promtool_check(&text);
}

fn scrape_metrics(app: &TestApp) -> (String, BTreeMap<String, f64>) {
    let url = metrics_url(app);
    let reply = app.send("GET", &url, None, &[], None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    parse_series(reply.body)
}

/// The metrics as one value per series: `name{a="x",b="y"}` (labels sorted) → value.
fn parse_series(body: String) -> (String, BTreeMap<String, f64>) {
    let series = body
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (key, value) = line.rsplit_once(' ').expect("a sample line");
            let key = match key.split_once('{') {
                Some((name, labels)) => {
                    let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                    labels.sort();
                    format!("{name}{{{}}}", labels.join(","))
                }
                None => key.to_owned(),
            };
            (key, value.parse().expect("a number"))
        })
        .collect();
    (body, series)
}

#[test]
fn only_the_metrics_role_admins_and_by_default_the_same_host_read_the_metrics() {
    let app = spawn_app_with(Settings {
        metrics_from_loopback: false,
        ..test_settings()
    });
    let url = metrics_url(&app);
    app.send("GET", &url, None, &[], None).problem(401);
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.send("GET", &url, Some(&agent), &[], None).problem(403);
    let (_, prometheus) = app.add_user(Role::Metrics, None, None);
    assert_eq!(
        app.send("GET", &url, Some(&prometheus), &[], None).status,
        200
    );
    assert_eq!(
        app.send("GET", &url, Some(&app.admin), &[], None).status,
        200
    );
    app.send("GET", &url, Some("hd_not-a-token"), &[], None)
        .problem(401);
    // The metrics role reads nothing else.
    app.get("/tickets", &prometheus).problem(403);
    app.get("/users", &prometheus).problem(403);

    // By default the same host reads them without a token.
    let open = spawn_app_with(test_settings());
    assert_eq!(
        open.send("GET", &metrics_url(&open), None, &[], None)
            .status,
        200
    );
}
