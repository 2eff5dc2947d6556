//! What a hostile-but-fair user tried (issue 9), each a regression test through HTTP: a
//! level-1 agent naming a level-2 assignee, spreadsheet formulas in reports, leap seconds,
//! an interruption outliving its ticket's resolution, and the smaller holes beside them.

mod common;

use common::smtp::{SmtpSink, parse};
use common::{TestApp, mail_settings, phone_report, spawn_app, spawn_app_with};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

/// Opens a ticket and escalates it, so that it is `new` at level 2.
fn level_two_ticket(app: &TestApp, first: &str) -> String {
    let id = app.open_ticket_id(first, phone_report("escalated"));
    app.event_ok(first, &id, json!({"type": "take_charge"}));
    app.event_ok(first, &id, json!({"type": "escalate"}));
    id
}

#[test]
fn a_level_one_agent_cannot_take_charge_at_level_two_by_naming_a_level_two_agent() {
    let app = spawn_app();
    let (first_id, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (second_id, second) = app.add_user(Role::Agent, Some(Level::Second), None);
    let id = level_two_ticket(&app, &first);
    let before = app.get(&format!("/tickets/{id}"), &first).json();
    let bypass = app.event(
        &first,
        &id,
        json!({"type": "take_charge", "assignee_id": second_id}),
    );
    assert!(
        bypass.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("level-2 agent")
    );
    let after = app.get(&format!("/tickets/{id}"), &first).json();
    assert_eq!(after["status"], "new");
    assert_eq!(after["version"], before["version"], "nothing was written");

    // A level-2 agent may not name a level-1 agent as the one taking charge either.
    let refused = app.event(
        &second,
        &id,
        json!({"type": "take_charge", "assignee_id": first_id}),
    );
    refused.problem(422);
    assert_eq!(refused.problem_fields(), ["assignee_id"]);
    // Handing the ticket to a level-2 agent is allowed (it stays `new` until taken).
    let assigned = app.event_ok(
        &first,
        &id,
        json!({"type": "assign", "assignee_id": second_id}),
    );
    assert_eq!(assigned["status"], "new");
    let taken = app.event_ok(&second, &id, json!({"type": "take_charge"}));
    assert_eq!(
        (taken["status"].as_str(), taken["level"].as_i64()),
        (Some("open"), Some(2))
    );
}

const FORMULAS: [&str; 4] = ["=cmd|' /C calc'!A0", "+SUM(1,1)", "@evil", "-1+1 cause"];

/// A malfunction of agency FI whose texts are spreadsheet formulas, with an interruption in
/// 2016-Q4; returns FI's id.
fn malfunction_with_formulas(app: &TestApp, agent: &str) -> String {
    let firenze = app.add_agency_with("FI", &["urp@comune.fi.it"]);
    app.set_now("2016-12-01T00:00:00Z");
    let ticket = app.open_ticket(
        agent,
        json!({"subject": FORMULAS[0], "channel": "phone", "malfunction": true,
               "agency_id": firenze, "reported_at": "2016-11-10T08:00:00Z",
               "affected_services": [FORMULAS[1], FORMULAS[2]], "cause": FORMULAS[3]}),
    );
    let id = ticket["id"].as_str().unwrap();
    for event in [
        json!({"type": "interruption_start", "at": "2016-11-10T08:00:00Z"}),
        json!({"type": "interruption_end", "at": "2016-11-10T09:00:00Z"}),
    ] {
        app.event_ok(agent, id, event);
    }
    firenze
}

/// Every cell of a CSV document that a spreadsheet would run as a formula.
fn formula_cells(csv_text: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text);
    reader
        .records()
        .flat_map(|record| {
            record
                .unwrap()
                .iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|cell| {
            cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err()
        })
        .collect()
}

#[test]
fn spreadsheet_formulas_are_neutralised_in_every_csv_and_numbers_stay_numbers() {
    let smtp = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&smtp.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = malfunction_with_formulas(&app, &agent);
    let csv_of = |path: &str| {
        let reply = app.send(
            "GET",
            path,
            Some(&app.admin),
            &[("Accept", "text/csv")],
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    };
    let report = csv_of(&format!(
        "/reports/malfunctions?from=2016-10-01&to=2017-01-01&agency_id={firenze}"
    ));
    assert_eq!(formula_cells(report.as_bytes()), Vec::<String>::new());
    // The services are one cell, `+SUM(1,1), @evil`, which starts with the formula.
    for formula in [FORMULAS[0], FORMULAS[1], FORMULAS[3]] {
        assert!(
            report.contains(&format!("'{formula}")),
            "{formula} is there, neutralised: {report}"
        );
    }
    let sla = csv_of("/reports/sla?from=2016-10-01&to=2017-01-01");
    assert_eq!(formula_cells(sla.as_bytes()), Vec::<String>::new());
    let summary = csv_of("/reports/status-by-level");
    assert!(
        summary.ends_with("total,1,0,1\n"),
        "numbers stay numbers: {summary}"
    );

    // The CSV attached to the e-mailed report is neutralised the same way.
    let delivered = app.post(
        "/reports/malfunctions/deliveries",
        &app.admin,
        &json!({"period": "2016-Q4", "agency_ids": [firenze]}),
    );
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    let mail = parse(&smtp.wait_for(1)[0]);
    let (_, attachment) = &mail.attachments[0];
    assert_eq!(formula_cells(attachment), Vec::<String>::new());
    assert!(String::from_utf8_lossy(attachment).contains("'=cmd|"));
}

#[test]
fn a_leap_second_is_refused_wherever_a_time_is_parsed() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let leap = "2026-11-30T12:59:60+01:00";
    let reply = app.post(
        "/tickets",
        &agent,
        &json!({"subject": "x", "channel": "phone", "reported_at": leap}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["reported_at"]);
    let id = app.open_ticket_id(&agent, phone_report("leap"));
    let reply = app.event(&agent, &id, json!({"type": "take_charge", "at": leap}));
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["at"]);
    let reply = app.post(
        "/calendars/default/deadlines",
        &agent,
        &json!({"items": [{"start": "2016-06-23T15:30:00Z", "seconds": 60},
                          {"start": "2016-12-31T23:59:60Z", "seconds": 60}]}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["items[1].start"]);
    let reply = app.post(
        "/calendars/default/elapsed",
        &agent,
        &json!({"items": [{"from": "2016-12-31T23:59:60Z", "to": "2017-01-01T00:00:00Z"}]}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["items[0].from"]);
    let encoded = "2016-12-31T23%3A59%3A60Z";
    for (path, field) in [
        (format!("/tickets?reported_from={encoded}"), "reported_from"),
        (format!("/reports/sla?to={encoded}"), "to"),
        (format!("/reports/malfunctions?from={encoded}"), "from"),
        (format!("/reports/status-by-level?from={encoded}"), "from"),
        (
            format!("/reports/malfunctions/deliveries?to={encoded}"),
            "to",
        ),
    ] {
        let reply = app.get(&path, &app.admin);
        reply.problem(422);
        assert_eq!(reply.problem_fields(), [field], "{path}");
    }
    let reply = app.post(
        "/reports/malfunctions/deliveries",
        &app.admin,
        &json!({"from": "2016-01-01", "to": "2016-12-31T23:59:60Z"}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["to"]);
}

#[test]
fn paging_newest_first_passes_every_ticket_once() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let mut opened = Vec::new();
    for second in ["58", "59", "59.999999"] {
        opened.push(app.open_ticket_id(
            &agent,
            json!({"subject": "x", "channel": "phone",
                   "reported_at": format!("2026-11-30T11:59:{second}Z")}),
        ));
    }
    opened.push(app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "phone", "reported_at": "2026-11-30T12:00:00Z"}),
    ));
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/tickets?sort=-reported_at&limit=1&cursor={c}"),
            None => "/tickets?sort=-reported_at&limit=1".to_owned(),
        };
        let page = app.get(&path, &agent).json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    opened.reverse();
    assert_eq!(seen, opened, "newest first, each once");
}

