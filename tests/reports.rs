//! The SLA compliance table and the malfunction report through HTTP, with figures worked
//! out by hand here.

mod common;

use common::{TestApp, spawn_app};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

fn row<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {report}"))
}

/// Opens a ticket reported at `reported_at` (for `agency`) and takes charge of it `minutes`
/// later (if given); returns its id.
fn ticket(
    app: &TestApp,
    agent: &str,
    agency: &str,
    reported_at: &str,
    minutes: Option<i64>,
) -> String {
    let id = app.open_ticket_id(
        agent,
        json!({"subject": "Accesso al portale", "channel": "email", "agency_id": agency, "reported_at": reported_at}),
    );
    if let Some(minutes) = minutes {
        let at: chrono::DateTime<chrono::Utc> = reported_at.parse().unwrap();
        let at = (at + chrono::Duration::minutes(minutes)).to_rfc3339();
        app.event_ok(agent, &id, json!({"type": "take_charge", "at": at}));
    }
    id
}

#[test]
fn sla_compliance_figures_are_those_worked_out_by_hand() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FS");
    // Monday 25 January 2016, office hours 08:00-18:00 CET (07:00-17:00Z); "now" is 16:00Z.
    app.set_now("2016-01-25T16:00:00Z");
    ticket(&app, &agent, &firenze, "2016-01-25T08:00:00Z", Some(10)); // SLA.6 met, 600 s
    ticket(&app, &agent, &firenze, "2016-01-25T09:00:00Z", Some(20)); // met, 1200 s
    ticket(&app, &agent, &fiesole, "2016-01-25T10:00:00Z", Some(30)); // met, 1800 s
    ticket(&app, &agent, &firenze, "2016-01-25T11:00:00Z", Some(50)); // met, 3000 s
    ticket(&app, &agent, &firenze, "2016-01-25T12:00:00Z", Some(90)); // breached, 5400 s
    ticket(&app, &agent, &firenze, "2016-01-25T15:30:00Z", None); // running: due 16:30Z
    ticket(&app, &agent, &firenze, "2015-12-31T10:00:00Z", Some(5)); // before the period

    let report = app.get("/reports/sla?from=2016-01-01&to=2016-02-01", &app.admin);
    assert_eq!(report.status, 200, "{}", report.body);
    let report = report.json();
    let codes: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "SLA.1", "SLA.2", "SLA.3", "SLA.4", "SLA.5", "SLA.6", "SLA.7", "SLA.8", "SLA.9",
            "SLA.10", "SLA.11"
        ]
    );
    let sla6 = row(&report, "SLA.6");
    assert_eq!(
        (
            sla6["met"].as_i64(),
            sla6["breached"].as_i64(),
            sla6["running"].as_i64()
        ),
        (Some(4), Some(1), Some(1))
    );
    // Sorted: 600 1200 1800 3000 5400. Nearest rank: median = 3rd, p90 = ceil(4.5) = 5th.
    assert_eq!(sla6["median_elapsed_seconds"], 1800);
    assert_eq!(sla6["p90_elapsed_seconds"], 5400);
    assert_eq!(sla6["measured_share"], 0.8);
    assert_eq!(sla6["expected"], "100 %");
    assert_eq!(sla6["measured"], "80 %");
    assert_eq!(sla6["deviation"], "-20 punti");
    // SLA.7 (6 business hours, no replies): due 14:00Z and 15:00Z are past; 16:00Z is now.
    let sla7 = row(&report, "SLA.7");
    assert_eq!(
        (
            sla7["met"].as_i64(),
            sla7["breached"].as_i64(),
            sla7["running"].as_i64()
        ),
        (Some(0), Some(2), Some(4))
    );
    assert_eq!(
        sla7["median_elapsed_seconds"],
        Value::Null,
        "no clock stopped"
    );
    let sla8 = row(&report, "SLA.8");
    assert_eq!(
        (sla8["met"].as_i64(), sla8["measured"].as_str()),
        (Some(0), Some("nessun caso"))
    );
    let sla11 = row(&report, "SLA.11");
    assert_eq!(
        (sla11["expected"].as_str(), sla11["measured"].as_str()),
        (Some("ogni 6 mesi"), Some("nessun report"))
    );
    assert_eq!(sla11["reports_delivered"], 0);

    // One agency: Firenze's tickets only. Sorted 600 1200 3000 5400: median 2nd, p90 4th.
    let own = app
        .get(
            &format!("/reports/sla?from=2016-01-01&to=2016-02-01&agency_id={firenze}"),
            &app.admin,
        )
        .json();
    let sla6 = row(&own, "SLA.6");
    assert_eq!(
        (
            sla6["met"].as_i64(),
            sla6["breached"].as_i64(),
            sla6["running"].as_i64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(sla6["median_elapsed_seconds"], 1200);
    assert_eq!(sla6["p90_elapsed_seconds"], 5400);
    // An agency user gets its own figures, and not another agency's.
    let (_, fiesole_user) = app.add_user(Role::Agency, None, Some(&fiesole));
    let theirs = app
        .get("/reports/sla?from=2016-01-01&to=2016-02-01", &fiesole_user)
        .json();
    assert_eq!(row(&theirs, "SLA.6")["met"], 1);
    app.get(&format!("/reports/sla?agency_id={firenze}"), &fiesole_user)
        .problem(403);

    let csv = app.send(
        "GET",
        "/reports/sla?from=2016-01-01&to=2016-02-01",
        Some(&app.admin),
        &[("Accept", "text/csv")],
        None,
    );
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "code,commitment,expected,measured,deviation,met,breached,running,median_elapsed_seconds,p90_elapsed_seconds,measured_percent,counted_seconds,downtime_seconds,coverage,outages,measured_ms,samples"
        )
    );
    assert!(
        csv.body.contains(",100 %,80 %,'-20 punti,4,1,1,1800,5400,"),
        "{}",
        csv.body
    );
    let html = app.send(
        "GET",
        "/reports/sla?from=2016-01-01&to=2016-02-01",
        Some(&app.admin),
        &[("Accept", "text/html")],
        None,
    );
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        html.body.contains("<th scope=\"row\">SLA.6</th>") && html.body.contains("30 min"),
        "{}",
        html.body
    );
    assert!(
        html.body.contains("dal 01/01/2016 al 31/01/2016"),
        "{}",
        html.body
    );
}

