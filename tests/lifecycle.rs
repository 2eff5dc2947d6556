//! A ticket's life through HTTP: transitions, refusals, `at` rules, versions.

mod common;

use common::{phone_report, spawn_app};
use helpdesk::domain::{Level, Role};
use serde_json::json;

#[test]
fn full_life_through_both_levels_keeps_history_in_order() {
    let app = spawn_app();
    let (first_id, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (second_id, second) = app.add_user(Role::Agent, Some(Level::Second), None);
    let ticket = app.open_ticket(
        &first,
        json!({"subject": "Portale pagamenti non risponde", "channel": "phone",
               "reported_at": "2016-06-23T15:30:00Z",
               "requester": {"name": "Mario Bianchi", "email": "mario@example.org"}}),
    );
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["level"], 1);
    assert!(ticket["number"].as_str().unwrap().starts_with("2016-"));

    let steps = [
        (
            &first,
            json!({"type": "take_charge", "at": "2016-06-23T15:40:00Z"}),
            "open",
            1,
        ),
        (
            &first,
            json!({"type": "reply", "channel": "phone", "message": "Stiamo verificando", "at": "2016-06-23T15:45:00Z"}),
            "open",
            1,
        ),
        (
            &first,
            json!({"type": "escalate", "reason": "serve il sistemista", "at": "2016-06-23T15:50:00Z"}),
            "new",
            2,
        ),
        (
            &second,
            json!({"type": "take_charge", "at": "2016-06-24T07:00:00Z"}),
            "open",
            2,
        ),
        (
            &second,
            json!({"type": "resolve", "resolution": "Riavviato il servizio", "at": "2016-06-24T08:00:00Z"}),
            "resolved",
            2,
        ),
        (
            &first,
            json!({"type": "reopen", "reason": "di nuovo giù", "at": "2016-06-24T09:00:00Z"}),
            "open",
            2,
        ),
        (
            &second,
            json!({"type": "resolve", "resolution": "Corretto il certificato", "at": "2016-06-24T10:00:00Z"}),
            "resolved",
            2,
        ),
    ];
    for (token, body, status, level) in &steps {
        let after = app.event_ok(token, id, body.clone());
        assert_eq!(after["status"], *status, "after {body}");
        assert_eq!(after["level"], *level, "after {body}");
    }

    let history = app.get(&format!("/tickets/{id}/events"), &first).json();
    let items = history["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, i64)> = items
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["at"].as_str().unwrap(),
                e["sequence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("created", "2016-06-23T15:30:00Z", 1),
            ("take_charge", "2016-06-23T15:40:00Z", 2),
            ("reply", "2016-06-23T15:45:00Z", 3),
            ("escalate", "2016-06-23T15:50:00Z", 4),
            ("take_charge", "2016-06-24T07:00:00Z", 5),
            ("resolve", "2016-06-24T08:00:00Z", 6),
            ("reopen", "2016-06-24T09:00:00Z", 7),
            ("resolve", "2016-06-24T10:00:00Z", 8),
        ]
    );
    assert_eq!(items[1]["assignee_id"], first_id.as_str());
    assert_eq!(
        items[3]["assignee_id"],
        serde_json::Value::Null,
        "escalation clears the assignee"
    );
    assert_eq!(items[4]["assignee_id"], second_id.as_str());
    assert_eq!(items[2]["channel"], "phone");
    assert_eq!(items[5]["resolution"], "Riavviato il servizio");
    assert!(
        items
            .iter()
            .all(|e| e["recorded_at"].as_str().unwrap() > "2020"),
        "recorded_at is server time"
    );

    let final_ticket = app.get(&format!("/tickets/{id}"), &first);
    assert_eq!(final_ticket.header("etag"), Some("\"8\""));
    assert_eq!(final_ticket.json()["version"], 8);
}