#[test]
fn an_interruption_still_open_at_resolution_can_be_ended_afterwards() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    app.set_now("2016-11-10T12:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale giù", "channel": "phone", "malfunction": true,
               "agency_id": firenze, "reported_at": "2016-11-10T08:00:00Z"}),
    );
    app.event_ok(
        &agent,
        &id,
        json!({"type": "take_charge", "at": "2016-11-10T08:05:00Z"}),
    );
    app.event_ok(
        &agent,
        &id,
        json!({"type": "interruption_start", "at": "2016-11-10T08:00:00Z"}),
    );
    let resolved = app.event_ok(
        &agent,
        &id,
        json!({"type": "resolve", "resolution": "Riavviato", "at": "2016-11-10T09:00:00Z"}),
    );
    assert_eq!(resolved["interruption_open"], true);
    assert!(
        resolved["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("interruption_end"))
    );
    let ended = app.event_ok(
        &agent,
        &id,
        json!({"type": "interruption_end", "at": "2016-11-10T09:30:00Z"}),
    );
    assert_eq!(
        (
            ended["status"].as_str(),
            ended["interruption_open"].as_bool()
        ),
        (Some("resolved"), Some(false))
    );
    let report = app
        .get(
            &format!("/reports/malfunctions?from=2016-11-01&to=2016-12-01&agency_id={firenze}"),
            &app.admin,
        )
        .json();
    assert_eq!(report["rows"][0]["ended_at"], "2016-11-10T09:30:00Z");
    assert_eq!(report["rows"][0]["duration_seconds"], 5400);
}

