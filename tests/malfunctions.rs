//! Malfunctions through HTTP: their details, their events' rules, SLA.10's applicability, and
//! that a refused notification writes no e-mail. Delivery itself is in `mail.rs`.

mod common;

use common::{TestApp, sla_clock, spawn_app, spawn_app_with, test_settings};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

/// A malfunction reported by monitoring at 2016-06-23T08:00Z, interrupted from then, with the
/// intervention started at 08:05; returns its id.
fn interrupted_malfunction(app: &TestApp, agent: &str) -> String {
    app.set_now("2016-06-23T08:00:00Z");
    let id = app.open_ticket_id(
        agent,
        json!({"subject": "Portale pagamenti giù", "channel": "monitoring", "malfunction": true,
               "reported_at": "2016-06-23T08:00:00Z"}),
    );
    app.event_ok(
        agent,
        &id,
        json!({"type": "interruption_start", "at": "2016-06-23T08:00:00Z", "service": "Portale pagamenti"}),
    );
    app.set_now("2016-06-23T08:05:00Z");
    app.event_ok(agent, &id, json!({"type": "start_intervention"}));
    id
}

fn ticket(app: &TestApp, token: &str, id: &str) -> Value {
    let reply = app.get(&format!("/tickets/{id}"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[test]
fn an_interruption_of_25_minutes_never_shows_sla10() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = interrupted_malfunction(&app, &agent);
    app.set_now("2016-06-23T08:25:00Z");
    app.event_ok(&agent, &id, json!({"type": "interruption_end"}));
    for now in [
        "2016-06-23T08:25:00Z",
        "2016-06-23T08:31:00Z",
        "2016-06-23T09:06:00Z",
        "2016-06-24T12:00:00Z",
    ] {
        app.set_now(now);
        let read = ticket(&app, &agent, &id);
        assert!(
            sla_clock(&read, "SLA.10").is_none(),
            "at {now}: {}",
            read["sla"]
        );
        assert!(
            sla_clock(&read, "SLA.9").is_some(),
            "SLA.9 applies to every interruption"
        );
    }
}

#[test]
fn an_interruption_of_31_minutes_shows_sla10_from_its_30th_minute() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = interrupted_malfunction(&app, &agent);

    app.set_now("2016-06-23T08:29:59Z");
    let read = ticket(&app, &agent, &id);
    assert!(sla_clock(&read, "SLA.10").is_none(), "{}", read["sla"]);

    // Still going on at the 30th minute: SLA.10 appears, counted from the intervention.
    app.set_now("2016-06-23T08:30:00Z");
    let read = ticket(&app, &agent, &id);
    let sla10 = sla_clock(&read, "SLA.10").expect("SLA.10 from the 30th minute");
    assert_eq!(sla10["started_at"], "2016-06-23T08:05:00Z");
    assert_eq!(sla10["deadline"], "2016-06-23T09:05:00Z");
    assert_eq!(sla10["state"], "running");
    assert_eq!(sla10["calendar"], "24x7");
    assert_eq!(sla10["elapsed_seconds"], 25 * 60);

    app.set_now("2016-06-23T08:31:00Z");
    app.event_ok(&agent, &id, json!({"type": "interruption_end"}));
    let read = ticket(&app, &agent, &id);
    assert_eq!(sla_clock(&read, "SLA.10").unwrap()["state"], "running");

    app.set_now("2016-06-23T09:06:00Z");
    let read = ticket(&app, &agent, &id);
    assert_eq!(sla_clock(&read, "SLA.10").unwrap()["state"], "breached");
}

#[test]
fn sla8_to_sla10_show_the_outcome_of_a_run_from_report_to_resolution() {
    let app = spawn_app_with(common::mail_settings("")); // .eml files; public address set
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let agency = app.add_agency("FI");
    app.set_now("2016-06-23T08:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Anagrafe non raggiungibile", "channel": "phone", "malfunction": true,
               "agency_id": agency, "affected_services": ["Anagrafe online"]}),
    );
    let steps = [
        ("2016-06-23T08:10:00Z", json!({"type": "take_charge"})),
        (
            "2016-06-23T08:10:00Z",
            json!({"type": "interruption_start", "at": "2016-06-23T07:50:00Z"}),
        ),
        (
            "2016-06-23T09:30:00Z",
            json!({"type": "start_intervention"}),
        ),
        (
            "2016-06-23T09:55:00Z",
            json!({"type": "notify_agency", "message": "Anagrafe online interrotta."}),
        ),
        (
            "2016-06-23T10:40:00Z",
            json!({"type": "notify_users", "message": "Servizio anagrafe interrotto."}),
        ),
        ("2016-06-23T11:00:00Z", json!({"type": "interruption_end"})),
        (
            "2016-06-23T11:05:00Z",
            json!({"type": "reply", "channel": "phone", "message": "Risolto."}),
        ),
        (
            "2016-06-23T11:05:00Z",
            json!({"type": "resolve", "resolution": "Riavviato il server."}),
        ),
    ];
    for (now, event) in steps {
        app.set_now(now);
        app.event_ok(&agent, &id, event);
    }
    let read = ticket(&app, &agent, &id);
    let state = |code| sla_clock(&read, code).unwrap()["state"].clone();
    assert_eq!(
        state("SLA.8"),
        "met",
        "intervention 1 h 30 after the phone call"
    );
    assert_eq!(
        state("SLA.9"),
        "met",
        "agency told 25 minutes into the intervention"
    );
    assert_eq!(
        state("SLA.10"),
        "breached",
        "public told 70 minutes into the intervention"
    );
    assert_eq!(
        sla_clock(&read, "SLA.10").unwrap()["deadline"],
        "2016-06-23T10:30:00Z"
    );
    assert_eq!(state("SLA.6"), "met");
}

