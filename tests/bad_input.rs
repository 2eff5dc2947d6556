//! A table of bad inputs: each gets a 4xx problem+json naming the field, and writes nothing.

mod common;

use common::{phone_report, spawn_app};
use helpdesk::domain::{Level, Role};
use serde_json::json;

#[test]
fn bad_ticket_bodies_name_their_field() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let huge = "x".repeat(201);
    let cases: Vec<(String, u16, &str)> = vec![
        (json!({"channel": "phone"}).to_string(), 422, "subject"),
        (json!({"subject": "x"}).to_string(), 422, "channel"),
        (
            json!({"subject": "   ", "channel": "phone"}).to_string(),
            422,
            "subject",
        ),
        (
            json!({"subject": 42, "channel": "phone"}).to_string(),
            400,
            "subject",
        ),
        (
            json!({"subject": "x", "channel": "fax"}).to_string(),
            400,
            "channel",
        ),
        (
            json!({"subject": "x", "channel": 3}).to_string(),
            400,
            "channel",
        ),
        (
            json!({"subject": huge, "channel": "phone"}).to_string(),
            422,
            "subject",
        ),
        (
            json!({"subject": "x", "channel": "phone", "description": "y".repeat(20_001)})
                .to_string(),
            422,
            "description",
        ),
        (
            json!({"subject": "x", "channel": "phone", "reported_at": "yesterday"}).to_string(),
            400,
            "reported_at",
        ),
        (
            json!({"subject": "x", "channel": "phone", "reported_at": "2016-02-30T10:00:00Z"})
                .to_string(),
            400,
            "reported_at",
        ),
        (
            json!({"subject": "x", "channel": "phone", "reported_at": 1466695800}).to_string(),
            400,
            "reported_at",
        ),
        (
            json!({"subject": "x", "channel": "phone", "agency_id": "not-a-uuid"}).to_string(),
            400,
            "agency_id",
        ),
        (
            json!({"subject": "x", "channel": "phone", "agency_id": uuid::Uuid::new_v4()})
                .to_string(),
            422,
            "agency_id",
        ),
        (
            json!({"subject": "x", "channel": "phone", "malfunction": "yes"}).to_string(),
            400,
            "malfunction",
        ),
        (
            json!({"subject": "x", "channel": "phone", "requester": {"email": "nope"}}).to_string(),
            422,
            "requester.email",
        ),
        (
            json!({"subject": "x", "channel": "phone", "requester": {"email": 7}}).to_string(),
            400,
            "requester.email",
        ),
        (
            json!({"subject": "x", "channel": "phone", "requester": {"fax": "1"}}).to_string(),
            400,
            "requester.fax",
        ),
        (
            json!({"subject": "x", "channel": "phone", "priority": "high"}).to_string(),
            400,
            "priority",
        ),
        ("{\"subject\": \"x\", \"channel\": ".to_owned(), 400, "body"),
        ("[]".to_owned(), 400, "body"),
        (String::new(), 400, "body"),
    ];
    for (body, status, field) in &cases {
        let reply = app.send("POST", "/tickets", Some(&agent), &[], Some(body));
        reply.problem(*status);
        assert!(
            reply.problem_fields().iter().any(|f| f == field),
            "{body:.80} should name {field}: {}",
            reply.body
        );
    }
    let listed = app.get("/tickets", &agent).json();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );
}

#[test]
fn bad_event_bodies_and_paths_name_their_field() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.open_ticket_id(&agent, phone_report("events"));
    app.event_ok(&agent, &id, json!({"type": "take_charge"}));
    let cases = vec![
        (json!({}), 422, "type"),
        (json!({"type": "teleport"}), 400, "type"),
        (json!({"type": "created"}), 422, "type"),
        (json!({"type": "reply", "message": "ok"}), 422, "channel"),
        (
            json!({"type": "reply", "channel": "fax", "message": "ok"}),
            400,
            "channel",
        ),
        (json!({"type": "reply", "channel": "email"}), 422, "message"),
        (
            json!({"type": "comment", "message": "z".repeat(10_001)}),
            422,
            "message",
        ),
        (json!({"type": "resolve"}), 422, "resolution"),
        (json!({"type": "close_not_in_scope"}), 422, "reason"),
        (json!({"type": "assign"}), 422, "assignee_id"),
        (
            json!({"type": "assign", "assignee_id": "bob"}),
            400,
            "assignee_id",
        ),
        (
            json!({"type": "comment", "message": "x", "at": "2016-13-01T00:00:00Z"}),
            400,
            "at",
        ),
        (
            json!({"type": "comment", "message": "x", "at": "not a time"}),
            400,
            "at",
        ),
        (
            json!({"type": "comment", "message": "x", "color": "red"}),
            400,
            "color",
        ),
    ];
    for (body, status, field) in &cases {
        let reply = app.event(&agent, &id, body.clone());
        reply.problem(*status);
        assert!(
            reply.problem_fields().iter().any(|f| f == field),
            "{body} should name {field}: {}",
            reply.body
        );
    }
    let history = app.get(&format!("/tickets/{id}/events"), &agent).json();
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        2,
        "refused events leave no trace"
    );

    let paths = [
        ("GET", "/tickets/not-a-uuid", "id"),
        ("GET", "/tickets/123/events", "id"),
        ("POST", "/tickets/xyz/events", "id"),
        ("GET", "/agencies/zzz", "id"),
        ("GET", "/users/1", "id"),
    ];
    for (method, path, field) in paths {
        let body = (method == "POST").then_some(r#"{"type": "comment", "message": "x"}"#);
        let reply = app.send(method, path, Some(&agent), &[], body);
        reply.problem(400);
        assert_eq!(reply.problem_fields(), [field], "{method} {path}");
    }
}

