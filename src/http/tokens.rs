//! `/users/{id}/tokens`: a user's bearer tokens. A user lists, creates and revokes its own;
//! an admin anyone's. A token is shown once, when created; listings show its name and first
//! characters, never the token.

use super::AppState;
use super::auth::Caller;
use super::input::{JSON, parse_id, read_json};
use super::problem::{ApiError, Problem};
use super::users::actor;
use crate::access::{self, TokenRequest};
use crate::db;
use crate::db::api_tokens::ApiToken;
use crate::domain::validation::Checker;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for, to tell it apart in the list.
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 100,
        example = "laptop"
    )]
    pub name: Option<String>,
    /// When it stops working (RFC 3339, in the future, within `token_max_days` when that is
    /// set). Absent: at the `token_max_days` cap, or never.
    #[serde(default, deserialize_with = "crate::http::input::optional_instant")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as listed (never the token itself).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    #[schema(max_length = 100)]
    pub name: String,
    /// The token's first characters; `null` for a token made before tokens had names.
    #[schema(max_length = 10, example = "hd_mM4Ix41")]
    pub prefix: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was last used (recorded at most once a minute); `null`: never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// `null`: until revoked.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it has expired.
    pub expired: bool,
}

impl TokenResponse {
    fn new(token: &ApiToken, now: DateTime<Utc>) -> TokenResponse {
        TokenResponse {
            id: token.id,
            user_id: token.user_id,
            name: token.name.clone(),
            prefix: token.prefix.clone(),
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
            expired: token.expires_at.is_some_and(|expires| expires <= now),
        }
    }
}

/// A new token, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedTokenResponse {
    #[serde(flatten)]
    pub record: TokenResponse,
    #[schema(max_length = 100)]
    pub token: String,
}

/// A user's tokens.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    #[schema(max_items = 100000)]
    pub items: Vec<TokenResponse>,
}

/// The user whose tokens the caller may manage (404 for anyone else's: whether a user exists
/// is not told to those who may not see it).
fn owner(caller: &Caller, id: &str) -> Result<Uuid, ApiError> {
    let id = parse_id("id", id)?;
    if caller.0.can_manage_tokens_of(id) {
        Ok(id)
    } else {
        Err(ApiError::NotFound("user"))
    }
}

/// List a user's tokens
///
/// The tokens not revoked, the newest first, expired ones marked (yours, or anyone's for an
/// admin). Never the tokens themselves.
#[utoipa::path(
    get, path = "/users/{id}/tokens", tag = "users", operation_id = "list_user_tokens",
    params(("id" = Uuid, Path, description = "The user's id.")),
    responses((status = 200, description = "The tokens.", body = TokenList)),
    security(("bearer" = []))
)]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = owner(&caller, &id)?;
    let now = state.now();
    let tokens = state
        .run(move |conn| {
            db::users::find_user(conn, id)?.ok_or(db::StoreError::NotFound("user"))?;
            db::api_tokens::tokens_of(conn, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(TokenList {
        items: tokens.iter().map(|t| TokenResponse::new(t, now)).collect(),
    }))
}

/// Create a token
///
/// Issues a token to an active user (yourself, or anyone for an admin). The token is shown only
/// in this answer and stored only as a hash.
#[utoipa::path(
    post, path = "/users/{id}/tokens", tag = "users", operation_id = "create_user_token",
    params(("id" = Uuid, Path, description = "The user's id.")),
    request_body = CreateTokenRequest,
    responses((status = 201, description = "The token, shown this once.", body = CreatedTokenResponse,
        headers(("Location" = String, description = "The user's tokens."))),
        (status = 409, description = "The user is deactivated, or its role follows the OpenID provider's groups (an admin must set one first).", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    http_request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = owner(&caller, &id)?;
    let request: CreateTokenRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let mut checker = Checker::new();
    checker.required_line("name", request.name.as_deref(), 100);
    checker.finish().map_err(ApiError::Invalid)?;
    let token_request = TokenRequest {
        name: request.name.unwrap_or_default().trim().to_owned(),
        expires_at: request.expires_at,
    };
    let (now, policy, actor) = (state.now(), state.settings.token_policy(), actor(&caller));
    let issued = state
        .run(move |conn| access::issue_token(conn, &actor, id, token_request, policy, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{id}/tokens")))
        .json(CreatedTokenResponse {
            record: TokenResponse::new(&issued.record, now),
            token: issued.token,
        }))
}

/// Revoke a token
///
/// The token is refused from the next request on this instance, and within
/// `token_cache_seconds` on the others sharing the database.
#[utoipa::path(
    delete, path = "/users/{id}/tokens/{token_id}", tag = "users", operation_id = "revoke_user_token",
    params(("id" = Uuid, Path, description = "The user's id."),
        ("token_id" = Uuid, Path, description = "The token's id.")),
    responses((status = 204, description = "Revoked.")),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    let id = owner(&caller, &id)?;
    let token_id = parse_id("token_id", &token_id)?;
    let (now, actor) = (state.now(), actor(&caller));
    state
        .run(move |conn| access::revoke_token(conn, &actor, id, token_id, now))
        .await?;
    state.tokens.forget_token(token_id);
    Ok(HttpResponse::NoContent().finish())
}
