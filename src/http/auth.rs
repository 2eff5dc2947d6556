//! Bearer tokens: generated with 256 random bits, stored as SHA-256 hashes, looked up per
//! request through a short-lived cache. The token itself is never stored or logged.

use super::AppState;
use super::problem::ApiError;
use crate::db;
use crate::domain::Principal;
pub use crate::tokens::{generate_token, hash_token};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a looked-up token is trusted without asking the database again.
const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX_ENTRIES: usize = 10_000;

/// The bearer token of a request, if it carries one. The scheme's name is case-insensitive
/// (RFC 9110 §11.1): `bearer` and `BEARER` are `Bearer`.
pub fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim_start();
    let (scheme, token) = value.split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Recently seen token hashes and their users.
#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    fn get(&self, token_hash: &str) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let (principal, seen) = entries.get(token_hash)?;
        (seen.elapsed() < CACHE_TTL).then(|| principal.clone())
    }

    fn put(&self, token_hash: String, principal: Principal) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CACHE_MAX_ENTRIES {
                entries.retain(|_, (_, seen)| seen.elapsed() < CACHE_TTL);
            }
            entries.insert(token_hash, (principal, Instant::now()));
        }
    }
}

/// The authenticated caller of a request; extracting it answers 401 without a valid token.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token_hash = bearer_token(request).map(hash_token);
        let state = request.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token_hash), Some(state)) = (token_hash, state) else {
                return Err(ApiError::Unauthorized);
            };
            principal_for(&state, token_hash)
                .await?
                .map(Caller)
                .ok_or(ApiError::Unauthorized)
        })
    }
}

/// The user a token hash belongs to, from the cache or the database (then cached).
pub async fn principal_for(
    state: &AppState,
    token_hash: String,
) -> Result<Option<Principal>, ApiError> {
    if let Some(principal) = state.tokens.get(&token_hash) {
        return Ok(Some(principal));
    }
    let lookup = token_hash.clone();
    let user = state
        .run(move |conn| db::users::find_user_by_token_hash(conn, &lookup))
        .await?;
    if let Some(user) = &user {
        state.tokens.put(token_hash, user.principal.clone());
    }
    Ok(user.map(|user| user.principal))
}

impl Caller {
    /// Refuses with 403 unless `allowed`.
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), ApiError> {
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the `{}` role may not {what}",
                self.0.role
            )))
        }
    }
}
