//! Outages open malfunctions (SPEC §9), through HTTP: a monitor's `down` opens one
//! malfunction ticket with `interruption_start` at the monitor's time, a repeated or late
//! report opens no second one, the `up` records `interruption_end` at the monitor's time,
//! and SLA.9/SLA.10 run from those times.

mod common;

use common::smtp::wait_until;
use common::{TestApp, spawn_app_with, test_settings};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::time::Duration;

fn monitoring_tickets(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/tickets?limit=100", &app.admin);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["channel"] == "monitoring")
        .cloned()
        .collect()
}

fn events(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let reply = app.get(&format!("/tickets/{id}/events"), &app.admin);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["at"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(kind, _)| kind.starts_with("interruption"))
        .collect()
}

fn report(app: &TestApp, monitor: &str, at: &str, state: &str) {
    let reply = app.post(
        "/monitoring/events",
        monitor,
        &json!({"system": "CSDB1", "state": state, "at": at,
            "output": format!("{state} - check_pgsql")}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn setup() -> (TestApp, String, String) {
    setup_with(test_settings())
}

fn setup_with(settings: Settings) -> (TestApp, String, String) {
    let app = spawn_app_with(settings);
    let agency = app.add_agency("FI");
    let reply = app.send(
        "PUT",
        "/systems/CSDB1",
        Some(&app.admin),
        &[],
        Some(
            &json!({"name": "Database server 1", "services": ["Anagrafe online"],
                "agency_ids": [agency]})
            .to_string(),
        ),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let monitor = app.add_user(Role::Monitor, None, None).1;
    (app, monitor, agency)
}

#[test]
fn a_down_opens_one_malfunction_at_the_monitors_time_and_the_up_closes_its_interruption() {
    let (app, monitor, agency) = setup();
    app.set_now("2016-06-23T08:02:00Z");
    report(&app, &monitor, "2016-06-23T08:00:00Z", "CRITICAL");
    let tickets = monitoring_tickets(&app);
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    let id = ticket["id"].as_str().unwrap().to_owned();
    assert_eq!(ticket["malfunction"], true);
    let read = app.get(&format!("/tickets/{id}"), &app.admin).json();
    assert_eq!(read["interruption_open"], true);
    assert_eq!(read["interruption_started_at"], "2016-06-23T08:00:00Z");
    assert_eq!(read["affected_services"], json!(["Anagrafe online"]));
    assert_eq!(read["affected_agency_ids"], json!([agency]));

    // The same report again, a late one placing the outage earlier, and check results that
    // still say CRITICAL: no second ticket, no second interruption.
    app.set_now("2016-06-23T08:04:00Z");
    report(&app, &monitor, "2016-06-23T08:00:00Z", "CRITICAL");
    report(&app, &monitor, "2016-06-23T07:59:00Z", "DOWN");
    let checks = json!({"items": [
        {"system": "CSDB1", "at": "2016-06-23T08:03:00Z", "state": "CRITICAL"},
    ]});
    assert_eq!(
        app.post("/monitoring/check-results", &monitor, &checks)
            .status,
        200
    );
    assert_eq!(monitoring_tickets(&app).len(), 1);
    assert_eq!(
        events(&app, &id),
        [("interruption_start".into(), "2016-06-23T08:00:00Z".into())]
    );

    // The agent intervenes and tells the agency and the public; the monitor's up closes the
    // interruption at its own time, 45 minutes in.
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    for (now, event) in [
        ("2016-06-23T08:05:00Z", json!({"type": "take_charge"})),
        (
            "2016-06-23T08:10:00Z",
            json!({"type": "start_intervention"}),
        ),
        (
            "2016-06-23T08:25:00Z",
            json!({"type": "notify_agency", "message": "Anagrafe online non disponibile."}),
        ),
    ] {
        app.set_now(now);
        app.event_ok(&agent, &id, event);
    }
    app.set_now("2016-06-23T08:50:00Z");
    report(&app, &monitor, "2016-06-23T08:45:00Z", "OK");
    report(&app, &monitor, "2016-06-23T08:45:00Z", "OK");
    assert_eq!(
        events(&app, &id),
        [
            ("interruption_start".into(), "2016-06-23T08:00:00Z".into()),
            ("interruption_end".into(), "2016-06-23T08:45:00Z".into()),
        ]
    );
    let read = app.get(&format!("/tickets/{id}"), &agent).json();
    assert_eq!(read["interruption_open"], false);
    assert_eq!(read["status"], "open", "it stays for an agent to resolve");
    let sla9 = common::sla_clock(&read, "SLA.9").expect("SLA.9");
    assert_eq!(
        (&sla9["started_at"], &sla9["stopped_at"], &sla9["state"]),
        (
            &json!("2016-06-23T08:10:00Z"),
            &json!("2016-06-23T08:25:00Z"),
            &json!("met")
        )
    );
    // The interruption lasted 45 minutes (> 30): SLA.10 applies, from the intervention.
    let sla10 = common::sla_clock(&read, "SLA.10").expect("SLA.10");
    assert_eq!(sla10["started_at"], "2016-06-23T08:10:00Z");
    assert_eq!(sla10["deadline"], "2016-06-23T09:10:00Z");
    assert!(
        common::sla_clock(&read, "SLA.8").is_none(),
        "not a phone report"
    );

    // A new outage while the ticket is still being worked joins it.
    app.set_now("2016-06-23T10:01:00Z");
    report(&app, &monitor, "2016-06-23T10:00:00Z", "DOWN");
    assert_eq!(monitoring_tickets(&app).len(), 1);
    assert_eq!(events(&app, &id).len(), 3);

    // Once resolved, the next outage opens a ticket of its own.
    app.set_now("2016-06-23T10:21:00Z");
    report(&app, &monitor, "2016-06-23T10:20:00Z", "UP");
    assert_eq!(events(&app, &id).len(), 4);
    app.set_now("2016-06-23T11:00:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "resolve", "resolution": "Riavviato il database."}),
    );
    app.set_now("2016-06-23T12:01:00Z");
    report(&app, &monitor, "2016-06-23T12:00:00Z", "DOWN");
    assert_eq!(monitoring_tickets(&app).len(), 2);
}

#[test]
fn an_alertmanager_outage_that_arrives_resolved_opens_its_ticket_with_both_times() {
    let (app, monitor, _) = setup();
    app.set_now("2016-06-23T09:00:00Z");
    let alert = json!({"status": "resolved",
        "labels": {"alertname": "PostgresDown", "system": "CSDB1"}, "annotations": {},
        "startsAt": "2016-06-23T08:00:00Z", "endsAt": "2016-06-23T08:20:00Z",
        "generatorURL": "http://prometheus:9090", "fingerprint": "ab12"});
    let body = json!({"version": "4", "groupKey": "g", "truncatedAlerts": 0,
        "status": "resolved", "receiver": "helpdesk", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://am:9093", "alerts": [alert]});
    for _ in 0..2 {
        let reply = app.post("/monitoring/alertmanager", &monitor, &body);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let tickets = monitoring_tickets(&app);
    assert_eq!(tickets.len(), 1);
    let id = tickets[0]["id"].as_str().unwrap();
    assert_eq!(
        events(&app, id),
        [
            ("interruption_start".into(), "2016-06-23T08:00:00Z".into()),
            ("interruption_end".into(), "2016-06-23T08:20:00Z".into()),
        ]
    );
}

#[test]
fn an_up_that_arrived_before_its_down_still_ends_the_interruption() {
    let (app, monitor, _) = setup();
    app.set_now("2016-06-23T09:00:00Z");
    report(&app, &monitor, "2016-06-23T08:30:00Z", "OK");
    report(&app, &monitor, "2016-06-23T08:00:00Z", "CRITICAL");
    let tickets = monitoring_tickets(&app);
    assert_eq!(tickets.len(), 1);
    let id = tickets[0]["id"].as_str().unwrap();
    assert_eq!(
        events(&app, id),
        [
            ("interruption_start".into(), "2016-06-23T08:00:00Z".into()),
            ("interruption_end".into(), "2016-06-23T08:30:00Z".into()),
        ]
    );
}

#[test]
fn soft_states_and_a_past_years_history_open_nothing() {
    let (app, monitor, _) = setup();
    app.set_now("2016-06-23T09:00:00Z");
    let soft = json!({"system": "CSDB1", "state": "CRITICAL", "state_type": "SOFT",
        "at": "2016-06-23T08:58:00Z"});
    assert_eq!(app.post("/monitoring/events", &monitor, &soft).status, 200);
    report(&app, &monitor, "2015-03-01T10:00:00Z", "DOWN");
    report(&app, &monitor, "2015-03-01T10:30:00Z", "UP");
    assert!(monitoring_tickets(&app).is_empty());
}

#[test]
fn a_down_reported_once_opens_its_ticket_when_it_has_lasted_the_threshold() {
    let (app, monitor, _) = setup_with(Settings {
        monitoring_ticket_after_seconds: 10,
        ..test_settings()
    });
    app.set_now("2016-06-23T08:00:05Z");
    report(&app, &monitor, "2016-06-23T08:00:00Z", "CRITICAL");
    assert!(monitoring_tickets(&app).is_empty(), "5 s of 10: not yet");
    // The monitor says nothing more; the outage has lasted past the threshold meanwhile.
    app.set_now("2016-06-23T08:00:11Z");
    // The ticket, then its interruption: two writes, so wait for the second.
    wait_until(Duration::from_secs(30), || {
        monitoring_tickets(&app)
            .first()
            .is_some_and(|t| !events(&app, t["id"].as_str().unwrap()).is_empty())
    });
    let tickets = monitoring_tickets(&app);
    assert_eq!(tickets.len(), 1);
    let id = tickets[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(tickets[0]["reported_at"], "2016-06-23T08:00:10Z");
    assert_eq!(
        events(&app, &id),
        [(
            "interruption_start".to_owned(),
            "2016-06-23T08:00:00Z".to_owned()
        )]
    );
    // Later passes and the `up` find that outage: no second ticket, its interruption ends.
    app.set_now("2016-06-23T08:20:00Z");
    report(&app, &monitor, "2016-06-23T08:15:00Z", "OK");
    assert_eq!(monitoring_tickets(&app).len(), 1);
    assert_eq!(
        events(&app, &id).last().unwrap(),
        &(
            "interruption_end".to_owned(),
            "2016-06-23T08:15:00Z".to_owned()
        )
    );
}