#[test]
fn patch_sets_the_details_and_the_history_says_who_changed_what() {
    let app = spawn_app();
    let (agent_id, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FS");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "SUAP giù", "channel": "email", "malfunction": true, "agency_id": firenze}),
    );
    let read = ticket(&app, &agent, &id);
    assert_eq!(
        read["affected_agency_ids"],
        json!([firenze]),
        "defaults to the reporting agency"
    );
    let version = read["version"].as_i64().unwrap();

    let reply = app.send(
        "PATCH",
        &format!("/tickets/{id}"),
        Some(&agent),
        &[("If-Match", &format!("\"{version}\""))],
        Some(
            &json!({"affected_agency_ids": [firenze, fiesole], "affected_services": ["SUAP", "Protocollo"],
                    "cause": "Certificato scaduto", "actions_taken": "Rinnovato il certificato"})
            .to_string(),
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let patched = reply.json();
    assert_eq!(patched["affected_agency_ids"], json!([firenze, fiesole]));
    assert_eq!(patched["affected_services"], json!(["SUAP", "Protocollo"]));
    assert_eq!(patched["cause"], "Certificato scaduto");
    assert_eq!(patched["version"], version + 1);
    assert_eq!(
        reply.header("etag"),
        Some(format!("\"{}\"", version + 1).as_str())
    );

    // null clears; the same value again changes nothing and records nothing.
    let cleared = app.patch(&format!("/tickets/{id}"), &agent, &json!({"cause": null}));
    assert_eq!(cleared.json()["cause"], Value::Null);
    let same = app.patch(
        &format!("/tickets/{id}"),
        &agent,
        &json!({"actions_taken": "Rinnovato il certificato"}),
    );
    assert_eq!(same.json()["version"], version + 2);

    let history = app.get(&format!("/tickets/{id}/events"), &agent).json();
    let updates: Vec<&Value> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "malfunction_updated")
        .collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["actor_id"], agent_id);
    assert_eq!(
        updates[0]["changed"],
        json!([
            "affected_services",
            "affected_agency_ids",
            "cause",
            "actions_taken"
        ])
    );
    assert_eq!(updates[1]["changed"], json!(["cause"]));

    // A stale version is refused.
    let stale = app.send(
        "PATCH",
        &format!("/tickets/{id}"),
        Some(&agent),
        &[("If-Match", &format!("\"{version}\""))],
        Some(r#"{"cause": "x"}"#),
    );
    stale.problem(412);
}

#[test]
fn bad_details_are_named_and_change_nothing() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale giù", "channel": "email", "malfunction": true}),
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    let reply = app.patch(
        &format!("/tickets/{id}"),
        &agent,
        &json!({"affected_agency_ids": [unknown], "affected_services": ["ok", "  "]}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["affected_services[1]"]);
    let reply = app.patch(
        &format!("/tickets/{id}"),
        &agent,
        &json!({"affected_agency_ids": [unknown]}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["affected_agency_ids[0]"]);
    let reply = app.patch(&format!("/tickets/{id}"), &agent, &json!({"colour": "red"}));
    reply.problem(400);
    assert_eq!(
        ticket(&app, &agent, &id)["version"],
        1,
        "nothing was written"
    );

    // Details belong to malfunctions.
    let plain = app.open_ticket_id(&agent, json!({"subject": "Password", "channel": "email"}));
    app.patch(&format!("/tickets/{plain}"), &agent, &json!({"cause": "x"}))
        .problem(422);
    let reply = app.post(
        "/tickets",
        &agent,
        &json!({"subject": "Password", "channel": "email", "cause": "x"}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["cause"]);
}

#[test]
fn an_agency_may_not_change_details_and_a_stranger_sees_nothing() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FS");
    let (_, own) = app.add_user(Role::Agency, None, Some(&firenze));
    let (_, stranger) = app.add_user(Role::Agency, None, Some(&fiesole));
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale giù", "channel": "email", "malfunction": true, "agency_id": firenze}),
    );
    app.patch(&format!("/tickets/{id}"), &own, &json!({"cause": "x"}))
        .problem(403);
    app.patch(&format!("/tickets/{id}"), &stranger, &json!({"cause": "x"}))
        .problem(404);
    app.get("/outbox", &own).problem(403);
    app.get("/outbox", &agent).problem(403);
}

#[test]
fn an_interruption_ends_after_it_starts() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-23T08:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale giù", "channel": "monitoring", "malfunction": true}),
    );
    app.event_ok(&agent, &id, json!({"type": "interruption_start"}));
    let reply = app.event(&agent, &id, json!({"type": "interruption_end"}));
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["at"]);
    app.event(&agent, &id, json!({"type": "interruption_start"}))
        .problem(409);
    app.set_now("2016-06-23T08:00:01Z");
    app.event_ok(&agent, &id, json!({"type": "interruption_end"}));
}

