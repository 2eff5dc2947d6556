//! `POST /monitoring/check-results`: up to 10,000 check results per request, each a state
//! and, when it carries one, a response time (`response_ms`, or Nagios perfdata). A bad item
//! is named by its index and nothing of the batch is stored.

use super::{kept_output, read_state, require_monitor};
use crate::db::monitoring::{NewResponseTime, NewState, StateSource};
use crate::domain::{FieldError, Invalid};
use crate::http::AppState;
use crate::http::auth::MachineCaller;
use crate::http::input::{JSON, read_json};
use crate::http::problem::{ApiError, Problem};
use crate::monitoring::formats::perfdata_response_ms;
use crate::monitoring::record::{MonitorReport, unknown_systems};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Most results one request may carry.
pub const MAX_CHECK_RESULTS: usize = 10_000;

/// Check results: `{"items": [...]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResultsRequest {
    #[schema(max_items = 10000, value_type = Vec<CheckResultItem>)]
    pub items: Vec<Value>,
}

/// One check result.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResultItem {
    #[schema(
        pattern = r"^[A-Za-z0-9._-]+$",
        required = true,
        nullable = false,
        max_length = 50,
        example = "PORTALE"
    )]
    pub system: Option<String>,
    /// RFC 3339 or epoch seconds.
    #[schema(pattern = r"^(\d{1,11}|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))$", required = true, nullable = false, value_type = String, example = "2016-06-23T15:30:00Z")]
    pub at: Option<Value>,
    /// As for `/monitoring/events`.
    #[schema(
        pattern = r"^(up|down|unknown|OK|WARNING|CRITICAL|UNKNOWN|UP|DOWN|UNREACHABLE)$",
        required = true,
        nullable = false,
        max_length = 20,
        example = "OK"
    )]
    pub state: Option<String>,
    /// `hard` (the default) or `soft`.
    #[schema(pattern = r"^(hard|soft|HARD|SOFT)$", max_length = 4)]
    pub state_type: Option<String>,
    /// The response time in milliseconds.
    #[schema(minimum = 0, maximum = 86_400_000, format = Double, example = 7.1)]
    pub response_ms: Option<f64>,
    /// Nagios performance data, whose `time=` metric is the response time.
    #[schema(
        pattern = r"^time=\d{1,6}(\.\d{1,6})?(s|ms|us)?(;[^\s;]*){0,4}( \S{1,100}){0,20}$",
        max_length = 2000,
        example = "time=0.007123s;;;0.000000;10.000000 size=1234B;;;0"
    )]
    pub perfdata: Option<String>,
    #[schema(max_length = 100000)]
    pub output: Option<String>,
}

/// How much of the batch was new.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckResultsResponse {
    #[schema(minimum = 0, maximum = 10000)]
    pub received: i64,
    /// States not stored before.
    #[schema(minimum = 0, maximum = 10000)]
    pub states_stored: i64,
    /// Response times stored or raised (of two for the same instant the larger stays).
    #[schema(minimum = 0, maximum = 10000)]
    pub response_times_stored: i64,
}

/// Report check results
///
/// Up to 10,000 results (role `monitor`); a bad item is named by its index
/// (`items[3].at`) and nothing is stored. Results sent again change nothing.
#[utoipa::path(
    post, path = "/monitoring/check-results", tag = "monitoring", operation_id = "report_check_results",
    request_body = CheckResultsRequest,
    responses((status = 200, description = "The batch was stored.", body = CheckResultsResponse),
        (status = 422, description = "Items are invalid; each is named.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn report_check_results(
    state: web::Data<AppState>,
    caller: MachineCaller,
    http_request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_monitor(&caller)?;
    let request: CheckResultsRequest =
        read_json(&http_request, payload, JSON, state.batch_body_limits()).await?;
    if request.items.len() > MAX_CHECK_RESULTS {
        return Err(ApiError::malformed(
            "items",
            format!("must hold at most {MAX_CHECK_RESULTS} results"),
        ));
    }
    let received = request.items.len();
    let mut errors = Vec::new();
    let mut report = MonitorReport::default();
    let mut systems: Vec<(usize, String)> = Vec::with_capacity(received);
    for (i, value) in request.items.into_iter().enumerate() {
        let prefix = format!("items[{i}].");
        let item: CheckResultItem = match serde_path_to_error::deserialize(value) {
            Ok(item) => item,
            Err(error) => {
                let path = error.path().to_string();
                let field = if path == "." {
                    format!("items[{i}]")
                } else {
                    format!("{prefix}{path}")
                };
                errors.push(FieldError::new(field, error.inner().to_string()));
                continue;
            }
        };
        let system = match item.system.as_deref().map(str::trim) {
            Some(code) if crate::config::is_system_code(code) => Some(code.to_owned()),
            _ => {
                errors.push(FieldError::new(
                    format!("{prefix}system"),
                    "must be a system's code",
                ));
                None
            }
        };
        let read = read_state(
            &mut errors,
            &prefix,
            item.state.as_deref(),
            item.state_type.as_deref(),
            item.at.as_ref(),
        );
        let response_ms = match (item.response_ms, item.perfdata.as_deref()) {
            (Some(ms), _) if ms.is_finite() && (0.0..=86_400_000.0).contains(&ms) => Some(ms),
            (Some(_), _) => {
                errors.push(FieldError::new(
                    format!("{prefix}response_ms"),
                    "must be between 0 and 86,400,000",
                ));
                None
            }
            (None, Some(perfdata)) => match perfdata_response_ms(perfdata) {
                Ok(ms) => Some(ms),
                Err(message) => {
                    errors.push(FieldError::new(format!("{prefix}perfdata"), message));
                    None
                }
            },
            (None, None) => None,
        };
        let (Some(system), Some((health, hard, at))) = (system, read) else {
            continue;
        };
        systems.push((i, system.clone()));
        if let Some(response_ms) = response_ms {
            report.response_times.push(NewResponseTime {
                system: system.clone(),
                at,
                response_ms,
            });
        }
        report.states.push(NewState {
            system,
            at,
            state: health,
            hard,
            source: StateSource::Check,
            problem_id: None,
            output: kept_output(item.output),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(Invalid(errors)));
    }
    let recorded = super::store_report(&state, caller.0, report, move |conn| {
        let codes: Vec<&str> = systems.iter().map(|(_, code)| code.as_str()).collect();
        let unknown = unknown_systems(conn, &codes)?;
        if unknown.is_empty() {
            return Ok(());
        }
        Err(crate::db::StoreError::Invalid(Invalid(
            unknown
                .into_iter()
                .map(|k| {
                    let (i, code) = &systems[k];
                    FieldError::new(
                        format!("items[{i}].system"),
                        format!("`{code}` is not a system (see GET /systems)"),
                    )
                })
                .collect(),
        )))
    })
    .await?;
    Ok(HttpResponse::Ok().json(CheckResultsResponse {
        received: received as i64,
        states_stored: recorded.states as i64,
        response_times_stored: recorded.response_times as i64,
    }))
}
