//! Service-wide behaviour: health, rate limits, headers, the OpenAPI document.

mod common;

use common::{spawn_app, spawn_app_with, test_settings};
use std::net::TcpListener;

#[test]
fn status_answers_200_when_the_database_answers() {
    let app = spawn_app();
    for path in ["/status", "/api/v1/status"] {
        let url = app.base.replace("/api/v1", "") + path;
        let reply = app.send("GET", &url, None, &[], None);
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.json()["status"], 200);
    }
}

#[test]
fn status_answers_503_problem_when_the_database_is_away() {
    let mut settings = test_settings();
    settings.database_url = "postgres://127.0.0.1:1/nothing_listens_here".into();
    let pool = helpdesk::db::connect_pool_lazily(&settings.database_url, 1).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server =
                helpdesk::app::start(settings, pool, helpdesk::app::system_clock(), listener)
                    .unwrap();
            sender.send(server.handle()).unwrap();
            server.await
        })
    });
    let handle = receiver.recv().unwrap();
    let response = ureq::get(&format!("{base}/status")).call();
    let Err(ureq::Error::Status(503, response)) = response else {
        panic!("expected 503, got {response:?}");
    };
    assert_eq!(response.content_type(), "application/problem+json");
    assert!(response.header("retry-after").is_some());
    let problem: serde_json::Value = response.into_json().unwrap();
    assert_eq!(problem["status"], 503);
    drop(handle.stop(false));
}

#[test]
fn callers_past_their_rate_get_429_with_retry_after() {
    let mut settings = test_settings();
    settings.rate_limit_per_second = 1;
    settings.rate_limit_burst = 3;
    let app = spawn_app_with(settings);
    // Spends one of the admin's three.
    let (_, other) = app.add_user(helpdesk::domain::Role::Supervisor, None, None);
    let second = app.get("/agencies", &app.admin);
    assert_eq!(second.status, 200);
    assert_eq!(second.header("x-ratelimit-limit"), Some("3"));
    assert!(
        second
            .header("x-ratelimit-remaining")
            .unwrap()
            .parse::<u32>()
            .unwrap()
            <= 1
    );
    assert!(second.header("x-ratelimit-reset").is_some());
    let statuses: Vec<u16> = (0..3)
        .map(|_| app.get("/agencies", &app.admin).status)
        .collect();
    assert!(
        statuses.iter().filter(|&&s| s == 429).count() >= 2,
        "{statuses:?}"
    );
    let limited = app.get("/agencies", &app.admin);
    let problem = limited.problem(429);
    assert!(problem["detail"].as_str().unwrap().contains("rate limit"));
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(
        retry_after, 1,
        "one request per second comes back within a second"
    );
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    // Another token has its own budget.
    assert_eq!(app.get("/agencies", &other).status, 200);
}

#[test]
fn responses_carry_a_request_id_and_are_not_cached() {
    let app = spawn_app();
    let reply = app.get("/tickets", &app.admin);
    let id = reply.header("x-request-id").expect("a request id");
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let unknown = app.get("/no-such-thing", &app.admin);
    unknown.problem(404);
    let wrong_method = app.send("DELETE", "/tickets", Some(&app.admin), &[], None);
    wrong_method.problem(405);
    assert!(wrong_method.header("x-request-id").is_some());
}

#[test]
fn the_committed_openapi_document_is_current_and_served() {
    let generated = helpdesk::http::openapi::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    if std::env::var_os("HELPDESK_UPDATE_OPENAPI").is_some() {
        std::fs::write(path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `HELPDESK_UPDATE_OPENAPI=1 cargo test --test service` \
         (or `cargo run -- openapi > docs/openapi.json`) and commit it"
    );
    let app = spawn_app();
    let served = app.send("GET", "/openapi.json", None, &[], None);
    assert_eq!(served.status, 200);
    assert_eq!(served.body, generated);
    let document = served.json();
    assert_eq!(document["info"]["version"], "1.0.0");
    for path in [
        "/tickets",
        "/tickets/{id}",
        "/tickets/{id}/events",
        "/agencies",
        "/agencies/{id}",
        "/users",
        "/reports/status-by-level",
        "/status",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
}

#[test]
fn instances_starting_together_create_one_first_admin() {
    let (_database, url) = common::fresh_database();
    let mut settings = test_settings();
    settings.database_url = url;
    let pool = helpdesk::app::open_database(&settings).unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let starters: Vec<_> = (0..4)
        .map(|_| {
            let (pool, barrier, settings) = (pool.clone(), barrier.clone(), settings.clone());
            std::thread::spawn(move || {
                barrier.wait();
                helpdesk::app::bootstrap_admin(&settings, &pool, chrono::Utc::now()).unwrap()
            })
        })
        .collect();
    let tokens: Vec<_> = starters
        .into_iter()
        .filter_map(|s| s.join().unwrap())
        .collect();
    assert_eq!(tokens.len(), 1);
    let mut conn = pool.get().unwrap();
    assert_eq!(helpdesk::db::users::count_users(&mut conn).unwrap(), 1);
}

#[test]
fn made_up_tokens_share_their_address_budget() {
    let mut settings = test_settings();
    settings.rate_limit_per_second = 1;
    settings.rate_limit_burst = 3;
    let app = spawn_app_with(settings);
    let statuses: Vec<u16> = (0..6)
        .map(|i| {
            let token = format!("hd_made-up-{i}");
            app.send("GET", "/tickets", Some(&token), &[], None).status
        })
        .collect();
    assert!(
        statuses.contains(&401) && statuses.contains(&429),
        "{statuses:?}"
    );
}

#[test]
fn connections_the_database_dropped_are_replaced() {
    // The outbox worker would otherwise meet (and drop) some of the dead connections first.
    let app = spawn_app_with(helpdesk::config::Settings {
        outbox_poll_interval_ms: 600_000,
        ..test_settings()
    });
    if common::backend_name() != "postgres" {
        return; // a SQLite file cannot drop its connections
    }
    for _ in 0..4 {
        assert_eq!(app.get("/tickets", &app.admin).status, 200);
    }
    // What a server restart does to every pooled connection.
    let admin_url = std::env::var("HELPDESK_TEST_DATABASE").unwrap();
    let database = app.database_url.rsplit('/').next().unwrap().to_owned();
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(&admin_url).unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        )),
        &mut admin,
    )
    .unwrap();
    let statuses: Vec<u16> = (0..14)
        .map(|_| app.get("/tickets", &app.admin).status)
        .collect();
    eprintln!("statuses after the drop: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "the dropped connections were in use: {statuses:?}"
    );
    assert!(
        statuses[statuses.len() - 5..].iter().all(|s| *s == 200),
        "{statuses:?}"
    );
}