#[test]
fn refused_transitions_give_409_with_state_and_allowed_actions() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    // (setup events, refused action, expected status, expected allowed actions)
    let cases: &[(&[&str], &str, &str, &[&str])] = &[
        (
            &[],
            "resolve",
            "new",
            &["take_charge", "comment", "assign", "close_not_in_scope"],
        ),
        (
            &[],
            "reply",
            "new",
            &["take_charge", "comment", "assign", "close_not_in_scope"],
        ),
        (
            &[],
            "escalate",
            "new",
            &["take_charge", "comment", "assign", "close_not_in_scope"],
        ),
        (
            &[],
            "reopen",
            "new",
            &["take_charge", "comment", "assign", "close_not_in_scope"],
        ),
        (
            &[],
            "hold",
            "new",
            &["take_charge", "comment", "assign", "close_not_in_scope"],
        ),
        (
            &["take_charge"],
            "take_charge",
            "open",
            &[
                "reply",
                "comment",
                "assign",
                "escalate",
                "hold",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            &["take_charge"],
            "resume",
            "open",
            &[
                "reply",
                "comment",
                "assign",
                "escalate",
                "hold",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            &["take_charge"],
            "interruption_start",
            "open",
            &[
                "reply",
                "comment",
                "assign",
                "escalate",
                "hold",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            &["take_charge", "hold"],
            "hold",
            "on_hold",
            &[
                "reply",
                "comment",
                "assign",
                "resume",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            &["take_charge", "hold"],
            "escalate",
            "on_hold",
            &[
                "reply",
                "comment",
                "assign",
                "resume",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            &["take_charge", "resolve"],
            "resolve",
            "resolved",
            &["comment", "reopen"],
        ),
        (
            &["take_charge", "resolve"],
            "take_charge",
            "resolved",
            &["comment", "reopen"],
        ),
        (
            &["close_not_in_scope"],
            "resolve",
            "closed_not_in_scope",
            &["comment", "reopen"],
        ),
    ];
    for (setup, refused, status, allowed) in cases {
        let id = app.open_ticket_id(&agent, phone_report("refusals"));
        for step in *setup {
            app.event_ok(&agent, &id, complete_event(step));
        }
        let reply = app.event(&agent, &id, complete_event(refused));
        let problem = reply.problem(409);
        assert_eq!(
            problem["current_status"], *status,
            "{refused} after {setup:?}"
        );
        let named: Vec<&str> = problem["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(named, *allowed, "{refused} after {setup:?}");
        assert!(problem["detail"].as_str().unwrap().contains(refused));
    }
}

/// An event of `action` with the fields it needs.
fn complete_event(action: &str) -> serde_json::Value {
    match action {
        "reply" => json!({"type": "reply", "channel": "email", "message": "risposta"}),
        "resolve" => json!({"type": "resolve", "resolution": "fatto"}),
        "close_not_in_scope" => {
            json!({"type": "close_not_in_scope", "reason": "non di competenza"})
        }
        "comment" | "notify_agency" | "notify_users" => json!({"type": action, "message": "nota"}),
        other => json!({"type": other}),
    }
}

#[test]
fn at_in_the_future_or_before_the_latest_event_gives_422() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "x", "channel": "email", "reported_at": "2016-03-25T15:00:00Z"}),
    );
    let future = (chrono::Utc::now() + chrono::Duration::minutes(5)).to_rfc3339();
    let cases = [
        json!({"type": "take_charge", "at": future}),
        json!({"type": "take_charge", "at": "2016-03-25T14:59:59Z"}),
    ];
    for body in cases {
        let reply = app.event(&agent, &id, body.clone());
        reply.problem(422);
        assert_eq!(reply.problem_fields(), ["at"], "{body}");
    }
    app.event_ok(
        &agent,
        &id,
        json!({"type": "take_charge", "at": "2016-03-25T16:00:00Z"}),
    );
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "comment", "message": "prima", "at": "2016-03-25T15:59:59Z"}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["at"]);
    // Within the 60 s of tolerated clock skew.
    let skewed = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339();
    app.event_ok(
        &agent,
        &id,
        json!({"type": "comment", "message": "ora", "at": skewed}),
    );

    let reply = app.post(
        "/tickets",
        &agent,
        &json!({"subject": "x", "channel": "phone", "reported_at": future}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["reported_at"]);
}

#[test]
fn level_two_work_needs_a_level_two_agent() {
    let app = spawn_app();
    let (_, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, second) = app.add_user(Role::Agent, Some(Level::Second), None);
    let id = app.open_ticket_id(&first, phone_report("escalate me"));
    app.event_ok(&first, &id, json!({"type": "take_charge"}));
    app.event_ok(&first, &id, json!({"type": "escalate"}));
    app.event(&first, &id, json!({"type": "take_charge"}))
        .problem(403);
    app.event_ok(&second, &id, json!({"type": "take_charge"}));
}

