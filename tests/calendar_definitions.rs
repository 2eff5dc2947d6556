//! Calendars administrators define (issue 10): through the API and the configuration file,
//! a split day exact across daylight saving and Easter, an agency's own office hours, and
//! every bad definition refused naming its field. Through HTTP, both backends.

mod common;

use common::calendars::{deadline, followed, settings};
use common::{sla_clock, spawn_app_with};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

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

    // Which calendar an agency's SLAs count in is an administrator's to say.
    let (_, supervisor) = app.add_user(Role::Supervisor, None, None);
    app.patch(
        &format!("/agencies/{agency}"),
        &supervisor,
        &json!({"calendar": null}),
    )
    .problem(403);
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
    // Defined again, it is a new calendar whose versions go on from the removed one's.
    let again = app.send(
        "PUT",
        "/calendars/milano",
        Some(&app.admin),
        &[],
        Some(&body.to_string()),
    );
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(
        again.json()["version"].as_i64().unwrap() > 2,
        "{}",
        again.body
    );
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
    assert_eq!(
        again.json()["version"],
        read["version"],
        "the same definition is no change"
    );
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
