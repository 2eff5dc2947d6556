//! Storage: one diesel code base over SQLite (embedded, default) and PostgreSQL, chosen by
//! the URL scheme; the pool, per-connection settings, embedded migrations, and one
//! repository file per aggregate. Never imports `http/`.

/// Inserts `rows` (a slice of one `Insertable` row type) into `table`, and nothing for an
/// empty slice. diesel's multi-row insert does not compile through the backend enum, so each
/// backend gets its own call; a single row goes as a single-row insert, a statement diesel
/// prepares once per connection (a multi-row one is prepared at each run). PostgreSQL takes
/// many rows in one statement, up to `INSERT_CHUNK` at a time; diesel writes SQLite's rows that
/// have optional columns one by one, in a savepoint.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        let conn: &mut $crate::db::DbConnection = &mut *$conn;
        if rows.len() == 1 {
            diesel::insert_into($table).values(&rows[0]).execute(conn)
        } else {
            let mut insert_all = || -> Result<usize, diesel::result::Error> {
                let mut inserted = 0;
                for chunk in rows.chunks($crate::db::INSERT_CHUNK) {
                    inserted += match &mut *conn {
                        $crate::db::DbConnection::Postgresql(conn) => {
                            diesel::insert_into($table).values(chunk).execute(conn)?
                        }
                        $crate::db::DbConnection::Sqlite(conn) => {
                            diesel::insert_into($table).values(chunk).execute(conn)?
                        }
                    };
                }
                Ok(inserted)
            };
            insert_all()
        }
    }};
}
pub(crate) use insert_rows;

/// Most rows one insert statement carries: the widest row (a ticket) has 28 columns, and a
/// statement may bind at most 65,535 parameters on PostgreSQL and 32,766 on SQLite.
pub const INSERT_CHUNK: usize = 1000;

pub mod agencies;
pub mod api_tokens;
pub mod attachments;
pub mod audit;
pub mod calendars;
pub mod clocks;
mod crossings;
pub mod deliveries;
mod error;
pub mod events;
pub mod inbound;
pub mod late_clocks;
pub mod leases;
pub mod mail_threads;
pub mod mailboxes;
pub mod monitoring;
pub mod monitoring_changes;
pub mod monitoring_history;
pub mod monitoring_outages;
pub mod notices;
pub mod observed;
pub mod outbox;
pub mod report_data;
pub mod schema;
pub mod stale_clocks;
pub mod summary;
pub mod systems;
pub mod ticket_writer;
pub mod tickets;
mod time;
pub mod users;

pub use error::StoreError;
pub use time::{from_db_time, to_db_time, truncate_to_micros};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Held while migrating PostgreSQL so that instances starting together take turns.
const MIGRATION_LOCK_KEY: i64 = 0x6865_6c70_6465_736b; // "helpdesk"

/// A connection to either backend; queries are written once against this enum.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Which backend a `DATABASE_URL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    /// `postgres://…`/`postgresql://…`, or `sqlite://PATH` (also `sqlite:PATH`).
    /// Anything else is refused, so a typo never silently creates a SQLite file.
    pub fn parse(url: &str) -> anyhow::Result<DatabaseUrl> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            anyhow::ensure!(
                !path.is_empty(),
                "DATABASE_URL `sqlite://` needs a file path"
            );
            Ok(DatabaseUrl::Sqlite(path.to_owned()))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres://")
        }
    }
}

/// Opens connections of the backend the URL names, with our per-connection settings.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_synchronous: &'static str,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                // PostgreSQL's own plan cache mode: diesel prepares its typed statements once
                // per connection, and after five runs PostgreSQL keeps a generic plan for them
                // (point lookups by key, planned once). Forcing a plan per run cost half of
                // PostgreSQL's work on `GET /tickets/{id}`. The statements whose best plan
                // depends on their values (reports, lists) are boxed or raw SQL, which diesel
                // does not prepare, so each run is planned with its values anyway.
                let conn =
                    diesel::PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                Ok(DbConnection::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // Per connection: SQLite forgets these between connections.
                conn.batch_execute(&format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 15000; \
                     PRAGMA synchronous = {};",
                    self.sqlite_synchronous
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection returned while unwinding from a panic, or still inside a transaction, must
    /// not be reused: it would hold its locks (and on SQLite the write lock) for good.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        if std::thread::panicking() {
            return true;
        }
        let depth = match conn {
            DbConnection::Postgresql(pg) => {
                AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth()
            }
            DbConnection::Sqlite(sqlite) => {
                AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()
            }
        };
        !matches!(depth, Ok(None))
    }
}

/// Builds the pool. For SQLite it first switches the file to WAL (a persistent setting).
pub fn connect_pool(
    database_url: &str,
    size: u32,
    sqlite_synchronous: &str,
) -> anyhow::Result<Pool> {
    let url = DatabaseUrl::parse(database_url)?;
    let sqlite_synchronous = if sqlite_synchronous == "normal" {
        "NORMAL"
    } else {
        "FULL"
    };
    let manager = ConnectionManager {
        url: url.clone(),
        sqlite_synchronous,
    };
    if let DatabaseUrl::Sqlite(_) = url {
        let mut conn = manager.connect()?;
        conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    // No `SELECT 1` on check-out (a round trip per request): a connection found dead (server
    // restart, failover) is discarded by `discard_if_lost` after the one request it fails.
    // No idle minimum: r2d2 would open it from a background thread, which can still be inside
    // libpq when a short command (`migrate`, `user add`) exits, and crash the exit.
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(manager)?;
    Ok(pool)
}

/// A pool that opens connections only when asked, so it can exist while the database is
/// away (for `/status` to report 503 rather than the process failing to start).
pub fn connect_pool_lazily(database_url: &str, size: u32) -> anyhow::Result<Pool> {
    let manager = ConnectionManager {
        url: DatabaseUrl::parse(database_url)?,
        sqlite_synchronous: "FULL",
    };
    Ok(r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(2))
        .build_unchecked(manager))
}

