//! Monitoring in (SPEC §9) through HTTP: systems, the generic events, Alertmanager's webhook,
//! check results and maintenance windows; every report idempotent and order-independent.

mod common;

use common::{TestApp, spawn_app};
use diesel::RunQueryDsl;
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

fn put_system(app: &TestApp, code: &str) -> Value {
    let reply = app.send(
        "PUT",
        &format!("/systems/{code}"),
        Some(&app.admin),
        &[],
        Some(
            &json!({"name": format!("Sistema {code}"), "services": ["Anagrafe online"]})
                .to_string(),
        ),
    );
    assert!(matches!(reply.status, 200 | 201), "{}", reply.body);
    reply.json()
}

fn monitor(app: &TestApp) -> String {
    app.add_user(Role::Monitor, None, None).1
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n
}

#[test]
fn admins_define_systems_and_staff_read_them() {
    let app = spawn_app();
    let agency = app.add_agency("FI");
    let body = json!({"name": "Database 1", "services": ["Anagrafe"], "agency_ids": [agency]});
    let created = app.send(
        "PUT",
        "/systems/CSDB1",
        Some(&app.admin),
        &[],
        Some(&body.to_string()),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.json()["agency_ids"][0], agency.as_str());
    let again = app.send(
        "PUT",
        "/systems/CSDB1",
        Some(&app.admin),
        &[],
        Some(&body.to_string()),
    );
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["version"], 1, "nothing changed");
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    assert_eq!(
        app.get("/systems", &agent).json()["items"][0]["code"],
        "CSDB1"
    );
    assert_eq!(
        app.get("/systems/CSDB1", &agent).json()["name"],
        "Database 1"
    );
    let refused = app.send(
        "PUT",
        "/systems/CSDB2",
        Some(&agent),
        &[],
        Some(&body.to_string()),
    );
    refused.problem(403);
    let bad = app.send(
        "PUT",
        "/systems/CSDB2",
        Some(&app.admin),
        &[],
        Some(&json!({"name": "x", "agency_ids": [uuid::Uuid::new_v4()]}).to_string()),
    );
    bad.problem(422);
    assert_eq!(bad.problem_fields(), ["agency_ids"]);
    app.get("/systems/NONE", &agent).problem(404);
    app.get("/systems", &monitor(&app)).problem(403);
}

#[test]
fn an_event_in_the_monitors_words_is_stored_once_at_the_monitors_time() {
    let app = spawn_app();
    put_system(&app, "CSDB1");
    let token = monitor(&app);
    let event = json!({"system": "CSDB1", "state": "CRITICAL", "state_type": "HARD",
        "at": "1466695800", "problem_id": 4711, "output": "CRITICAL - connection refused"});
    let first = app.post("/monitoring/events", &token, &event);
    assert_eq!(first.status, 200, "{}", first.body);
    let stored = first.json();
    assert_eq!(
        (&stored["state"], &stored["at"], &stored["stored"]),
        (&json!("down"), &json!("2016-06-23T15:30:00Z"), &json!(true))
    );
    let second = app.post("/monitoring/events", &token, &event);
    assert_eq!(second.json()["stored"], false);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM monitor_states"), 1);
    let soft = json!({"system": "CSDB1", "state": "OK", "state_type": "soft", "at": 1466695900});
    assert_eq!(
        app.post("/monitoring/events", &token, &soft).json()["hard"],
        false
    );

    let bad = app.post(
        "/monitoring/events",
        &token,
        &json!({"system": "CSDB1", "state": "PENDING", "at": "ieri", "state_type": "x"}),
    );
    bad.problem(422);
    assert_eq!(bad.problem_fields(), ["state", "state_type", "at"]);
    let unknown = app.post(
        "/monitoring/events",
        &token,
        &json!({"system": "NOPE", "state": "OK", "at": 1466695800}),
    );
    unknown.problem(422);
    assert_eq!(unknown.problem_fields(), ["system"]);
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.post("/monitoring/events", &agent, &event).problem(403);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM monitor_states"), 2);
}

fn webhook(alerts: Value) -> Value {
    json!({
        "version": "4",
        "groupKey": "{}/{}:{alertname=\"HostDown\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "helpdesk",
        "groupLabels": {"alertname": "HostDown"},
        "commonLabels": {"alertname": "HostDown", "system": "CSDB1"},
        "commonAnnotations": {"summary": "CSDB1 is down"},
        "externalURL": "http://alertmanager.example.org:9093",
        "alerts": alerts,
    })
}

fn alert(status: &str, starts: &str, ends: &str, fingerprint: &str, system: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": "HostDown", "instance": "csdb1:9100", "system": system},
        "annotations": {"summary": "down"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": fingerprint,
    })
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct AlertRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    fingerprint: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    ends_at: Option<chrono::NaiveDateTime>,
}

fn alerts(app: &TestApp) -> Vec<AlertRow> {
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query("SELECT fingerprint, ends_at FROM monitor_alerts ORDER BY fingerprint")
        .load(&mut *conn)
        .unwrap()
}

const ZERO: &str = "0001-01-01T00:00:00Z";

