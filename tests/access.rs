//! Roles: who may read and write what. An agency sees only its own agency's data, and the
//! malfunctions that affect it.

mod common;

use common::{phone_report, spawn_app, spawn_app_with};
use helpdesk::domain::{Level, Role};
use serde_json::json;

#[test]
fn agency_reads_only_its_own_tickets_and_cannot_write() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FIE");
    let (_, firenze_user) = app.add_user(Role::Agency, None, Some(&firenze));
    let own = app.open_ticket(
        &agent,
        json!({"subject": "own", "channel": "phone", "agency_id": firenze}),
    );
    let other = app.open_ticket(
        &agent,
        json!({"subject": "other", "channel": "phone", "agency_id": fiesole}),
    );
    let unassigned = app.open_ticket(&agent, phone_report("no agency"));
    let (own_id, other_id) = (own["id"].as_str().unwrap(), other["id"].as_str().unwrap());

    assert_eq!(
        app.get(&format!("/tickets/{own_id}"), &firenze_user).status,
        200
    );
    assert_eq!(
        app.get(&format!("/tickets/{own_id}/events"), &firenze_user)
            .status,
        200
    );
    // 404, not 403: another agency's ticket does not exist for it.
    app.get(&format!("/tickets/{other_id}"), &firenze_user)
        .problem(404);
    app.get(&format!("/tickets/{other_id}/events"), &firenze_user)
        .problem(404);
    app.get(
        &format!("/tickets/{}", unassigned["id"].as_str().unwrap()),
        &firenze_user,
    )
    .problem(404);
    app.event(
        &firenze_user,
        other_id,
        json!({"type": "comment", "message": "x"}),
    )
    .problem(404);

    app.event(&firenze_user, own_id, json!({"type": "take_charge"}))
        .problem(403);
    app.post("/tickets", &firenze_user, &phone_report("write"))
        .problem(403);
    app.post(
        "/agencies",
        &firenze_user,
        &json!({"code": "X", "name": "X"}),
    )
    .problem(403);

    let listed = app.get("/tickets", &firenze_user).json();
    let subjects: Vec<_> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["own"]);
    app.get(&format!("/tickets?agency_id={fiesole}"), &firenze_user)
        .problem(403);
    app.get(
        &format!("/reports/status-by-level?agency_id={fiesole}"),
        &firenze_user,
    )
    .problem(403);
    let summary = app.get("/reports/status-by-level", &firenze_user).json();
    assert_eq!(
        summary["totals"]["total"], 1,
        "the summary counts its own tickets only"
    );

    let agencies = app.get("/agencies", &firenze_user).json();
    assert_eq!(agencies["items"].as_array().unwrap().len(), 1);
    app.get(&format!("/agencies/{fiesole}"), &firenze_user)
        .problem(404);
    app.get("/users", &firenze_user).problem(403);
}

#[test]
fn every_endpoint_wants_a_valid_token() {
    let app = spawn_app();
    let id = uuid::Uuid::new_v4();
    let paths = [
        ("GET", "/tickets".to_owned()),
        ("POST", "/tickets".to_owned()),
        ("GET", format!("/tickets/{id}")),
        ("GET", format!("/tickets/{id}/events")),
        ("POST", format!("/tickets/{id}/events")),
        ("GET", "/agencies".to_owned()),
        ("POST", "/agencies".to_owned()),
        ("GET", format!("/agencies/{id}")),
        ("PATCH", format!("/agencies/{id}")),
        ("GET", "/users".to_owned()),
        ("POST", "/users".to_owned()),
        ("GET", format!("/users/{id}")),
        ("GET", "/reports/status-by-level".to_owned()),
    ];
    for (method, path) in &paths {
        for token in [None, Some("hd_not-a-real-token")] {
            let body = (*method != "GET").then_some("{}");
            let reply = app.send(method, path, token, &[], body);
            reply.problem(401);
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Bearer"),
                "{method} {path}"
            );
        }
    }
    for path in ["/status", "/openapi.json"] {
        assert_eq!(app.send("GET", path, None, &[], None).status, 200, "{path}");
    }
}

#[test]
fn roles_are_checked_on_users_agencies_and_reports() {
    let app = spawn_app();
    let (agent_id, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, supervisor) = app.add_user(Role::Supervisor, None, None);
    app.post("/users", &agent, &json!({"name": "x", "role": "admin"}))
        .problem(403);
    app.post(
        "/users",
        &supervisor,
        &json!({"name": "x", "role": "admin"}),
    )
    .problem(403);
    app.get("/users", &agent).problem(403);
    assert_eq!(
        app.get(&format!("/users/{agent_id}"), &agent).status,
        200,
        "users read themselves"
    );
    app.post("/agencies", &agent, &json!({"code": "X", "name": "X"}))
        .problem(403);
    assert_eq!(
        app.post("/agencies", &supervisor, &json!({"code": "X", "name": "X"}))
            .status,
        201
    );
    app.get("/reports/status-by-level", &agent).problem(403);
    assert_eq!(app.get("/reports/status-by-level", &supervisor).status, 200);
}