#[test]
fn bad_query_parameters_name_their_field() {
    let app = spawn_app();
    let cases = [
        ("/tickets?status=lost", "status"),
        ("/tickets?level=3", "level"),
        ("/tickets?level=one", "level"),
        ("/tickets?limit=0", "limit"),
        ("/tickets?limit=201", "limit"),
        ("/tickets?limit=-1", "limit"),
        ("/tickets?agency_id=42", "agency_id"),
        ("/tickets?assignee_id=me", "assignee_id"),
        ("/tickets?reported_from=last-week", "reported_from"),
        ("/tickets?reported_to=2016-02-31", "reported_to"),
        ("/tickets?sort=priority", "sort"),
        ("/tickets?cursor=%%%", "cursor"),
        ("/tickets?cursor=bm9wZQ", "cursor"),
        ("/tickets?colour=red", "colour"),
        ("/reports/status-by-level?from=2016-13-01", "from"),
        ("/reports/status-by-level?to=soon", "to"),
        (
            "/reports/status-by-level?from=2017-01-01&to=2016-01-01",
            "to",
        ),
        ("/reports/status-by-level?agency_id=FI", "agency_id"),
    ];
    for (path, field) in cases {
        let reply = app.get(path, &app.admin);
        reply.problem(400);
        assert_eq!(reply.problem_fields(), [field], "{path}");
    }
}

#[test]
fn bad_user_and_agency_bodies_name_their_field() {
    let app = spawn_app();
    let cases = [
        ("/users", json!({"role": "agent", "level": 1}), 422, "name"),
        ("/users", json!({"name": "x"}), 422, "role"),
        ("/users", json!({"name": "x", "role": "boss"}), 400, "role"),
        (
            "/users",
            json!({"name": "x", "role": "agent"}),
            422,
            "level",
        ),
        (
            "/users",
            json!({"name": "x", "role": "agent", "level": 3}),
            422,
            "level",
        ),
        (
            "/users",
            json!({"name": "x", "role": "admin", "level": 1}),
            422,
            "level",
        ),
        (
            "/users",
            json!({"name": "x", "role": "agency"}),
            422,
            "agency_id",
        ),
        (
            "/users",
            json!({"name": "x", "role": "agency", "agency_id": uuid::Uuid::new_v4()}),
            422,
            "agency_id",
        ),
        ("/agencies", json!({"name": "x"}), 422, "code"),
        ("/agencies", json!({"code": "x"}), 422, "name"),
        (
            "/agencies",
            json!({"code": "x", "name": "y", "contacts": "a@b.it"}),
            400,
            "contacts",
        ),
        (
            "/agencies",
            json!({"code": "x", "name": "y", "contacts": ["a@b.it", "bad"]}),
            422,
            "contacts[1]",
        ),
    ];
    for (path, body, status, field) in cases {
        let reply = app.post(path, &app.admin, &body);
        reply.problem(status);
        assert!(
            reply.problem_fields().iter().any(|f| f == field),
            "{path} {body} should name {field}: {}",
            reply.body
        );
    }
    assert_eq!(
        app.get("/agencies", &app.admin).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        app.get("/users", &app.admin).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app();
    let body = json!({"subject": "x", "channel": "phone", "description": "y".repeat(300 * 1024)})
        .to_string();
    app.send("POST", "/tickets", Some(&app.admin), &[], Some(&body))
        .problem(413);
}

#[test]
fn nul_characters_and_out_of_range_instants_are_refused_on_both_backends() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let cases = [
        (
            json!({"subject": "nul \u{0000} byte", "channel": "phone"}),
            422,
            "subject",
        ),
        (
            json!({"subject": "x", "channel": "phone", "requester": {"name": "a\u{0000}"}}),
            422,
            "requester.name",
        ),
        (
            json!({"subject": "x", "channel": "phone", "reported_at": "1969-12-31T23:59:59Z"}),
            422,
            "reported_at",
        ),
        (
            // RFC 3339 years have four digits; chrono's extended years are not instants here.
            json!({"subject": "x", "channel": "phone", "reported_at": "+10000-01-01T00:00:00Z"}),
            400,
            "reported_at",
        ),
    ];
    for (body, status, field) in cases {
        let reply = app.post("/tickets", &agent, &body);
        reply.problem(status);
        assert_eq!(reply.problem_fields(), [field], "{body}");
    }
    let id = app.open_ticket_id(&agent, phone_report("nul"));
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "comment", "message": "nul\u{0000}"}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["message"]);
    let any_version = app.send(
        "POST",
        &format!("/tickets/{id}/events"),
        Some(&agent),
        &[("If-Match", "*")],
        Some(&json!({"type": "take_charge"}).to_string()),
    );
    assert_eq!(any_version.status, 201, "If-Match: * matches any version");
}

#[test]
fn instants_outside_the_stored_range_are_refused() {
    use base64::Engine;
    let app = spawn_app();
    let id = app.open_ticket_id(
        &app.admin,
        json!({"subject": "x", "channel": "phone", "malfunction": true}),
    );
    let reply = app.event(
        &app.admin,
        &id,
        json!({"type": "interruption_start", "at": "-5000-01-01T00:00:00Z"}),
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["at"]);
    let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("a|-8000000000000000000|{}", uuid::Uuid::new_v4()));
    let reply = app.get(&format!("/tickets?cursor={cursor}"), &app.admin);
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["cursor"]);
}