#[test]
fn stale_if_match_gives_412_and_current_if_match_succeeds() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.open_ticket_id(&agent, phone_report("versions"));
    let path = format!("/tickets/{id}/events");
    let take = json!({"type": "take_charge"}).to_string();
    let ok = app.send(
        "POST",
        &path,
        Some(&agent),
        &[("If-Match", "\"1\"")],
        Some(&take),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.header("etag"), Some("\"2\""));
    let comment = json!({"type": "comment", "message": "late"}).to_string();
    let stale = app.send(
        "POST",
        &path,
        Some(&agent),
        &[("If-Match", "\"1\"")],
        Some(&comment),
    );
    assert_eq!(stale.problem(412)["current_version"], 2);
    let bad = app.send(
        "POST",
        &path,
        Some(&agent),
        &[("If-Match", "yesterday")],
        Some(&comment),
    );
    bad.problem(400);
    assert_eq!(bad.problem_fields(), ["If-Match"]);
    let history = app.get(&path, &agent).json();
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        2,
        "refused writes leave no event"
    );
}

#[test]
fn assign_names_an_agent_and_keeps_the_state() {
    let app = spawn_app();
    let (_, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (other_id, _) = app.add_user(Role::Agent, Some(Level::First), None);
    let agency_id = app.add_agency("FI");
    let (agency_user_id, _) = app.add_user(Role::Agency, None, Some(&agency_id));
    let id = app.open_ticket_id(&first, phone_report("assign"));
    let after = app.event_ok(
        &first,
        &id,
        json!({"type": "assign", "assignee_id": other_id}),
    );
    assert_eq!(
        (after["status"].as_str(), after["assignee_id"].as_str()),
        (Some("new"), Some(other_id.as_str()))
    );
    let reply = app.event(
        &first,
        &id,
        json!({"type": "assign", "assignee_id": agency_user_id}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["assignee_id"]);
    let reply = app.event(
        &first,
        &id,
        json!({"type": "assign", "assignee_id": uuid::Uuid::new_v4()}),
    );
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["assignee_id"]);
}

#[test]
fn level_two_tickets_are_assigned_only_to_level_two_agents() {
    let app = spawn_app();
    let (first_id, first) = app.add_user(Role::Agent, Some(Level::First), None);
    let (second_id, _) = app.add_user(Role::Agent, Some(Level::Second), None);
    let id = app.open_ticket_id(&first, phone_report("assign at level 2"));
    app.event_ok(&first, &id, json!({"type": "take_charge"}));
    app.event_ok(&first, &id, json!({"type": "escalate"}));
    let refused = app.event(
        &first,
        &id,
        json!({"type": "assign", "assignee_id": first_id}),
    );
    refused.problem(422);
    assert_eq!(refused.problem_fields(), ["assignee_id"]);
    app.event_ok(
        &first,
        &id,
        json!({"type": "assign", "assignee_id": second_id}),
    );
}

#[test]
fn rows_beyond_what_one_statement_can_bind_are_stored_in_several() {
    // 6,000 history entries of 11 columns are 66,000 parameters: more than one PostgreSQL
    // statement may bind (65,535). A ticket with thousands of interruptions' clocks meets the
    // same limit when its clocks are written again.
    let app = spawn_app();
    let (agent_id, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let agent_id: uuid::Uuid = agent_id.parse().unwrap();
    let ticket = app.open_ticket(&agent, phone_report("Anagrafe lenta"));
    let ticket_id: uuid::Uuid = ticket["id"].as_str().unwrap().parse().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .unwrap()
        .to_utc();
    let comments: Vec<helpdesk::domain::ticket::TicketEvent> = (2..6002)
        .map(|sequence| helpdesk::domain::ticket::TicketEvent {
            id: uuid::Uuid::now_v7(),
            ticket_id,
            sequence,
            action: helpdesk::domain::Action::Comment,
            at,
            recorded_at: at,
            // Every column bound (diesel writes a missing value as DEFAULT, unbound).
            actor_id: Some(agent_id),
            status: helpdesk::domain::Status::New,
            level: Level::First,
            assignee_id: Some(agent_id),
            details: serde_json::Map::new(),
        })
        .collect();
    let mut conn = app.pool.get().unwrap();
    helpdesk::db::events::insert_events(&mut conn, &comments).unwrap();
    let history = helpdesk::db::events::list_events(&mut conn, ticket_id).unwrap();
    assert_eq!(history.len(), 6001);
    assert_eq!(history.last().unwrap().sequence, 6001);
}