#[test]
fn a_bad_period_is_named() {
    let app = spawn_app();
    let reply = app.get("/reports/sla?from=yesterday", &app.admin);
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["from"]);
    let reply = app.get(
        "/reports/malfunctions?from=2016-02-01&to=2016-01-01",
        &app.admin,
    );
    reply.problem(400);
    assert_eq!(reply.problem_fields(), ["to"]);
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.get("/reports/sla", &agent).problem(403);
}

/// Records `events` (each with its `at`) on a new malfunction of `agency`.
fn malfunction(
    app: &TestApp,
    agent: &str,
    agency: &str,
    reported_at: &str,
    events: &[Value],
) -> String {
    let id = app.open_ticket_id(
        agent,
        json!({"subject": format!("Servizio giù dal {reported_at}"), "channel": "phone", "malfunction": true,
               "agency_id": agency, "reported_at": reported_at, "affected_services": ["Portale"]}),
    );
    for event in events {
        app.event_ok(agent, &id, event.clone());
    }
    id
}

fn number(app: &TestApp, id: &str) -> String {
    app.get(&format!("/tickets/{id}"), &app.admin).json()["number"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_malfunction_report_lists_an_agencys_interruptions_of_the_period_once() {
    let app = common::spawn_app_with(common::mail_settings(""));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FS");
    app.set_now("2017-01-10T00:00:00Z");
    // Within Q4: 90 minutes, the agency told in 10 minutes, the public never.
    let within = malfunction(
        &app,
        &agent,
        &firenze,
        "2016-10-10T08:00:00Z",
        &[
            json!({"type": "interruption_start", "at": "2016-10-10T08:00:00Z"}),
            json!({"type": "start_intervention", "at": "2016-10-10T08:10:00Z"}),
            json!({"type": "notify_agency", "at": "2016-10-10T08:20:00Z", "message": "Portale interrotto."}),
            json!({"type": "interruption_end", "at": "2016-10-10T09:30:00Z"}),
        ],
    );
    app.patch(
        &format!("/tickets/{within}"),
        &agent,
        &json!({"cause": "Disco pieno", "actions_taken": "Spazio liberato"}),
    );
    // Across the start of Q4 (midnight in Rome is 22:00Z): 3 h, 2 of them in Q4.
    let across = malfunction(
        &app,
        &agent,
        &firenze,
        "2016-09-30T21:30:00Z",
        &[
            json!({"type": "interruption_start", "at": "2016-09-30T21:00:00Z"}),
            json!({"type": "start_intervention", "at": "2016-09-30T21:40:00Z"}),
            json!({"type": "interruption_end", "at": "2016-10-01T00:00:00Z"}),
        ],
    );
    // Another agency's, and Firenze's in other quarters: not in the report.
    malfunction(
        &app,
        &agent,
        &fiesole,
        "2016-11-05T10:00:00Z",
        &[
            json!({"type": "interruption_start", "at": "2016-11-05T10:00:00Z"}),
            json!({"type": "interruption_end", "at": "2016-11-05T10:20:00Z"}),
        ],
    );
    malfunction(
        &app,
        &agent,
        &firenze,
        "2016-08-01T10:00:00Z",
        &[
            json!({"type": "interruption_start", "at": "2016-08-01T10:00:00Z"}),
            json!({"type": "interruption_end", "at": "2016-08-01T11:00:00Z"}),
        ],
    );
    malfunction(
        &app,
        &agent,
        &firenze,
        "2017-01-02T10:00:00Z",
        &[json!({"type": "interruption_start", "at": "2017-01-02T10:00:00Z"})],
    );

    let path = format!("/reports/malfunctions?from=2016-10-01&to=2017-01-01&agency_id={firenze}");
    let report = app.get(&path, &app.admin);
    assert_eq!(report.status, 200, "{}", report.body);
    let report = report.json();
    assert_eq!(report["agency"]["code"], "FI");
    let rows = report["rows"].as_array().unwrap();
    let numbers: Vec<&str> = rows.iter().map(|r| r["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, [number(&app, &across), number(&app, &within)]);
    assert_eq!(rows[0]["duration_seconds"], 3 * 3600);
    assert_eq!(rows[0]["duration_in_period_seconds"], 2 * 3600);
    assert_eq!(rows[0]["sla9"], "breached", "the agency was never told");
    assert_eq!(rows[1]["duration_seconds"], 90 * 60);
    assert_eq!(rows[1]["duration_in_period_seconds"], 90 * 60);
    assert_eq!(rows[1]["cause"], "Disco pieno");
    assert_eq!(rows[1]["agency_notified_at"], "2016-10-10T08:20:00Z");
    assert_eq!(rows[1]["sla9"], "met");
    assert_eq!(
        rows[1]["sla10"], "breached",
        "90 minutes, the public never told"
    );
    assert_eq!(report["totals"]["interruptions"], 2);
    assert_eq!(
        report["totals"]["duration_in_period_seconds"],
        2 * 3600 + 90 * 60
    );

    let csv = app.send(
        "GET",
        &path,
        Some(&app.admin),
        &[("Accept", "text/csv")],
        None,
    );
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let parsed: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(parsed.len(), 2);
    assert_eq!(&parsed[0][0], numbers[0]);
    assert_eq!(&parsed[0][6], "7200");
    let html = app.send(
        "GET",
        &path,
        Some(&app.admin),
        &[("Accept", "text/html")],
        None,
    );
    assert!(
        html.body.contains("Comune FI") && html.body.contains("nel periodo: 2 h"),
        "{}",
        html.body
    );
    assert!(html.body.contains("Disco pieno"));
    // Fiesole's own report has its one interruption.
    let theirs = app
        .get(
            &format!("/reports/malfunctions?from=2016-10-01&to=2017-01-01&agency_id={fiesole}"),
            &app.admin,
        )
        .json();
    assert_eq!(theirs["totals"]["interruptions"], 1);
}

#[test]
fn clocks_stopped_before_the_report_columns_existed_are_filled_in() {
    use diesel::RunQueryDsl;
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    app.set_now("2016-01-25T16:00:00Z");
    ticket(&app, &agent, &firenze, "2016-01-25T08:00:00Z", Some(10));
    let mut conn = app.pool.get().unwrap();
    // As a database migrated from before the report columns holds them.
    diesel::sql_query("UPDATE ticket_clocks SET outcome = NULL, elapsed_seconds = NULL")
        .execute(&mut *conn)
        .unwrap();
    let engine =
        helpdesk::calendars::build_engine(&common::test_settings(), &Default::default()).unwrap();
    assert_eq!(
        helpdesk::db::clocks::backfill_outcomes(&mut conn, &engine).unwrap(),
        1,
        "SLA.6 stopped; SLA.7 runs"
    );
    let report = app
        .get("/reports/sla?from=2016-01-01&to=2016-02-01", &app.admin)
        .json();
    assert_eq!(row(&report, "SLA.6")["met"], 1);
    assert_eq!(row(&report, "SLA.6")["median_elapsed_seconds"], 600);
}
