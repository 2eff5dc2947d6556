//! Who may act, the tokens' side: created, listed and revoked by their owner or an admin and
//! nobody else; expiry and `token_max_days`; `last_used_at`; revocation across instances; the
//! tokens made before the migration.

mod common;

use common::access::{T0, at, me, set_active as deactivate, tokens_of};
use common::{TestApp, spawn_app, spawn_app_with, test_settings};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};

#[test]
fn owners_and_admins_create_list_and_revoke_tokens_and_nobody_else_does() {
    let app = spawn_app();
    app.set_now(T0);
    let (id, first_token) = app.add_user(Role::Agent, Some(Level::First), None);
    let (other_id, other) = app.add_user(Role::Agent, Some(Level::Second), None);

    let created = app.post(
        &format!("/users/{id}/tokens"),
        &first_token,
        &json!({"name": "portatile"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let laptop = created["token"].as_str().unwrap().to_owned();
    assert!(laptop.starts_with(created["prefix"].as_str().unwrap()));
    assert_eq!(me(&app, &id, &laptop), 200);

    let by_admin = app.post(
        &format!("/users/{id}/tokens"),
        &app.admin,
        &json!({"name": "script notturno"}),
    );
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);

    let listed = tokens_of(&app, &id, &first_token);
    assert_eq!(listed.status, 200);
    let listing = listed.json();
    let names: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&"initial") && names.contains(&"portatile"));
    for secret in [&first_token, &laptop] {
        assert!(
            !listed.body.contains(secret.as_str()),
            "a listing never shows a token"
        );
        assert!(
            !listed
                .body
                .contains(&helpdesk::access::tokens::hash_token(secret))
        );
    }
    assert!(listed.json()["items"][0].get("token").is_none());

    // Another agent sees nothing of them: 404, as for a user it may not see.
    tokens_of(&app, &id, &other).problem(404);
    app.post(
        &format!("/users/{id}/tokens"),
        &other,
        &json!({"name": "x"}),
    )
    .problem(404);
    let laptop_id = created["id"].as_str().unwrap();
    app.send(
        "DELETE",
        &format!("/users/{id}/tokens/{laptop_id}"),
        Some(&other),
        &[],
        None,
    )
    .problem(404);
    // Nor through its own path with someone else's token id.
    app.send(
        "DELETE",
        &format!("/users/{other_id}/tokens/{laptop_id}"),
        Some(&other),
        &[],
        None,
    )
    .problem(404);
    assert_eq!(me(&app, &id, &laptop), 200);

    // The owner revokes: refused from the next request on; a second revocation finds nothing.
    let revoked = app.send(
        "DELETE",
        &format!("/users/{id}/tokens/{laptop_id}"),
        Some(&first_token),
        &[],
        None,
    );
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_eq!(me(&app, &id, &laptop), 401);
    app.send(
        "DELETE",
        &format!("/users/{id}/tokens/{laptop_id}"),
        Some(&first_token),
        &[],
        None,
    )
    .problem(404);
    assert_eq!(
        tokens_of(&app, &id, &first_token).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // An admin revokes anyone's, the owner's first token included.
    let initial = tokens_of(&app, &id, &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "initial")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_admin = app.send(
        "DELETE",
        &format!("/users/{id}/tokens/{initial}"),
        Some(&app.admin),
        &[],
        None,
    );
    assert_eq!(by_admin.status, 204);
    assert_eq!(me(&app, &id, &first_token), 401);
}
#[test]
fn a_revoked_token_works_on_another_instance_only_until_its_cache_time_is_up() {
    let first = spawn_app();
    first.set_now(T0);
    let second = first.another_instance_at(test_settings(), T0);
    let (id, token) = first.add_user(Role::Agent, Some(Level::First), None);
    assert_eq!(me(&second, &id, &token), 200);
    let listed = tokens_of(&first, &id, &token).json();
    let token_id = listed["items"][0]["id"].as_str().unwrap();
    let revoked = first.send(
        "DELETE",
        &format!("/users/{id}/tokens/{token_id}"),
        Some(&first.admin),
        &[],
        None,
    );
    assert_eq!(revoked.status, 204);
    assert_eq!(me(&first, &id, &token), 401);
    at(&second, 30);
    assert_eq!(me(&second, &id, &token), 200);
    at(&second, 61);
    assert_eq!(me(&second, &id, &token), 401);
}
#[test]
fn tokens_expire_and_their_lifetime_is_capped_by_token_max_days() {
    let app = spawn_app_with(helpdesk::config::Settings {
        token_max_days: Some(30),
        ..test_settings()
    });
    app.set_now(T0);
    let (id, token) = app.add_user(Role::Agent, Some(Level::First), None);
    let initial = &tokens_of(&app, &id, &token).json()["items"][0];
    assert_eq!(
        initial["expires_at"], "2026-04-01T09:00:00Z",
        "the cap applies to the first token too"
    );

    let hourly = app.post(
        &format!("/users/{id}/tokens"),
        &token,
        &json!({"name": "un'ora", "expires_at": "2026-03-02T10:00:00Z"}),
    );
    assert_eq!(hourly.status, 201, "{}", hourly.body);
    let hourly_token = hourly.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, &id, &hourly_token), 200);
    for (expires_at, status) in [
        ("2026-05-01T00:00:00Z", 422), // beyond the 30 days
        ("2026-03-02T08:59:59Z", 422), // in the past
        ("2026-03-02T09:00:00Z", 422), // now
        ("2016-12-31T23:59:60Z", 422), // a leap second
        ("domani", 400),
    ] {
        let refused = app.post(
            &format!("/users/{id}/tokens"),
            &token,
            &json!({"name": "x", "expires_at": expires_at}),
        );
        refused.problem(status);
        assert!(
            refused.body.contains("expires_at"),
            "{expires_at}: {}",
            refused.body
        );
    }
    at(&app, 3599);
    assert_eq!(
        me(&app, &id, &hourly_token),
        200,
        "cached, but only until it expires"
    );
    at(&app, 3600);
    assert_eq!(
        me(&app, &id, &hourly_token),
        401,
        "expired, even though it was cached"
    );
    let listed = tokens_of(&app, &id, &token).json();
    let expired = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "un'ora")
        .unwrap();
    assert_eq!(expired["expired"], true);
}
#[test]
fn last_used_is_recorded_at_most_once_a_minute() {
    let app = spawn_app_with(helpdesk::config::Settings {
        token_cache_seconds: 0,
        ..test_settings()
    });
    app.set_now(T0);
    let (id, token) = app.add_user(Role::Agent, Some(Level::First), None);
    let last_used =
        |app: &TestApp| tokens_of(app, &id, &app.admin).json()["items"][0]["last_used_at"].clone();
    assert_eq!(last_used(&app), Value::Null);
    assert_eq!(me(&app, &id, &token), 200);
    assert_eq!(last_used(&app), "2026-03-02T09:00:00Z");
    at(&app, 59);
    assert_eq!(me(&app, &id, &token), 200);
    assert_eq!(last_used(&app), "2026-03-02T09:00:00Z");
    at(&app, 61);
    assert_eq!(me(&app, &id, &token), 200);
    assert_eq!(last_used(&app), "2026-03-02T09:01:01Z");
}
#[test]
fn a_deactivated_user_gets_no_new_token() {
    let app = spawn_app();
    let (id, _) = app.add_user(Role::Agent, Some(Level::First), None);
    assert_eq!(deactivate(&app, &id, false).status, 200);
    app.post(
        &format!("/users/{id}/tokens"),
        &app.admin,
        &json!({"name": "x"}),
    )
    .problem(409);
}
#[test]
fn tokens_made_before_the_migration_keep_working() {
    let app = spawn_app();
    let (id, token) = app.add_user(Role::Agent, Some(Level::First), None);
    // Back to one token per user, and forward again, without this token having been used.
    app.rerun_migrations(&[
        "2026-12-03-000009_access_lifecycle",
        "2026-12-04-000010_channel_roles",
    ]);
    assert_eq!(me(&app, &id, &token), 200);
    let listed = tokens_of(&app, &id, &token).json();
    assert_eq!(listed["items"][0]["name"], "initial");
    assert_eq!(listed["items"][0]["prefix"], Value::Null);
}
#[test]
fn odd_requests_about_users_and_tokens_get_the_right_4xx() {
    let app = spawn_app();
    let (id, token) = app.add_user(Role::Agency, None, Some(&app.add_agency("FI")));
    let nobody = uuid::Uuid::new_v4();
    app.patch(
        &format!("/users/{nobody}"),
        &app.admin,
        &json!({"name": "X"}),
    )
    .problem(404);
    tokens_of(&app, &nobody.to_string(), &app.admin).problem(404);
    let bad_id = app.patch("/users/42", &app.admin, &json!({"name": "X"}));
    assert_eq!(bad_id.problem_fields(), ["id"]);
    let bad_token_id = app.send(
        "DELETE",
        &format!("/users/{id}/tokens/nope"),
        Some(&token),
        &[],
        None,
    );
    assert_eq!(bad_token_id.problem_fields(), ["token_id"]);
    app.send(
        "PATCH",
        &format!("/users/{id}"),
        Some(&app.admin),
        &[("Content-Type", "text/plain")],
        Some(r#"{"name": "X"}"#),
    )
    .problem(415);
    let unknown = app.post(
        &format!("/users/{id}/tokens"),
        &token,
        &json!({"name": "x", "scope": "all"}),
    );
    assert_eq!(unknown.problem_fields(), ["scope"]);
    let nameless = app.post(&format!("/users/{id}/tokens"), &token, &json!({}));
    assert_eq!(nameless.problem_fields(), ["name"]);
    // An agency user manages its own tokens like anyone else.
    let own = app.post(
        &format!("/users/{id}/tokens"),
        &token,
        &json!({"name": "ufficio"}),
    );
    assert_eq!(own.status, 201, "{}", own.body);
    // A bearer that looks like a JWT, with no issuer configured, is just an unknown token.
    app.send(
        "GET",
        "/tickets",
        Some("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        &[],
        None,
    )
    .problem(401);
}
