//! SLA clocks through HTTP: on tickets, in the queue, explained, recorded by the watcher.

mod common;

use common::{spawn_app, spawn_app_with, test_settings};
use helpdesk::domain::{Level, Role};
use helpdesk::jobs::clock_watcher::record_crossings;
use serde_json::{Value, json};

fn clock<'a>(ticket: &'a Value, code: &str) -> &'a Value {
    ticket["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {}", ticket["sla"]))
}

fn crossings_now(app: &common::TestApp) -> usize {
    record_crossings(&app.pool, app.now()).unwrap()
}

#[test]
fn sla6_is_breached_by_the_watcher_and_stays_breached_after_take_charge() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-24T09:00:00Z");
    let ticket = app.open_ticket(
        &agent,
        json!({"subject": "Portale giù", "channel": "phone", "reported_at": "2016-06-23T17:30:00+02:00"}),
    );
    let id = ticket["id"].as_str().unwrap().to_owned();
    let sla6 = clock(&ticket, "SLA.6");
    assert_eq!(sla6["deadline"], "2016-06-27T06:30:00Z");
    assert_eq!(sla6["state"], "running");
    assert_eq!(sla6["calendar"], "default");
    assert_eq!(clock(&ticket, "SLA.7")["deadline"], "2016-06-27T11:30:00Z");
    assert_eq!(ticket["next_deadline"], "2016-06-27T06:30:00Z");
    assert_eq!(crossings_now(&app), 0);

    app.set_now("2016-06-27T06:20:00Z");
    assert_eq!(crossings_now(&app), 1, "SLA.6 at risk from 06:15");
    let read = app.get(&format!("/tickets/{id}"), &agent).json();
    assert_eq!(clock(&read, "SLA.6")["at_risk"], true);
    assert_eq!(clock(&read, "SLA.6")["remaining_seconds"], 600);

    app.set_now("2016-06-27T06:31:00Z");
    assert_eq!(crossings_now(&app), 1, "SLA.6 breached at 06:30");
    assert_eq!(crossings_now(&app), 0, "recorded once");
    let read = app.get(&format!("/tickets/{id}"), &agent).json();
    assert_eq!(clock(&read, "SLA.6")["state"], "breached");
    let breached = app.get("/tickets?sla_state=breached", &agent).json();
    assert_eq!(breached["items"].as_array().unwrap().len(), 1);

    app.set_now("2016-06-27T06:45:00Z");
    let after = app.event_ok(
        &agent,
        &id,
        json!({"type": "take_charge", "at": "2016-06-27T06:40:00Z"}),
    );
    let sla6 = clock(&after, "SLA.6");
    assert_eq!(
        (sla6["state"].as_str(), sla6["stopped_at"].as_str()),
        (Some("breached"), Some("2016-06-27T06:40:00Z"))
    );
    assert_eq!(crossings_now(&app), 0, "the breach is not recorded twice");

    let history = app.get(&format!("/tickets/{id}/events"), &agent).json();
    let service: Vec<(String, String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"].is_null())
        .map(|e| {
            (
                e["type"].as_str().unwrap().into(),
                e["code"].as_str().unwrap().into(),
                e["at"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        service,
        [
            (
                "sla_at_risk".into(),
                "SLA.6".into(),
                "2016-06-27T06:15:00Z".into()
            ),
            (
                "sla_breached".into(),
                "SLA.6".into(),
                "2016-06-27T06:30:00Z".into()
            ),
        ]
    );
}

#[test]
fn the_background_watcher_records_crossings_on_its_own() {
    let mut settings = test_settings();
    settings.sla_watch_interval_seconds = 1;
    let app = spawn_app_with(settings);
    app.set_now("2016-06-23T16:00:00Z");
    let id = app.open_ticket_id(
        &app.admin,
        json!({"subject": "x", "channel": "email", "reported_at": "2016-06-23T15:30:00Z"}),
    );
    app.set_now("2016-06-28T00:00:00Z");
    // The watcher runs every second by itself; wait for its work, at most 20 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let history = app.get(&format!("/tickets/{id}/events"), &app.admin).json();
        let breaches = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "sla_breached")
            .count();
        if breaches == 2 {
            break; // SLA.6 and SLA.7
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the watcher did not record the breaches"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn the_queue_puts_the_nearest_running_deadline_first_and_filters_by_clock_state() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-20T07:00:00Z");
    let reported = [
        "2016-06-20T06:50:00Z",
        "2016-06-20T06:10:00Z",
        "2016-06-20T06:30:00Z",
    ];
    let mut ids = Vec::new();
    for at in reported {
        let ticket = app.open_ticket(
            &agent,
            json!({"subject": at, "channel": "phone", "reported_at": at}),
        );
        ids.push(ticket["id"].as_str().unwrap().to_owned());
    }
    // Taking charge stops SLA.6; its next deadline becomes SLA.7's.
    app.event_ok(&agent, &ids[1], json!({"type": "take_charge"}));
    let queue = app.get("/tickets?sort=deadline", &agent).json();
    let order: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "2016-06-20T06:30:00Z",
            "2016-06-20T06:50:00Z",
            "2016-06-20T06:10:00Z"
        ]
    );
    let page = app.get("/tickets?sort=deadline&limit=2", &agent).json();
    let rest = app
        .get(
            &format!(
                "/tickets?sort=deadline&limit=2&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ),
            &agent,
        )
        .json();
    assert_eq!(rest["items"][0]["subject"], "2016-06-20T06:10:00Z");

    app.set_now("2016-06-20T07:20:00Z");
    let at_risk = app.get("/tickets?sla_state=at_risk", &agent).json();
    let subjects: Vec<&str> = at_risk["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["2016-06-20T06:30:00Z"], "45 of 60 minutes used");
    let met = app.get("/tickets?sla_state=met", &agent).json();
    assert_eq!(met["items"][0]["id"], ids[1].as_str());
    app.get("/tickets?sla_state=late", &agent).problem(400);
}

#[test]
fn the_explanation_lists_the_counted_intervals() {
    let app = spawn_app();
    app.set_now("2016-06-24T09:00:00Z");
    let id = app.open_ticket_id(
        &app.admin,
        json!({"subject": "x", "channel": "phone", "reported_at": "2016-06-23T15:30:00Z"}),
    );
    let explained = app
        .get(&format!("/tickets/{id}/sla/SLA.7/explanation"), &app.admin)
        .json();
    assert_eq!(explained["deadline"], "2016-06-27T11:30:00Z");
    assert_eq!(
        explained["spans"],
        json!([
            {"from": "2016-06-23T15:30:00Z", "to": "2016-06-23T16:00:00Z", "seconds": 1800},
            {"from": "2016-06-27T06:00:00Z", "to": "2016-06-27T11:30:00Z", "seconds": 19800},
        ])
    );
    assert!(explained["text"].as_str().unwrap().contains("CEST"));
    app.get(&format!("/tickets/{id}/sla/SLA.99/explanation"), &app.admin)
        .problem(404);
}

#[test]
fn two_watchers_at_once_record_each_crossing_once() {
    let app = spawn_app();
    app.set_now("2016-06-20T06:00:00Z");
    for i in 0..20 {
        app.open_ticket(
            &app.admin,
            json!({"subject": format!("t{i}"), "channel": "email"}),
        );
    }
    let later: chrono::DateTime<chrono::Utc> = "2016-06-28T00:00:00Z".parse().unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let watchers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, barrier) = (app.pool.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                record_crossings(&pool, later).unwrap()
            })
        })
        .collect();
    let recorded: usize = watchers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(recorded, 40, "SLA.6 and SLA.7 of 20 tickets");
    let tickets = app.get("/tickets?limit=200", &app.admin).json();
    for ticket in tickets["items"].as_array().unwrap() {
        let history = app
            .get(
                &format!("/tickets/{}/events", ticket["id"].as_str().unwrap()),
                &app.admin,
            )
            .json();
        let breaches = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "sla_breached")
            .count();
        assert_eq!(breaches, 2);
    }
}

