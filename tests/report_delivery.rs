//! The malfunction report by e-mail through a real SMTP server on 127.0.0.1: the scheduler
//! sends each agency its report once per period, whatever runs again, restarts or asks.

mod common;

use common::smtp::{Received, SmtpSink, parse, wait_until};
use common::{TestApp, mail_settings, spawn_app_with};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use helpdesk::jobs::report_scheduler::{Schedule, deliver_due_reports};
use helpdesk::reports::delivery::Deliverer;
use serde_json::{Value, json};
use std::time::Duration;

/// Settings with the scheduler checking every second.
fn scheduling(settings: &Settings) -> Settings {
    Settings {
        report_check_interval_seconds: 1,
        ..settings.clone()
    }
}

/// Runs one scheduler pass in the test's thread, as a fresh process would.
fn scheduler_pass(app: &TestApp, settings: &Settings) -> helpdesk::jobs::report_scheduler::Pass {
    let engine = helpdesk::calendars::build_engine(settings, &Default::default()).unwrap();
    let mail = helpdesk::mail::MailSettings::from_settings(settings).unwrap();
    let deliverer = Deliverer {
        engine: &engine,
        mail: &mail,
    };
    let schedule = Schedule::from_settings(settings).unwrap();
    deliver_due_reports(&app.pool, &deliverer, &schedule, app.now()).unwrap()
}

fn csv_rows(mail: &Received) -> Vec<csv::StringRecord> {
    assert_eq!(mail.attachments.len(), 1, "one CSV attachment");
    let (name, body) = &mail.attachments[0];
    assert!(name.ends_with("-2016-Q4.csv"), "{name}");
    csv::Reader::from_reader(body.as_slice())
        .records()
        .map(Result::unwrap)
        .collect()
}

/// Agencies FI (two contacts), FS (one) and XX (none), and one Q4 interruption of FI's
/// services; returns (FI's id, the malfunction's number).
fn quarter_with_one_interruption(app: &TestApp) -> (String, String) {
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-10-01T00:00:00Z"); // the agencies exist from the start of Q4
    let firenze = app.add_agency_with("FI", &["urp@comune.fi.it", "ced@comune.fi.it"]);
    app.add_agency_with("FS", &["protocollo@comune.fiesole.fi.it"]);
    app.add_agency_with("XX", &[]);
    app.set_now("2016-12-01T00:00:00Z");
    let ticket = app.open_ticket(
        &agent,
        json!({"subject": "Portale pagamenti giù", "channel": "phone", "malfunction": true,
               "agency_id": firenze, "reported_at": "2016-11-10T08:00:00Z", "affected_services": ["PagoPA"]}),
    );
    let id = ticket["id"].as_str().unwrap();
    for event in [
        json!({"type": "interruption_start", "at": "2016-11-10T08:00:00Z"}),
        json!({"type": "start_intervention", "at": "2016-11-10T08:05:00Z"}),
        json!({"type": "notify_agency", "at": "2016-11-10T08:15:00Z", "message": "PagoPA interrotto."}),
        json!({"type": "interruption_end", "at": "2016-11-10T09:00:00Z"}),
    ] {
        app.event_ok(&agent, id, event);
    }
    (firenze, ticket["number"].as_str().unwrap().to_owned())
}

fn reports_received(sink: &SmtpSink) -> Vec<Received> {
    sink.messages()
        .iter()
        .map(|raw| parse(raw))
        .filter(|m| m.subject.starts_with("Report malfunzionamenti"))
        .collect()
}

