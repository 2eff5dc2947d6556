//! Each interruption has its own SLA.9 and SLA.10 (SPEC §10), through HTTP: in the ticket's
//! `sla`, in the queue's order (`sort=deadline`, where an SLA.10 counts only from its
//! interruption's 30th minute), in the compliance table and in the malfunction report; and
//! the migration that gave the clocks their interruption keeps a ticket's clocks exactly.

mod common;

use common::{TestApp, spawn_app, spawn_app_with};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

fn ticket(app: &TestApp, token: &str, id: &str) -> Value {
    let reply = app.get(&format!("/tickets/{id}"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// The ticket's clocks of `code`, in interruption order.
fn clocks<'a>(ticket: &'a Value, code: &str) -> Vec<&'a Value> {
    ticket["sla"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|clock| clock["code"] == code)
        .collect()
}

/// `event` at `at`, with the app's clock there too.
fn at(app: &TestApp, token: &str, id: &str, at: &str, event: Value) {
    app.set_now(at);
    app.event_ok(token, id, event);
}

fn watcher_pass(app: &TestApp) {
    helpdesk::jobs::clock_watcher::record_crossings(&app.pool, app.now()).unwrap();
}

/// A monitoring malfunction reported at 08:00Z on 23 June 2016, taken in charge and answered
/// at once (so that SLA.6 and SLA.7 are out of the way), its first interruption from 08:00 to
/// 08:25 with the intervention from 08:05 and the agency told at 08:10; returns its id and
/// the affected agency's.
fn first_interruption(app: &TestApp, agent: &str) -> (String, String) {
    app.set_now("2016-06-23T08:00:00Z");
    let id = app.open_ticket_id(
        agent,
        json!({"subject": "Portale pagamenti giù", "channel": "monitoring", "malfunction": true,
               "reported_at": "2016-06-23T08:00:00Z"}),
    );
    let agency = affected_agency(app, agent, &id, "ENTE-A");
    let service = "Portale pagamenti";
    at(
        app,
        agent,
        &id,
        "2016-06-23T08:00:00Z",
        json!({"type": "interruption_start", "service": service}),
    );
    at(
        app,
        agent,
        &id,
        "2016-06-23T08:01:00Z",
        json!({"type": "take_charge"}),
    );
    at(
        app,
        agent,
        &id,
        "2016-06-23T08:02:00Z",
        json!({"type": "reply", "channel": "phone", "message": "Ci stiamo lavorando"}),
    );
    at(
        app,
        agent,
        &id,
        "2016-06-23T08:05:00Z",
        json!({"type": "start_intervention"}),
    );
    at(
        app,
        agent,
        &id,
        "2016-06-23T08:10:00Z",
        json!({"type": "notify_agency", "message": "Portale giù", "service": service}),
    );
    at(
        app,
        agent,
        &id,
        "2016-06-23T08:25:00Z",
        json!({"type": "interruption_end"}),
    );
    (id, agency)
}

/// A new agency with a contact, named as the one the malfunction affects.
fn affected_agency(app: &TestApp, agent: &str, id: &str, code: &str) -> String {
    let agency = app.add_agency_with(code, &["uffici@ente.example"]);
    let patched = app.patch(
        &format!("/tickets/{id}"),
        agent,
        &json!({"affected_agency_ids": [agency]}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    agency
}

#[test]
fn two_interruptions_have_sla9_twice_and_sla10_once_in_the_ticket_queue_and_reports() {
    let app = spawn_app_with(common::mail_settings("")); // a public-notice address
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, agency) = first_interruption(&app, &agent);

    // The second interruption starts while the intervention is under way: its clocks start
    // with it.
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:00:00Z",
        json!({"type": "interruption_start", "service": "Portale pagamenti"}),
    );
    app.set_now("2016-06-23T09:10:00Z");
    let read = ticket(&app, &agent, &id);
    let sla9 = clocks(&read, "SLA.9");
    assert_eq!(sla9.len(), 2, "{}", read["sla"]);
    assert_eq!(
        sla9[0]["interruption"],
        json!({"sequence": 1, "started_at": "2016-06-23T08:00:00Z"})
    );
    assert_eq!(sla9[0]["started_at"], "2016-06-23T08:05:00Z");
    assert_eq!(sla9[0]["state"], "met");
    assert_eq!(
        sla9[1]["interruption"],
        json!({"sequence": 2, "started_at": "2016-06-23T09:00:00Z"})
    );
    assert_eq!(sla9[1]["started_at"], "2016-06-23T09:00:00Z");
    assert_eq!(sla9[1]["deadline"], "2016-06-23T09:30:00Z");
    assert_eq!(sla9[1]["state"], "running");
    assert!(
        clocks(&read, "SLA.10").is_empty(),
        "not before the 30th minute"
    );
    assert_eq!(read["next_deadline"], "2016-06-23T09:30:00Z");

    // SLA.9 of the second interruption met: SLA.10 does not apply yet, so nothing is due.
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:20:00Z",
        json!({"type": "notify_agency", "message": "Di nuovo giù", "service": "Portale pagamenti"}),
    );
    let read = ticket(&app, &agent, &id);
    assert_eq!(clocks(&read, "SLA.9")[1]["state"], "met");
    assert!(read["next_deadline"].is_null(), "{}", read["next_deadline"]);

    // From the 30th minute SLA.10 applies and the watcher puts it in the queue's order.
    app.set_now("2016-06-23T09:30:00Z");
    watcher_pass(&app);
    let read = ticket(&app, &agent, &id);
    let sla10 = clocks(&read, "SLA.10");
    assert_eq!(sla10.len(), 1, "{}", read["sla"]);
    assert_eq!(sla10[0]["interruption"]["sequence"], 2);
    assert_eq!(sla10[0]["deadline"], "2016-06-23T10:00:00Z");
    assert_eq!(read["next_deadline"], "2016-06-23T10:00:00Z");
    let early = app.open_ticket_id(&agent, json!({"subject": "Altro", "channel": "phone"}));
    let queue = app.get("/tickets?sort=deadline&limit=10", &agent).json();
    let order: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order.first(),
        Some(&id.as_str()),
        "10:00 comes before the new ticket's SLA.6"
    );
    assert!(order.contains(&early.as_str()));

    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:40:00Z",
        json!({"type": "interruption_end"}),
    );
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:50:00Z",
        json!({"type": "notify_users", "message": "Servizio ripristinato", "service": "Portale pagamenti"}),
    );
    let read = ticket(&app, &agent, &id);
    assert_eq!(clocks(&read, "SLA.10")[0]["state"], "met");

    // The compliance table counts each interruption's clocks.
    let table = app
        .get("/reports/sla?from=2016-06-01&to=2016-07-01", &app.admin)
        .json();
    let row = |code: &str| {
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["code"] == code)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("SLA.9")["met"], 2, "{}", row("SLA.9"));
    assert_eq!(row("SLA.10")["met"], 1, "{}", row("SLA.10"));

    // The malfunction report judges each interruption by its own clocks.
    let report = app
        .get(
            &format!("/reports/malfunctions?from=2016-06-01&to=2016-07-01&agency_id={agency}"),
            &app.admin,
        )
        .json();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    assert_eq!(rows[0]["intervention_started_at"], "2016-06-23T08:05:00Z");
    assert_eq!(rows[0]["agency_notified_at"], "2016-06-23T08:10:00Z");
    assert_eq!(rows[0]["sla9"], "met");
    assert!(rows[0]["sla10"].is_null(), "25 minutes: no SLA.10");
    assert_eq!(rows[1]["intervention_started_at"], "2016-06-23T09:00:00Z");
    assert_eq!(rows[1]["agency_notified_at"], "2016-06-23T09:20:00Z");
    assert_eq!(rows[1]["users_notified_at"], "2016-06-23T09:50:00Z");
    assert_eq!(rows[1]["sla9"], "met");
    assert_eq!(rows[1]["sla10"], "met");
    assert_eq!(report["totals"]["sla9_met"], 2);
    assert_eq!(report["totals"]["sla10_met"], 1);
}

