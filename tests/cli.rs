//! The `helpdesk report` and `helpdesk demo seed` commands, run as the operators and cron
//! run them: the real binary against the test's database.

mod common;

use common::spawn_app;
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::process::Command;

/// Runs the binary with `args` on `database_url`; returns its standard output.
fn helpdesk(database_url: &str, args: &[&str]) -> String {
    let output = helpdesk_output(database_url, args);
    assert!(
        output.status.success(),
        "helpdesk {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// Runs the binary with `args` on `database_url`; returns the whole output, success or not.
fn helpdesk_output(database_url: &str, args: &[&str]) -> std::process::Output {
    helpdesk_output_with(database_url, args, &[])
}

/// `helpdesk_output` with more environment variables.
fn helpdesk_output_with(
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", database_url)
        .env("HELPDESK_OUTBOX_DIR", dir.path().join("outbox"))
        .env_remove("HELPDESK_DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

#[test]
fn reports_print_in_every_format_and_send_goes_out_once() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    app.set_now("2016-12-01T00:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "SUAP giù", "channel": "phone", "malfunction": true, "agency_id": firenze,
               "reported_at": "2016-11-10T08:00:00Z"}),
    );
    for event in [
        json!({"type": "take_charge", "at": "2016-11-10T08:20:00Z"}),
        json!({"type": "interruption_start", "at": "2016-11-10T08:00:00Z"}),
        json!({"type": "interruption_end", "at": "2016-11-10T08:40:00Z"}),
    ] {
        app.event_ok(&agent, &id, event);
    }
    let url = &app.database_url;
    let period = ["--from", "2016-10-01", "--to", "2017-01-01"];

    let csv = helpdesk(
        url,
        &[
            &["report", "status-by-level"][..],
            &period,
            &["--format", "csv"],
        ]
        .concat(),
    );
    assert_eq!(
        csv,
        "status,level_1,level_2,total\nopen,1,0,1\ntotal,1,0,1\n"
    );
    let sla: serde_json::Value = serde_json::from_str(&helpdesk(
        url,
        &[&["report", "sla"][..], &period, &["--format", "json"]].concat(),
    ))
    .unwrap();
    // SLA.1–SLA.5 open the table; without monitoring they are not measured.
    assert_eq!(sla["rows"][0]["code"], "SLA.1");
    assert_eq!(sla["rows"][0]["measured"], "non rilevato");
    assert_eq!(sla["rows"][5]["code"], "SLA.6");
    assert_eq!(sla["rows"][5]["met"], 1);
    let text = helpdesk(
        url,
        &[
            &["report", "malfunctions"][..],
            &period,
            &["--agency", "FI"],
        ]
        .concat(),
    );
    assert!(
        text.contains("Comune FI") && text.contains("Durata:        40 min"),
        "{text}"
    );
    let html = helpdesk(
        url,
        &[
            &["report", "malfunctions"][..],
            &period,
            &["--agency", "fi", "--format", "html"],
        ]
        .concat(),
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");

    let sent = helpdesk(url, &["report", "send", "--period", "2016-Q4"]);
    assert!(
        sent.starts_with("FI\tdelivered\tedition 1, 1 interruption(s)"),
        "{sent}"
    );
    let again = helpdesk(url, &["report", "send", "--period", "2016-Q4"]);
    assert!(
        again.starts_with("FI\talready delivered\tedition 1"),
        "{again}"
    );
    let rows = app.get("/outbox?limit=200", &app.admin).json();
    let reports = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "malfunction_report")
        .count();
    assert_eq!(reports, 1);
}

#[test]
fn the_demo_seed_follows_the_2016_mix() {
    let (_database, url) = common::fresh_database();
    let out = helpdesk(
        &url,
        &["demo", "seed", "--year", "2016", "--tickets", "300"],
    );
    assert!(out.is_empty(), "the summary goes to stderr: {out}");
    let csv = helpdesk(
        &url,
        &[
            "report",
            "status-by-level",
            "--from",
            "2016-01-01",
            "--to",
            "2017-01-01",
            "--format",
            "csv",
        ],
    );
    let total = csv.lines().last().unwrap();
    assert_eq!(total, "total,170,130,300", "{csv}");
    let sla = helpdesk(
        &url,
        &[
            "report",
            "sla",
            "--from",
            "2016-01-01",
            "--to",
            "2017-01-01",
        ],
    );
    assert!(sla.contains("SLA.6") && sla.contains("SLA.11"), "{sla}");
    // The monitoring rows reproduce the 2016 report's measured column (SPEC §9).
    for (code, expected, measured, deviation) in [
        ("SLA.1", "99,00 %", "99,92 %", "+0,92 %"),
        ("SLA.2", "98,50 %", "99,75 %", "+1,25 %"),
        ("SLA.3", "7 ms", "7 ms", "0 %"),
        ("SLA.4", "98,50 %", "99,25 %", "+0,75 %"),
        ("SLA.5", "98,00 %", "99,61 %", "+1,61 %"),
    ] {
        let line = sla
            .lines()
            .find(|line| line.starts_with(&format!("{code} ")))
            .unwrap_or_else(|| panic!("{code} in {sla}"));
        let cells: Vec<&str> = line
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(&cells[..4], [code, expected, measured, deviation], "{line}");
    }

    // A second demo year would mix with what is there: refused unless forced.
    let again = helpdesk_output(&url, &["demo", "seed", "--year", "2015", "--tickets", "10"]);
    assert!(!again.status.success());
    let refusal = String::from_utf8_lossy(&again.stderr);
    assert!(
        refusal.contains("already holds 300 tickets") && refusal.contains("--force"),
        "{refusal}"
    );
    helpdesk(
        &url,
        &[
            "demo",
            "seed",
            "--year",
            "2015",
            "--tickets",
            "10",
            "--force",
        ],
    );
    let all = helpdesk(
        &url,
        &[
            "report",
            "status-by-level",
            "--from",
            "2015-01-01",
            "--to",
            "2017-01-01",
            "--format",
            "csv",
        ],
    );
    assert!(all.lines().last().unwrap().ends_with(",310"), "{all}");
}

#[test]
fn the_cli_refuses_a_leap_second_and_a_user_name_over_two_lines() {
    let app = spawn_app();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_helpdesk"))
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            .env_remove("HELPDESK_DATABASE_URL")
            .output()
            .expect("the binary runs")
    };
    let leap = run(&["report", "sla", "--from", "2016-12-31T23:59:60Z"]);
    assert!(!leap.status.success());
    let error = String::from_utf8_lossy(&leap.stderr);
    assert!(error.contains("leap second"), "{error}");
    let name = run(&[
        "user",
        "add",
        "--name",
        "Anna\nVerdi",
        "--role",
        "supervisor",
    ]);
    assert!(!name.status.success());
    assert!(name.stdout.is_empty(), "no token printed");
}

