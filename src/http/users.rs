//! `/users`: helpdesk users, their roles and whether they may still act. A user's first token
//! is shown once, at creation; `tokens.rs` issues more.

use super::AppState;
use super::auth::Caller;
use super::input::{JSON, MERGE_PATCH, etag, if_match, parse_id, present, read_json};
use super::problem::{ApiError, Problem};
use crate::access::{self, Actor, UserPatch};
use crate::db;
use crate::db::users::{NewUser, User};
use crate::domain::user::{check_new_user, check_oidc_subject, parse_level};
use crate::domain::validation::Checker;
use crate::domain::{Level, Role};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(
        required = true,
        nullable = false,
        max_length = 200,
        example = "Giulia Rossi"
    )]
    pub name: Option<String>,
    #[schema(required = true, nullable = false)]
    pub role: Option<Role>,
    /// Required for agents: 1 or 2.
    #[schema(minimum = 1, maximum = 2)]
    pub level: Option<i32>,
    /// Required for agency users: the agency whose data they may read.
    pub agency_id: Option<Uuid>,
    /// The identity an OpenID Connect provider names this person by (the claim
    /// `oidc_identity_claim` names, `sub` by default): they may then sign in there.
    #[schema(max_length = 255)]
    pub oidc_subject: Option<String>,
}

/// Changes to a user (JSON merge patch: absent fields stay as they are). The result must
/// follow the rules of creation: an agent has a level, an agency user an agency, nobody else
/// either. `active: false` refuses the user's tokens from the next request on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable = false, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>, nullable = false)]
    pub active: Option<Option<bool>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Role>, nullable = false)]
    pub role: Option<Option<Role>>,
    /// 1 or 2 for an agent; `null` for any other role.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 2)]
    pub level: Option<Option<i32>>,
    /// The agency of an agency user; `null` for any other role.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub agency_id: Option<Option<Uuid>>,
    /// `null` unlinks the OpenID Connect identity.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub oidc_subject: Option<Option<String>>,
}

/// A user as the API shows it (never the token).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    #[schema(max_length = 200)]
    pub name: String,
    pub role: Role,
    #[schema(minimum = 1, maximum = 2)]
    pub level: Option<i32>,
    pub agency_id: Option<Uuid>,
    /// A deactivated user can do nothing; its history stays attributed to it.
    pub active: bool,
    #[schema(max_length = 255)]
    pub oidc_subject: Option<String>,
    /// Made at an OpenID Connect sign-in from the provider's groups: its role follows them
    /// until an admin sets one.
    pub role_from_groups: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(minimum = 1)]
    pub version: i64,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> UserResponse {
        UserResponse {
            id: user.principal.user_id,
            name: user.principal.name.clone(),
            role: user.principal.role,
            level: user.principal.level.map(Level::number),
            agency_id: user.principal.agency_id,
            active: user.active,
            oidc_subject: user.oidc_subject.clone(),
            role_from_groups: user.role_from_groups,
            created_at: user.created_at,
            updated_at: user.updated_at,
            version: user.version,
        }
    }
}

/// The new user and its bearer token, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedUserResponse {
    pub user: UserResponse,
    #[schema(max_length = 100)]
    pub token: String,
}

/// The users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    #[schema(max_items = 100000)]
    pub items: Vec<UserResponse>,
}

/// Add a user
///
/// Creates a user (admin only) and returns its bearer token, which is shown only this once
/// and stored only as a hash.
#[utoipa::path(
    post, path = "/users", tag = "users", operation_id = "create_user",
    request_body = CreateUserRequest,
    responses((status = 201, description = "The user and its token.", body = CreatedUserResponse,
        headers(("Location" = String, description = "The user's URL."),
            ("ETag" = String, description = "The user's version."))),
        (status = 409, description = "Another user is linked to this `oidc_subject`.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    http_request: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "add users")?;
    let request: CreateUserRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let (name, role, level) = check_new_user(
        request.name.as_deref(),
        request.role,
        request.level,
        request.agency_id,
    )
    .map_err(ApiError::Invalid)?;
    let mut checker = Checker::new();
    check_oidc_subject(&mut checker, request.oidc_subject.as_deref());
    checker.finish().map_err(ApiError::Invalid)?;
    let new = NewUser {
        name,
        role,
        level,
        agency_id: request.agency_id,
        oidc_subject: request.oidc_subject,
        role_from_groups: false,
    };
    let (now, policy, actor) = (state.now(), state.settings.token_policy(), actor(&caller));
    let (user, issued) = state
        .run(move |conn| access::create_user(conn, &actor, new, policy, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/users/{}", user.principal.user_id),
        ))
        .insert_header((header::ETAG, etag(user.version)))
        .json(CreatedUserResponse {
            user: UserResponse::from(&user),
            token: issued.token,
        }))
}

