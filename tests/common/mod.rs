//! Spawns the real app on port 0 with a fresh database per test: a temporary SQLite file, or
//! a fresh PostgreSQL database when `HELPDESK_TEST_DATABASE` is a `postgres://` URL (the
//! database to connect to for creating and dropping the per-test ones).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

pub mod access;
pub mod calendars;
mod database;
pub mod imap;
pub mod mail_in;
pub mod oidc;
pub mod public;
pub mod smtp;
pub mod tls_front;

#[allow(
    unused_imports,
    reason = "each test binary uses a different part of the helpers"
)]
pub use database::{TestDatabase, backend_name, fresh_database};

use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::mpsc;

/// Settings for a test: fast SQLite sync (durability is not under test), no rate limit, the
/// outbox polled often and written (without SMTP) outside the repository.
pub fn test_settings() -> Settings {
    Settings {
        rate_limit_per_second: 0,
        sqlite_synchronous: "normal".into(),
        workers: 2,
        db_pool_size: 8,
        outbox_poll_interval_ms: 50,
        // The report scheduler would mail reports in tests that set the clock; its own tests
        // turn it on.
        report_check_interval_seconds: 0,
        outbox_dir: std::env::temp_dir()
            .join("helpdesk-test-outbox")
            .display()
            .to_string(),
        ..Settings::default()
    }
}

/// Test settings that deliver through the SMTP server at `smtp_url`, with the public-notice
/// address `avvisi@cst.example.org`.
pub fn mail_settings(smtp_url: &str) -> Settings {
    Settings {
        smtp_url: helpdesk::config::Secret(smtp_url.to_owned()),
        smtp_timeout_seconds: 5,
        mail_from: "Helpdesk CST <helpdesk@cst.example.org>".into(),
        public_notice_addresses: "avvisi@cst.example.org".into(),
        ..test_settings()
    }
}

/// A running app, its database and an admin token.
pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub database_url: String,
    pub pool: helpdesk::db::Pool,
    /// The app's "now" in microseconds; `i64::MIN` follows the system clock.
    now: Arc<AtomicI64>,
    handle: actix_web::dev::ServerHandle,
    /// `None` for a second instance on another app's database.
    _database: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the server thread ends on its own.
        drop(self.handle.stop(false));
    }
}

pub fn spawn_app() -> TestApp {
    spawn_app_with(test_settings())
}

pub fn spawn_app_with(settings: Settings) -> TestApp {
    let (database, url) = fresh_database();
    spawn_on(url, settings, Some(database), i64::MIN)
}

/// A service whose clock reads `now` (RFC 3339) from its start, so that its background jobs
/// (the sweeps at start among them) never see the system clock.
pub fn spawn_app_at(now: &str) -> TestApp {
    let (database, url) = fresh_database();
    let micros = chrono::DateTime::parse_from_rfc3339(now)
        .expect("an RFC 3339 instant")
        .timestamp_micros();
    spawn_on(url, test_settings(), Some(database), micros)
}

impl TestApp {
    /// Another instance of the service on this app's database, with its own clock (following
    /// the system clock until set). Its `admin` token is this app's.
    pub fn another_instance(&self, settings: Settings) -> TestApp {
        let mut other = spawn_on(self.database_url.clone(), settings, None, i64::MIN);
        other.admin = self.admin.clone();
        other
    }

    /// Another instance whose clock reads `now` (RFC 3339) from its start, so that its
    /// background jobs never see the system clock.
    pub fn another_instance_at(&self, settings: Settings, now: &str) -> TestApp {
        let micros = chrono::DateTime::parse_from_rfc3339(now)
            .expect("an RFC 3339 instant")
            .timestamp_micros();
        let mut other = spawn_on(self.database_url.clone(), settings, None, micros);
        other.admin = self.admin.clone();
        other
    }
}

fn spawn_on(
    url: String,
    mut settings: Settings,
    database: Option<TestDatabase>,
    now_micros: i64,
) -> TestApp {
    settings.database_url = url.clone();
    let now = Arc::new(AtomicI64::new(now_micros));
    let clock_now = now.clone();
    let clock: helpdesk::runtime::Clock =
        Arc::new(move || match clock_now.load(Ordering::SeqCst) {
            i64::MIN => chrono::Utc::now(),
            micros => chrono::DateTime::from_timestamp_micros(micros).unwrap(),
        });
    let pool = helpdesk::app::open_database(&settings).expect("open the test database");
    let server_pool = pool.clone();
    let admin = helpdesk::app::bootstrap_admin(&settings, &pool, chrono::Utc::now())
        .expect("bootstrap")
        .unwrap_or_default();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = helpdesk::app::start(settings, server_pool, clock, listener)
                .expect("start the server");
            sender.send(server.handle()).unwrap();
            server.await
        })
    });
    let handle = receiver.recv().expect("the server starts");
    TestApp {
        base,
        admin,
        database_url: url,
        pool,
        now,
        handle,
        _database: database,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Asserts a problem+json with `status` and returns the problem.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.body
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        problem
    }

    /// The fields a problem names in `errors`.
    pub fn problem_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(60))
        .build()
}