#[test]
fn closing_or_resolving_a_ticket_stops_its_clocks() {
    let app = spawn_app();
    app.set_now("2016-06-20T06:30:00Z");
    let reported = json!({"subject": "fuori ambito", "channel": "email", "reported_at": "2016-06-20T06:00:00Z"});
    let closed = app.open_ticket_id(&app.admin, reported.clone());
    let after = app.event_ok(
        &app.admin,
        &closed,
        json!({"type": "close_not_in_scope", "reason": "non di competenza"}),
    );
    assert_eq!(
        clock(&after, "SLA.6")["state"],
        "met",
        "closed within the hour"
    );
    assert_eq!(clock(&after, "SLA.6")["stopped_at"], "2016-06-20T06:30:00Z");
    assert!(after["next_deadline"].is_null());

    app.set_now("2016-06-28T00:00:00Z");
    assert_eq!(crossings_now(&app), 0, "nothing runs on a closed ticket");
    let queue = app.get("/tickets?sla_state=running", &app.admin).json();
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);
}

#[test]
fn a_watcher_event_leaves_the_etag_alone_and_a_persons_event_moves_it() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-27T06:00:00Z");
    let ticket = app.open_ticket(
        &agent,
        json!({"subject": "Portale giù", "channel": "phone", "reported_at": "2016-06-27T06:00:00Z"}),
    );
    let id = ticket["id"].as_str().unwrap().to_owned();
    let path = format!("/tickets/{id}");
    let etag_before = app.get(&path, &agent).header("etag").unwrap().to_owned();
    // SLA.6 (due 08:00Z: one office hour from 09:00 in Rome) breached: an event of the service.
    app.set_now("2016-06-27T08:01:00Z");
    assert!(crossings_now(&app) >= 1);
    let history = app.get(&format!("{path}/events"), &agent).json();
    let kinds: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"sla_breached"), "{kinds:?}");
    let etag_after = app.get(&path, &agent).header("etag").unwrap().to_owned();
    assert_eq!(
        etag_after, etag_before,
        "the watcher changed nothing a person did"
    );
    // An agent holding the ETag from before the watcher still writes.
    let body = json!({"type": "take_charge"}).to_string();
    let json_type = ("Content-Type", "application/json");
    let reply = app.send(
        "POST",
        &format!("{path}/events"),
        Some(&agent),
        &[("If-Match", &etag_before), json_type],
        Some(&body),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let etag_moved = reply.header("etag").map(str::to_owned);
    let now_etag = app.get(&path, &agent).header("etag").unwrap().to_owned();
    assert_ne!(now_etag, etag_before, "a person's event moves it");
    if let Some(moved) = etag_moved {
        assert_eq!(moved, now_etag);
    }
    // And the old one is now stale.
    let body = json!({"type": "comment", "message": "x"}).to_string();
    let stale = app.send(
        "POST",
        &format!("{path}/events"),
        Some(&agent),
        &[("If-Match", &etag_before), json_type],
        Some(&body),
    );
    assert_eq!(stale.status, 412, "{}", stale.body);
}