#[test]
fn the_scheduler_sends_each_agency_its_quarter_once() {
    let sink = SmtpSink::start();
    let settings = mail_settings(&sink.url());
    let app = spawn_app_with(settings.clone()); // scheduler off: the data is set up first
    let (firenze, number) = quarter_with_one_interruption(&app);
    wait_until(Duration::from_secs(30), || sink.messages().len() == 1); // the notify_agency

    // An instance with the scheduler on, 90 minutes into 2017 in Rome (send delay: 60).
    // Instances sharing a database share the time too (a claim's lease is judged by it).
    app.set_now("2017-01-01T00:30:00Z");
    let scheduler = app.another_instance_at(scheduling(&settings), "2017-01-01T00:30:00Z");
    wait_until(Duration::from_secs(30), || {
        reports_received(&sink).len() == 2
    });
    let mut reports = reports_received(&sink);
    reports.sort_by(|a, b| a.subject.cmp(&b.subject));
    assert_eq!(
        reports[0].subject,
        "Report malfunzionamenti 2016-Q4 - Comune FI (1 interruzione)"
    );
    assert_eq!(
        reports[0].envelope_to,
        ["urp@comune.fi.it", "ced@comune.fi.it"]
    );
    assert_eq!(
        reports[1].subject,
        "Report malfunzionamenti 2016-Q4 - Comune FS (0 interruzioni)"
    );
    assert!(
        reports[1]
            .text
            .contains("Nessuna interruzione dei servizi nel periodo."),
        "{}",
        reports[1].text
    );
    assert!(reports[1].html.contains("Nessuna interruzione dei servizi"));
    assert!(csv_rows(&reports[1]).is_empty());

    // The attachment holds the report's rows.
    assert!(reports[0].text.contains(&number) && reports[0].html.contains(&number));
    let rows = csv_rows(&reports[0]);
    let json = app
        .get(
            &format!("/reports/malfunctions?from=2016-10-01&to=2017-01-01&agency_id={firenze}"),
            &app.admin,
        )
        .json();
    assert_eq!(rows.len(), 1);
    let expected = &json["rows"][0];
    assert_eq!(&rows[0][0], expected["number"].as_str().unwrap());
    assert_eq!(&rows[0][2], "PagoPA");
    assert_eq!(&rows[0][3], "2016-11-10T08:00:00Z");
    assert_eq!(&rows[0][4], "2016-11-10T09:00:00Z");
    assert_eq!(
        rows[0][5].parse::<i64>().unwrap(),
        expected["duration_seconds"].as_i64().unwrap()
    );
    assert_eq!(&rows[0][11], "met");

    // Another pass, a restart, and a request for the same quarter: nothing more.
    let pass = scheduler_pass(&scheduler, &settings);
    assert_eq!(
        (pass.period.as_str(), pass.delivered, pass.already_delivered),
        ("2016-Q4", 0, 2)
    );
    assert_eq!(pass.without_contacts, ["XX"]);
    scheduler.stop();
    app.set_now("2017-01-02T00:00:00Z");
    let _restarted = app.another_instance_at(scheduling(&settings), "2017-01-02T00:00:00Z");
    let request = app.post(
        "/reports/malfunctions/deliveries",
        &app.admin,
        &json!({"period": "2016-Q4"}),
    );
    assert_eq!(request.status, 200, "{}", request.body);
    let outcomes: Vec<String> = request.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["outcome"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        outcomes,
        ["already_delivered", "already_delivered", "no_contacts"]
    );
    std::thread::sleep(Duration::from_millis(2500)); // the restarted scheduler's passes
    assert_eq!(
        reports_received(&sink).len(),
        2,
        "each agency's report once"
    );

    // A deliberate resend is the next edition.
    let resend = app.post(
        "/reports/malfunctions/deliveries",
        &app.admin,
        &json!({"period": "2016-Q4", "agency_ids": [firenze], "resend": true}),
    );
    let item = &resend.json()["items"][0];
    assert_eq!(
        (
            item["outcome"].as_str(),
            item["delivery"]["edition"].as_i64()
        ),
        (Some("delivered"), Some(2))
    );
    wait_until(Duration::from_secs(30), || {
        reports_received(&sink).len() == 3
    });

    let deliveries = app
        .get("/reports/malfunctions/deliveries", &app.admin)
        .json();
    let triggers: Vec<(&str, i64)> = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["trigger"].as_str().unwrap(),
                d["edition"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(triggers.len(), 3);
    assert!(
        triggers.contains(&("request", 2))
            && triggers.iter().filter(|t| t.0 == "schedule").count() == 2
    );
    wait_until(Duration::from_secs(30), || {
        app.get("/reports/malfunctions/deliveries", &app.admin)
            .json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["mail_status"] == "sent")
    });
    // SLA.11 for the quarter: a report every 3 months against the contract's 6.
    let sla = app
        .get(
            &format!("/reports/sla?from=2016-10-01&to=2017-01-01&agency_id={firenze}"),
            &app.admin,
        )
        .json();
    let sla11: &Value = sla["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "SLA.11")
        .unwrap();
    assert_eq!(
        (sla11["measured"].as_str(), sla11["deviation"].as_str()),
        (Some("ogni 3 mesi"), Some("+50 %"))
    );
}

#[test]
fn two_schedulers_on_one_database_send_each_report_once() {
    let sink = SmtpSink::start();
    let settings = mail_settings(&sink.url());
    let app = spawn_app_with(settings.clone());
    app.set_now("2016-10-01T00:00:00Z");
    for code in ["A1", "A2", "A3", "A4", "A5"] {
        app.add_agency(code);
    }
    // Instances sharing a database share the time too (a claim's lease is judged by it).
    app.set_now("2017-01-01T12:00:00Z");
    let _first = app.another_instance_at(scheduling(&settings), "2017-01-01T12:00:00Z");
    let _second = app.another_instance_at(scheduling(&settings), "2017-01-01T12:00:00Z");
    wait_until(Duration::from_secs(30), || {
        reports_received(&sink).len() >= 5
    });
    std::thread::sleep(Duration::from_millis(2500)); // both schedulers pass again
    let reports = reports_received(&sink);
    assert_eq!(reports.len(), 5, "one report per agency");
    let deliveries = app
        .get("/reports/malfunctions/deliveries", &app.admin)
        .json();
    assert_eq!(deliveries["items"].as_array().unwrap().len(), 5);
}

#[test]
fn after_a_stop_through_q4_an_agency_of_q3_gets_q3_and_q4_once_and_never_q2() {
    let sink = SmtpSink::start();
    let settings = mail_settings(&sink.url());
    let app = spawn_app_with(settings.clone()); // scheduler off
    app.set_now("2016-08-10T09:00:00Z");
    app.add_agency_with("Q3", &["urp@q3.example"]);
    // The service was stopped from before Q3 ended until 5 January: no pass ran.
    app.set_now("2017-01-05T09:00:00Z");
    let first = scheduler_pass(&app, &settings);
    assert_eq!(
        (first.delivered, first.already_delivered),
        (2, 0),
        "{first:?}"
    );
    // A second instance, and another pass of the first: nothing more.
    let other = app.another_instance_at(settings.clone(), "2017-01-05T09:00:00Z");
    let again = scheduler_pass(&other, &settings);
    assert_eq!(
        (again.delivered, again.already_delivered),
        (0, 2),
        "{again:?}"
    );
    assert_eq!(scheduler_pass(&app, &settings).delivered, 0);
    let periods: Vec<String> = app
        .get("/reports/malfunctions/deliveries", &app.admin)
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["period"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = periods.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["2016-Q3", "2016-Q4"],
        "never Q2, which ended before it existed"
    );
    wait_until(Duration::from_secs(30), || {
        reports_received(&sink).len() == 2
    });
    let mut subjects: Vec<String> = reports_received(&sink)
        .into_iter()
        .map(|m| m.subject)
        .collect();
    subjects.sort();
    assert!(
        subjects[0].starts_with("Report malfunzionamenti 2016-Q3"),
        "{subjects:?}"
    );
    assert!(
        subjects[1].starts_with("Report malfunzionamenti 2016-Q4"),
        "{subjects:?}"
    );
}

#[test]
fn report_catch_up_from_bounds_the_catch_up_and_a_new_agency_gets_nothing_before_it() {
    let sink = SmtpSink::start();
    let settings = Settings {
        report_catch_up_from: Some("2016-10-01".into()),
        ..mail_settings(&sink.url())
    };
    let app = spawn_app_with(settings.clone());
    app.set_now("2016-02-10T09:00:00Z");
    app.add_agency_with("OLD", &["urp@old.example"]);
    app.set_now("2017-01-05T09:00:00Z");
    app.add_agency_with("NEW", &["urp@new.example"]); // created after Q4 ended
    let pass = scheduler_pass(&app, &settings);
    assert_eq!(pass.delivered, 1, "OLD's Q4 only: {pass:?}");
    let items = app
        .get("/reports/malfunctions/deliveries", &app.admin)
        .json()["items"]
        .clone();
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
    assert_eq!(items[0]["period"], "2016-Q4");
}
