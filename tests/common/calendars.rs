//! What the calendar tests share: settings without a running watcher, waiting for the
//! calendar follower, and reading clocks, the queue and the service's events.

use super::smtp::wait_until;
use super::{TestApp, sla_clock, test_settings};
use helpdesk::config::Settings;
use serde_json::Value;
use std::time::Duration;

/// Test settings whose clock watcher runs only when a test runs it, at the instant it gives.
pub fn settings() -> Settings {
    Settings {
        sla_watch_interval_seconds: 86_400,
        ..test_settings()
    }
}

/// Waits until the calendar follower has brought every clock of `calendar` up to date.
pub fn followed(app: &TestApp, calendar: &str) -> Value {
    let path = format!("/calendars/{calendar}");
    wait_until(Duration::from_secs(30), || {
        app.get(&path, &app.admin).json()["pending_clocks"] == 0
    });
    app.get(&path, &app.admin).json()
}

/// A runtime on `app`'s database whose clock reads `now`, for running a job's pass in the
/// test's own thread, as another instance would.
pub fn runtime_of(
    app: &TestApp,
    mut settings: Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> helpdesk::runtime::Runtime {
    settings.database_url = app.database_url.clone();
    let engine = {
        let mut conn = app.pool.get().unwrap();
        helpdesk::calendars::engine_from_database(&settings, &mut conn, now).unwrap()
    };
    let mail = helpdesk::mail::MailSettings::from_settings(&settings).unwrap();
    let clock: helpdesk::runtime::Clock = std::sync::Arc::new(move || now);
    helpdesk::runtime::Runtime::new(app.pool.clone(), settings, clock, engine, mail)
}

pub fn deadline(app: &TestApp, token: &str, id: &str, code: &str) -> (String, String) {
    let ticket = app.get(&format!("/tickets/{id}"), token).json();
    let clock = sla_clock(&ticket, code).unwrap_or_else(|| panic!("{code} on {ticket}"));
    (
        clock["deadline"].as_str().unwrap().to_owned(),
        clock["state"].as_str().unwrap().to_owned(),
    )
}

pub fn queue(app: &TestApp, token: &str) -> Vec<String> {
    app.get("/tickets?sort=deadline", token).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn events_of(app: &TestApp, id: &str, kind: &str) -> Vec<Value> {
    app.get(&format!("/tickets/{id}/events"), &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .cloned()
        .collect()
}
