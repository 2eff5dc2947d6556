//! OpenID Connect sign-in through HTTP, against a real OpenID provider on 127.0.0.1
//! (tests/oidc/provider.mjs, oauth2-mock-server): a JWT it issued for a linked identity acts
//! with that user's role; refused tokens are 401 and unknown or deactivated people 403; groups
//! mapped to roles make users; the helpdesk's own tokens keep working beside it.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::oidc::OidcProvider;
use common::{TestApp, spawn_app_with, test_settings};
use helpdesk::config::{GroupRole, Settings};
use helpdesk::domain::Role;
use serde_json::{Value, json};

fn settings_for(provider: &OidcProvider) -> Settings {
    Settings {
        oidc_issuer: provider.issuer().to_owned(),
        oidc_audience: "helpdesk".into(),
        // The tests rotate keys and expect the next token to find the new one.
        oidc_jwks_refetch_seconds: 0,
        ..test_settings()
    }
}

fn tickets(app: &TestApp, token: &str) -> common::Reply {
    app.get("/tickets", token)
}

/// Adds a user linked to the identity `subject`; returns its id.
fn linked_user(app: &TestApp, subject: &str, body: Value) -> String {
    let mut body = body;
    body["oidc_subject"] = json!(subject);
    let reply = app.post("/users", &app.admin, &body);
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["user"]["id"].as_str().unwrap().to_owned()
}

fn refused(reply: &common::Reply, status: u16) -> String {
    let problem = reply.problem(status);
    problem["detail"].as_str().unwrap().to_owned()
}

#[test]
fn a_token_of_a_linked_identity_acts_with_that_users_role() {
    let provider = OidcProvider::start();
    let app = spawn_app_with(settings_for(&provider));
    let agent_id = linked_user(
        &app,
        "alice",
        json!({"name": "Alice Bruni", "role": "agent", "level": 1}),
    );
    let jwt = provider.token(json!({"sub": "alice"}), 300);
    assert_eq!(tickets(&app, &jwt).status, 200);
    let opened = app.post("/tickets", &jwt, &common::phone_report("Protocollo fermo"));
    assert_eq!(opened.status, 201, "{}", opened.body);
    let id = opened.json()["id"].as_str().unwrap().to_owned();
    let events = app.get(&format!("/tickets/{id}/events"), &jwt).json();
    assert_eq!(events["items"][0]["actor_id"], agent_id.as_str());
    // An agent's role, not more.
    app.get("/outbox", &jwt).problem(403);
    app.get("/audit", &jwt).problem(403);
    // The helpdesk's own tokens keep working beside it.
    assert_eq!(tickets(&app, &app.admin).status, 200);
}

#[test]
fn an_identity_claim_other_than_sub_names_the_person() {
    let provider = OidcProvider::start();
    let app = spawn_app_with(Settings {
        oidc_identity_claim: "email".into(),
        ..settings_for(&provider)
    });
    linked_user(
        &app,
        "alice@comune.example.it",
        json!({"name": "Alice", "role": "supervisor"}),
    );
    let jwt = provider.token(
        json!({"sub": "x-123", "email": "alice@comune.example.it", "email_verified": true}),
        300,
    );
    assert_eq!(app.get("/outbox", &jwt).status, 200);
    // An address the person could have typed themselves is no identity.
    let unverified = provider.token(
        json!({"sub": "x-124", "email": "alice@comune.example.it", "email_verified": false}),
        300,
    );
    assert!(refused(&tickets(&app, &unverified), 401).contains("not verified"));
    let without = provider.token(json!({"sub": "x-123"}), 300);
    assert!(refused(&tickets(&app, &without), 401).contains("email"));
}

