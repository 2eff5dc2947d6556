//! Clocks follow their calendar (issue 10): a closure added or removed, a redefined
//! `default` — each moves the running clocks, changes the stopped ones whose span it touches
//! (recording a changed outcome on the ticket), keeps the watcher from recording a breach the
//! calendar no longer gives, and is applied once however many instances run. Through HTTP,
//! both backends.

mod common;

use common::calendars::{deadline, events_of, followed, queue, runtime_of, settings};
use common::smtp::wait_until;
use common::{phone_report, sla_clock, spawn_app_with};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::time::Duration;

#[test]
fn a_closure_moves_the_running_clocks_and_the_watcher_records_no_breach() {
    let app = spawn_app_with(settings());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2026-12-01T09:30:00Z");
    // Tuesday 1 December 2026, 10:00 in Rome: SLA.6 is due an hour later, 10:00Z.
    let first = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale lento", "channel": "portal", "reported_at": "2026-12-01T09:00:00Z"}),
    );
    // A phone malfunction at 09:10Z: SLA.8 counts around the clock, due 11:10Z.
    let second = app.open_ticket_id(
        &agent,
        json!({"subject": "Pagamenti giù", "channel": "phone", "malfunction": true,
               "reported_at": "2026-12-01T09:10:00Z"}),
    );
    assert_eq!(
        deadline(&app, &agent, &first, "SLA.6").0,
        "2026-12-01T10:00:00Z"
    );
    assert_eq!(queue(&app, &agent), [first.clone(), second.clone()]);

    let closed = app.post(
        "/calendars/default/closures",
        &app.admin,
        &json!({"first_day": "2026-12-01", "reason": "Chiusura straordinaria"}),
    );
    assert_eq!(closed.status, 201, "{}", closed.body);
    let calendar = followed(&app, "default");
    assert!(calendar["version"].as_i64().unwrap() >= 2);
    assert_eq!(
        deadline(&app, &agent, &first, "SLA.6"),
        ("2026-12-02T08:00:00Z".into(), "running".into()),
        "the closed Tuesday does not count: Wednesday 09:00 in Rome"
    );
    assert_eq!(
        deadline(&app, &agent, &second, "SLA.8").0,
        "2026-12-01T11:10:00Z"
    );
    assert_eq!(queue(&app, &agent), [second.clone(), first.clone()]);

    // At 10:00:01Z the old deadline has passed; the watcher records no breach.
    let now = "2026-12-01T10:00:01Z".parse().unwrap();
    app.set_now("2026-12-01T10:00:01Z");
    helpdesk::jobs::clock_watcher::record_crossings(&app.pool, now).unwrap();
    assert!(events_of(&app, &first, "sla_breached").is_empty());
    let running = app.get("/tickets?sla_state=breached", &agent).json();
    assert_eq!(running["items"], json!([]));

    // Removing the closure brings the old deadline back, breached by now.
    let reopened = app.send(
        "DELETE",
        "/calendars/default/closures/2026-12-01",
        Some(&app.admin),
        &[],
        None,
    );
    assert_eq!(reopened.status, 200, "{}", reopened.body);
    assert_eq!(reopened.json()["closures"], json!([]));
    followed(&app, "default");
    assert_eq!(
        deadline(&app, &agent, &first, "SLA.6"),
        ("2026-12-01T10:00:00Z".into(), "breached".into())
    );
    assert_eq!(queue(&app, &agent), [first.clone(), second.clone()]);
    helpdesk::jobs::clock_watcher::record_crossings(&app.pool, now).unwrap();
    assert_eq!(events_of(&app, &first, "sla_breached").len(), 1);
    app.send(
        "DELETE",
        "/calendars/default/closures/2026-12-01",
        Some(&app.admin),
        &[],
        None,
    )
    .problem(404);
}