#[test]
fn logs_to_a_file_or_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let output = helpdesk_output_with(&url, &["migrate"], &[("HELPDESK_LOG", "info")]);
    assert!(output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("INFO"), "something is logged: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no ANSI escapes in a piped log: {log:?}"
    );
}

#[test]
fn users_and_tokens_are_managed_from_the_command_line_and_audited_as_such() {
    // No caching: what the command line does (another process) shows at the next request.
    let app = common::spawn_app_with(helpdesk::config::Settings {
        token_cache_seconds: 0,
        ..common::test_settings()
    });
    let url = &app.database_url;
    let token = helpdesk(
        url,
        &[
            "user",
            "add",
            "--name",
            "Bruno Gialli",
            "--role",
            "agent",
            "--level",
            "2",
        ],
    );
    let token = token.trim();
    let listed = helpdesk(url, &["user", "list"]);
    let line = listed
        .lines()
        .find(|line| line.ends_with("Bruno Gialli"))
        .expect("the new user is listed");
    let id = line.split('\t').next().unwrap().to_owned();
    assert_eq!(line, format!("{id}\tagent\t2\t\tyes\tBruno Gialli"));
    assert_eq!(app.get(&format!("/users/{id}"), token).status, 200);

    helpdesk(url, &["user", "deactivate", &id]);
    assert_eq!(app.get(&format!("/users/{id}"), token).status, 401);
    assert!(helpdesk(url, &["user", "list"]).contains(&format!("{id}\tagent\t2\t\tno\t")));
    helpdesk(url, &["user", "activate", &id]);
    assert_eq!(app.get(&format!("/users/{id}"), token).status, 200);

    let weekly = helpdesk(
        url,
        &[
            "token",
            "create",
            "--user",
            &id,
            "--expires",
            "7",
            "--name",
            "settimanale",
        ],
    );
    let weekly = weekly.trim();
    assert_eq!(app.get(&format!("/users/{id}"), weekly).status, 200);
    let tokens = app.get(&format!("/users/{id}/tokens"), &app.admin).json();
    let made = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "settimanale")
        .unwrap()
        .clone();
    assert!(made["expires_at"].is_string());
    helpdesk(url, &["token", "revoke", made["id"].as_str().unwrap()]);
    assert_eq!(app.get(&format!("/users/{id}"), weekly).status, 401);

    let audit = app.get(&format!("/audit?user_id={id}"), &app.admin).json();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{audit}");
    assert!(
        items
            .iter()
            .all(|e| e["via"] == "cli" && e["actor_id"].is_null())
    );

    // The rules hold here too: the last admin stays; an unknown user is said so; no token
    // is printed for a refused request.
    let admin_id = app.get("/users", &app.admin).json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = helpdesk_output(url, &["user", "deactivate", &admin_id]);
    assert!(!last.status.success());
    assert!(String::from_utf8_lossy(&last.stderr).contains("last active admin"));
    let unknown = helpdesk_output(
        url,
        &[
            "token",
            "create",
            "--user",
            &uuid::Uuid::new_v4().to_string(),
        ],
    );
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("user not found"));
}

