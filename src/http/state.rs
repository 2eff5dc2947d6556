//! `AppState`: what every handler shares, the `Runtime` below every entrance (which it
//! derefs to) and what only HTTP needs: the token cache, the group-commit ticket writer and the
//! OpenID Connect verifier.

use super::problem::ApiError;
use super::{auth, input};
use crate::db::ticket_writer::TicketWriter;
use crate::db::{DbConnection, StoreError};
use crate::runtime::Runtime;
use actix_web::web;
use std::sync::Arc;

/// What every handler shares: the runtime below every entrance, and what only HTTP needs.
pub struct AppState {
    pub runtime: Arc<Runtime>,
    pub tokens: auth::TokenCache,
    /// Group commit for `POST /tickets`.
    pub ticket_writer: TicketWriter,
    /// OpenID Connect sign-in, when an issuer is configured.
    pub oidc: Option<Arc<auth::OidcSignIn>>,
}

impl std::ops::Deref for AppState {
    type Target = Runtime;
    fn deref(&self) -> &Runtime {
        &self.runtime
    }
}

impl AppState {
    pub fn new(runtime: Runtime) -> AppState {
        // SQLite has one writer at a time: one writer thread batches best. PostgreSQL
        // overlaps a batch's statements with another's commit; each writer holds a connection
        // while it writes, so they take at most half of the pool, and reads, sign-ins and the
        // background jobs keep the rest under a flood of creations.
        let writers = match crate::db::DatabaseUrl::parse(&runtime.settings.database_url) {
            Ok(crate::db::DatabaseUrl::Postgres(_)) => {
                (runtime.settings.db_pool_size as usize / 2).clamp(1, 3)
            }
            _ => 1,
        };
        let oidc = match runtime.settings.oidc_sign_in() {
            Ok(oidc) => oidc.map(|(config, group_roles)| {
                crate::oidc::OidcVerifier::new(config).map(|verifier| auth::OidcSignIn {
                    verifier,
                    group_roles,
                })
            }),
            Err(error) => Some(Err(crate::oidc::OidcError::Config(error.to_string()))),
        };
        let oidc = match oidc.transpose() {
            Ok(oidc) => oidc.map(Arc::new),
            Err(error) => {
                // The settings' check refuses this at start; a hand-built Settings may not.
                tracing::error!(%error, "OpenID Connect sign-in is off");
                None
            }
        };
        AppState {
            oidc,
            ticket_writer: TicketWriter::start(runtime.pool.clone(), writers),
            tokens: auth::TokenCache::new(runtime.settings.token_cache_seconds),
            runtime: Arc::new(runtime),
        }
    }

    /// Reloads the calendars after a change on this instance, and wakes the calendar
    /// follower to bring the clocks along.
    pub async fn reload_calendars(&self) -> Result<(), ApiError> {
        let runtime = self.runtime.clone();
        self.run(move |conn| runtime.reload_calendars(conn)).await?;
        self.calendar_wakeup.notify_one();
        Ok(())
    }

    /// How large and how slow an ordinary request body may be.
    pub fn body_limits(&self) -> input::BodyLimits {
        input::BodyLimits {
            max_bytes: self.settings.max_body_bytes,
            timeout: std::time::Duration::from_secs(self.settings.request_body_timeout_seconds),
        }
    }

    /// The same for the batch endpoints, whose bodies carry up to 10,000 items.
    pub fn batch_body_limits(&self) -> input::BodyLimits {
        input::BodyLimits {
            max_bytes: self.settings.max_batch_body_bytes,
            ..self.body_limits()
        }
    }

    /// Runs blocking database work on actix's blocking pool with a pooled connection.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || crate::db::with_connection(&pool, work))
            .await
            .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
            .map_err(ApiError::from)
    }
}