#[test]
fn a_notice_of_an_earlier_interruption_does_not_stop_the_next_ones_clock() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, _) = first_interruption(&app, &agent);
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:00:00Z",
        json!({"type": "interruption_start", "service": "Portale pagamenti"}),
    );
    app.set_now("2016-06-23T09:31:00Z");
    watcher_pass(&app);
    let read = ticket(&app, &agent, &id);
    let sla9 = clocks(&read, "SLA.9");
    assert_eq!(
        sla9[1]["state"], "breached",
        "the 08:10 notice was about the first one"
    );
    let history = app.get(&format!("/tickets/{id}/events"), &agent).json();
    let breaches: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "sla_breached")
        .collect();
    assert_eq!(breaches.len(), 1, "{history}");
    assert_eq!(breaches[0]["code"], "SLA.9");
    assert_eq!(breaches[0]["interruption"]["sequence"], 2);
    // The explanation of either clock can be asked for.
    let first = app.get(
        &format!("/tickets/{id}/sla/SLA.9/explanation?interruption=1"),
        &agent,
    );
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["started_at"], "2016-06-23T08:05:00Z");
    let latest = app
        .get(&format!("/tickets/{id}/sla/SLA.9/explanation"), &agent)
        .json();
    assert_eq!(latest["interruption"]["sequence"], 2);
    let missing = app.get(
        &format!("/tickets/{id}/sla/SLA.9/explanation?interruption=3"),
        &agent,
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn the_migration_keeps_the_clocks_of_a_ticket_with_one_interruption() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-23T08:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Giù", "channel": "phone", "malfunction": true,
               "reported_at": "2016-06-23T08:00:00Z"}),
    );
    affected_agency(&app, &agent, &id, "ENTE-M");
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T08:00:00Z",
        json!({"type": "interruption_start", "service": "Portale"}),
    );
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T08:05:00Z",
        json!({"type": "start_intervention"}),
    );
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T08:20:00Z",
        json!({"type": "notify_agency", "message": "Giù", "service": "Portale"}),
    );
    app.set_now("2016-06-23T08:50:00Z");
    let before = ticket(&app, &agent, &id);
    assert_eq!(clocks(&before, "SLA.10").len(), 1);

    // The clocks as the previous schema held them, then migrated again.
    app.rerun_migrations(&["2026-12-02-000008_interruption_clocks"]);
    let after = ticket(&app, &agent, &id);
    assert_eq!(after["sla"], before["sla"]);
    assert_eq!(after["next_deadline"], before["next_deadline"]);
    assert_eq!(clocks(&after, "SLA.9")[0]["interruption"]["sequence"], 1);
}

#[test]
fn after_the_migration_a_ticket_with_two_interruptions_gets_its_clocks_at_the_next_start() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, _) = first_interruption(&app, &agent);
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:00:00Z",
        json!({"type": "interruption_start", "service": "Portale pagamenti"}),
    );
    at(
        &app,
        &agent,
        &id,
        "2016-06-23T09:40:00Z",
        json!({"type": "interruption_end"}),
    );
    app.set_now("2016-06-23T10:30:00Z");
    let before = ticket(&app, &agent, &id);
    assert_eq!(clocks(&before, "SLA.9").len(), 2);

    // The previous schema held one SLA.9 for both; migrated, the ticket waits in the queue.
    app.rerun_migrations(&["2026-12-02-000008_interruption_clocks"]);
    assert_eq!(clocks(&ticket(&app, &agent, &id), "SLA.9").len(), 1);
    let restarted = app.another_instance_at(common::test_settings(), "2016-06-23T10:30:00Z");
    let after = ticket(&restarted, &agent, &id);
    assert_eq!(after["sla"], before["sla"]);
}
