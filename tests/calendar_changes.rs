//! Clocks follow their calendar (issue 10): a closure added or removed, a redefined
//! `default`, an agency's own calendar — each moves the running clocks, changes the stopped
//! ones whose span it touches (recording a changed outcome on the ticket), and keeps the
//! watcher from recording a breach the calendar no longer gives. Through HTTP, both backends.

mod common;

use common::smtp::wait_until;
use common::{TestApp, phone_report, sla_clock, spawn_app_with, test_settings};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::time::Duration;

fn settings() -> Settings {
    Settings {
        // The watcher runs when the test says, at the instant the test gives.
        sla_watch_interval_seconds: 86_400,
        ..test_settings()
    }
}

/// Waits until the calendar follower has brought every clock of `calendar` up to date.
fn followed(app: &TestApp, calendar: &str) -> Value {
    let path = format!("/calendars/{calendar}");
    wait_until(Duration::from_secs(30), || {
        app.get(&path, &app.admin).json()["pending_clocks"] == 0
    });
    app.get(&path, &app.admin).json()
}

/// A runtime on `app`'s database whose clock reads `now`, for running a job's pass in the
/// test's own thread, as another instance would.
fn runtime_of(
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

fn deadline(app: &TestApp, token: &str, id: &str, code: &str) -> (String, String) {
    let ticket = app.get(&format!("/tickets/{id}"), token).json();
    let clock = sla_clock(&ticket, code).unwrap_or_else(|| panic!("{code} on {ticket}"));
    (
        clock["deadline"].as_str().unwrap().to_owned(),
        clock["state"].as_str().unwrap().to_owned(),
    )
}

fn queue(app: &TestApp, token: &str) -> Vec<String> {
    app.get("/tickets?sort=deadline", token).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn events_of(app: &TestApp, id: &str, kind: &str) -> Vec<Value> {
    app.get(&format!("/tickets/{id}/events"), &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .cloned()
        .collect()
}

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
fn a_split_day_calendar_counts_across_both_daylight_saving_changes_and_easter() {
    let app = spawn_app_with(settings());
    let hours = json!([{"open": "08:30", "close": "13:00"}, {"open": "14:00", "close": "17:30"}]);
    let week: Vec<Value> = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|day| json!({"day": day, "hours": hours}))
        .collect();
    let created = app.send(
        "PUT",
        "/calendars/ufficio",
        Some(&app.admin),
        &[],
        Some(
            &json!({"time_zone": "Europe/Rome", "week": week, "holidays": [
                {"name": "Lunedì dell'Angelo", "date": "easter_monday"},
                {"name": "Sant'Ambrogio", "date": "12-07", "first_year": 2000},
            ]})
            .to_string(),
        ),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["week"][0]["hours"][1]["close"], "17:30");
    // Worked by hand (times in Rome, then UTC):
    let cases = [
        // Fri 27 Mar 2026 16:00 CET, 4 h: 1.5 h on Friday; DST starts on the 29th; Monday
        // 08:30–11:00 CEST.
        ("2026-03-27T15:00:00Z", 4 * 3600, "2026-03-30T09:00:00Z"),
        // Thu 2 Apr 17:00 CEST, 10 h: 0.5 h, Friday's 8 h, then Easter Monday is closed:
        // Tuesday 08:30–10:00.
        ("2026-04-02T15:00:00Z", 10 * 3600, "2026-04-07T08:00:00Z"),
        // Fri 23 Oct 17:00 CEST, 2 h: 0.5 h; DST ends on the 25th; Monday 08:30–10:00 CET.
        ("2026-10-23T15:00:00Z", 2 * 3600, "2026-10-26T09:00:00Z"),
        // Mon 26 Oct 12:30 CET, 1 h: 12:30–13:00, then the lunch break, 14:00–14:30.
        ("2026-10-26T11:30:00Z", 3600, "2026-10-26T13:30:00Z"),
        // Mon 26 Oct 12:00 CET, 1 h: it runs out at 13:00, the closing of the morning.
        ("2026-10-26T11:00:00Z", 3600, "2026-10-26T12:00:00Z"),
        // Fri 4 Dec 17:00 CET, 1 h: 0.5 h; Monday 7 Dec is Sant'Ambrogio; Tuesday 08:30–09:00.
        ("2026-12-04T16:00:00Z", 3600, "2026-12-08T08:00:00Z"),
    ];
    let items: Vec<Value> = cases
        .iter()
        .map(|(start, seconds, _)| json!({"start": start, "seconds": seconds}))
        .collect();
    let reply = app.post(
        "/calendars/ufficio/deadlines",
        &app.admin,
        &json!({"items": items}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let deadlines: Vec<String> = reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["deadline"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = cases.iter().map(|c| c.2.to_owned()).collect();
    assert_eq!(deadlines, expected);
    let elapsed = app.post(
        "/calendars/ufficio/elapsed",
        &app.admin,
        &json!({"items": [
            {"from": "2026-03-27T15:00:00Z", "to": "2026-03-30T09:00:00Z"},
            {"from": "2026-10-23T15:00:00Z", "to": "2026-10-26T09:00:00Z"},
            {"from": "2026-04-02T15:00:00Z", "to": "2026-04-07T08:00:00Z"},
            {"from": "2026-10-26T11:00:00Z", "to": "2026-10-26T13:30:00Z"},
        ]}),
    );
    let seconds: Vec<i64> = elapsed.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["seconds"].as_i64().unwrap())
        .collect();
    assert_eq!(seconds, [4 * 3600, 2 * 3600, 10 * 3600, 3600 + 1800]);
}

#[test]
fn an_agency_calendar_counts_its_business_hour_slas_and_its_tickets_follow_a_change() {
    let app = spawn_app_with(settings());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let mut milano = app.get("/calendars/default", &app.admin).json();
    let holidays = milano["holidays"].as_array_mut().unwrap();
    holidays.retain(|h| h["date"] != "06-24");
    holidays.push(json!({"name": "Sant'Ambrogio", "date": "12-07"}));
    let body = json!({"time_zone": milano["time_zone"], "week": milano["week"], "holidays": milano["holidays"]});
    let put = app.send(
        "PUT",
        "/calendars/milano",
        Some(&app.admin),
        &[],
        Some(&body.to_string()),
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let reply = app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "MI", "name": "Comune di Milano", "calendar": "milano"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let agency = reply.json()["id"].as_str().unwrap().to_owned();
    app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "XX", "name": "x", "calendar": "roma"}),
    )
    .problem(422);
    app.set_now("2026-12-04T16:40:00Z");
    // Friday 4 Dec 17:30 in Rome: half an hour on Friday, then Monday 7 is Sant'Ambrogio
    // and Tuesday 8 the Immacolata in Milan; Wednesday 08:00–08:30.
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "phone", "malfunction": true, "agency_id": agency,
               "reported_at": "2026-12-04T16:30:00Z"}),
    );
    let ticket = app.get(&format!("/tickets/{id}"), &agent).json();
    let sla6 = sla_clock(&ticket, "SLA.6").unwrap();
    assert_eq!(
        (sla6["calendar"].as_str(), sla6["deadline"].as_str()),
        (Some("milano"), Some("2026-12-09T07:30:00Z"))
    );
    let sla8 = sla_clock(&ticket, "SLA.8").unwrap();
    assert_eq!(
        sla8["calendar"], "24x7",
        "SLA.8 counts around the clock wherever"
    );
    let in_use = app.send("DELETE", "/calendars/milano", Some(&app.admin), &[], None);
    in_use.problem(409);

    let patched = app.patch(
        &format!("/agencies/{agency}"),
        &app.admin,
        &json!({"calendar": null}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    followed(&app, "milano");
    followed(&app, "default");
    let ticket = app.get(&format!("/tickets/{id}"), &agent).json();
    let sla6 = sla_clock(&ticket, "SLA.6").unwrap();
    assert_eq!(
        (sla6["calendar"].as_str(), sla6["deadline"].as_str()),
        (Some("default"), Some("2026-12-07T07:30:00Z")),
        "Florence works on Sant'Ambrogio"
    );
    let gone = app.send("DELETE", "/calendars/milano", Some(&app.admin), &[], None);
    assert_eq!(gone.status, 204, "{}", gone.body);
    app.get("/calendars/milano", &app.admin).problem(404);
}

#[test]
fn bad_definitions_are_refused_naming_the_field_and_nothing_is_stored() {
    let app = spawn_app_with(settings());
    let good = || {
        json!({"time_zone": "Europe/Rome", "week": [
            {"day": "monday", "hours": [{"open": "08:30", "close": "13:00"}, {"open": "14:00", "close": "17:30"}]},
            {"day": "tuesday", "hours": [{"open": "08:30", "close": "13:00"}]},
            {"day": "wednesday", "hours": [{"open": "08:30", "close": "13:00"}]},
        ], "holidays": [{"name": "Patrono", "date": "06-24", "first_year": 2000, "last_year": 2030}]})
    };
    let with = |path: &str, value: Value| {
        let mut body = good();
        let mut target = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = match part.parse::<usize>() {
                Ok(i) => &mut target[i],
                Err(_) => &mut target[*part],
            };
        }
        target[parts[parts.len() - 1]] = value;
        body
    };
    let cases = [
        (
            "/calendars/ufficio",
            with(
                "week.2.hours",
                json!([{"open": "08:30", "close": "13:00"}, {"open": "12:00", "close": "15:00"}]),
            ),
            422,
            "week[2].hours[1].open",
        ),
        (
            "/calendars/ufficio",
            with("week.0.hours.1.close", json!("13:30")),
            422,
            "week[0].hours[1].close",
        ),
        (
            "/calendars/ufficio",
            with("week.1.hours.0.close", json!("07:00")),
            422,
            "week[1].hours[0].close",
        ),
        (
            "/calendars/ufficio",
            with("week.1.hours.0.close", json!("25:00")),
            422,
            "week[1].hours[0].close",
        ),
        (
            "/calendars/ufficio",
            with("time_zone", json!("Europe/Firenze")),
            422,
            "time_zone",
        ),
        (
            "/calendars/ufficio",
            with("holidays.0.date", json!("02-30")),
            422,
            "holidays[0].date",
        ),
        (
            "/calendars/ufficio",
            with("holidays.0.first_year", json!(2031)),
            422,
            "holidays[0].last_year",
        ),
        ("/calendars/ufficio", with("week", json!([])), 422, "week"),
        (
            "/calendars/ufficio",
            with("week.1.day", json!("monday")),
            422,
            "week[1].day",
        ),
        (
            "/calendars/ufficio",
            with("week.0.hours.0.open", json!(830)),
            400,
            "week[0].hours[0].open",
        ),
        (
            "/calendars/ufficio",
            with("always_open", json!(true)),
            422,
            "always_open",
        ),
        (
            "/calendars/ufficio",
            with("name", json!("altro")),
            422,
            "name",
        ),
        (
            "/calendars/ufficio",
            with(
                "closures",
                json!([{"first_day": "2026-12-07", "last_day": "2026-12-07", "reason": "x"}]),
            ),
            422,
            "closures",
        ),
        ("/calendars/24x7", good(), 422, "name"),
        ("/calendars/uff%20icio", good(), 422, "name"),
    ];
    for (path, body, status, field) in &cases {
        let reply = app.send("PUT", path, Some(&app.admin), &[], Some(&body.to_string()));
        reply.problem(*status);
        assert!(
            reply.problem_fields().iter().any(|f| f == field),
            "{path} {body} should name {field}: {}",
            reply.body
        );
    }
    let names: Vec<Value> = app.get("/calendars", &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("24x7"), json!("default")],
        "nothing was stored"
    );
    let (_, agent) = app.add_user(Role::Agent, Some(Level::Second), None);
    let reply = app.send(
        "PUT",
        "/calendars/ufficio",
        Some(&agent),
        &[],
        Some(&good().to_string()),
    );
    reply.problem(403);
    let created = app.send(
        "PUT",
        "/calendars/ufficio",
        Some(&app.admin),
        &[],
        Some(&good().to_string()),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    // The same definition read back and put again is accepted as it is.
    let read = app.get("/calendars/ufficio", &app.admin).json();
    let again = app.send(
        "PUT",
        "/calendars/ufficio",
        Some(&app.admin),
        &[],
        Some(&read.to_string()),
    );
    assert_eq!(again.status, 200, "{}", again.body);
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
fn a_configured_calendar_serves_slas_and_the_apis_definition_wins_across_restarts() {
    let ufficio: helpdesk::sla::CalendarDefinition = serde_json::from_value(json!({
        "time_zone": "Europe/Rome",
        "week": [{"day": "monday", "hours": [{"open": "09:00", "close": "12:00"}]},
                 {"day": "tuesday", "hours": [{"open": "09:00", "close": "12:00"}]}],
        "holidays": [{"name": "Patrono", "date": "12-07"}],
    }))
    .unwrap();
    let mut configured = settings();
    configured.calendars.insert("ufficio".into(), ufficio);
    configured.sla.insert(
        "SLA.7".into(),
        helpdesk::config::SlaOverride {
            calendar: Some("ufficio".into()),
            ..Default::default()
        },
    );
    let app = spawn_app_with(configured.clone());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2026-11-30T10:30:00Z");
    let calendar = app.get("/calendars/ufficio", &app.admin).json();
    assert_eq!(calendar["source"], "configuration");
    // Monday 30 Nov 11:00 in Rome: SLA.7's 6 hours are 1 h on Monday, 3 h on Tuesday, and
    // (Monday 7 Dec closed) 2 h on Tuesday 8 Dec: 11:00 CET.
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "email", "reported_at": "2026-11-30T10:00:00Z"}),
    );
    let ticket = app.get(&format!("/tickets/{id}"), &agent).json();
    let sla7 = sla_clock(&ticket, "SLA.7").unwrap();
    assert_eq!(
        (sla7["calendar"].as_str(), sla7["deadline"].as_str()),
        (Some("ufficio"), Some("2026-12-08T10:00:00Z"))
    );

    // The API's definition wins over the file's, and survives a restart.
    let mut longer = calendar.clone();
    longer["week"][0]["hours"] = json!([{"open": "09:00", "close": "18:00"}]);
    let put = app.send(
        "PUT",
        "/calendars/ufficio",
        Some(&app.admin),
        &[],
        Some(&longer.to_string()),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    followed(&app, "ufficio");
    let moved = "2026-11-30T16:00:00Z"; // all 6 hours on Monday now: 11:00–17:00
    assert_eq!(deadline(&app, &agent, &id, "SLA.7").0, moved);
    app.stop();
    let restarted = app.another_instance_at(configured, "2026-11-30T10:30:00Z");
    let calendar = restarted.get("/calendars/ufficio", &restarted.admin).json();
    assert_eq!(calendar["source"], "api");
    assert_eq!(calendar["week"][0]["hours"][0]["close"], "18:00");
    assert_eq!(
        calendar["pending_clocks"], 0,
        "nothing to redo after a restart"
    );
    assert_eq!(deadline(&restarted, &agent, &id, "SLA.7").0, moved);
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
    // Once the follower has computed it again (nothing changed), the breach is recorded.
    let runtime = runtime_of(&app, slow, after);
    helpdesk::jobs::calendar_follower::follow_calendars(&runtime).unwrap();
    helpdesk::jobs::clock_watcher::record_crossings(&app.pool, after).unwrap();
    assert_eq!(events_of(&app, &id, "sla_breached").len(), 1);
}
