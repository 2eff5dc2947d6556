//! `/users`: helpdesk users and their roles. Tokens are shown once, at creation.

use super::AppState;
use super::auth::{Caller, generate_token, hash_token};
use super::input::{JSON, parse_id, read_json};
use super::problem::ApiError;
use crate::db;
use crate::db::users::{NewUser, User};
use crate::domain::validation::Checker;
use crate::domain::{Invalid, Level, Role};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(required = true, max_length = 200, example = "Giulia Rossi")]
    pub name: Option<String>,
    #[schema(required = true)]
    pub role: Option<Role>,
    /// Required for agents: 1 or 2.
    #[schema(minimum = 1, maximum = 2)]
    pub level: Option<i32>,
    /// Required for agency users: the agency whose data they may read.
    pub agency_id: Option<Uuid>,
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
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> UserResponse {
        UserResponse {
            id: user.principal.user_id,
            name: user.principal.name.clone(),
            role: user.principal.role,
            level: user.principal.level.map(Level::number),
            agency_id: user.principal.agency_id,
            created_at: user.created_at,
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

/// Checks a new user's fields; the same rules serve the API and `helpdesk user add`.
pub fn check_new_user(
    name: Option<&str>,
    role: Option<Role>,
    level: Option<i32>,
    agency_id: Option<Uuid>,
) -> Result<(String, Role, Option<Level>), Invalid> {
    let mut checker = Checker::new();
    checker.required_line("name", name, 200);
    let level = match level {
        None => None,
        Some(n) => match Level::from_number(n.into()) {
            Some(level) => Some(level),
            None => {
                checker.add("level", "must be 1 or 2");
                None
            }
        },
    };
    match role {
        None => checker.add("role", "is required (admin, supervisor, agent or agency)"),
        Some(Role::Agent) if level.is_none() => checker.add("level", "is required for an agent"),
        Some(role) if role != Role::Agent && level.is_some() => {
            checker.add("level", "is only for agents")
        }
        _ => {}
    }
    match role {
        Some(Role::Agency) if agency_id.is_none() => {
            checker.add("agency_id", "is required for an agency user")
        }
        Some(role) if role != Role::Agency && agency_id.is_some() => {
            checker.add("agency_id", "is only for agency users")
        }
        _ => {}
    }
    checker.finish()?;
    Ok((
        name.unwrap_or_default().trim().to_owned(),
        role.expect("checked"),
        level,
    ))
}

/// Add a user
///
/// Creates a user (admin only) and returns its bearer token, which is shown only this once
/// and stored only as a hash.
#[utoipa::path(
    post, path = "/users", tag = "users", operation_id = "create_user",
    request_body = CreateUserRequest,
    responses((status = 201, description = "The user and its token.", body = CreatedUserResponse,
        headers(("Location" = String, description = "The user's URL.")))),
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
    let agency_id = request.agency_id;
    let token = generate_token();
    let new = NewUser {
        name,
        role,
        level,
        agency_id,
        token_hash: hash_token(&token),
    };
    let now = state.now();
    let user = state
        .run(move |conn| {
            if let Some(agency_id) = agency_id
                && db::agencies::find_agency(conn, agency_id)?.is_none()
            {
                return Err(Invalid::one("agency_id", "is not a known agency").into());
            }
            db::users::insert_user(conn, new, now)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/users/{}", user.principal.user_id),
        ))
        .json(CreatedUserResponse {
            user: UserResponse::from(&user),
            token,
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
    responses((status = 200, description = "The user.", body = UserResponse)),
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
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}