fn forged_alg_none(claims: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

#[test]
fn tokens_the_provider_did_not_vouch_for_are_refused_with_a_reason() {
    let provider = OidcProvider::start();
    let app = spawn_app_with(settings_for(&provider));
    linked_user(&app, "alice", json!({"name": "Alice", "role": "admin"}));
    let good = provider.token(json!({}), 300);
    assert_eq!(tickets(&app, &good).status, 200);
    let now = chrono::Utc::now().timestamp();

    let tampered = {
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["sub"] = json!("mallory");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        parts.join(".")
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            provider.token(
                json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200}),
                300,
            ),
            "expired",
        ),
        (
            "for another audience",
            provider.token(json!({"aud": "another-app"}), 300),
            "audience",
        ),
        (
            "from another issuer",
            provider.token(json!({"iss": "https://evil.example.org"}), 300),
            "issuer",
        ),
        ("tampered", tampered, "signature"),
        (
            "alg none",
            forged_alg_none(
                json!({"iss": provider.issuer(), "aud": "helpdesk", "sub": "alice", "exp": now + 300}),
            ),
            "none",
        ),
        (
            "not yet valid",
            provider.token(json!({"nbf": now + 3600}), 7200),
            "not valid yet",
        ),
    ];
    for (what, token, reason) in cases {
        let reply = tickets(&app, &token);
        let detail = refused(&reply, 401);
        assert!(detail.to_lowercase().contains(reason), "{what}: {detail}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#),
            "{what}"
        );
        assert!(
            !reply.body.contains(&token),
            "{what}: the problem never quotes the token"
        );
    }
}

#[test]
fn an_unknown_key_is_refused_until_the_provider_publishes_it() {
    let provider = OidcProvider::start();
    let app = spawn_app_with(settings_for(&provider));
    linked_user(
        &app,
        "alice",
        json!({"name": "Alice", "role": "supervisor"}),
    );
    assert_eq!(tickets(&app, &provider.token(json!({}), 300)).status, 200);

    // Signed by a key the provider holds but does not publish: refused, after one refetch.
    let (early, kid) = provider.token_with_unpublished_key(json!({}), 300);
    let detail = refused(&tickets(&app, &early), 401);
    assert!(detail.contains("does not publish"), "{detail}");

    // The provider rotates to that key: the same token now works, and so do new ones.
    provider.rotate_to(&kid, false);
    assert_eq!(tickets(&app, &early).status, 200);
    assert_eq!(tickets(&app, &provider.token(json!({}), 300)).status, 200);

    // A rotation that withdraws every other key: tokens of the new key work at once. (A JWT
    // already seen stays trusted for token_cache_seconds, like a revoked token: this one is
    // new.)
    let old = provider.token(json!({"jti": "signed-before-the-rotation"}), 300);
    provider.rotate(true);
    assert_eq!(tickets(&app, &provider.token(json!({}), 300)).status, 200);
    // The old key's token, never seen before, meets the refreshed key set and is refused.
    let (stranger, _) = provider.token_with_unpublished_key(json!({}), 300);
    assert_eq!(tickets(&app, &stranger).status, 401);
    assert_eq!(
        tickets(&app, &old).status,
        401,
        "the withdrawn key is no longer trusted"
    );
}