#[test]
fn redefining_default_moves_running_clocks_and_changes_only_the_outcomes_it_touches() {
    let app = spawn_app_with(settings());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2026-12-01T12:00:00Z");
    let open = |reported: &str| {
        app.open_ticket_id(
            &agent,
            json!({"subject": "x", "channel": "email", "reported_at": reported}),
        )
    };
    // Reported 09:00 in Rome, still open: SLA.6 due 10:00, breached by now.
    let running = open("2026-12-01T08:00:00Z");
    // Reported 09:00, taken at 09:50: met, with 50 minutes counted.
    let met = open("2026-12-01T08:00:00Z");
    app.event_ok(
        &agent,
        &met,
        json!({"type": "take_charge", "at": "2026-12-01T08:50:00Z"}),
    );
    // Reported 08:00, taken at 10:30: 2.5 hours, breached.
    let late = open("2026-12-01T07:00:00Z");
    app.event_ok(
        &agent,
        &late,
        json!({"type": "take_charge", "at": "2026-12-01T09:30:00Z"}),
    );
    let late_etag = app
        .get(&format!("/tickets/{late}"), &agent)
        .header("etag")
        .map(str::to_owned);
    // 2016, taken before the office opened on Monday: met however the hours change.
    let old = open("2016-06-23T15:30:00Z");
    app.event_ok(
        &agent,
        &old,
        json!({"type": "take_charge", "at": "2016-06-27T06:10:00Z"}),
    );

    let mut definition = app.get("/calendars/default", &app.admin).json();
    for day in definition["week"].as_array_mut().unwrap() {
        if !day["hours"].as_array().unwrap().is_empty() {
            day["hours"] = json!([{"open": "10:00", "close": "18:00"}]);
        }
    }
    let etag = app
        .get("/calendars/default", &app.admin)
        .header("etag")
        .unwrap()
        .to_owned();
    let body = definition.to_string();
    let stale = app.send(
        "PUT",
        "/calendars/default",
        Some(&app.admin),
        &[("If-Match", "\"999\"")],
        Some(&body),
    );
    stale.problem(412);
    let redefined = app.send(
        "PUT",
        "/calendars/default",
        Some(&app.admin),
        &[("If-Match", &etag)],
        Some(&body),
    );
    assert_eq!(redefined.status, 200, "{}", redefined.body);
    assert_eq!(redefined.json()["source"], "api");
    followed(&app, "default");

    assert_eq!(
        deadline(&app, &agent, &running, "SLA.6"),
        ("2026-12-01T10:00:00Z".into(), "breached".into()),
        "counting from 10:00 in Rome: due 11:00"
    );
    let met_ticket = app.get(&format!("/tickets/{met}"), &agent).json();
    assert_eq!(
        sla_clock(&met_ticket, "SLA.6").unwrap()["elapsed_seconds"],
        0
    );
    assert!(
        events_of(&app, &met, "sla_outcome_changed").is_empty(),
        "still met"
    );
    let changed = events_of(&app, &late, "sla_outcome_changed");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["code"], "SLA.6");
    assert_eq!(changed[0]["outcome_before"], "breached");
    assert_eq!(changed[0]["outcome"], "met");
    assert_eq!(changed[0]["actor_id"], Value::Null);
    assert_eq!(
        app.get(&format!("/tickets/{late}"), &agent)
            .header("etag")
            .map(str::to_owned),
        late_etag,
        "an event of the service does not move the ETag"
    );
    assert!(events_of(&app, &old, "sla_outcome_changed").is_empty());
    let report = app
        .get("/reports/sla?from=2026-12-01&to=2026-12-02", &app.admin)
        .json();
    let sla6 = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "SLA.6")
        .unwrap();
    assert_eq!(
        (sla6["met"].as_i64(), sla6["breached"].as_i64()),
        (Some(2), Some(1)),
        "the late one is met now; the open one is past its deadline"
    );

    // Taking the API's definition away brings the configuration's back, as a new version.
    let reverted = app.send("DELETE", "/calendars/default", Some(&app.admin), &[], None);
    assert_eq!(reverted.status, 200, "{}", reverted.body);
    assert_eq!(reverted.json()["source"], "built_in");
    followed(&app, "default");
    assert_eq!(
        deadline(&app, &agent, &running, "SLA.6").0,
        "2026-12-01T09:00:00Z"
    );
    assert_eq!(
        events_of(&app, &late, "sla_outcome_changed").len(),
        2,
        "breached again"
    );
}