#[test]
fn a_bad_mail_setting_stops_every_command_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("h.db").display());
    let output = helpdesk_output_with(
        &url,
        &["migrate"],
        &[("HELPDESK_MAIL_FROM", "not an address")],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("mail_from"));
    assert!(
        !dir.path().join("h.db").exists(),
        "refused before touching the database"
    );
}

#[test]
fn report_sla_and_availability_print_the_monitored_systems() {
    let app = spawn_app();
    let url = app.database_url.clone();
    let reply = app.send(
        "PUT",
        "/systems/PORTALE",
        Some(&app.admin),
        &[],
        Some(&json!({"name": "Portale dei servizi"}).to_string()),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let monitor = app.add_user(Role::Monitor, None, None).1;
    for (at, state) in [
        ("2016-01-01T00:00:00Z", "UP"),
        ("2016-06-01T10:00:00Z", "DOWN"),
        ("2016-06-01T13:00:00Z", "UP"),
    ] {
        let reply = app.post(
            "/monitoring/events",
            &monitor,
            &json!({"system": "PORTALE", "at": at, "state": state}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let period = ["--from", "2016-01-01", "--to", "2017-01-01"];
    let text = helpdesk(&url, &[&["report", "sla"][..], &period].concat());
    // Three hours down in the 8,783 hours from 1 January 00:00Z to 1 January 2017 00:00 CET.
    assert!(
        text.contains("SLA.4") && text.contains("98,50 %") && text.contains("99,97 %"),
        "{text}"
    );
    assert!(text.contains("non rilevato"), "{text}");
    let availability = helpdesk(
        &url,
        &[
            &["report", "availability"][..],
            &period,
            &["--format", "csv"],
        ]
        .concat(),
    );
    assert_eq!(
        availability.lines().nth(1),
        Some("PORTALE,2016-06-01T10:00:00+00:00,2016-06-01T13:00:00+00:00,10800,"),
        "{availability}"
    );
}

#[test]
fn a_nagios_log_of_a_day_imports_as_the_monitors_history_once() {
    let app = spawn_app();
    let url = app.database_url.clone();
    for code in ["CSDB1", "PORTALE"] {
        let reply = app.send(
            "PUT",
            &format!("/systems/{code}"),
            Some(&app.admin),
            &[],
            Some(&json!({"name": code}).to_string()),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    // Monday 4 January 2016, UTC.
    let log = "\
[1451865600] LOG ROTATION: DAILY
[1451865600] CURRENT HOST STATE: csdb1;UP;HARD;1;PING OK - Packet loss = 0%, RTA = 0.31 ms
[1451865600] CURRENT SERVICE STATE: portale;HTTP;OK;HARD;1;HTTP OK: HTTP/1.1 200 OK - 0.007 second response time
[1451865600] CURRENT SERVICE STATE: portale;SSH;OK;HARD;1;SSH OK
[1451898000] HOST ALERT: csdb1;DOWN;SOFT;1;PING CRITICAL - Packet loss = 100%
[1451898060] HOST ALERT: csdb1;DOWN;HARD;3;PING CRITICAL - Packet loss = 100%
[1451898060] HOST NOTIFICATION: nagiosadmin;csdb1;DOWN;notify-host-by-email;PING CRITICAL
[1451901660] HOST ALERT: csdb1;UP;HARD;1;PING OK - Packet loss = 0%, RTA = 0.30 ms
[1451908800] SERVICE ALERT: portale;HTTP;CRITICAL;HARD;3;CRITICAL - Socket timeout after 10 seconds
[1451910600] SERVICE ALERT: portale;HTTP;OK;HARD;1;HTTP OK: HTTP/1.1 200 OK - 0.007 second response time
[1451937600] HOST DOWNTIME ALERT: csdb1;STARTED; Host has entered a period of scheduled downtime
[1451938200] HOST ALERT: csdb1;DOWN;HARD;1;PING CRITICAL - Packet loss = 100%
[1451940000] HOST ALERT: csdb1;UP;HARD;1;PING OK - Packet loss = 0%
[1451941200] HOST DOWNTIME ALERT: csdb1;STOPPED; Host has exited from a period of scheduled downtime
";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nagios-01-04-2016-00.log");
    std::fs::write(&file, log).unwrap();
    let file = file.display().to_string();
    let args = [
        "monitoring",
        "import",
        "--nagios-log",
        &file,
        "--map",
        "csdb1=CSDB1",
        "--map",
        "portale;HTTP=PORTALE",
    ];
    for _ in 0..2 {
        let output = helpdesk_output(&url, &args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report = app.get(
        "/reports/availability?from=2016-01-04T00:00:00Z&to=2016-01-05T00:00:00Z",
        &app.admin,
    );
    assert_eq!(report.status, 200, "{}", report.body);
    let systems = report.json()["systems"].clone();
    let csdb1 = &systems[0];
    // The window 20:00-21:00 is not counted (maintenance = exclude); the down at 09:01 is.
    assert_eq!(
        (&csdb1["counted_seconds"], &csdb1["downtime_seconds"]),
        (&json!(82_800), &json!(3_600))
    );
    assert_eq!(csdb1["outages"][0]["counted_seconds"], 3_600);
    assert_eq!(csdb1["outages"][1]["excluded"], "maintenance");
    let portale = &systems[1];
    assert_eq!(
        (&portale["code"], &portale["downtime_seconds"]),
        (&json!("PORTALE"), &json!(1_800))
    );
    let sla = app.get(
        "/reports/sla?from=2016-01-04T00:00:00Z&to=2016-01-05T00:00:00Z",
        &app.admin,
    );
    let sla4 = sla.json()["rows"][3].clone();
    assert_eq!(
        (&sla4["code"], &sla4["measured"], &sla4["deviation"]),
        (&json!("SLA.4"), &json!("97,92 %"), &json!("-0,58 %"))
    );
    let listed = app.get("/tickets", &app.admin);
    assert_eq!(
        listed.json()["items"],
        json!([]),
        "a history import opens no tickets"
    );
    let bad = helpdesk_output(
        &url,
        &[
            "monitoring",
            "import",
            "--nagios-log",
            &file,
            "--map",
            "csdb2=CSDB2",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("CSDB2"));
}