#[test]
fn an_unknown_or_deactivated_person_is_told_why_with_403() {
    let provider = OidcProvider::start();
    let app = spawn_app_with(settings_for(&provider));
    let stranger = provider.token(json!({"sub": "nobody"}), 300);
    let detail = refused(&tickets(&app, &stranger), 403);
    assert!(detail.contains("oidc_subject"), "{detail}");

    let id = linked_user(
        &app,
        "carla",
        json!({"name": "Carla", "role": "agent", "level": 2}),
    );
    let jwt = provider.token(json!({"sub": "carla"}), 300);
    assert_eq!(tickets(&app, &jwt).status, 200);
    let off = app.patch(
        &format!("/users/{id}"),
        &app.admin,
        &json!({"active": false}),
    );
    assert_eq!(off.status, 200);
    let detail = refused(&tickets(&app, &jwt), 403);
    assert!(detail.contains("deactivated"), "{detail}");
    // Unlinking and linking another person.
    let moved = app.patch(
        &format!("/users/{id}"),
        &app.admin,
        &json!({"active": true, "oidc_subject": "carla.nuova"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(tickets(&app, &jwt).status, 403);
    let renamed = provider.token(json!({"sub": "carla.nuova"}), 300);
    assert_eq!(tickets(&app, &renamed).status, 200);
    // One identity, one user.
    let taken = app.post(
        "/users",
        &app.admin,
        &json!({"name": "Altra", "role": "supervisor", "oidc_subject": "carla.nuova"}),
    );
    assert_eq!(taken.status, 409, "{}", taken.body);
}

#[test]
fn the_provider_being_away_is_a_503_not_a_refusal() {
    let provider = OidcProvider::start();
    let settings = settings_for(&provider);
    let jwt = provider.token(json!({}), 300);
    drop(provider);
    let app = spawn_app_with(settings);
    let reply = tickets(&app, &jwt);
    reply.problem(503);
    assert!(reply.header("retry-after").is_some());
    assert_eq!(tickets(&app, &app.admin).status, 200);
}

#[test]
fn mapped_groups_make_users_whose_role_follows_the_groups_until_an_admin_sets_one() {
    let provider = OidcProvider::start();
    let mut settings = settings_for(&provider);
    settings.oidc_groups_claim = "groups".into();
    settings.oidc_group_roles = [
        ("hd-secondo-livello", Role::Agent, Some(2), None),
        ("hd-primo-livello", Role::Agent, Some(1), None),
        ("comune-fi", Role::Agency, None, Some("FI")),
        ("comune-xx", Role::Agency, None, Some("XX")),
    ]
    .into_iter()
    .map(|(group, role, level, agency)| {
        (
            group.to_owned(),
            GroupRole {
                role,
                level,
                agency: agency.map(str::to_owned),
            },
        )
    })
    .collect();
    let app = spawn_app_with(settings);
    let firenze = app.add_agency("FI");

    let both = provider.token(
        json!({"sub": "dario", "groups": ["hd-primo-livello", "hd-secondo-livello"]}),
        300,
    );
    assert_eq!(tickets(&app, &both).status, 200);
    let users = app.get("/users", &app.admin).json();
    let dario = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["oidc_subject"] == "dario")
        .expect("made at the first sign-in")
        .clone();
    assert_eq!(
        (dario["role"].clone(), dario["level"].clone()),
        (json!("agent"), json!(2)),
        "the most the groups give"
    );
    assert_eq!(dario["role_from_groups"], true);
    let id = dario["id"].as_str().unwrap();
    let audit = app.get(&format!("/audit?user_id={id}"), &app.admin).json();
    assert_eq!(audit["items"][0]["via"], "oidc");
    assert_eq!(audit["items"][0]["action"], "user_created");

    // It signs in through the provider only: no token of ours would follow its groups.
    app.post(&format!("/users/{id}/tokens"), &both, &json!({"name": "x"}))
        .problem(409);
    app.post(
        &format!("/users/{id}/tokens"),
        &app.admin,
        &json!({"name": "x"}),
    )
    .problem(409);

    // The groups change at the provider: the next sign-in follows them.
    let moved = provider.token(json!({"sub": "dario", "groups": ["comune-fi"]}), 300);
    assert_eq!(tickets(&app, &moved).status, 200);
    let now = app.get(&format!("/users/{id}"), &app.admin).json();
    assert_eq!(
        (now["role"].clone(), now["agency_id"].clone()),
        (json!("agency"), json!(firenze))
    );

    // No mapped group left, or a group naming an unknown agency: 403, clearly.
    let none = provider.token(json!({"sub": "dario", "groups": ["altro"]}), 300);
    assert!(refused(&tickets(&app, &none), 403).contains("groups"));
    let unknown_agency = provider.token(json!({"sub": "elena", "groups": ["comune-xx"]}), 300);
    assert!(refused(&tickets(&app, &unknown_agency), 403).contains("comune-xx"));
    let stranger = provider.token(json!({"sub": "fabio"}), 300);
    assert!(refused(&tickets(&app, &stranger), 403).contains("groups"));

    // An admin sets the role: the groups no longer decide it.
    let set = app.patch(
        &format!("/users/{id}"),
        &app.admin,
        &json!({"role": "supervisor", "agency_id": null}),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.json()["role_from_groups"], false);
    let again = provider.token(json!({"sub": "dario", "groups": ["hd-primo-livello"]}), 300);
    assert_eq!(
        app.get("/outbox", &again).status,
        200,
        "still the supervisor the admin made"
    );
    let token = app.post(
        &format!("/users/{id}/tokens"),
        &app.admin,
        &json!({"name": "x"}),
    );
    assert_eq!(
        token.status, 201,
        "taken over by an admin, it may hold tokens"
    );
}

#[test]
fn the_groups_never_demote_the_last_active_admin() {
    let provider = OidcProvider::start();
    let mut settings = settings_for(&provider);
    settings.oidc_groups_claim = "groups".into();
    settings.oidc_group_roles = [
        ("hd-admin", Role::Admin, None),
        ("hd-primo-livello", Role::Agent, Some(1)),
    ]
    .into_iter()
    .map(|(group, role, level)| {
        let mapped = GroupRole {
            role,
            level,
            agency: None,
        };
        (group.to_owned(), mapped)
    })
    .collect();
    let app = spawn_app_with(settings);
    let admin_jwt = provider.token(json!({"sub": "root", "groups": ["hd-admin"]}), 300);
    assert_eq!(app.get("/audit", &admin_jwt).status, 200);
    // The first admin leaves: the one made from the groups is the last active admin.
    let first = app.get("/users", &app.admin).json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = app.patch(
        &format!("/users/{first}"),
        &admin_jwt,
        &json!({"active": false}),
    );
    assert_eq!(gone.status, 200, "{}", gone.body);
    let demoted = provider.token(json!({"sub": "root", "groups": ["hd-primo-livello"]}), 300);
    assert_eq!(app.get("/audit", &demoted).status, 200, "still an admin");
}

#[test]
fn the_service_refuses_to_start_with_a_half_configured_issuer() {
    for (settings, complaint) in [
        (
            Settings {
                oidc_issuer: "https://sso.example.it/realms/csi".into(),
                ..Settings::default()
            },
            "oidc_audience",
        ),
        (
            Settings {
                oidc_issuer: "http://sso.example.it/realms/csi".into(),
                oidc_audience: "helpdesk".into(),
                ..Settings::default()
            },
            "https",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("helpdesk.toml");
        std::fs::write(
            &file,
            format!(
                "oidc_issuer = {:?}\noidc_audience = {:?}\n",
                settings.oidc_issuer, settings.oidc_audience
            ),
        )
        .unwrap();
        let error = Settings::load(Some(&file)).unwrap_err();
        assert!(format!("{error:#}").contains(complaint), "{error:#}");
    }
}

#[test]
fn a_group_cannot_make_a_person_a_machine() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("helpdesk.toml");
    std::fs::write(
        &file,
        "oidc_issuer = \"https://sso.example.it/realms/csi\"\noidc_audience = \"helpdesk\"\n\
         oidc_groups_claim = \"groups\"\n[oidc_group_roles.sistemisti]\nrole = \"monitor\"\n",
    )
    .unwrap();
    let error = Settings::load(Some(&file)).unwrap_err();
    assert!(
        format!("{error:#}").contains("oidc_group_roles.sistemisti"),
        "{error:#}"
    );
    assert!(format!("{error:#}").contains("machine"), "{error:#}");
}
