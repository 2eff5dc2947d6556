//! What a repository call can fail with: the database, or a business rule judged inside
//! the transaction (so that the judgement and the write see the same state).

use crate::domain::{Invalid, LifecycleError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the ticket is at version {current}, not the one in If-Match")]
    StaleVersion { current: i64 },
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The resource's state does not allow the change (e.g. retrying a sent message).
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests are waiting for the database; retry")]
    Busy,
    #[error("the database is not answering: {0}")]
    Unavailable(String),
    #[error("the ticket changed while the event was being recorded")]
    Contended,
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
}

/// Parses a stored value, reporting a row the code cannot understand as corrupt data.
pub(crate) fn parse_stored<T: std::str::FromStr>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} = {text:?}")))
}
