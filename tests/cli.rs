//! The `helpdesk report` and `helpdesk demo seed` commands, run as the operators and cron
//! run them: the real binary against the test's database.

mod common;

use common::spawn_app;
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::process::Command;

/// Runs the binary with `args` on `database_url`; returns its standard output.
fn helpdesk(database_url: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", database_url)
        .env("HELPDESK_OUTBOX_DIR", dir.path().join("outbox"))
        .env_remove("HELPDESK_DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "helpdesk {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
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
    assert_eq!(sla["rows"][0]["code"], "SLA.6");
    assert_eq!(sla["rows"][0]["met"], 1);
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
    let output = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(["migrate"])
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("HELPDESK_LOG", "info")
        .env_remove("HELPDESK_DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("INFO"), "something is logged: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no ANSI escapes in a piped log: {log:?}"
    );
}