/// List users
///
/// Every user (admin only).
#[utoipa::path(
    get, path = "/users", tag = "users", operation_id = "list_users",
    responses((status = 200, description = "The users.", body = UserList)),
    security(("bearer" = []))
)]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "list users")?;
    let users = state.run(db::users::list_users).await?;
    Ok(HttpResponse::Ok().json(UserList {
        items: users.iter().map(UserResponse::from).collect(),
    }))
}

/// Read a user
///
/// One user: any user for an admin, otherwise only yourself.
#[utoipa::path(
    get, path = "/users/{id}", tag = "users", operation_id = "read_user",
    params(("id" = Uuid, Path, description = "The user's id.")),
    responses((status = 200, description = "The user.", body = UserResponse,
        headers(("ETag" = String, description = "The user's version.")))),
    security(("bearer" = []))
)]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    if !caller.0.can_manage_users() && caller.0.user_id != id {
        return Err(ApiError::NotFound("user"));
    }
    let user = state
        .run(move |conn| db::users::find_user(conn, id))
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserResponse::from(&user)))
}

/// Change a user
///
/// Renames, deactivates or activates a user, gives it another role, level or agency, or links
/// its OpenID Connect identity (admin only). A deactivated user's tokens are refused from the
/// next request on; its history stays. The last active admin cannot be deactivated or given
/// another role. `If-Match` guards against overwriting a change made since you read it.
#[utoipa::path(
    patch, path = "/users/{id}", tag = "users", operation_id = "update_user",
    params(("id" = Uuid, Path, description = "The user's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the user changed since.", max_length = 30)),
    request_body(content = UpdateUserRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The user after the change.", body = UserResponse,
        headers(("ETag" = String, description = "The user's new version.")))),
    security(("bearer" = []))
)]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "change users")?;
    let id = parse_id("id", &id)?;
    let expected = if_match(&request)?;
    let update: UpdateUserRequest =
        read_json(&request, payload, MERGE_PATCH, state.body_limits()).await?;
    let patch = user_patch(update).map_err(ApiError::Invalid)?;
    let (now, actor) = (state.now(), actor(&caller));
    let user = state
        .run(move |conn| access::change_user(conn, &actor, id, patch, &expected, now))
        .await?;
    // This instance refuses the old role or the deactivated user from the next request on.
    state.tokens.forget_user(id);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(user.version)))
        .json(UserResponse::from(&user)))
}

/// Checks a change's fields one by one (how they fit together is judged on the stored user).
fn user_patch(update: UpdateUserRequest) -> Result<UserPatch, crate::domain::Invalid> {
    let mut checker = Checker::new();
    if let Some(name) = &update.name {
        checker.required_line("name", name.as_deref(), 200);
    }
    let mut not_null = |field: &str, present: bool| {
        if !present {
            checker.add(field, "cannot be null");
        }
    };
    if let Some(active) = &update.active {
        not_null("active", active.is_some());
    }
    if let Some(role) = &update.role {
        not_null("role", role.is_some());
    }
    let level = update.level.map(|level| parse_level(&mut checker, level));
    if let Some(Some(subject)) = &update.oidc_subject {
        check_oidc_subject(&mut checker, Some(subject));
    }
    checker.finish()?;
    Ok(UserPatch {
        name: update.name.flatten().map(|name| name.trim().to_owned()),
        active: update.active.flatten(),
        role: update.role.flatten(),
        level,
        agency_id: update.agency_id,
        oidc_subject: update.oidc_subject,
    })
}

/// The caller as the audit records it.
pub(super) fn actor(caller: &Caller) -> Actor {
    Actor::User(caller.0.clone())
}
