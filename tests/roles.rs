//! Every endpoint against every role, at the edge of what each may do: one table, one row per
//! endpoint, the status each caller gets. A refusal writes nothing.

mod common;

use common::{TestApp, spawn_app};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

/// The callers, in the table's column order.
const CALLERS: [&str; 6] = [
    "admin",
    "supervisor",
    "agent-1",
    "agent-2",
    "agency",
    "stranger",
];

struct Setup {
    app: TestApp,
    tokens: Vec<String>,
    ticket: String,
    other_user: String,
    agency: String,
    outbox_id: String,
}

/// Agencies FI (the agency user's) and FS; a malfunction of FI with one e-mail in the
/// outbox; one user of each kind, plus an agency user of FS (the stranger).
fn setup() -> Setup {
    let app = spawn_app();
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FS");
    let (_, supervisor) = app.add_user(Role::Supervisor, None, None);
    let (other_user, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, second) = app.add_user(Role::Agent, Some(Level::Second), None);
    let (_, own) = app.add_user(Role::Agency, None, Some(&firenze));
    let (_, stranger) = app.add_user(Role::Agency, None, Some(&fiesole));
    let ticket = app.open_ticket_id(
        &first,
        json!({"subject": "Portale giù", "channel": "phone", "malfunction": true,
               "agency_id": firenze}),
    );
    app.event_ok(&first, &ticket, json!({"type": "take_charge"}));
    app.event_ok(
        &first,
        &ticket,
        json!({"type": "notify_agency", "message": "Stiamo intervenendo."}),
    );
    let outbox = app
        .get(&format!("/outbox?ticket_id={ticket}"), &app.admin)
        .json();
    let outbox_id = outbox["items"][0]["id"].as_str().unwrap().to_owned();
    Setup {
        tokens: vec![app.admin.clone(), supervisor, first, second, own, stranger],
        app,
        ticket,
        other_user,
        agency: firenze,
        outbox_id,
    }
}

#[test]
fn every_role_gets_what_it_may_and_no_more() {
    let s = setup();
    let (t, a, u, o) = (&s.ticket, &s.agency, &s.other_user, &s.outbox_id);
    let comment = json!({"type": "comment", "message": "nota"});
    let withdraw = json!({"type": "withdraw_notice"});
    let closure = json!({"first_day": "2026-12-07", "reason": "Ponte"});
    let deadlines = json!({"items": [{"start": "2016-06-23T15:30:00Z", "seconds": 60}]});
    #[rustfmt::skip]
    let table: Vec<(&str, String, Option<Value>, [u16; 6])> = vec![
        //                                                               admin sup  ag-1 ag-2 own  stranger
        ("GET", "/tickets".into(), None,                                [200, 200, 200, 200, 200, 200]),
        ("POST", "/tickets".into(), Some(json!({"subject": "x", "channel": "phone"})),
                                                                        [201, 201, 201, 201, 403, 403]),
        ("GET", format!("/tickets/{t}"), None,                          [200, 200, 200, 200, 200, 404]),
        ("PATCH", format!("/tickets/{t}"), Some(json!({"cause": "x"})), [200, 200, 200, 200, 403, 404]),
        ("POST", format!("/tickets/{t}/events"), Some(comment),         [201, 201, 201, 201, 403, 404]),
        ("GET", format!("/tickets/{t}/events"), None,                   [200, 200, 200, 200, 200, 404]),
        ("GET", format!("/tickets/{t}/sla/SLA.6/explanation"), None,    [200, 200, 200, 200, 200, 404]),
        ("POST", "/agencies".into(), Some(json!({"code": "SC", "name": "Scandicci"})),
                                                                        [201, 409, 403, 403, 403, 403]),
        ("GET", "/agencies".into(), None,                               [200, 200, 200, 200, 200, 200]),
        ("GET", format!("/agencies/{a}"), None,                         [200, 200, 200, 200, 200, 404]),
        ("PATCH", format!("/agencies/{a}"), Some(json!({"name": "Comune di Firenze"})),
                                                                        [200, 200, 403, 403, 403, 403]),
        ("POST", "/users".into(), Some(json!({"name": "N", "role": "supervisor"})),
                                                                        [201, 403, 403, 403, 403, 403]),
        ("GET", "/users".into(), None,                                  [200, 403, 403, 403, 403, 403]),
        ("GET", format!("/users/{u}"), None,                            [200, 404, 200, 404, 404, 404]),
        ("GET", "/calendars".into(), None,                              [200, 200, 200, 200, 403, 403]),
        ("GET", "/calendars/default".into(), None,                      [200, 200, 200, 200, 403, 403]),
        ("GET", "/calendars/default/holidays?year=2016".into(), None,   [200, 200, 200, 200, 403, 403]),
        ("POST", "/calendars/default/closures".into(), Some(closure),   [201, 403, 403, 403, 403, 403]),
        ("POST", "/calendars/default/deadlines".into(), Some(deadlines),[200, 200, 200, 200, 403, 403]),
        ("GET", "/reports/status-by-level".into(), None,                [200, 200, 403, 403, 200, 200]),
        ("GET", format!("/reports/sla?agency_id={a}"), None,            [200, 200, 403, 403, 200, 403]),
        ("GET", format!("/reports/malfunctions?agency_id={a}"), None,   [200, 200, 403, 403, 200, 403]),
        ("GET", "/reports/malfunctions/deliveries".into(), None,        [200, 200, 403, 403, 200, 200]),
        ("POST", "/reports/malfunctions/deliveries".into(), Some(json!({"period": "2016-Q4"})),
                                                                        [200, 200, 403, 403, 403, 403]),
        ("GET", "/outbox".into(), None,                                 [200, 200, 403, 403, 403, 403]),
        ("GET", format!("/outbox/{o}"), None,                           [200, 200, 403, 403, 403, 403]),
        ("POST", format!("/outbox/{o}/retry"), None,                    [409, 403, 403, 403, 403, 403]),
        // No notice to withdraw (409) for those who may; the others are refused first.
        ("POST", format!("/tickets/{t}/events"), Some(withdraw),        [409, 409, 403, 403, 403, 404]),
        // The public outputs are everyone's, with a token or without.
        ("GET", "/public/notices".into(), None,                         [200, 200, 200, 200, 200, 200]),
        ("GET", "/public/notices.atom".into(), None,                    [200, 200, 200, 200, 200, 200]),
        ("GET", "/status-page".into(), None,                            [200, 200, 200, 200, 200, 200]),
    ];
    for (method, path, body, expected) in &table {
        // Callers run in column order: the supervisor's `SC` comes after the admin's (409).
        for (caller, (token, status)) in CALLERS.iter().zip(s.tokens.iter().zip(expected)) {
            let body = body.as_ref().map(Value::to_string);
            let reply = s.app.send(method, path, Some(token), &[], body.as_deref());
            assert_eq!(
                reply.status, *status,
                "{method} {path} as {caller}: {}",
                reply.body
            );
            if reply.status >= 400 {
                reply.problem(reply.status);
            }
        }
    }
    // A refused write wrote nothing: the ticket has the admin's and the staff's four
    // comments and patches only.
    let history = s
        .app
        .get(&format!("/tickets/{t}/events"), &s.app.admin)
        .json();
    let comments = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "comment")
        .count();
    assert_eq!(comments, 4, "one per staff caller");
}
