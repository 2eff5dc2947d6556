//! Bearer tokens on requests: looked up by their SHA-256 hash through a short-lived cache.
//! The token itself is never stored or logged.

use super::AppState;
use super::problem::ApiError;
use crate::access::oidc::GroupRole;
pub use crate::access::tokens::hash_token;
use crate::access::{self, Authenticated};
use crate::domain::Principal;
use crate::domain::user::check_oidc_subject;
use crate::domain::validation::Checker;
use crate::oidc::{OidcError, OidcVerifier};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

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

/// A token looked up recently: whose it is, until when it works, when it was looked up.
#[derive(Debug, Clone)]
struct CachedToken {
    principal: Principal,
    token_id: Uuid,
    expires_at: Option<DateTime<Utc>>,
    cached_at: DateTime<Utc>,
}

/// Recently looked-up tokens (by hash), trusted for `ttl` without asking the database again.
/// A change made on this instance forgets the entries it affects at once; another instance's
/// change reaches this one when the entry's time is up.
pub struct TokenCache {
    ttl: TimeDelta,
    entries: RwLock<HashMap<String, CachedToken>>,
    /// Counts the forgettings: a lookup that began before one may have read what it
    /// forgot, and is not cached (a request in flight while its user is deactivated).
    generation: AtomicU64,
}

impl TokenCache {
    pub fn new(ttl_seconds: u64) -> TokenCache {
        TokenCache {
            ttl: TimeDelta::seconds(i64::try_from(ttl_seconds).unwrap_or(i64::MAX / 2)),
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
        }
    }

    fn is_fresh(&self, entry: &CachedToken, now: DateTime<Utc>) -> bool {
        // A clock set back counts as stale: better one lookup too many than one too few.
        entry.cached_at <= now
            && now - entry.cached_at < self.ttl
            && entry.expires_at.is_none_or(|expires| now < expires)
    }

    fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let entry = entries.get(token_hash)?;
        self.is_fresh(entry, now).then(|| entry.principal.clone())
    }

    /// Where the forgettings stand; read before a lookup, given back to `put`.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches a lookup that began at `generation`, unless something was forgotten since.
    fn put(&self, token_hash: String, found: &Authenticated, now: DateTime<Utc>, generation: u64) {
        if self.ttl <= TimeDelta::zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if self.generation() != generation {
                return;
            }
            if entries.len() >= CACHE_MAX_ENTRIES {
                entries.retain(|_, entry| self.is_fresh(entry, now));
                if entries.len() >= CACHE_MAX_ENTRIES {
                    return; // Still full of live entries: look this token up each time.
                }
            }
            entries.insert(
                token_hash,
                CachedToken {
                    principal: found.principal.clone(),
                    token_id: found.token_id,
                    expires_at: found.expires_at,
                    cached_at: now,
                },
            );
        }
    }

    /// Forgets every token of a user (deactivated, or given another role).
    pub fn forget_user(&self, user_id: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.retain(|_, entry| entry.principal.user_id != user_id);
        }
    }

    /// Forgets one token (revoked).
    pub fn forget_token(&self, token_id: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.retain(|_, entry| entry.token_id != token_id);
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
        let principal = bearer_principal(request);
        Box::pin(async move {
            let principal = principal.await?;
            // A machine's token (a Prometheus server, a mail server, a monitor) calls only
            // its own endpoints, which extract a `MachineCaller` (or, for `/metrics`, nothing),
            // whatever each endpoint's own rule would allow.
            if let Some(scope) = principal.role.machine_scope() {
                return Err(ApiError::Forbidden(format!(
                    "the `{}` role may call only {scope}",
                    principal.role.as_str()
                )));
            }
            Ok(Caller(principal))
        })
    }
}

/// Who the request's bearer token stands for; 401 without a valid one.
fn bearer_principal(
    request: &HttpRequest,
) -> impl Future<Output = Result<Principal, ApiError>> + use<> {
    let token = bearer_token(request).map(str::to_owned);
    let state = request.app_data::<web::Data<AppState>>().cloned();
    async move {
        let (Some(token), Some(state)) = (token, state) else {
            return Err(ApiError::Unauthorized);
        };
        authenticate(&state, &token).await
    }
}

