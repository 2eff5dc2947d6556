//! Who may act, the users' side: deactivated, activated and changed under the rules of
//! creation; refused at once on this instance and within `token_cache_seconds` on another; the
//! last admin kept; the audit of every access change.

mod common;

use common::access::{T0, at, me, set_active as deactivate};
use common::{spawn_app, test_settings};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

#[test]
fn deactivation_refuses_the_token_here_at_once_and_on_another_instance_within_the_cache_time() {
    let first = spawn_app();
    first.set_now(T0);
    let second = first.another_instance_at(test_settings(), T0);
    let (id, token) = first.add_user(Role::Agent, Some(Level::First), None);
    let ticket = first.open_ticket_id(&token, common::phone_report("Anagrafe lenta"));
    // Both instances have looked the token up.
    assert_eq!(me(&first, &id, &token), 200);
    assert_eq!(me(&second, &id, &token), 200);

    let changed = deactivate(&first, &id, false);
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["active"], false);
    assert_eq!(
        me(&first, &id, &token),
        401,
        "refused at once where it was done"
    );
    // The other instance trusts its lookup for token_cache_seconds (60), then asks again.
    at(&second, 59);
    assert_eq!(me(&second, &id, &token), 200);
    at(&second, 60);
    assert_eq!(me(&second, &id, &token), 401);

    // The history keeps naming the deactivated user.
    let events = first.get(&format!("/tickets/{ticket}/events"), &first.admin);
    assert_eq!(events.json()["items"][0]["actor_id"], id.as_str());

    assert_eq!(deactivate(&first, &id, true).status, 200);
    assert_eq!(me(&first, &id, &token), 200);
    assert_eq!(me(&second, &id, &token), 200, "a refusal is not cached");
}
#[test]
fn the_last_active_admin_can_be_neither_deactivated_nor_demoted() {
    let app = spawn_app();
    let admin_id = app.get("/users", &app.admin).json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = deactivate(&app, &admin_id, false);
    refused.problem(422);
    assert_eq!(refused.problem_fields(), ["active"]);
    let demoted = app.patch(
        &format!("/users/{admin_id}"),
        &app.admin,
        &json!({"role": "supervisor"}),
    );
    demoted.problem(422);
    assert_eq!(demoted.problem_fields(), ["role"]);

    let (other_id, other) = app.add_user(Role::Admin, None, None);
    assert_eq!(deactivate(&app, &admin_id, false).status, 200);
    assert_eq!(app.get("/users", &app.admin).status, 401);
    let last = app.patch(
        &format!("/users/{other_id}"),
        &other,
        &json!({"active": false}),
    );
    assert_eq!(last.problem_fields(), ["active"]);
    assert_eq!(app.get("/users", &other).status, 200);
}
#[test]
fn two_admins_removing_each_other_at_once_leave_one_admin() {
    for _ in 0..5 {
        let app = spawn_app();
        let (a_id, a) = app.add_user(Role::Admin, None, None);
        let (b_id, b) = app.add_user(Role::Admin, None, None);
        let original = app.get("/users", &app.admin).json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(deactivate(&app, &original, false).status, 200);
        let barrier = std::sync::Barrier::new(2);
        let (ra, rb) = std::thread::scope(|scope| {
            let one = scope.spawn(|| {
                barrier.wait();
                app.patch(&format!("/users/{b_id}"), &a, &json!({"active": false}))
            });
            let two = scope.spawn(|| {
                barrier.wait();
                app.patch(&format!("/users/{a_id}"), &b, &json!({"active": false}))
            });
            (one.join().unwrap(), two.join().unwrap())
        });
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        // One wins; the other is refused, as the last admin or because its token just died.
        assert!(
            statuses == [200, 401] || statuses == [200, 422],
            "{statuses:?}: {} / {}",
            ra.body,
            rb.body
        );
        let active_admins = app.get("/users", if ra.status == 200 { &a } else { &b });
        let admins = active_admins.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin" && u["active"] == true)
            .count();
        assert_eq!(admins, 1);
    }
}
#[test]
fn changes_that_break_the_rules_are_refused_naming_the_field_and_change_nothing() {
    let app = spawn_app();
    let agency = app.add_agency("FI");
    let (agent_id, _) = app.add_user(Role::Agent, Some(Level::First), None);
    let (agency_user_id, _) = app.add_user(Role::Agency, None, Some(&agency));
    let unknown = uuid::Uuid::new_v4().to_string();
    // (what, user, patch, extra headers, status, field named)
    type Case<'a> = (
        &'a str,
        &'a str,
        Value,
        &'a [(&'a str, &'a str)],
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "an admin without a level",
            &agency_user_id,
            json!({"role": "agent", "agency_id": null}),
            &[],
            422,
            "level",
        ),
        (
            "an agency user without an agency",
            &agent_id,
            json!({"role": "agency", "level": null}),
            &[],
            422,
            "agency_id",
        ),
        (
            "an agent keeping an agency",
            &agency_user_id,
            json!({"role": "agent", "level": 1}),
            &[],
            422,
            "agency_id",
        ),
        (
            "a supervisor keeping a level",
            &agent_id,
            json!({"role": "supervisor"}),
            &[],
            422,
            "level",
        ),
        (
            "an unknown agency",
            &agency_user_id,
            json!({"agency_id": unknown}),
            &[],
            422,
            "agency_id",
        ),
        (
            "a level 3",
            &agent_id,
            json!({"level": 3}),
            &[],
            422,
            "level",
        ),
        (
            "a blank name",
            &agent_id,
            json!({"name": "  "}),
            &[],
            422,
            "name",
        ),
        (
            "a name on two lines",
            &agent_id,
            json!({"name": "A\r\nBcc: x"}),
            &[],
            422,
            "name",
        ),
        (
            "active: null",
            &agent_id,
            json!({"active": null}),
            &[],
            422,
            "active",
        ),
        (
            "an unknown role",
            &agent_id,
            json!({"role": "root"}),
            &[],
            400,
            "role",
        ),
        (
            "an unknown field",
            &agent_id,
            json!({"token": "x"}),
            &[],
            400,
            "token",
        ),
        (
            "a stale If-Match",
            &agent_id,
            json!({"name": "Nuovo"}),
            &[("If-Match", "\"7\"")],
            412,
            "",
        ),
    ];
    for (what, id, body, headers, status, field) in cases {
        let before = app.get(&format!("/users/{id}"), &app.admin).body;
        let mut all_headers = vec![("Content-Type", "application/merge-patch+json")];
        all_headers.extend_from_slice(headers);
        let reply = app.send(
            "PATCH",
            &format!("/users/{id}"),
            Some(&app.admin),
            &all_headers,
            Some(&body.to_string()),
        );
        reply.problem(status);
        if !field.is_empty() {
            assert!(
                reply.problem_fields().contains(&field.to_owned()) || reply.body.contains(field),
                "{what}: {}",
                reply.body
            );
        }
        let after = app.get(&format!("/users/{id}"), &app.admin).body;
        assert_eq!(before, after, "{what} changed nothing");
    }
    // The same changes done right.
    let moved = app.patch(
        &format!("/users/{agent_id}"),
        &app.admin,
        &json!({"role": "agency", "level": null, "agency_id": agency}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["role"], "agency");
    assert_eq!(moved.json()["version"], 2);
    assert_eq!(moved.header("etag"), Some("\"2\""));
    let guarded = app.send(
        "PATCH",
        &format!("/users/{agent_id}"),
        Some(&app.admin),
        &[("If-Match", "\"2\"")],
        Some(&json!({"name": "Ufficio anagrafe"}).to_string()),
    );
    assert_eq!(guarded.status, 200, "{}", guarded.body);
}
#[test]
fn a_change_of_role_takes_effect_from_the_next_request() {
    let app = spawn_app();
    let (id, token) = app.add_user(Role::Supervisor, None, None);
    assert_eq!(app.get("/outbox", &token).status, 200);
    let changed = app.patch(
        &format!("/users/{id}"),
        &app.admin,
        &json!({"role": "agent", "level": 2}),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(app.get("/outbox", &token).status, 403);
}
#[test]
fn only_admins_change_users_and_read_the_audit() {
    let app = spawn_app();
    let (id, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, supervisor) = app.add_user(Role::Supervisor, None, None);
    for token in [&agent, &supervisor] {
        app.patch(&format!("/users/{id}"), token, &json!({"level": 2}))
            .problem(403);
        app.get("/audit", token).problem(403);
    }
    app.send("GET", "/audit", None, &[], None).problem(401);
}
#[test]
fn the_audit_says_who_changed_what_and_when_and_never_shows_a_token() {
    let app = spawn_app();
    app.set_now(T0);
    let (id, token) = app.add_user(Role::Agent, Some(Level::First), None);
    let extra = app.post(
        &format!("/users/{id}/tokens"),
        &token,
        &json!({"name": "cli"}),
    );
    let extra_token = extra.json()["token"].as_str().unwrap().to_owned();
    let extra_id = extra.json()["id"].as_str().unwrap().to_owned();
    at(&app, 60);
    app.send(
        "DELETE",
        &format!("/users/{id}/tokens/{extra_id}"),
        Some(&app.admin),
        &[],
        None,
    );
    at(&app, 120);
    app.patch(&format!("/users/{id}"), &app.admin, &json!({"level": 2}));
    at(&app, 180);
    deactivate(&app, &id, false);
    at(&app, 240);
    deactivate(&app, &id, true);

    let audit = app.get(&format!("/audit?user_id={id}"), &app.admin);
    assert_eq!(audit.status, 200, "{}", audit.body);
    for secret in [&token, &extra_token] {
        assert!(!audit.body.contains(secret.as_str()));
        assert!(
            !audit
                .body
                .contains(&helpdesk::access::tokens::hash_token(secret))
        );
    }
    let audit = audit.json();
    let admin_id = app.get("/users", &app.admin).json()["items"][0]["id"].clone();
    let entries: Vec<(String, String, Value)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["at"].as_str().unwrap().to_owned(),
                e["actor_id"].clone(),
            )
        })
        .collect();
    let expected = [
        ("user_activated", "2026-03-02T09:04:00Z", &admin_id),
        ("user_deactivated", "2026-03-02T09:03:00Z", &admin_id),
        ("user_changed", "2026-03-02T09:02:00Z", &admin_id),
        ("token_revoked", "2026-03-02T09:01:00Z", &admin_id),
        ("token_created", "2026-03-02T09:00:00Z", &json!(id)),
        ("token_created", "2026-03-02T09:00:00Z", &admin_id),
        ("user_created", "2026-03-02T09:00:00Z", &admin_id),
    ];
    assert_eq!(entries.len(), expected.len(), "{audit}");
    for ((action, at, actor), (want_action, want_at, want_actor)) in entries.iter().zip(expected) {
        assert_eq!(
            (action.as_str(), at.as_str(), actor),
            (want_action, want_at, want_actor)
        );
    }
    assert_eq!(
        audit["items"][2]["changes"],
        json!({"level": {"from": 1, "to": 2}})
    );
    assert_eq!(audit["items"][3]["token_id"], extra_id.as_str());
    assert_eq!(audit["items"][0]["via"], "api");

    // Paging, the newest first.
    let page = app
        .get(&format!("/audit?user_id={id}&limit=3"), &app.admin)
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let before = page["next_before"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/audit?user_id={id}&limit=10&before={before}"),
            &app.admin,
        )
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 4);
    assert_eq!(rest["next_before"], Value::Null);
    app.get("/audit?limit=0", &app.admin).problem(400);
}
#[test]
fn a_deactivated_user_cannot_be_given_a_ticket() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (gone_id, _) = app.add_user(Role::Agent, Some(Level::First), None);
    assert_eq!(deactivate(&app, &gone_id, false).status, 200);
    let ticket = app.open_ticket_id(&agent, common::phone_report("Stampa certificati"));
    let refused = app.event(
        &agent,
        &ticket,
        json!({"type": "assign", "assignee_id": gone_id}),
    );
    refused.problem(422);
    assert_eq!(refused.problem_fields(), ["assignee_id"]);
    assert!(refused.body.contains("deactivated"), "{}", refused.body);
}

