//! Bearer tokens, each its own row: a user may hold several, each with a name, an optional
//! expiry and a revocation. Only the SHA-256 hash of a token is stored, and its first
//! characters (`prefix`) so that a person can tell their tokens apart.

use super::error::parse_stored;
use super::schema::{api_tokens, users};
use super::users::{User, UserRow};
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// `last_used_at` is written at most this often per token.
pub const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
struct TokenRow {
    id: String,
    user_id: String,
    name: String,
    token_hash: String,
    prefix: Option<String>,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

/// A token as its owner and admins see it (never the token, never its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The token's first characters; `None` for tokens made before tokens had names.
    pub prefix: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token opens the door at `now` (its user's being active aside).
    pub fn is_usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires| now < expires)
    }
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(row: TokenRow) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: parse_stored("api_tokens.id", &row.id)?,
            user_id: parse_stored("api_tokens.user_id", &row.user_id)?,
            name: row.name,
            prefix: row.prefix,
            created_at: from_db_time(row.created_at),
            expires_at: row.expires_at.map(from_db_time),
            last_used_at: row.last_used_at.map(from_db_time),
            revoked_at: row.revoked_at.map(from_db_time),
        })
    }
}

/// A token to be stored for `user_id`.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub user_id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn insert_token(
    conn: &mut DbConnection,
    new: NewToken,
    now: DateTime<Utc>,
) -> Result<ApiToken, StoreError> {
    let row = TokenRow {
        id: Uuid::now_v7().to_string(),
        user_id: new.user_id.to_string(),
        name: new.name,
        token_hash: new.token_hash,
        prefix: Some(new.prefix),
        created_at: to_db_time(now),
        expires_at: new.expires_at.map(to_db_time),
        last_used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(api_tokens::table)
        .values(&row)
        .execute(conn)?;
    row.try_into()
}

pub fn find_token(conn: &mut DbConnection, id: Uuid) -> Result<Option<ApiToken>, StoreError> {
    api_tokens::table
        .find(id.to_string())
        .select(TokenRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ApiToken::try_from)
        .transpose()
}

/// A user's tokens not revoked, the newest first (expired ones included: their owner sees
/// that they expired).
pub fn tokens_of(conn: &mut DbConnection, user_id: Uuid) -> Result<Vec<ApiToken>, StoreError> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id.to_string()))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.desc())
        .select(TokenRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ApiToken::try_from)
        .collect()
}

/// Marks the token revoked at `now`; returns whether it was usable until then.
pub fn revoke_token(
    conn: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        api_tokens::table
            .find(id.to_string())
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(to_db_time(now)))
    .execute(conn)?;
    Ok(changed > 0)
}

/// The token with this hash and its user, whatever their state (the caller judges).
pub fn find_by_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<(ApiToken, User)>, StoreError> {
    let found: Option<(TokenRow, UserRow)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .select((TokenRow::as_select(), UserRow::as_select()))
        .get_result(conn)
        .optional()?;
    found
        .map(|(token, user)| Ok((token.try_into()?, user.try_into()?)))
        .transpose()
}

/// Records that the token was used at `now`, unless that was already recorded less than
/// `LAST_USED_RESOLUTION` ago: one small write per token and minute at most.
pub fn touch_last_used(
    conn: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stale_before = to_db_time(now - LAST_USED_RESOLUTION);
    diesel::update(
        api_tokens::table.find(id.to_string()).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.le(stale_before)),
        ),
    )
    .set(api_tokens::last_used_at.eq(to_db_time(now)))
    .execute(conn)?;
    Ok(())
}