/// Applies pending migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            let result = pg
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|done| done.len());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            result
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|done| done.len()),
    };
    applied.map_err(|e| anyhow::anyhow!("migrations failed: {e}"))
}

/// Serializes this process's SQLite writers, first come first served. SQLite admits one writer
/// at a time anyway; waiting here wakes as soon as the previous writer commits, where SQLite's
/// busy handler would sleep in growing steps (up to 100 ms). The lock is fair: an unfair one
/// let some writers wait seconds under load. Other processes on the same file still meet
/// `busy_timeout`.
static SQLITE_WRITER: parking_lot::FairMutex<()> = parking_lot::const_fair_mutex(());

/// Runs `work` in a write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, taking the
/// write lock up front: a deferred transaction that reads and then writes fails at once with
/// "database is locked" when another writer got there first, instead of waiting.
pub fn write_transaction<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Postgresql(_) => conn.transaction(work),
        DbConnection::Sqlite(sqlite) => {
            let _writer = SQLITE_WRITER.lock();
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match work(conn) {
                Ok(value) => {
                    <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(error) => {
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
                    Err(error)
                }
            }
        }
    }
}

/// Within a `write_transaction`, waits until no other transaction holds `key`. On PostgreSQL a
/// transaction-scoped advisory lock (instances share the database); on SQLite `BEGIN
/// IMMEDIATE` already made the transaction the only writer.
pub fn lock_for_transaction(conn: &mut DbConnection, key: i64) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({key})")).execute(pg)?;
    }
    Ok(())
}

/// Whether an error means the connection itself is gone (the server restarted or failed over).
pub fn is_connection_lost(error: &StoreError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        StoreError::Db(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)) => true,
        StoreError::Db(Error::DatabaseError(_, info)) => {
            let message = info.message();
            message.contains("terminating connection")
                || message.contains("server closed the connection")
                || message.contains("no connection to the server")
        }
        _ => false,
    }
}

/// Runs `work` on a pooled connection; a connection the database dropped is not put back.
pub fn with_connection<T>(
    pool: &Pool,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if pool.state().idle_connections == 0 {
        POOL_WAITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let mut conn = pool.get()?;
    let result = work(&mut conn);
    if let Err(error) = &result {
        discard_if_lost(&mut conn, error);
    }
    result
}

/// How many times this process asked the pool for a connection when none was idle (it then
/// waited for one to be returned or opened): a pool too small shows here.
static POOL_WAITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// `POOL_WAITS` so far.
pub fn pool_waits() -> u64 {
    POOL_WAITS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Makes the pool discard `conn` when it comes back, if `error` says it is dead.
pub fn discard_if_lost(conn: &mut DbConnection, error: &StoreError) {
    if is_connection_lost(error) {
        // An in-error transaction manager is what `has_broken` looks for.
        match conn {
            DbConnection::Postgresql(pg) => {
                AnsiTransactionManager::transaction_manager_status_mut(pg).set_in_error()
            }
            DbConnection::Sqlite(sqlite) => {
                AnsiTransactionManager::transaction_manager_status_mut(sqlite).set_in_error()
            }
        }
    }
}

/// Whether PostgreSQL gave up on the transaction because of another one (deadlock or
/// serialization failure): running it again is the cure.
pub fn is_retryable(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            _,
        ) => true,
        diesel::result::Error::DatabaseError(_, info) => {
            info.message().contains("deadlock detected")
        }
        _ => false,
    }
}

/// The rows of a `VALUES` list of `rows` × `columns` parameters, in the connection's
/// placeholder style: `$1, $2, …` on PostgreSQL, `?` on SQLite, whose parser looks each `$N`
/// up by name and so prepares a statement of n numbered parameters in O(n²).
pub fn values_list(conn: &DbConnection, rows: usize, columns: usize) -> String {
    let row = |first: usize| -> String {
        let cells: Vec<String> = match conn {
            DbConnection::Postgresql(_) => {
                (first..first + columns).map(|p| format!("${p}")).collect()
            }
            DbConnection::Sqlite(_) => vec!["?".to_owned(); columns],
        };
        format!("({})", cells.join(", "))
    };
    (0..rows)
        .map(|r| row(r * columns + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Within a `write_transaction`, lets PostgreSQL answer the commit before its WAL reaches the
/// disk. Only for writes that can be made again from what is durable: the calendar
/// follower's (a commit lost in a crash leaves clocks stale, and the next pass redoes them).
pub fn commit_without_waiting_for_disk(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SET LOCAL synchronous_commit = off").execute(pg)?;
    }
    Ok(())
}

/// Whether an error is a unique-constraint violation (the same on both backends).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