#[test]
fn the_machine_roles_of_the_channels_call_nothing_but_their_own_endpoints() {
    let app = spawn_app();
    for (role, scope) in [
        (Role::Mailgate, "/inbound/mail"),
        (Role::Monitor, "/monitoring"),
    ] {
        // Like `metrics`, a machine has neither a level nor an agency.
        let with_level = json!({"name": "x", "role": role.as_str(), "level": 1});
        let refused = app.post("/users", &app.admin, &with_level).problem(422);
        assert!(refused.to_string().contains("level"), "{refused}");
        let (id, token) = app.add_user(role, None, None);
        for path in ["/tickets", "/users", "/agencies", "/reports/sla"] {
            let problem = app.get(path, &token).problem(403);
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(scope), "{path}: {problem}");
        }
        app.post("/tickets", &token, &common::phone_report("x"))
            .problem(403);
        // Nobody signs in as a machine.
        let as_person = json!({"name": "x", "role": role.as_str(), "oidc_subject": "mario"});
        let refused = app.post("/users", &app.admin, &as_person).problem(422);
        assert!(refused.to_string().contains("oidc_subject"), "{refused}");
        let linked = app.patch(
            &format!("/users/{id}"),
            &app.admin,
            &json!({"oidc_subject": "mario"}),
        );
        assert!(linked.problem(422).to_string().contains("oidc_subject"));
        // Listed, deactivated and audited like any other user.
        let listed = app.get(&format!("/users/{id}"), &app.admin).json();
        assert_eq!(listed["role"], role.as_str());
        assert_eq!(deactivate(&app, &id, false).status, 200);
    }
    // Undone, the migration keeps the machines' users (they may be the actors of events), as
    // inactive level-1 agents whose tokens do nothing; done again, every other user is as it was.
    let (id, token) = app.add_user(Role::Monitor, None, None);
    app.rerun_migrations(&["2026-12-04-000010_channel_roles"]);
    let kept = app.get(&format!("/users/{id}"), &app.admin).json();
    assert_eq!(
        (&kept["role"], &kept["active"]),
        (&json!("agent"), &json!(false))
    );
    assert_eq!(app.get("/tickets", &token).status, 401);
    assert_eq!(app.get("/tickets", &app.admin).status, 200);
}
