//! Wiring shared by the binary and the tests: open and migrate the database, create the
//! first admin, start the server.

use crate::access::{self, Actor};
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::domain::Role;
use crate::http::{self, AppState};
use crate::runtime::{Clock, Runtime};
use chrono::{DateTime, Utc};
use std::net::TcpListener;

/// Checks what the settings mean to the parts that take them (the e-mail sender and the
/// transport), beyond the values `Settings::load` checks itself: a bad `mail_from` or
/// `smtp_url` stops every command at once, not only the service when it starts.
pub fn check_settings(settings: &Settings) -> anyhow::Result<()> {
    crate::mail::MailSettings::from_settings(settings)?;
    crate::mail::Mailer::from_settings(settings)?;
    Ok(())
}

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

/// Held while checking for and creating the first admin.
const BOOTSTRAP_LOCK_KEY: i64 = 0x6864_6164_6d69_6e31; // "hdadmin1"

/// On a database without users, creates the first admin and returns its token. Two instances
/// starting together on one database create one admin between them.
pub fn bootstrap_admin(
    settings: &Settings,
    pool: &Pool,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let mut conn = pool.get()?;
    let token = db::write_transaction(&mut conn, |conn| {
        db::lock_for_transaction(conn, BOOTSTRAP_LOCK_KEY)?;
        if db::users::count_users(conn)? > 0 {
            return Ok::<_, db::StoreError>(None);
        }
        let admin = db::users::NewUser {
            name: "admin".into(),
            role: Role::Admin,
            level: None,
            agency_id: None,
            oidc_subject: None,
            role_from_groups: false,
        };
        let policy = settings.token_policy();
        let (_, issued) = access::create_user_in(conn, &Actor::Bootstrap, admin, policy, now)?;
        Ok(Some(issued.token))
    })?;
    Ok(token)
}

/// Starts serving on `listener`; the returned server runs until stopped or signalled.
pub fn start(
    settings: Settings,
    pool: Pool,
    clock: Clock,
    listener: TcpListener,
) -> anyhow::Result<actix_web::dev::Server> {
    let engine = match pool.get() {
        Ok(mut conn) => crate::calendars::engine_from_database(&settings, &mut conn, clock())?,
        // The database may be away at start; /status says so and the calendars load later.
        Err(_) => crate::calendars::build_engine(&settings, &Default::default())?,
    };
    if let Ok(mut conn) = pool.get() {
        let recomputed = db::late_clocks::drain_recompute_queue(&mut conn, &engine, clock())?;
        if recomputed > 0 {
            tracing::info!(recomputed, "clocks computed again per interruption");
        }
        let filled = db::clocks::backfill_outcomes(&mut conn, &engine)?;
        if filled > 0 {
            tracing::info!(
                filled,
                "report columns filled on clocks stopped before they existed"
            );
        }
    }
    let mail = crate::mail::MailSettings::from_settings(&settings)?;
    let mailer = crate::mail::Mailer::from_settings(&settings)?;
    tracing::info!(transport = %mailer.describe(), "outbox delivers through");
    Ok(http::start_server(
        AppState::new(Runtime::new(pool, settings, clock, engine, mail)),
        mailer,
        listener,
    )?)
}

pub use crate::runtime::system_clock;
