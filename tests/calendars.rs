//! Calendars through HTTP: holidays, closures and the batch deadline/elapsed endpoints.

mod common;

use common::spawn_app;
use helpdesk::domain::{Level, Role};
use helpdesk::sla::Calendar;
use serde_json::{Value, json};

#[test]
fn batch_endpoints_answer_10000_items_in_order() {
    let app = spawn_app();
    let calendar = Calendar::italian_default();
    let first: chrono::DateTime<chrono::Utc> = "2016-01-01T00:00:00Z".parse().unwrap();
    let starts: Vec<_> = (0..10_000)
        .map(|i| first + chrono::Duration::seconds(i * 3_137))
        .collect();
    let targets = [0i64, 1, 3600, 6 * 3600, 200 * 3600];
    let items: Vec<Value> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"start": s.to_rfc3339(), "seconds": targets[i % targets.len()]}))
        .collect();
    let reply = app.post(
        "/calendars/default/deadlines",
        &app.admin,
        &json!({"items": items}),
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.body[..reply.body.len().min(500)]
    );
    let deadlines = reply.json()["items"].as_array().unwrap().clone();
    assert_eq!(deadlines.len(), 10_000);
    let mut ranges = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let expected = calendar
            .deadline(*start, targets[i % targets.len()])
            .unwrap();
        let got: chrono::DateTime<chrono::Utc> =
            deadlines[i]["deadline"].as_str().unwrap().parse().unwrap();
        assert_eq!(got, expected, "item {i}");
        ranges.push(json!({"from": start.to_rfc3339(), "to": got.to_rfc3339()}));
    }
    let elapsed = app
        .post(
            "/calendars/default/elapsed",
            &app.admin,
            &json!({"items": ranges}),
        )
        .json();
    let seconds: Vec<i64> = elapsed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seconds"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = (0..10_000).map(|i| targets[i % targets.len()]).collect();
    assert_eq!(seconds, expected);

    let bad = app.post(
        "/calendars/default/deadlines",
        &app.admin,
        &json!({"items": [
            {"start": "2016-01-01T00:00:00Z", "seconds": 60},
            {"start": "yesterday", "seconds": 60},
            {"start": "2016-01-01T00:00:00Z", "seconds": -5},
            {"seconds": 1},
        ]}),
    );
    bad.problem(400);
    assert_eq!(
        bad.problem_fields(),
        ["items[1].start", "items[2].seconds", "items[3].start"]
    );
    let too_many: Vec<Value> = (0..10_001)
        .map(|_| json!({"start": "2016-01-01T00:00:00Z", "seconds": 1}))
        .collect();
    let reply = app.post(
        "/calendars/default/deadlines",
        &app.admin,
        &json!({"items": too_many}),
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["items"]);
    app.post(
        "/calendars/lunar/deadlines",
        &app.admin,
        &json!({"items": []}),
    )
    .problem(404);
}

#[test]
fn calendars_show_holidays_and_take_closures_from_admins() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let calendars = app.get("/calendars", &agent).json();
    let names: Vec<&str> = calendars["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["24x7", "default"]);
    let default = app.get("/calendars/default", &agent).json();
    assert_eq!(default["time_zone"], "Europe/Rome");
    assert_eq!(
        default["week"][0],
        json!({"day": "monday", "hours": [{"open": "08:00", "close": "18:00"}]})
    );
    let holidays = app
        .get("/calendars/default/holidays?year=2016", &agent)
        .json();
    let dates: Vec<&str> = holidays["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["date"].as_str().unwrap())
        .collect();
    assert!(
        dates.contains(&"2016-03-28") && dates.contains(&"2016-06-24"),
        "{dates:?}"
    );
    assert_eq!(dates.len(), 12);
    let with_francesco = app
        .get("/calendars/default/holidays?year=2026", &agent)
        .json();
    assert_eq!(with_francesco["items"].as_array().unwrap().len(), 13);
    app.get("/calendars/default/holidays?year=1066", &agent)
        .problem(400);

    let closure = json!({"first_day": "2016-12-09", "reason": "Ponte dell'Immacolata"});
    app.post("/calendars/default/closures", &agent, &closure)
        .problem(403);
    let reply = app.post("/calendars/default/closures", &app.admin, &closure);
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.json()["closures"][0]["reason"],
        "Ponte dell'Immacolata"
    );
    let holidays = app
        .get("/calendars/default/holidays?year=2016", &agent)
        .json();
    assert!(
        holidays["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["date"] == "2016-12-09" && h["kind"] == "closure")
    );
    // Thursday 8 December is a holiday and Friday 9 now closed: Monday 12 it is.
    let deadline = app
        .post(
            "/calendars/default/deadlines",
            &agent,
            &json!({"items": [{"start": "2016-12-07T16:30:00Z", "seconds": 3600}]}),
        )
        .json();
    assert_eq!(deadline["items"][0]["deadline"], "2016-12-12T07:30:00Z");
    let bad = app.post(
        "/calendars/default/closures",
        &app.admin,
        &json!({"first_day": "2016-12-09", "last_day": "2016-12-01", "reason": "x"}),
    );
    bad.problem(422);
    assert_eq!(bad.problem_fields(), ["last_day"]);
    app.post("/calendars/24x7/closures", &app.admin, &closure)
        .problem(409);
}