#[test]
fn alertmanager_firing_then_resolved_duplicated_and_out_of_order_is_one_outage() {
    let app = spawn_app();
    put_system(&app, "CSDB1");
    let token = monitor(&app);
    let firing = alert("firing", "2016-03-01T10:00:00.5Z", ZERO, "3f2a", "CSDB1");
    let resolved = alert(
        "resolved",
        "2016-03-01T10:00:00.5Z",
        "2016-03-01T10:45:00Z",
        "3f2a",
        "CSDB1",
    );
    // The resolution first, then the firing copies an HA pair sends, then the resolution again.
    for body in [
        webhook(json!([resolved])),
        webhook(json!([firing])),
        webhook(json!([firing, firing])),
        webhook(json!([resolved])),
    ] {
        let reply = app.post("/monitoring/alertmanager", &token, &body);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let ended = chrono::NaiveDate::from_ymd_opt(2016, 3, 1).and_then(|d| d.and_hms_opt(10, 45, 0));
    assert_eq!(
        alerts(&app),
        [AlertRow {
            fingerprint: "3f2a".into(),
            ends_at: ended
        }]
    );
}

#[test]
fn a_resolved_alert_whose_firing_never_arrived_is_the_whole_outage() {
    let app = spawn_app();
    put_system(&app, "CSDB1");
    let token = monitor(&app);
    let reply = app.post(
        "/monitoring/alertmanager",
        &token,
        &webhook(json!([
            alert(
                "resolved",
                "2016-03-01T10:00:00Z",
                "2016-03-01T10:20:00Z",
                "a1",
                "CSDB1"
            ),
            alert("firing", "2016-03-01T11:00:00Z", ZERO, "b2", "ELSEWHERE"),
        ])),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(
        (&answer["received"], &answer["stored"]),
        (&json!(2), &json!(1))
    );
    assert_eq!(answer["ignored"][0]["fingerprint"], "b2");
    assert_eq!(alerts(&app).len(), 1);
    assert!(alerts(&app)[0].ends_at.is_some());
}

#[test]
fn a_malformed_webhook_is_a_4xx_naming_the_field() {
    let app = spawn_app();
    let token = monitor(&app);
    let reply = app.post(
        "/monitoring/alertmanager",
        &token,
        &webhook(json!([alert("firing", "yesterday", ZERO, "a1", "CSDB1")])),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["alerts[0].startsAt"]);
    let reply = app.post("/monitoring/alertmanager", &token, &json!({"version": "4"}));
    assert_eq!(reply.problem_fields(), ["alerts"]);
}

#[test]
fn check_results_are_stored_once_and_a_bad_item_stores_nothing() {
    let app = spawn_app();
    put_system(&app, "PORTALE");
    let token = monitor(&app);
    let items: Vec<Value> = (0..100)
        .map(|i| {
            json!({"system": "PORTALE", "at": 1451606400 + i * 60, "state": "OK",
                "perfdata": format!("time=0.00{}s;;;0.000000;10.000000 size=1234B;;;0", i % 8)})
        })
        .collect();
    let reply = app.post(
        "/monitoring/check-results",
        &token,
        &json!({"items": items}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["response_times_stored"], 100);
    let mut reversed = items.clone();
    reversed.reverse();
    let again = app.post(
        "/monitoring/check-results",
        &token,
        &json!({"items": reversed}),
    );
    assert_eq!(
        (
            &again.json()["states_stored"],
            &again.json()["response_times_stored"]
        ),
        (&json!(0), &json!(0))
    );
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM check_results"), 100);

    let mut bad = items.clone();
    bad.push(
        json!({"system": "PORTALE", "at": "2016-01-02T00:00:00Z", "state": "OK", "response_ms": 3}),
    );
    bad.push(json!({"system": "PORTALE", "at": "2016-01-02T00:01:00Z", "state": "OK", "perfdata": "size=1B"}));
    bad.push(json!({"system": "NOPE", "at": "2016-01-02T00:02:00Z", "state": "OK"}));
    bad.push(json!({"system": "PORTALE", "at": "2016-01-02T00:03:00Z", "stato": "OK"}));
    let reply = app.post("/monitoring/check-results", &token, &json!({"items": bad}));
    reply.problem(422);
    assert_eq!(
        reply.problem_fields(),
        ["items[101].perfdata", "items[103].stato"]
    );
    bad.remove(101);
    bad.pop();
    let reply = app.post("/monitoring/check-results", &token, &json!({"items": bad}));
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["items[101].system"]);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM check_results"), 100);

    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"system": "PORTALE", "at": i, "state": "OK"}))
        .collect();
    let reply = app.post(
        "/monitoring/check-results",
        &token,
        &json!({"items": too_many}),
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["items"]);
}

#[test]
fn maintenance_windows_are_listed_and_deleted() {
    let app = spawn_app();
    put_system(&app, "CSDB1");
    let token = monitor(&app);
    let window = json!({"system": "CSDB1", "start": "2016-08-14T22:00:00Z",
        "end": "2016-08-15T02:00:00Z", "reason": "Aggiornamento"});
    let created = app.post("/monitoring/downtimes", &token, &window);
    assert_eq!(created.status, 201, "{}", created.body);
    let again = app.post("/monitoring/downtimes", &token, &window);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], created.json()["id"]);
    let listed = app.get("/monitoring/downtimes?system=CSDB1&from=2016-08-01", &token);
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 1);
    let none = app.get("/monitoring/downtimes?to=2016-08-01", &token);
    assert_eq!(none.json()["items"], json!([]));
    let backwards = app.post(
        "/monitoring/downtimes",
        &token,
        &json!({"system": "CSDB1", "start": "2016-08-15T02:00:00Z", "end": "2016-08-14T22:00:00Z"}),
    );
    backwards.problem(422);
    assert_eq!(backwards.problem_fields(), ["end"]);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/monitoring/downtimes/{id}");
    assert_eq!(
        app.send("DELETE", &path, Some(&token), &[], None).status,
        204
    );
    app.send("DELETE", &path, Some(&token), &[], None)
        .problem(404);
}
