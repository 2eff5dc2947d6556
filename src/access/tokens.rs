//! Bearer tokens: 256 random bits, handed to their user once and stored only as a SHA-256
//! hash, with the first characters kept so that a person can tell their tokens apart; issued,
//! revoked and recognised here.

use super::Actor;
use crate::db::api_tokens::{self, ApiToken, NewToken};
use crate::db::audit;
use crate::db::users::{self, User};
use crate::db::{self, DbConnection, StoreError};
use crate::domain::{AccessAction, Invalid, Principal};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A new random token, as handed to its user once.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("hd_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// How many of a token's first characters are kept: `hd_` and 7 of its 43 random
/// characters (42 of its 256 bits), enough to recognise it, far too few to guess it.
const PREFIX_CHARS: usize = 10;

/// The first characters of a token, shown in token listings.
pub fn prefix_of(token: &str) -> String {
    token.chars().take(PREFIX_CHARS).collect()
}

/// The hash under which a token is stored.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A token just made: the token itself, shown this once, and its record.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub record: ApiToken,
}

/// A token to issue: its name and when it stops working.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// How long new tokens may live: `None` without a cap (`token_max_days`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenPolicy {
    pub max_days: Option<u32>,
}

/// Issues a new token to an active user.
pub fn issue_token(
    conn: &mut DbConnection,
    actor: &Actor,
    user_id: Uuid,
    request: TokenRequest,
    policy: TokenPolicy,
    now: DateTime<Utc>,
) -> Result<IssuedToken, StoreError> {
    db::write_transaction(conn, |conn| {
        let user = users::find_user(conn, user_id)?.ok_or(StoreError::NotFound("user"))?;
        if !user.active {
            return Err(StoreError::Conflict(
                "the user is deactivated: activate it before giving it a token".into(),
            ));
        }
        // Such a user may act only while its groups say so, which a token would outlive.
        if user.role_from_groups {
            return Err(StoreError::Conflict(
                "the user's role follows the identity provider's groups, and a token would \
                 outlast them: an admin must set its role first"
                    .into(),
            ));
        }
        issue_in(conn, actor, &user, request, policy, now)
    })
}

/// Revokes a token of `user_id` (a token of another user, or one already revoked, is not
/// found).
pub fn revoke_token(
    conn: &mut DbConnection,
    actor: &Actor,
    user_id: Uuid,
    token_id: Uuid,
    now: DateTime<Utc>,
) -> Result<ApiToken, StoreError> {
    db::write_transaction(conn, |conn| {
        let token = api_tokens::find_token(conn, token_id)?
            .filter(|token| token.user_id == user_id && token.revoked_at.is_none())
            .ok_or(StoreError::NotFound("token"))?;
        if !api_tokens::revoke_token(conn, token_id, now)? {
            return Err(StoreError::NotFound("token"));
        }
        let changes = json!({ "name": { "from": token.name } });
        audit::record(
            conn,
            actor.audit(AccessAction::TokenRevoked, user_id, Some(token_id), changes),
            now,
        )?;
        Ok(ApiToken {
            revoked_at: Some(now),
            ..token
        })
    })
}

/// A token recognised on a request: whose it is and until when it may be trusted.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub token_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The active user a token (by its hash) opens the door to at `now`, if any: not revoked, not
/// expired, its user active. Records the use (at most once a minute per token).
pub fn authenticate(
    conn: &mut DbConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Authenticated>, StoreError> {
    let Some((token, user)) = api_tokens::find_by_hash(conn, token_hash)? else {
        return Ok(None);
    };
    // A user whose role follows its groups signs in through the provider only.
    if !token.is_usable_at(now) || !user.active || user.role_from_groups {
        return Ok(None);
    }
    let stale = token
        .last_used_at
        .is_none_or(|used| used <= now - api_tokens::LAST_USED_RESOLUTION);
    // Bookkeeping: a busy database must not turn a valid request away.
    if stale && let Err(error) = api_tokens::touch_last_used(conn, token.id, now) {
        tracing::warn!(token_id = %token.id, %error, "last_used_at not recorded");
    }
    Ok(Some(Authenticated {
        principal: user.principal,
        token_id: token.id,
        expires_at: token.expires_at,
    }))
}

/// Issues a token within the current transaction.
pub(super) fn issue_in(
    conn: &mut DbConnection,
    actor: &Actor,
    user: &User,
    request: TokenRequest,
    policy: TokenPolicy,
    now: DateTime<Utc>,
) -> Result<IssuedToken, StoreError> {
    let expires_at = token_expiry(request.expires_at, policy, now)?;
    let token = generate_token();
    let record = api_tokens::insert_token(
        conn,
        NewToken {
            user_id: user.principal.user_id,
            name: request.name,
            token_hash: hash_token(&token),
            prefix: prefix_of(&token),
            expires_at,
        },
        now,
    )?;
    let mut changes = json!({ "name": { "to": record.name } });
    if let Some(expires_at) = record.expires_at {
        changes["expires_at"] = json!({ "to": expires_at });
    }
    audit::record(
        conn,
        actor.audit(
            AccessAction::TokenCreated,
            user.principal.user_id,
            Some(record.id),
            changes,
        ),
        now,
    )?;
    Ok(IssuedToken { token, record })
}

/// When a new token expires: as asked, within `token_max_days`; without a request, at the
/// cap (or never, without one).
fn token_expiry(
    requested: Option<DateTime<Utc>>,
    policy: TokenPolicy,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, Invalid> {
    let cap = policy
        .max_days
        .map(|days| now + TimeDelta::days(i64::from(days)));
    match (requested, cap) {
        (Some(at), _) if at <= now => Err(Invalid::one("expires_at", "must be in the future")),
        (Some(at), Some(cap)) if at > cap => Err(Invalid::one(
            "expires_at",
            format!(
                "must be within {} days (token_max_days)",
                policy.max_days.unwrap_or_default()
            ),
        )),
        (Some(at), _) => Ok(Some(at)),
        (None, cap) => Ok(cap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a, b);
        assert!(a.starts_with("hd_") && a.len() > 40);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
        assert_eq!(prefix_of(&a).len(), 10);
        assert!(a.starts_with(&prefix_of(&a)));
    }
}