#[test]
fn agencies_are_created_patched_with_if_match_and_unique_by_code() {
    let app = spawn_app();
    let id = app.add_agency("SCA");
    let path = format!("/agencies/{id}");
    let patch = json!({"contacts": ["urp@scandicci.example.org", "sindaco@scandicci.example.org"]})
        .to_string();
    let changed = app.send(
        "PATCH",
        &path,
        Some(&app.admin),
        &[("If-Match", "\"1\"")],
        Some(&patch),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["contacts"].as_array().unwrap().len(), 2);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    let stale = app.send(
        "PATCH",
        &path,
        Some(&app.admin),
        &[("If-Match", "\"1\"")],
        Some(&patch),
    );
    stale.problem(412);
    let bad = app.send(
        "PATCH",
        &path,
        Some(&app.admin),
        &[],
        Some(r#"{"contacts": ["not an address"]}"#),
    );
    bad.problem(422);
    assert_eq!(bad.problem_fields(), ["contacts[0]"]);
    app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "SCA", "name": "again"}),
    )
    .problem(409);
    assert_eq!(app.get(&path, &app.admin).json()["name"], "Comune SCA");
}

#[test]
fn agencies_do_not_read_internal_notes() {
    let app = spawn_app();
    let firenze = app.add_agency("FI");
    let (_, firenze_user) = app.add_user(Role::Agency, None, Some(&firenze));
    let id = app.open_ticket_id(
        &app.admin,
        json!({"subject": "x", "channel": "phone", "agency_id": firenze}),
    );
    app.event_ok(
        &app.admin,
        &id,
        json!({"type": "comment", "message": "nota interna: il fornitore è in ritardo"}),
    );
    app.event_ok(&app.admin, &id, json!({"type": "take_charge"}));
    let staff: Vec<String> = app.get(&format!("/tickets/{id}/events"), &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(staff, ["created", "comment", "take_charge"]);
    let agency: Vec<String> = app
        .get(&format!("/tickets/{id}/events"), &firenze_user)
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(agency, ["created", "take_charge"]);
    app.get("/calendars", &firenze_user).problem(403);
}

#[test]
fn an_agency_reads_the_malfunctions_that_affect_it_and_not_the_others() {
    let app = spawn_app_with(common::mail_settings(""));
    let firenze = app.add_agency_with("FI", &["uffici@fi.example"]);
    let prato = app.add_agency_with("PO", &["uffici@po.example"]);
    let pisa = app.add_agency("PI");
    let (_, firenze_user) = app.add_user(Role::Agency, None, Some(&firenze));
    // Reported by Pisa's office, affecting Firenze and Prato.
    let hitting = app.open_ticket_id(
        &app.admin,
        json!({"subject": "Portale giù", "channel": "phone", "malfunction": true,
               "agency_id": pisa, "description": "Chiama Mario dal 3331234567",
               "requester": {"name": "Mario Rossi", "email": "mario@pi.example", "phone": "050 1"}}),
    );
    app.event_ok(&app.admin, &hitting, json!({"type": "take_charge"}));
    app.event_ok(
        &app.admin,
        &hitting,
        json!({"type": "reply", "channel": "phone", "message": "Gentile sig. Rossi, ci lavoriamo"}),
    );
    let patched = app.patch(
        &format!("/tickets/{hitting}"),
        &app.admin,
        &json!({"affected_agency_ids": [firenze, prato]}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    app.event_ok(
        &app.admin,
        &hitting,
        json!({"type": "comment", "message": "nota interna"}),
    );
    app.event_ok(
        &app.admin,
        &hitting,
        json!({"type": "notify_agency", "message": "Portale giù", "service": "Portale"}),
    );
    // Affecting only Prato.
    let elsewhere = app.open_ticket_id(
        &app.admin,
        json!({"subject": "Protocollo giù", "channel": "phone", "malfunction": true}),
    );
    let patched = app.patch(
        &format!("/tickets/{elsewhere}"),
        &app.admin,
        &json!({"affected_agency_ids": [prato]}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let own = app.open_ticket_id(
        &app.admin,
        json!({"subject": "Nostro", "channel": "phone", "agency_id": firenze,
               "requester": {"name": "Anna Bianchi"}}),
    );

    let read = app.get(&format!("/tickets/{hitting}"), &firenze_user);
    assert_eq!(read.status, 200, "{}", read.body);
    for private in ["Mario Rossi", "mario@pi.example", "050 1", "3331234567"] {
        assert!(!read.body.contains(private), "{private} in {}", read.body);
    }
    app.get(&format!("/tickets/{elsewhere}"), &firenze_user)
        .problem(404);
    app.get(&format!("/tickets/{elsewhere}/events"), &firenze_user)
        .problem(404);
    let own_read = app.get(&format!("/tickets/{own}"), &firenze_user).json();
    assert_eq!(
        own_read["requester"]["name"], "Anna Bianchi",
        "its own requester it sees"
    );

    let history = app.get(&format!("/tickets/{hitting}/events"), &firenze_user);
    assert_eq!(history.status, 200);
    assert!(!history.body.contains("nota interna"), "{}", history.body);
    assert!(
        !history.body.contains("uffici@po.example"),
        "another agency's contact"
    );

    let listed: Vec<String> = app.get("/tickets?limit=100", &firenze_user).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        listed.contains(&hitting) && listed.contains(&own),
        "{listed:?}"
    );
    assert!(!listed.contains(&elsewhere), "{listed:?}");
    let own_only: Vec<String> = app
        .get(&format!("/tickets?agency_id={firenze}"), &firenze_user)
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(own_only, std::slice::from_ref(&own));

    // Read-only all the same.
    let write = app.event(
        &firenze_user,
        &hitting,
        json!({"type": "comment", "message": "x"}),
    );
    assert_eq!(write.status, 403, "{}", write.body);
    let patch = app.patch(
        &format!("/tickets/{hitting}"),
        &firenze_user,
        &json!({"cause": "x"}),
    );
    assert_eq!(patch.status, 403, "{}", patch.body);
}
