//! The status-by-level summary: the 2016 distribution of SPEC §2 replayed through the API.

mod common;

use common::{TestApp, spawn_app};
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::sync::Arc;

/// Where a ticket ends: (status, level) and how many of them, as in the 2016 report.
const PLAN_2016: &[(&str, u8, usize)] = &[
    ("resolved", 1, 2383),
    ("closed_not_in_scope", 1, 304),
    ("resolved", 2, 2039),
    ("closed_not_in_scope", 2, 59),
    ("open", 2, 2),
    ("new", 2, 1),
];

/// The events that take a new ticket to `status` at `level`.
fn path_to(status: &str, level: u8) -> Vec<serde_json::Value> {
    let take = json!({"type": "take_charge"});
    let mut events = Vec::new();
    if level == 2 {
        events.extend([take.clone(), json!({"type": "escalate"})]);
    }
    match status {
        "new" => {}
        "open" => events.push(take),
        "resolved" => events.extend([take, json!({"type": "resolve", "resolution": "fatto"})]),
        "closed_not_in_scope" => {
            events.push(json!({"type": "close_not_in_scope", "reason": "non di competenza"}))
        }
        other => panic!("no path to {other}"),
    }
    events
}

struct Tokens {
    first: String,
    second: String,
}

fn replay(
    app: &TestApp,
    tokens: &Tokens,
    index: usize,
    status: &str,
    level: u8,
    agency: Option<&str>,
) {
    // Spread over 2016 in Rome; the first ticket at the year's first instant (23:00Z).
    let reported_at = chrono::DateTime::parse_from_rfc3339("2015-12-31T23:00:00Z").unwrap()
        + chrono::Duration::seconds((index as i64) * 6_500);
    let mut report = json!({"subject": format!("segnalazione {index}"), "channel": "portal",
                            "reported_at": reported_at.to_rfc3339()});
    if let Some(agency) = agency {
        report["agency_id"] = json!(agency);
    }
    let id = app.open_ticket_id(&tokens.first, report);
    let mut at_level_two = false;
    for event in path_to(status, level) {
        let token = if at_level_two {
            &tokens.second
        } else {
            &tokens.first
        };
        at_level_two |= event["type"] == "escalate";
        app.event_ok(token, &id, event);
    }
}

#[test]
fn replaying_2016_gives_the_reported_table_as_json_and_csv() {
    let app = Arc::new(spawn_app());
    let (_, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, second) = app.add_user(Role::Agent, Some(Level::Second), None);
    let firenze = app.add_agency("FI");
    let (_, firenze_user) = app.add_user(Role::Agency, None, Some(&firenze));
    let tokens = Arc::new(Tokens { first, second });

    let mut plan: Vec<(&str, u8)> = Vec::new();
    for &(status, level, count) in PLAN_2016 {
        plan.extend(std::iter::repeat_n((status, level), count));
    }
    assert_eq!(plan.len(), 4788);
    // Every tenth ticket is Firenze's.
    let is_firenze = |index: usize| index.is_multiple_of(10);
    let plan = Arc::new(plan);
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let (app, tokens, plan, firenze) =
                (app.clone(), tokens.clone(), plan.clone(), firenze.clone());
            std::thread::spawn(move || {
                for index in (worker..plan.len()).step_by(8) {
                    let (status, level) = plan[index];
                    let agency = is_firenze(index).then_some(firenze.as_str());
                    replay(&app, &tokens, index, status, level, agency);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // Just outside 2016 in Rome: must not count.
    for at in ["2015-12-31T22:59:59Z", "2016-12-31T23:00:00Z"] {
        app.open_ticket(
            &tokens.first,
            json!({"subject": "fuori periodo", "channel": "phone", "reported_at": at}),
        );
    }

    let summary = app
        .get(
            "/reports/status-by-level?from=2016-01-01&to=2017-01-01",
            &app.admin,
        )
        .json();
    assert_eq!(
        summary,
        json!({
            "rows": [
                {"status": "new", "level_1": 0, "level_2": 1, "total": 1},
                {"status": "open", "level_1": 0, "level_2": 2, "total": 2},
                {"status": "resolved", "level_1": 2383, "level_2": 2039, "total": 4422},
                {"status": "closed_not_in_scope", "level_1": 304, "level_2": 59, "total": 363},
            ],
            "totals": {"level_1": 2687, "level_2": 2101, "total": 4788},
        })
    );
    let csv = app.send(
        "GET",
        "/reports/status-by-level?from=2016-01-01&to=2017-01-01",
        Some(&app.admin),
        &[("Accept", "text/csv")],
        None,
    );
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert_eq!(
        csv.body,
        "status,level_1,level_2,total\nnew,0,1,1\nopen,0,2,2\nresolved,2383,2039,4422\n\
         closed_not_in_scope,304,59,363\ntotal,2687,2101,4788\n"
    );
    let text = app.send(
        "GET",
        "/reports/status-by-level?from=2016-01-01&to=2017-01-01",
        Some(&app.admin),
        &[("Accept", "text/plain")],
        None,
    );
    assert!(
        text.body.contains("risolto") && text.body.contains("4788"),
        "{}",
        text.body
    );

    // The agency's own summary counts its tenth of the plan.
    let mut expected_firenze = 0;
    for (index, _) in plan.iter().enumerate() {
        if is_firenze(index) {
            expected_firenze += 1;
        }
    }
    let own = app
        .get(
            "/reports/status-by-level?from=2016-01-01&to=2017-01-01",
            &firenze_user,
        )
        .json();
    assert_eq!(own["totals"]["total"], expected_firenze);
    let by_filter = app
        .get(
            &format!("/reports/status-by-level?from=2016-01-01&to=2017-01-01&agency_id={firenze}"),
            &app.admin,
        )
        .json();
    assert_eq!(own, by_filter);
    let instants = app
        .get(
            "/reports/status-by-level?from=2015-12-31T23:00:00Z&to=2016-12-31T23:00:00Z",
            &app.admin,
        )
        .json();
    assert_eq!(instants, summary, "a date means local midnight in Rome");
}

#[test]
fn on_hold_appears_only_when_used() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.open_ticket_id(&agent, json!({"subject": "attesa", "channel": "email"}));
    let before = app.get("/reports/status-by-level", &app.admin).json();
    assert_eq!(
        before["rows"],
        json!([{"status": "new", "level_1": 1, "level_2": 0, "total": 1}])
    );
    app.event_ok(&agent, &id, json!({"type": "take_charge"}));
    app.event_ok(
        &agent,
        &id,
        json!({"type": "hold", "reason": "aspettiamo il cittadino"}),
    );
    let after = app.get("/reports/status-by-level", &app.admin).json();
    assert_eq!(
        after["rows"],
        json!([{"status": "on_hold", "level_1": 1, "level_2": 0, "total": 1}])
    );
}