/// The outbox's rows, seen by the admin.
fn outbox(app: &TestApp) -> Vec<Value> {
    let reply = app.get("/outbox", &app.admin);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["items"].as_array().unwrap().clone()
}

#[test]
fn a_refused_notification_writes_no_email() {
    let app = spawn_app_with(test_settings()); // no public-notice address configured
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let silent = app.add_agency_with("XX", &[]);
    let plain = app.open_ticket_id(&agent, json!({"subject": "Password", "channel": "email"}));
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale giù", "channel": "email", "malfunction": true}),
    );
    let notify = json!({"type": "notify_agency", "message": "Interruzione in corso."});

    app.event(&agent, &plain, notify.clone()).problem(409);
    let reply = app.event(&agent, &id, json!({"type": "notify_agency"}));
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["message"]);
    let reply = app.event(&agent, &id, notify.clone());
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["affected_agency_ids"]);
    app.patch(
        &format!("/tickets/{id}"),
        &agent,
        &json!({"affected_agency_ids": [silent]}),
    );
    let reply = app.event(&agent, &id, notify.clone());
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["affected_agency_ids[0]"]);
    // Without public-notice addresses, `notify_users` publishes the notice and writes no
    // e-mail (tests/public_notices.rs follows the notice).
    let told = app.event(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Avviso."}),
    );
    assert_eq!(told.status, 201, "{}", told.body);
    assert_eq!(told.json()["event"]["recipients"], json!(null));
    let stale = app.send(
        "POST",
        &format!("/tickets/{id}/events"),
        Some(&agent),
        &[("If-Match", "\"1\"")],
        Some(&notify.to_string()),
    );
    stale.problem(412);
    assert!(outbox(&app).is_empty(), "refused events wrote e-mails");
    let history = app.get(&format!("/tickets/{id}/events"), &agent).json();
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["type"] != "notify_agency"),
        "{history}"
    );

    // Once the agency has a contact, the same event writes its e-mail with the event.
    let contacts = json!({"contacts": ["urp@xx.example.org"]});
    let agency = app.patch(&format!("/agencies/{silent}"), &app.admin, &contacts);
    assert_eq!(agency.status, 200, "{}", agency.body);
    let event = app.event(&agent, &id, notify).json()["event"].clone();
    let rows = outbox(&app);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["event_id"], event["id"]);
    assert_eq!(rows[0]["recipients"], json!(["urp@xx.example.org"]));
    assert_eq!(event["recipients"], json!(["urp@xx.example.org"]));
}
