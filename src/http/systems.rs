//! `/systems`: what monitoring watches (SPEC §9). Administrators define them; agents and
//! supervisors read them.

use super::AppState;
use super::auth::Caller;
use super::input::{JSON, etag, read_json};
use super::problem::{ApiError, Problem};
use crate::config::is_system_code;
use crate::db;
use crate::db::systems::{System, SystemDefinition};
use crate::domain::validation::Checker;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const MAX_SERVICES: usize = 50;
const MAX_AGENCIES: usize = 200;

/// A system's definition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutSystemRequest {
    #[schema(
        required = true,
        nullable = false,
        max_length = 200,
        example = "Database server 1"
    )]
    pub name: Option<String>,
    /// The services it runs: a malfunction ticket an outage opens lists them.
    #[schema(max_items = 50, example = json!(["Anagrafe online"]))]
    pub services: Option<Vec<String>>,
    /// The agencies whose services they are.
    #[schema(max_items = 200)]
    pub agency_ids: Option<Vec<Uuid>>,
}

/// A system as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SystemResponse {
    #[schema(max_length = 50, example = "CSDB1")]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_items = 50)]
    pub services: Vec<String>,
    #[schema(max_items = 200)]
    pub agency_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(minimum = 1)]
    pub version: i64,
}

impl From<&System> for SystemResponse {
    fn from(system: &System) -> SystemResponse {
        SystemResponse {
            code: system.code.clone(),
            name: system.name.clone(),
            services: system.services.clone(),
            agency_ids: system.agency_ids.clone(),
            created_at: system.created_at,
            updated_at: system.updated_at,
            version: system.version,
        }
    }
}

/// The systems.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SystemList {
    #[schema(max_items = 10000)]
    pub items: Vec<SystemResponse>,
}

fn check_code(code: &str) -> Result<(), ApiError> {
    if is_system_code(code) {
        Ok(())
    } else {
        Err(ApiError::malformed(
            "code",
            "must be 1 to 50 letters, digits, `-`, `_` or `.` (like CSDB1)",
        ))
    }
}

/// Define a system
///
/// Creates the system `code` or replaces its definition (admin). The monitor names it by its
/// code in every report.
#[utoipa::path(
    put, path = "/systems/{code}", tag = "monitoring", operation_id = "define_system",
    params(("code" = String, Path, description = "The system's code.", max_length = 50, pattern = r"^[A-Za-z0-9._-]+$")),
    request_body = PutSystemRequest,
    responses((status = 200, description = "The system, changed (or as it was).", body = SystemResponse,
            headers(("ETag" = String, description = "The system's version."))),
        (status = 201, description = "The new system.", body = SystemResponse,
            headers(("ETag" = String, description = "The system's version."), ("Location" = String, description = "The system's URL."))),
        (status = 422, description = "A field is invalid.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn put_system(
    state: web::Data<AppState>,
    caller: Caller,
    http_request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "define systems")?;
    let code = code.into_inner();
    check_code(&code)?;
    let request: PutSystemRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let mut checker = Checker::new();
    checker.required_line("name", request.name.as_deref(), 200);
    let services = request.services.unwrap_or_default();
    if services.len() > MAX_SERVICES {
        checker.add("services", format!("must list at most {MAX_SERVICES}"));
    }
    for (i, service) in services.iter().enumerate() {
        checker.required_line(&format!("services[{i}]"), Some(service), 200);
    }
    let mut agency_ids = request.agency_ids.unwrap_or_default();
    if agency_ids.len() > MAX_AGENCIES {
        checker.add("agency_ids", format!("must list at most {MAX_AGENCIES}"));
    }
    checker.finish().map_err(ApiError::Invalid)?;
    agency_ids.sort();
    agency_ids.dedup();
    let definition = SystemDefinition {
        name: request.name.unwrap_or_default().trim().to_owned(),
        services: services.iter().map(|s| s.trim().to_owned()).collect(),
        agency_ids,
    };
    let now = state.now();
    let path_code = code.clone();
    let (system, created) = state
        .run(move |conn| db::systems::put_system(conn, &path_code, definition, now))
        .await?;
    let mut response = if created {
        let mut created = HttpResponse::Created();
        created.insert_header((header::LOCATION, format!("/api/v1/systems/{code}")));
        created
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::ETAG, etag(system.version)))
        .json(SystemResponse::from(&system)))
}

/// List systems
///
/// Every system monitoring watches, by code (staff).
#[utoipa::path(
    get, path = "/systems", tag = "monitoring", operation_id = "list_systems",
    responses((status = 200, description = "The systems.", body = SystemList)),
    security(("bearer" = []))
)]
pub async fn list_systems(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_work_tickets(), "read systems")?;
    let systems = state.run(db::systems::list_systems).await?;
    Ok(HttpResponse::Ok().json(SystemList {
        items: systems.iter().map(SystemResponse::from).collect(),
    }))
}

/// Read a system
///
/// One system (staff).
#[utoipa::path(
    get, path = "/systems/{code}", tag = "monitoring", operation_id = "read_system",
    params(("code" = String, Path, description = "The system's code.", max_length = 50, pattern = r"^[A-Za-z0-9._-]+$")),
    responses((status = 200, description = "The system.", body = SystemResponse,
        headers(("ETag" = String, description = "The system's version.")))),
    security(("bearer" = []))
)]
pub async fn get_system(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_work_tickets(), "read systems")?;
    let code = code.into_inner();
    check_code(&code)?;
    let system = state
        .run(move |conn| db::systems::find_system(conn, &code))
        .await?
        .ok_or(ApiError::NotFound("system"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(system.version)))
        .json(SystemResponse::from(&system)))
}
