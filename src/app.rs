//! Wiring shared by the binary and the tests: open and migrate the database, create the
//! first admin, start the server.

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::domain::{Level, Role};
use crate::http::auth::{generate_token, hash_token};
use crate::http::{self, AppState, Clock};
use chrono::{DateTime, Utc};
use std::net::TcpListener;
use uuid::Uuid;

/// Connects to the configured database and applies pending migrations.
pub fn open_database(settings: &Settings) -> anyhow::Result<Pool> {
    let pool = db::connect_pool(
        &settings.database_url,
        settings.db_pool_size,
        &settings.sqlite_synchronous,
    )?;
    let applied = db::run_migrations(&mut *pool.get()?)?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(pool)
}

/// Creates a user and returns its token (shown once; only its hash is stored).
pub fn add_user(
    pool: &Pool,
    name: &str,
    role: Role,
    level: Option<Level>,
    agency_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let token = generate_token();
    let mut conn = pool.get()?;
    if let Some(agency_id) = agency_id {
        anyhow::ensure!(
            db::agencies::find_agency(&mut conn, agency_id)?.is_some(),
            "no agency with id {agency_id}"
        );
    }
    db::users::insert_user(
        &mut conn,
        db::users::NewUser {
            name: name.to_owned(),
            role,
            level,
            agency_id,
            token_hash: hash_token(&token),
        },
        now,
    )?;
    Ok(token)
}

/// On a database without users, creates the first admin and returns its token.
pub fn bootstrap_admin(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<Option<String>> {
    let mut conn = pool.get()?;
    if db::users::count_users(&mut conn)? > 0 {
        return Ok(None);
    }
    drop(conn);
    add_user(pool, "admin", Role::Admin, None, None, now).map(Some)
}

/// Starts serving on `listener`; the returned server runs until stopped or signalled.
pub fn start(
    settings: Settings,
    pool: Pool,
    clock: Clock,
    listener: TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    http::start_server(AppState::new(pool, settings, clock), listener)
}

/// The system clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(Utc::now)
}
