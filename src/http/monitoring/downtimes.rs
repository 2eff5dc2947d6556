//! `/monitoring/downtimes`: maintenance windows `[start, end)` per system, which override the
//! reported states (SPEC §9). Posting the same window again stores nothing new.

use super::require_monitor;
use crate::db;
use crate::domain::validation::Checker;
use crate::domain::{FieldError, Invalid};
use crate::http::AppState;
use crate::http::auth::MachineCaller;
use crate::http::input::{JSON, parse_id, parse_query, read_json};
use crate::http::problem::{ApiError, Problem};
use crate::monitoring::formats::parse_monitor_time;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A maintenance window.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDowntimeRequest {
    #[schema(
        pattern = r"^[A-Za-z0-9._-]+$",
        required = true,
        nullable = false,
        max_length = 50,
        example = "CSDB1"
    )]
    pub system: Option<String>,
    /// RFC 3339 or epoch seconds.
    #[schema(pattern = r"^(\d{1,11}|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))$", required = true, nullable = false, value_type = String, example = "2016-08-14T22:00:00Z")]
    pub start: Option<Value>,
    /// After `start`; the window is `[start, end)`.
    #[schema(pattern = r"^(\d{1,11}|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))$", required = true, nullable = false, value_type = String, example = "2016-08-15T02:00:00Z")]
    pub end: Option<Value>,
    #[schema(max_length = 500, example = "Aggiornamento del database")]
    pub reason: Option<String>,
}

/// A maintenance window as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DowntimeResponse {
    pub id: Uuid,
    #[schema(max_length = 50)]
    pub system: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[schema(max_length = 500)]
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<&db::monitoring::Downtime> for DowntimeResponse {
    fn from(d: &db::monitoring::Downtime) -> DowntimeResponse {
        DowntimeResponse {
            id: d.id,
            system: d.system.clone(),
            start: d.start,
            end: d.end,
            reason: d.reason.clone(),
            created_at: d.created_at,
        }
    }
}

/// Maintenance windows.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DowntimeList {
    #[schema(max_items = 100000)]
    pub items: Vec<DowntimeResponse>,
}

/// Which windows to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DowntimeQuery {
    /// Only this system's.
    #[param(max_length = 50)]
    pub system: Option<String>,
    /// Only windows ending after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// Only windows starting before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
}

/// Add a maintenance window
///
/// A window `[start, end)` of one system (role `monitor`). The same window again returns the
/// stored one (200).
#[utoipa::path(
    post, path = "/monitoring/downtimes", tag = "monitoring", operation_id = "create_downtime",
    request_body = CreateDowntimeRequest,
    responses((status = 201, description = "The new window.", body = DowntimeResponse),
        (status = 200, description = "The same window, stored before.", body = DowntimeResponse),
        (status = 422, description = "A field is invalid.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn create_downtime(
    state: web::Data<AppState>,
    caller: MachineCaller,
    http_request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_monitor(&caller)?;
    let request: CreateDowntimeRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let mut checker = Checker::new();
    checker.required_line("system", request.system.as_deref(), 50);
    checker.optional_line("reason", request.reason.as_deref(), 500);
    let mut errors: Vec<FieldError> = checker.finish().err().map(|i| i.0).unwrap_or_default();
    let mut instant = |field: &str, value: Option<&Value>| match value.map(parse_monitor_time) {
        Some(Ok(at)) => Some(crate::db::truncate_to_micros(at)),
        Some(Err(message)) => {
            errors.push(FieldError::new(field, message));
            None
        }
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
    };
    let start = instant("start", request.start.as_ref());
    let end = instant("end", request.end.as_ref());
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        errors.push(FieldError::new("end", "must be after start"));
    }
    let (Some(start), Some(end), true) = (start, end, errors.is_empty()) else {
        return Err(ApiError::Invalid(Invalid(errors)));
    };
    let system = request.system.unwrap_or_default().trim().to_owned();
    let reason = request.reason.unwrap_or_default().trim().to_owned();
    let now = state.now();
    let (downtime, created) = state
        .run(move |conn| {
            if !crate::monitoring::record::unknown_systems(conn, &[system.as_str()])?.is_empty() {
                return Err(db::StoreError::Invalid(Invalid::one(
                    "system",
                    format!("`{system}` is not a system (see GET /systems)"),
                )));
            }
            db::monitoring::insert_downtime(conn, &system, start, end, &reason, now)
        })
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(DowntimeResponse::from(&downtime)))
}

/// List maintenance windows
///
/// The windows of one system or all, overlapping `[from, to)` when given (role `monitor`).
#[utoipa::path(
    get, path = "/monitoring/downtimes", tag = "monitoring", operation_id = "list_downtimes",
    params(DowntimeQuery),
    responses((status = 200, description = "The windows, by start.", body = DowntimeList)),
    security(("bearer" = []))
)]
pub async fn list_downtimes(
    state: web::Data<AppState>,
    caller: MachineCaller,
    http_request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    require_monitor(&caller)?;
    let query: DowntimeQuery = parse_query(&http_request)?;
    let parse = |field: &str, text: Option<&str>| {
        text.map(|t| crate::http::input::parse_instant_or_date(field, t))
            .transpose()
    };
    let from = parse("from", query.from.as_deref())?;
    let to = parse("to", query.to.as_deref())?;
    let system = query.system;
    let downtimes = state
        .run(move |conn| db::monitoring::list_downtimes(conn, system.as_deref(), from, to))
        .await?;
    Ok(HttpResponse::Ok().json(DowntimeList {
        items: downtimes.iter().map(DowntimeResponse::from).collect(),
    }))
}

/// Delete a maintenance window
///
/// Removes a window entered by mistake (role `monitor`): the figures count the states it
/// covered again.
#[utoipa::path(
    delete, path = "/monitoring/downtimes/{id}", tag = "monitoring", operation_id = "remove_downtime",
    params(("id" = Uuid, Path, description = "The window's id.")),
    responses((status = 204, description = "The window is gone.")),
    security(("bearer" = []))
)]
pub async fn delete_downtime(
    state: web::Data<AppState>,
    caller: MachineCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_monitor(&caller)?;
    let id = parse_id("id", &id)?;
    let deleted = state
        .run(move |conn| db::monitoring::delete_downtime(conn, id))
        .await?;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound("downtime"))
    }
}
