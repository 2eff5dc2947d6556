//! The per-test database: a temporary SQLite file, or a fresh PostgreSQL database when
//! `HELPDESK_TEST_DATABASE` is a `postgres://` URL.

use diesel::{Connection, PgConnection, RunQueryDsl};
use uuid::Uuid;

/// The per-test database, removed when the test ends.
pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// Which backend the tests run on, from `HELPDESK_TEST_DATABASE` (default SQLite).
pub fn backend_name() -> &'static str {
    match std::env::var("HELPDESK_TEST_DATABASE") {
        Ok(url) if url.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

pub fn fresh_database() -> (TestDatabase, String) {
    match std::env::var("HELPDESK_TEST_DATABASE") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("helpdesk_test_{}", Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("HELPDESK_TEST_DATABASE does not answer: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create the test database");
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("URL with a database name");
            let url = format!("{base}/{name}");
            (TestDatabase::Postgres { admin_url, name }, url)
        }
        Ok(other) if other != "sqlite" && !other.is_empty() => {
            panic!("HELPDESK_TEST_DATABASE must be `sqlite` or a postgres:// URL, not {other}")
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (TestDatabase::Sqlite(dir), url)
        }
    }
}
