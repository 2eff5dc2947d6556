//! SLA.1–SLA.5 measured from histories posted through the ingest endpoints and read back
//! through `GET /reports/sla` and `/reports/availability`: a worked example per rule of
//! SPEC §9, the order and repetition of reports, and Alertmanager's alerts.

mod common;

use common::{TestApp, spawn_app_with, test_settings};
use helpdesk::config::SlaOverride;
use helpdesk::domain::Role;
use helpdesk::sla::availability::{GroupRule, MaintenanceRule, UnknownRule};
use serde_json::{Value, json};

struct App {
    app: TestApp,
    monitor: String,
}

/// An app whose SLA.1 measures systems A and B under `rules`.
fn app_with(change: SlaOverride) -> App {
    let mut settings = test_settings();
    settings.sla.insert(
        "SLA.1".into(),
        SlaOverride {
            systems: Some(vec!["A".into(), "B".into()]),
            ..change
        },
    );
    let app = spawn_app_with(settings);
    for code in ["A", "B"] {
        let reply = app.send(
            "PUT",
            &format!("/systems/{code}"),
            Some(&app.admin),
            &[],
            Some(&json!({"name": format!("Host {code}")}).to_string()),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let monitor = app.add_user(Role::Monitor, None, None).1;
    app.set_now("2016-03-01T00:00:00Z");
    App { app, monitor }
}

impl App {
    /// Posts `"A 2016-01-01T10:00:00Z down"` lines as generic events.
    fn states(&self, lines: &[&str]) {
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            let reply = self.app.post(
                "/monitoring/events",
                &self.monitor,
                &json!({"system": words[0], "at": words[1], "state": words[2]}),
            );
            assert_eq!(reply.status, 200, "{line}: {}", reply.body);
        }
    }

    fn downtime(&self, system: &str, start: &str, end: &str) {
        let reply = self.app.post(
            "/monitoring/downtimes",
            &self.monitor,
            &json!({"system": system, "start": start, "end": end, "reason": "manutenzione"}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
    }

    fn row(&self, code: &str, from: &str, to: &str) -> Value {
        let reply = self.app.get(
            &format!("/reports/sla?from={from}&to={to}"),
            &self.app.admin,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["code"] == code)
            .cloned()
            .unwrap()
    }

    /// SLA.1 over the day 2016-01-01 (UTC): (counted, downtime, measured).
    fn day(&self) -> (i64, i64, String) {
        let row = self.row("SLA.1", "2016-01-01T00:00:00Z", "2016-01-02T00:00:00Z");
        (
            row["counted_seconds"].as_i64().unwrap(),
            row["downtime_seconds"].as_i64().unwrap(),
            row["measured"].as_str().unwrap().to_owned(),
        )
    }
}

const UP_BEFORE: [&str; 2] = ["A 2015-12-31T00:00:00Z up", "B 2015-12-31T00:00:00Z up"];

fn rules(
    group: GroupRule,
    min_outage_seconds: i64,
    maintenance: MaintenanceRule,
    unknown: UnknownRule,
) -> SlaOverride {
    SlaOverride {
        group: Some(group),
        min_outage_seconds: Some(min_outage_seconds),
        maintenance: Some(maintenance),
        unknown: Some(unknown),
        ..SlaOverride::default()
    }
}

#[test]
fn an_outage_across_the_periods_start_counts_from_the_start() {
    let app = app_with(SlaOverride::default());
    app.states(&[
        "A 2015-12-31T23:00:00Z down",
        "A 2016-01-01T01:00:00Z up",
        "B 2015-12-31T00:00:00Z up",
    ]);
    assert_eq!(app.day(), (86_400, 3_600, "95,83 %".into()));
    let row = app.row("SLA.1", "2016-01-01T00:00:00Z", "2016-01-02T00:00:00Z");
    assert_eq!(
        (&row["expected"], &row["deviation"], &row["outages"]),
        (&json!("99,00 %"), &json!("-3,17 %"), &json!(1))
    );
}

#[test]
fn a_down_inside_maintenance_is_excluded_or_up_as_configured() {
    use GroupRule::All;
    for (maintenance, expected) in [
        (MaintenanceRule::Exclude, (79_200, 3_600)),
        (MaintenanceRule::Up, (86_400, 3_600)),
    ] {
        let app = app_with(rules(All, 0, maintenance, UnknownRule::Exclude));
        app.states(&UP_BEFORE);
        app.states(&["A 2016-01-01T10:00:00Z down", "A 2016-01-01T12:00:00Z up"]);
        app.downtime("A", "2016-01-01T09:00:00Z", "2016-01-01T11:00:00Z");
        let (counted, downtime, _) = app.day();
        assert_eq!((counted, downtime), expected, "{maintenance:?}");
    }
}

#[test]
fn unknown_is_excluded_or_down_as_configured() {
    use GroupRule::All;
    for (unknown, expected) in [
        (UnknownRule::Exclude, (79_200, 0)),
        (UnknownRule::Down, (86_400, 7_200)),
    ] {
        let app = app_with(rules(All, 0, MaintenanceRule::Exclude, unknown));
        app.states(&UP_BEFORE);
        app.states(&[
            "A 2016-01-01T06:00:00Z UNREACHABLE",
            "A 2016-01-01T08:00:00Z UP",
        ]);
        let (counted, downtime, _) = app.day();
        assert_eq!((counted, downtime), expected, "{unknown:?}");
    }
}

#[test]
fn all_and_any_over_two_hosts_with_overlapping_outages() {
    for (group, downtime) in [(GroupRule::All, 10_800), (GroupRule::Any, 3_600)] {
        let app = app_with(rules(
            group,
            0,
            MaintenanceRule::Exclude,
            UnknownRule::Exclude,
        ));
        app.states(&UP_BEFORE);
        app.states(&[
            "A 2016-01-01T10:00:00Z CRITICAL",
            "A 2016-01-01T12:00:00Z OK",
            "B 2016-01-01T11:00:00Z CRITICAL",
            "B 2016-01-01T13:00:00Z OK",
        ]);
        assert_eq!(app.day().1, downtime, "{group:?}");
    }
}

#[test]
fn a_flap_shorter_than_min_outage_seconds_counts_as_up() {
    let app = app_with(rules(
        GroupRule::All,
        60,
        MaintenanceRule::Exclude,
        UnknownRule::Exclude,
    ));
    app.states(&UP_BEFORE);
    app.states(&[
        "A 2016-01-01T10:00:00Z down",
        "A 2016-01-01T10:00:30Z up",
        "A 2016-01-01T14:00:00Z down",
        "A 2016-01-01T14:05:00Z up",
    ]);
    assert_eq!(app.day(), (86_400, 300, "99,65 %".into()));
    let report = app.app.get(
        "/reports/availability?from=2016-01-01T00:00:00Z&to=2016-01-02T00:00:00Z&system=A",
        &app.app.admin,
    );
    assert_eq!(report.status, 200, "{}", report.body);
    let outages = report.json()["systems"][0]["outages"].clone();
    assert_eq!(outages[0]["excluded"], "shorter_than_min_outage");
    assert_eq!(outages[1]["counted_seconds"], 300);
    assert_eq!(outages[1]["end"], "2016-01-01T14:05:00Z");
}

#[test]
fn no_data_at_the_start_is_not_counted() {
    let app = app_with(SlaOverride::default());
    app.states(&["A 2016-01-01T06:00:00Z up", "B 2015-12-31T00:00:00Z up"]);
    let row = app.row("SLA.1", "2016-01-01T00:00:00Z", "2016-01-02T00:00:00Z");
    assert_eq!(row["counted_seconds"], 64_800);
    assert_eq!(row["coverage"], 0.75);
    assert_eq!(row["measured"], "100,00 %");
    assert_eq!(row["deviation"], "+1,00 %");
    let nothing = app.row("SLA.1", "2015-06-01", "2015-07-01");
    assert_eq!(
        (&nothing["measured"], &nothing["deviation"]),
        (&json!("non rilevato"), &json!("—"))
    );
}

#[test]
fn the_business_calendar_counts_across_a_dst_change() {
    let app = app_with(SlaOverride {
        calendar: Some("default".into()),
        ..SlaOverride::default()
    });
    app.states(&[
        "A 2016-03-01T00:00:00Z up",
        "B 2016-03-01T00:00:00Z up",
        // Friday 25 March 17:00 CET to Tuesday 29 March 09:00 CEST: DST began on the 27th,
        // Easter Monday is closed: one business hour on Friday, one on Tuesday.
        "A 2016-03-25T16:00:00Z down",
        "A 2016-03-29T07:00:00Z up",
    ]);
    app.app.set_now("2016-04-01T00:00:00Z");
    let row = app.row("SLA.1", "2016-03-25", "2016-03-30");
    assert_eq!(row["counted_seconds"], 72_000);
    assert_eq!(row["downtime_seconds"], 7_200);
    assert_eq!(row["measured"], "90,00 %");
}

#[test]
fn the_same_history_in_reverse_and_twice_gives_the_same_figures() {
    let history = [
        "A 2016-01-01T00:00:00Z up",
        "B 2016-01-01T00:00:00Z up",
        "A 2016-01-01T03:00:00Z down",
        "A 2016-01-01T03:20:00Z up",
        "B 2016-01-01T07:00:00Z unknown",
        "B 2016-01-01T07:30:00Z up",
        "A 2016-01-01T19:00:00Z down",
        "A 2016-01-01T19:00:00Z down",
        "A 2016-01-01T21:15:00Z up",
    ];
    let forwards = app_with(SlaOverride::default());
    forwards.states(&history);
    let mut reversed = history.to_vec();
    reversed.reverse();
    let backwards = app_with(SlaOverride::default());
    backwards.states(&reversed);
    backwards.states(&reversed);
    let figures = forwards.row("SLA.1", "2016-01-01T00:00:00Z", "2016-01-02T00:00:00Z");
    assert_eq!(figures["downtime_seconds"], 9_300);
    assert_eq!(
        figures,
        backwards.row("SLA.1", "2016-01-01T00:00:00Z", "2016-01-02T00:00:00Z")
    );
}

#[test]
fn alertmanager_alerts_measure_as_outages_whatever_their_order() {
    let app = app_with(SlaOverride::default());
    app.states(&UP_BEFORE);
    let alert = |status: &str, ends: &str| {
        json!({"status": status, "labels": {"alertname": "HostDown", "system": "A"},
            "annotations": {}, "startsAt": "2016-01-01T10:00:00Z", "endsAt": ends,
            "generatorURL": "http://prometheus:9090", "fingerprint": "f00d"})
    };
    let webhook = |alerts: Value| {
        json!({"version": "4", "groupKey": "g", "truncatedAlerts": 0, "status": "firing",
            "receiver": "helpdesk", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am:9093", "alerts": alerts})
    };
    let resolved = alert("resolved", "2016-01-01T10:30:00Z");
    let firing = alert("firing", "0001-01-01T00:00:00Z");
    for body in [webhook(json!([resolved])), webhook(json!([firing, firing]))] {
        let reply = app
            .app
            .post("/monitoring/alertmanager", &app.monitor, &body);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    assert_eq!(app.day().1, 1_800);
}

#[test]
fn the_response_time_sla_reads_check_results() {
    let mut settings = test_settings();
    settings.sla.insert(
        "SLA.3".into(),
        SlaOverride {
            systems: Some(vec!["W".into()]),
            ..SlaOverride::default()
        },
    );
    let app = spawn_app_with(settings);
    let reply = app.send(
        "PUT",
        "/systems/W",
        Some(&app.admin),
        &[],
        Some(&json!({"name": "wget"}).to_string()),
    );
    assert_eq!(reply.status, 201);
    let monitor = app.add_user(Role::Monitor, None, None).1;
    let items: Vec<Value> = (0..60)
        .map(|i| {
            json!({"system": "W", "at": 1451606400 + i * 60, "state": "OK",
                "perfdata": format!("time=0.00{}s;;;0.000000;10.000000", 1 + i % 7)})
        })
        .collect();
    let reply = app.post(
        "/monitoring/check-results",
        &monitor,
        &json!({"items": items}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    app.set_now("2016-03-01T00:00:00Z");
    let report = app.get("/reports/sla?from=2016-01-01&to=2017-01-01", &app.admin);
    let rows = report.json()["rows"].clone();
    let sla3 = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "SLA.3")
        .unwrap()
        .clone();
    assert_eq!(
        (&sla3["expected"], &sla3["measured"], &sla3["deviation"]),
        (&json!("7 ms"), &json!("7 ms"), &json!("0 %"))
    );
    assert_eq!(sla3["samples"], 60);
    let codes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        &codes[..6],
        ["SLA.1", "SLA.2", "SLA.3", "SLA.4", "SLA.5", "SLA.6"]
    );
    let text = app.send(
        "GET",
        "/reports/sla?from=2016-01-01&to=2017-01-01",
        Some(&app.admin),
        &[("Accept", "text/plain")],
        None,
    );
    assert!(
        text.body.contains("SLA.3") && text.body.contains("7 ms"),
        "{}",
        text.body
    );
    let csv = app.send(
        "GET",
        "/reports/sla?from=2016-01-01&to=2017-01-01",
        Some(&app.admin),
        &[("Accept", "text/csv")],
        None,
    );
    assert!(csv.body.contains("SLA.3"), "{}", csv.body);
    let html = app.send(
        "GET",
        "/reports/sla?from=2016-01-01&to=2017-01-01",
        Some(&app.admin),
        &[("Accept", "text/html")],
        None,
    );
    assert!(html.body.contains("non rilevato"), "{}", html.body);
}

#[test]
fn the_figures_of_any_period_are_those_of_the_whole_history() {
    use helpdesk::sla::Calendar;
    use helpdesk::sla::availability::{
        AvailabilityRules, HealthState, StateReport, SystemHistory, measure_availability,
    };
    let rules = SlaOverride {
        min_outage_seconds: Some(600),
        ..SlaOverride::default()
    };
    let app = app_with(rules);
    let base = 1451606400; // 2016-01-01T00:00:00Z
    // Long runs of the same state, as a check every few minutes reports them.
    let mut histories = vec![SystemHistory::default(), SystemHistory::default()];
    let mut seed: u64 = 12;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let mut items = Vec::new();
    for (m, system) in ["A", "B"].iter().enumerate() {
        let mut state = 0;
        for i in 0..400 {
            if next(10) == 0 {
                state = next(3);
            }
            let at = base + i * 300 + next(200) as i64;
            let word = ["OK", "CRITICAL", "UNKNOWN"][state as usize];
            items.push(json!({"system": system, "at": at, "state": word}));
            histories[m].states.push(StateReport {
                at: chrono::DateTime::from_timestamp(at, 0).unwrap(),
                state: [HealthState::Up, HealthState::Down, HealthState::Unknown][state as usize],
                hard: true,
            });
        }
    }
    // Posted shuffled, in batches, and the first batch twice.
    for i in (1..items.len()).rev() {
        items.swap(i, next(i as u64 + 1) as usize);
    }
    let mut batches: Vec<Value> = items.chunks(37).map(|c| json!({"items": c})).collect();
    batches.push(batches[0].clone());
    for batch in &batches {
        let reply = app
            .app
            .post("/monitoring/check-results", &app.monitor, batch);
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let expected_rules = AvailabilityRules {
        min_outage_seconds: 600,
        ..AvailabilityRules::default()
    };
    let now = chrono::DateTime::parse_from_rfc3339("2016-03-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    for _ in 0..8 {
        let a = base + next(130_000) as i64;
        let b = a + next(60_000) as i64;
        let (from, to) = (
            chrono::DateTime::from_timestamp(a, 0).unwrap(),
            chrono::DateTime::from_timestamp(b, 0).unwrap(),
        );
        let expected = measure_availability(
            &histories,
            &expected_rules,
            &Calendar::always_open(),
            from,
            to,
            now,
        )
        .unwrap();
        let row = app.row(
            "SLA.1",
            &from.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            &to.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        assert_eq!(
            (
                row["counted_seconds"].as_i64(),
                row["downtime_seconds"].as_i64()
            ),
            (
                Some(expected.counted_seconds),
                Some(expected.downtime_seconds)
            ),
            "[{from}, {to})"
        );
    }
}

#[test]
fn response_time_percentiles_and_mean_are_those_of_the_engine() {
    use helpdesk::sla::response_time::{Statistic, statistic_of};
    for (word, statistic) in [
        ("p95", Statistic::P95),
        ("p99", Statistic::P99),
        ("mean", Statistic::Mean),
    ] {
        let mut settings = test_settings();
        settings.sla.insert(
            "SLA.3".into(),
            SlaOverride {
                systems: Some(vec!["W".into(), "V".into()]),
                statistic: Some(statistic),
                ..SlaOverride::default()
            },
        );
        let app = spawn_app_with(settings);
        for code in ["W", "V"] {
            let reply = app.send(
                "PUT",
                &format!("/systems/{code}"),
                Some(&app.admin),
                &[],
                Some(&json!({"name": "wget"}).to_string()),
            );
            assert_eq!(reply.status, 201);
        }
        let monitor = app.add_user(Role::Monitor, None, None).1;
        let values: Vec<f64> = (0..137).map(|i| f64::from((i * 37) % 101) / 8.0).collect();
        // Two systems, the largest values shared unevenly between them: the statistic is
        // that of all the values together.
        let items: Vec<Value> = values
            .iter()
            .enumerate()
            .map(|(i, ms)| {
                let system = if i % 3 == 0 { "V" } else { "W" };
                json!({"system": system, "at": 1451606400 + i as i64 * 60, "state": "OK",
                    "response_ms": ms})
            })
            .collect();
        let reply = app.post(
            "/monitoring/check-results",
            &monitor,
            &json!({"items": items}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        app.set_now("2016-03-01T00:00:00Z");
        let report = app.get("/reports/sla?from=2016-01-01&to=2017-01-01", &app.admin);
        let row = report.json()["rows"][2].clone();
        let expected = statistic_of(values, statistic).measured_ms.unwrap();
        let measured = row["measured_ms"].as_f64().unwrap();
        assert!(
            (measured - expected).abs() < 1e-9,
            "{word}: {measured} vs {expected}"
        );
        assert_eq!(row["statistic"], word);
    }
}