/// The authenticated caller of a machine's endpoint (`/inbound/mail`, `/monitoring/...`): like
/// `Caller`, but a machine's role is let through. The handler checks that the principal may
/// call it (`Principal::can_post_inbound_mail`, `can_ingest_monitoring`).
#[derive(Debug, Clone)]
pub struct MachineCaller(pub Principal);

impl FromRequest for MachineCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<MachineCaller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = bearer_principal(request);
        Box::pin(async move { Ok(MachineCaller(principal.await?)) })
    }
}

/// The principal a bearer token stands for: one of the helpdesk's own tokens, or, with an
/// OpenID Connect issuer configured, a JWT it issued for a person the helpdesk knows.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    match &state.oidc {
        Some(oidc) if !token.starts_with(TOKEN_PREFIX) && crate::oidc::looks_like_jwt(token) => {
            oidc_principal(state, oidc.clone(), token).await
        }
        _ => principal_for(state, hash_token(token))
            .await?
            .ok_or(ApiError::Unauthorized),
    }
}

/// The helpdesk's own tokens begin so; anything else may be a JWT.
const TOKEN_PREFIX: &str = "hd_";

/// Verifies a JWT (off the executor: it may fetch the provider's keys) and finds who it names.
/// Cached like a token, never beyond the JWT's own expiry.
async fn oidc_principal(
    state: &AppState,
    oidc: Arc<OidcSignIn>,
    token: &str,
) -> Result<Principal, ApiError> {
    let now = state.now();
    let token_hash = hash_token(token);
    if let Some(principal) = state.tokens.get(&token_hash, now) {
        return Ok(principal);
    }
    let generation = state.tokens.generation();
    let verifier = oidc.clone();
    let jwt = token.to_owned();
    let identity = web::block(move || verifier.verifier.verify(&jwt, now))
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
        .map_err(|error| match error {
            OidcError::Rejected(reason) => ApiError::TokenRejected(reason),
            OidcError::Unavailable(cause) => ApiError::ProviderUnavailable(cause),
            OidcError::Config(cause) => ApiError::Internal(cause),
        })?;
    let mut checker = Checker::new();
    check_oidc_subject(&mut checker, Some(&identity.subject));
    if checker.finish().is_err() {
        return Err(ApiError::TokenRejected(format!(
            "the token names its person by a value that is not one line of at most {} \
             characters",
            crate::domain::user::OIDC_SUBJECT_MAX_CHARS
        )));
    }
    let (subject, groups) = (identity.subject.clone(), identity.groups.clone());
    let signed_in = state
        .run(move |conn| {
            access::oidc::principal_of_identity(conn, &subject, &groups, &oidc.group_roles, now)
        })
        .await?
        .map_err(|refused| ApiError::Forbidden(refused.to_string()))?;
    let principal = signed_in.principal;
    if signed_in.changed {
        // The groups gave the user another role: its other cached entries are stale here.
        state.tokens.forget_user(principal.user_id);
        return Ok(principal);
    }
    let found = Authenticated {
        principal: principal.clone(),
        token_id: Uuid::nil(),
        expires_at: Some(identity.expires_at),
    };
    state.tokens.put(token_hash, &found, now, generation);
    Ok(principal)
}

/// The active user a token hash opens the door to, from the cache or the database (then
/// cached).
async fn principal_for(
    state: &AppState,
    token_hash: String,
) -> Result<Option<Principal>, ApiError> {
    let now = state.now();
    if let Some(principal) = state.tokens.get(&token_hash, now) {
        return Ok(Some(principal));
    }
    let generation = state.tokens.generation();
    let lookup = token_hash.clone();
    let found = state
        .run(move |conn| access::authenticate(conn, &lookup, now))
        .await?;
    if let Some(found) = &found {
        state.tokens.put(token_hash, found, now, generation);
    }
    Ok(found.map(|found| found.principal))
}

/// OpenID Connect sign-in: the verifier of the issuer's JWTs and what its groups make people.
pub struct OidcSignIn {
    pub verifier: OidcVerifier,
    pub group_roles: Vec<GroupRole>,
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