impl TestApp {
    /// Stops the server (and its background jobs) and waits until it has stopped, as a
    /// shutdown before a restart would. The database stays.
    pub fn stop(&self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
    }

    /// Fixes the app's "now" (RFC 3339).
    pub fn set_now(&self, at: &str) {
        let at = chrono::DateTime::parse_from_rfc3339(at).expect("an RFC 3339 instant");
        self.now.store(at.timestamp_micros(), Ordering::SeqCst);
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match self.now.load(Ordering::SeqCst) {
            i64::MIN => chrono::Utc::now(),
            micros => chrono::DateTime::from_timestamp_micros(micros).unwrap(),
        }
    }

    /// Sends a request; `body` is sent as given (so tests can send malformed JSON).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut request = agent().request(method, &url);
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let content_type_given = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        let result = match body {
            Some(body) if content_type_given => request.send_string(body),
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .map(|name| {
                let value = response.header(&name).unwrap_or_default().to_owned();
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        let body = response.into_string().expect("a text body");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), &[], None)
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(token), &[], Some(&body.to_string()))
    }

    /// Creates a user through the API and returns (id, token).
    pub fn add_user(
        &self,
        role: Role,
        level: Option<Level>,
        agency_id: Option<&str>,
    ) -> (String, String) {
        let mut body = json!({"name": format!("{role} user"), "role": role.as_str()});
        if let Some(level) = level {
            body["level"] = json!(level.number());
        }
        if let Some(agency_id) = agency_id {
            body["agency_id"] = json!(agency_id);
        }
        let reply = self.post("/users", &self.admin, &body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        let created = reply.json();
        (
            created["user"]["id"].as_str().unwrap().to_owned(),
            created["token"].as_str().unwrap().to_owned(),
        )
    }

    pub fn add_agency(&self, code: &str) -> String {
        self.add_agency_with(code, &[&format!("urp@{}.example.org", code.to_lowercase())])
    }

    /// Adds agency `code` ("Comune CODE") with `contacts`; returns its id.
    pub fn add_agency_with(&self, code: &str, contacts: &[&str]) -> String {
        let reply = self.post(
            "/agencies",
            &self.admin,
            &json!({"code": code, "name": format!("Comune {code}"), "contacts": contacts}),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    /// Sends a PATCH with a JSON body.
    /// Runs SQL on the app's database, whichever backend it is.
    pub fn execute_sql(&self, sql: &str) {
        use diesel::connection::SimpleConnection;
        let mut conn = self.pool.get().unwrap();
        match &mut *conn {
            helpdesk::db::DbConnection::Sqlite(c) => c.batch_execute(sql).unwrap(),
            helpdesk::db::DbConnection::Postgresql(c) => c.batch_execute(sql).unwrap(),
        }
    }

    /// Undoes `folders` (the last first) and applies them again (the first first), as diesel
    /// would run each: in a transaction, unless the migration holds its own. Name with the one to
    /// rerun every later migration that changed the same tables, so each `down.sql` meets the
    /// schema it was written for.
    pub fn rerun_migrations(&self, folders: &[&str]) {
        let backend = if self.database_url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        };
        let run = |folder: &str, file: &str| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend)
                .join(folder);
            let own_transaction = std::fs::read_to_string(dir.join("metadata.toml"))
                .is_ok_and(|metadata| metadata.contains("run_in_transaction = false"));
            let sql = std::fs::read_to_string(dir.join(file)).unwrap();
            if own_transaction {
                self.execute_sql(&sql);
            } else {
                self.execute_sql(&format!("BEGIN;\n{sql}\nCOMMIT;"));
            }
        };
        for folder in folders.iter().rev() {
            run(folder, "down.sql");
        }
        for folder in folders {
            run(folder, "up.sql");
        }
    }

    pub fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send("PATCH", path, Some(token), &[], Some(&body.to_string()))
    }

    /// Opens a ticket and returns its JSON.
    pub fn open_ticket(&self, token: &str, body: Value) -> Value {
        let reply = self.post("/tickets", token, &body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()
    }

    /// Opens a ticket and returns its id.
    pub fn open_ticket_id(&self, token: &str, body: Value) -> String {
        self.open_ticket(token, body)["id"]
            .as_str()
            .expect("a ticket id")
            .to_owned()
    }

    /// Records an event and returns the reply (any status).
    pub fn event(&self, token: &str, ticket_id: &str, body: Value) -> Reply {
        self.post(&format!("/tickets/{ticket_id}/events"), token, &body)
    }

    /// Records an event that must succeed; returns the ticket after it.
    pub fn event_ok(&self, token: &str, ticket_id: &str, body: Value) -> Value {
        let reply = self.event(token, ticket_id, body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["ticket"].clone()
    }
}

/// The ticket's clock `code`, if it shows.
pub fn sla_clock<'a>(ticket: &'a Value, code: &str) -> Option<&'a Value> {
    ticket["sla"]
        .as_array()
        .expect("a ticket with `sla`")
        .iter()
        .find(|clock| clock["code"] == code)
}

/// A simple phone report.
pub fn phone_report(subject: &str) -> Value {
    json!({"subject": subject, "channel": "phone"})
}