#[test]
fn two_instances_follow_a_closure_once_and_serve_the_same_deadlines() {
    let fast = Settings {
        calendar_reload_seconds: 1,
        ..settings()
    };
    let app = spawn_app_with(fast.clone());
    let other = app.another_instance_at(fast, "2026-12-01T09:30:00Z");
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2026-12-01T09:30:00Z");
    let running = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "email", "reported_at": "2026-12-01T09:00:00Z"}),
    );
    // Monday 30 Nov 17:30 in Rome, taken on Tuesday 08:45: due Tuesday 08:30, breached; with
    // Tuesday closed it is due Wednesday, and met.
    let stopped = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "email", "reported_at": "2026-11-30T16:30:00Z"}),
    );
    app.event_ok(
        &agent,
        &stopped,
        json!({"type": "take_charge", "at": "2026-12-01T07:45:00Z"}),
    );
    let many: Vec<String> = (0..30)
        .map(|_| app.open_ticket_id(&agent, phone_report("x")))
        .collect();
    let closed = other.post(
        "/calendars/default/closures",
        &other.admin,
        &json!({"first_day": "2026-12-01", "reason": "Sciopero"}),
    );
    assert_eq!(closed.status, 201, "{}", closed.body);
    followed(&other, "default");
    for instance in [&app, &other] {
        wait_until(Duration::from_secs(30), || {
            deadline(instance, &agent, &running, "SLA.6").0 == "2026-12-02T08:00:00Z"
        });
        for id in &many {
            assert_eq!(
                deadline(instance, &agent, id, "SLA.6").0,
                "2026-12-02T08:00:00Z"
            );
        }
        // Each instance reloads the calendars within calendar_reload_seconds.
        wait_until(Duration::from_secs(30), || {
            let calendar = instance.get("/calendars/default", &instance.admin).json();
            calendar["closures"][0]["reason"] == "Sciopero"
        });
    }
    let changed = events_of(&app, &stopped, "sla_outcome_changed");
    assert_eq!(changed.len(), 1, "the outcome changed once: {changed:?}");
    assert_eq!(changed[0]["outcome"], "met");
}

#[test]
fn the_watcher_records_nothing_for_a_clock_computed_with_an_older_calendar() {
    use diesel::RunQueryDsl;
    let slow = Settings {
        // The follower waits for the test: its periodic pass is an hour away.
        calendar_reload_seconds: 3600,
        ..settings()
    };
    let app = spawn_app_with(slow.clone());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2026-12-01T09:30:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "email", "reported_at": "2026-12-01T09:00:00Z"}),
    );
    // As if a calendar change were still on its way to this clock.
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(format!(
        "UPDATE ticket_clocks SET calendar_version = 0 WHERE ticket_id = '{id}'"
    ))
    .execute(&mut *conn)
    .unwrap();
    let after = "2026-12-01T10:00:01Z".parse().unwrap();
    helpdesk::jobs::clock_watcher::record_crossings(&app.pool, after).unwrap();
    assert!(events_of(&app, &id, "sla_breached").is_empty());
    assert!(events_of(&app, &id, "sla_at_risk").is_empty());
    // Nor does a claim made on what was read before the calendar moved on.
    let deadline = "2026-12-01T10:00:00Z".parse().unwrap();
    let claimed = helpdesk::db::clocks::claim_crossing(
        &mut conn,
        id.parse().unwrap(),
        ("SLA.6", 0),
        helpdesk::db::clocks::Crossing::Breached,
        deadline,
    )
    .unwrap();
    assert!(!claimed, "a stale clock is not claimed");
    // Once the follower has computed it again (nothing changed), the breach is recorded.
    let runtime = runtime_of(&app, slow, after);
    helpdesk::jobs::calendar_follower::follow_calendars(&runtime).unwrap();
    helpdesk::jobs::clock_watcher::record_crossings(&app.pool, after).unwrap();
    assert_eq!(events_of(&app, &id, "sla_breached").len(), 1);
}

#[test]
fn events_recorded_while_the_follower_works_are_never_overwritten() {
    let app = std::sync::Arc::new(spawn_app_with(settings()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2026-12-01T09:30:00Z");
    let ids: Vec<String> = (0..60)
        .map(|_| {
            app.open_ticket_id(
                &agent,
                json!({"subject": "x", "channel": "email", "reported_at": "2026-12-01T09:00:00Z"}),
            )
        })
        .collect();
    let closed = app.post(
        "/calendars/default/closures",
        &app.admin,
        &json!({"first_day": "2026-12-01", "reason": "Chiusura"}),
    );
    assert_eq!(closed.status, 201, "{}", closed.body);
    // Taking charge while the follower computes the same tickets again.
    let takers: Vec<_> = ids
        .iter()
        .map(|id| {
            let (app, agent, id) = (app.clone(), agent.clone(), id.clone());
            std::thread::spawn(move || {
                app.event(&agent, &id, json!({"type": "take_charge"}))
                    .status
            })
        })
        .collect();
    for taker in takers {
        assert_eq!(taker.join().unwrap(), 201);
    }
    followed(&app, "default");
    for id in &ids {
        let ticket = app.get(&format!("/tickets/{id}"), &agent).json();
        let sla6 = sla_clock(&ticket, "SLA.6").unwrap();
        assert_eq!(sla6["state"], "met", "{id}: the take_charge stands");
        assert_eq!(
            sla6["deadline"], "2026-12-02T08:00:00Z",
            "{id}: the closure counts"
        );
        let sla7 = sla_clock(&ticket, "SLA.7").unwrap();
        assert_eq!(sla7["state"], "running");
    }
}
