//! The public outputs as HTTP resources: strong `ETag`s and 304, `Cache-Control`, `HEAD`,
//! their own rate limit by client address, and `days` checked.

mod common;

use common::{spawn_app, spawn_app_with, test_settings};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::json;

const OUTPUTS: [&str; 3] = ["/public/notices", "/public/notices.atom", "/status-page"];

#[test]
fn each_output_has_a_strong_etag_that_if_none_match_answers_with_304() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.interrupted_malfunction(&agent, &["Anagrafe online"], json!({}));
    app.set_now("2016-06-23T08:40:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Anagrafe sospesa."}),
    );
    for path in OUTPUTS {
        let first = app.public(path, &[]);
        assert_eq!(first.status, 200, "{path}: {}", first.body);
        let etag = first.header("etag").unwrap().to_owned();
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "{path}: {etag}"
        );
        assert_eq!(first.header("cache-control"), Some("public, max-age=5"));
        let again = app.public(path, &[("If-None-Match", &etag)]);
        assert_eq!(again.status, 304, "{path}");
        assert_eq!(again.body, "");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        let listed = format!("\"other\", W/{etag}");
        assert_eq!(app.public(path, &[("If-None-Match", &listed)]).status, 304);
        assert_eq!(
            app.public(path, &[("If-None-Match", "\"other\"")]).status,
            200
        );
        // The same resource under /api/v1, and HEAD as on every GET.
        let head = app.send("HEAD", &format!("{}{path}", app.root()), None, &[], None);
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.body, "");
        assert_eq!(head.header("etag"), Some(etag.as_str()));
    }
    let api = app.send(
        "GET",
        &format!("{}/public/notices", app.base),
        None,
        &[],
        None,
    );
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.json(), app.public_notices());

    // A change answers the old tag with the new content.
    let before = app
        .public("/status-page", &[])
        .header("etag")
        .unwrap()
        .to_owned();
    app.set_now("2016-06-23T09:00:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Ancora sospesa."}),
    );
    let after = app.public("/status-page", &[("If-None-Match", &before)]);
    assert_eq!(after.status, 200);
    assert!(after.body.contains("Ancora sospesa."));
}

#[test]
fn days_is_checked_and_other_parameters_are_ignored() {
    let app = spawn_app();
    for path in OUTPUTS {
        for days in ["0", "366"] {
            let reply = app.public(&format!("{path}?days={days}"), &[]);
            reply.problem(422);
            assert_eq!(reply.problem_fields(), ["days"], "{path}?days={days}");
            assert_eq!(reply.header("cache-control"), Some("no-store"));
        }
        for days in ["-1", "tre", ""] {
            let reply = app.public(&format!("{path}?days={days}"), &[]);
            reply.problem(400);
            assert_eq!(reply.problem_fields(), ["days"], "{path}?days={days}");
        }
        for query in ["?days=1", "?days=365", "?utm_source=portale"] {
            assert_eq!(app.public(&format!("{path}{query}"), &[]).status, 200);
        }
    }
    assert_eq!(app.public_notices()["days"], 90);
    assert_eq!(app.public("/public/notices?days=7", &[]).json()["days"], 7);
}

#[test]
fn the_days_leave_out_notices_resolved_before_them() {
    let app = spawn_app_with(Settings {
        public_cache_seconds: 0,
        ..test_settings()
    });
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.interrupted_malfunction(&agent, &["SUAP"], json!({}));
    app.set_now("2016-06-23T08:40:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "SUAP sospeso."}),
    );
    app.event_ok(&agent, &id, json!({"type": "interruption_end"}));
    app.set_now("2016-08-10T08:00:00Z"); // 48 days later
    let count = |query: &str| {
        app.public(&format!("/public/notices{query}"), &[]).json()["items"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((count(""), count("?days=49"), count("?days=30")), (1, 1, 0));
    assert!(
        !app.public("/status-page?days=30", &[])
            .body
            .contains("SUAP sospeso.")
    );
}

#[test]
fn the_public_outputs_have_their_own_rate_limit_by_address() {
    let app = spawn_app_with(Settings {
        public_rate_limit_per_second: 2,
        rate_limit_per_second: 1000,
        rate_limit_burst: 1000,
        ..test_settings()
    });
    let replies: Vec<_> = (0..4).map(|_| app.public("/status-page", &[])).collect();
    assert_eq!(replies[0].status, 200);
    assert_eq!(replies[0].header("x-ratelimit-limit"), Some("2"));
    let limited = replies
        .iter()
        .find(|reply| reply.status == 429)
        .expect("four requests at once exceed 2 a second");
    limited.problem(429);
    assert!(
        limited
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().unwrap() >= 1)
    );
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    assert!(limited.header("x-ratelimit-reset").is_some());
    // Spelt with an escape, it is the same page and the same budget.
    let escaped = app.public("/status%2Dpage", &[]);
    assert!(matches!(escaped.status, 200 | 429), "{}", escaped.status);
    assert_eq!(
        escaped.header("x-ratelimit-limit"),
        Some("2"),
        "the public limiter"
    );
    // The API's budget is another.
    let api = app.get("/tickets", &app.admin);
    assert_eq!(api.status, 200);
    assert_eq!(api.header("x-ratelimit-limit"), Some("1000"));
}

#[test]
fn hostile_notice_text_and_services_stay_text_in_the_page_and_the_feed() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let service = "<img src=x onerror=alert(1)>";
    let id = app.interrupted_malfunction(&agent, &[service], json!({}));
    app.set_now("2016-06-23T08:40:00Z");
    let text = "</p><script>alert('x')</script> & ]]> <![CDATA[ \"quoted\"\nriga due";
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": text}),
    );

    let page = app.status_page();
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "escaped, still readable");
    // The feed parses, and gives back exactly the text.
    let feed = app.public_feed();
    let entry = &feed.entries[0];
    let body = entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
        .unwrap_or_default();
    assert!(
        body.contains("</p><script>alert('x')</script> & ]]>"),
        "{body}"
    );
    let raw = app.public("/public/notices.atom", &[]).body;
    assert!(!raw.contains("<script>"), "{raw}");
    // The JSON carries it as a string.
    let notices = app.public_notices();
    assert_eq!(notices["items"][0]["text"], text);
}