#[test]
fn the_smaller_holes_are_closed() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let agency = app.add_agency("FI");
    let path = format!("/agencies/{agency}");

    // A PATCH that changes nothing keeps the version; `contacts: null` clears the list.
    let version = |reply: &common::Reply| reply.json()["version"].as_i64().unwrap();
    assert_eq!(version(&app.patch(&path, &app.admin, &json!({}))), 1);
    let same = app.patch(&path, &app.admin, &json!({"name": "Comune FI"}));
    assert_eq!(version(&same), 1);
    let cleared = app.patch(&path, &app.admin, &json!({"contacts": null}));
    assert_eq!(cleared.json()["contacts"], json!([]));
    assert_eq!(version(&cleared), 2);
    app.patch(&path, &app.admin, &json!({"name": null}))
        .problem(422);

    // The same closure twice is one closure; the same days for another reason, a conflict.
    let closure = json!({"first_day": "2026-12-07", "reason": "Ponte"});
    let first = app.post("/calendars/default/closures", &app.admin, &closure);
    assert_eq!(first.status, 201, "{}", first.body);
    let again = app.post("/calendars/default/closures", &app.admin, &closure);
    assert_eq!(again.status, 200, "{}", again.body);
    let closures = again.json()["closures"].as_array().unwrap().len();
    assert_eq!(closures, 1);
    app.post(
        "/calendars/default/closures",
        &app.admin,
        &json!({"first_day": "2026-12-07", "reason": "Altro"}),
    )
    .problem(409);

    // An interruption may start before the report, within max_backdate_days (30).
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "phone", "malfunction": true,
               "reported_at": "2016-11-10T08:00:00Z"}),
    );
    for at in ["1970-01-01T00:00:00Z", "2016-10-11T07:59:59Z"] {
        let reply = app.event(&agent, &id, json!({"type": "interruption_start", "at": at}));
        reply.problem(422);
        assert_eq!(reply.problem_fields(), ["at"], "{at}");
    }
    app.event_ok(
        &agent,
        &id,
        json!({"type": "interruption_start", "at": "2016-10-11T08:00:00Z"}),
    );

    // One-line fields refuse line breaks (they become e-mail headers and report rows).
    for body in [
        json!({"subject": "Guasto\r\nBcc: tutti@example.org", "channel": "phone"}),
        json!({"subject": "x", "channel": "phone", "requester": {"name": "Anna\nVerdi"}}),
        json!({"subject": "x", "channel": "phone", "malfunction": true,
               "affected_services": ["PagoPA\r\n"]}),
        // Multi-line texts keep line breaks but no escape sequences for a terminal.
        json!({"subject": "x", "channel": "phone", "description": "\u{1b}[2J\u{1b}[31mrosso"}),
    ] {
        app.post("/tickets", &agent, &body).problem(422);
    }
    // A noncharacter would make the public Atom feed unreadable for every reader.
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Giù\u{ffff}"}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["message"]);
    let reply = app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "F\nI", "name": "Comune"}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["code"]);
    app.post(
        "/users",
        &app.admin,
        &json!({"name": "a\rb", "role": "supervisor"}),
    )
    .problem(422);

    // A field given twice is named, in a body and in a query.
    let reply = app.send(
        "POST",
        "/tickets",
        Some(&agent),
        &[],
        Some(r#"{"subject": "a", "subject": "b", "channel": "phone"}"#),
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["subject"]);
    let reply = app.get("/tickets?limit=1&limit=2", &agent);
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["limit"]);

    // A field that is not the event type's is refused, not stored.
    let ticket = app.open_ticket_id(&agent, phone_report("fields"));
    app.event_ok(&agent, &ticket, json!({"type": "take_charge"}));
    let reply = app.event(
        &agent,
        &ticket,
        json!({"type": "reply", "channel": "phone", "message": "ok", "resolution": "no"}),
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["resolution"]);
    let history = app.get(&format!("/tickets/{ticket}/events"), &agent).json();
    assert_eq!(history["items"].as_array().unwrap().len(), 2);

    let reply = app.post(
        "/reports/malfunctions/deliveries",
        &app.admin,
        &json!({"from": "2017-01-01", "to": "2016-01-01"}),
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["to"]);
    let reply = app.post(
        "/reports/malfunctions/deliveries",
        &app.admin,
        &json!({"from": "2016-01-01", "to": "2016-04-01\r\nBcc: x@example.org"}),
    );
    reply.problem(400);

    // The report endpoints answer alike: `from` after `to` is 400, an unknown agency 404.
    let unknown = uuid::Uuid::new_v4();
    for path in [
        "/reports/malfunctions/deliveries?from=2017-01-01&to=2016-01-01".to_owned(),
        "/reports/status-by-level?from=2017-01-01&to=2016-01-01".to_owned(),
    ] {
        app.get(&path, &app.admin).problem(400);
    }
    for report in [
        "status-by-level",
        "sla",
        "malfunctions",
        "malfunctions/deliveries",
    ] {
        let path = format!("/reports/{report}?agency_id={unknown}");
        let reply: Value = app.get(&path, &app.admin).problem(404);
        assert_eq!(reply["status"], 404, "{path}");
    }
}
