//! `POST /calendars/{name}/deadlines` and `/elapsed`: up to 10,000 computations per request,
//! in order, naming every bad item.

use super::{calendar_named, require_staff};
use crate::domain::FieldError;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{JSON, instant_error, read_json};
use crate::http::problem::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Most items one batch request may carry.
pub const MAX_BATCH_ITEMS: usize = 10_000;
/// Longest duration a deadline may be asked for: ten years of seconds.
const MAX_SECONDS: i64 = 10 * 366 * 86_400;

/// Deadlines to compute: `{"items": [{"start": …, "seconds": N}]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlinesRequest {
    #[schema(max_items = 10000, value_type = Vec<DeadlineItem>)]
    pub items: Vec<Value>,
}

/// One deadline to compute.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeadlineItem {
    /// In the years 1900 to 2400, which the calendars answer for.
    #[schema(
        pattern = r"^(19\d\d|2[0-3]\d\d|2400)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub start: DateTime<Utc>,
    /// At most ten years of seconds.
    #[schema(minimum = 0, maximum = 316_224_000)]
    pub seconds: i64,
}

/// Durations to measure: `{"items": [{"from": …, "to": …}]}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElapsedRequest {
    #[schema(max_items = 10000, value_type = Vec<ElapsedItem>)]
    pub items: Vec<Value>,
}

/// One range to measure.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ElapsedItem {
    /// In the years 1900 to 2400, which the calendars answer for.
    #[schema(
        pattern = r"^(19\d\d|2[0-3]\d\d|2400)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub from: DateTime<Utc>,
    /// The same.
    #[schema(
        pattern = r"^(19\d\d|2[0-3]\d\d|2400)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
    )]
    pub to: DateTime<Utc>,
}

/// Computed deadlines, in the order asked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadlineList {
    #[schema(max_items = 10000)]
    pub items: Vec<DeadlineResult>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadlineResult {
    pub deadline: DateTime<Utc>,
}

/// Measured business time, in the order asked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ElapsedList {
    #[schema(max_items = 10000)]
    pub items: Vec<ElapsedResult>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ElapsedResult {
    pub seconds: i64,
}

/// What is wrong with a batch's items: malformed ones make it a 400; a batch whose only
/// faults are values refused (leap seconds) is a 422.
#[derive(Default)]
struct BatchErrors {
    errors: Vec<FieldError>,
    malformed: bool,
}

impl BatchErrors {
    fn malformed(&mut self, field: String, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
        self.malformed = true;
    }

    fn into_error(self) -> Option<ApiError> {
        match (self.errors.is_empty(), self.malformed) {
            (true, _) => None,
            (false, true) => Some(ApiError::Malformed(self.errors)),
            (false, false) => Some(ApiError::Invalid(crate::domain::Invalid(self.errors))),
        }
    }
}

fn instant_field(
    item: &Value,
    index: usize,
    key: &str,
    errors: &mut BatchErrors,
) -> Option<DateTime<Utc>> {
    let field = format!("items[{index}].{key}");
    match item.get(key).and_then(Value::as_str) {
        None => errors.malformed(field, "is required: an RFC 3339 instant"),
        Some(text) => match crate::domain::time::parse_instant(text) {
            Ok(at) => return Some(at),
            Err(e) => match instant_error(field, e) {
                ApiError::Invalid(invalid) => errors.errors.extend(invalid.0),
                ApiError::Malformed(malformed) => {
                    errors.errors.extend(malformed);
                    errors.malformed = true;
                }
                _ => unreachable!("instant errors are 400 or 422"),
            },
        },
    }
    None
}

/// Reads a batch body and computes every item with `compute`, which names the item's bad
/// fields in `errors`; answers 400 naming every bad item, or the results in order.
async fn compute_batch<T>(
    state: &AppState,
    request: &HttpRequest,
    payload: web::Payload,
    compute: impl Fn(&Value, usize, &mut BatchErrors) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Batch {
        items: Vec<Value>,
    }
    let batch: Batch = read_json(request, payload, JSON, state.batch_body_limits()).await?;
    if batch.items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::malformed(
            "items",
            format!("at most {MAX_BATCH_ITEMS} items per request"),
        ));
    }
    let mut errors = BatchErrors::default();
    let mut results = Vec::with_capacity(batch.items.len());
    for (index, item) in batch.items.iter().enumerate() {
        results.extend(compute(item, index, &mut errors));
    }
    match errors.into_error() {
        None => Ok(results),
        Some(error) => Err(error),
    }
}

/// Compute deadlines
///
/// For each item, the earliest instant at which `seconds` of business time have elapsed
/// since `start` in this calendar (SPEC §3), in the order given; up to 10,000 items. Every
/// bad item is named in the error.
#[utoipa::path(
    post, path = "/calendars/{name}/deadlines", tag = "calendars", operation_id = "compute_deadlines",
    params(("name" = String, Path, description = "`default` or `24x7`.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$")),
    request_body = DeadlinesRequest,
    responses((status = 200, description = "The deadlines, in the order asked.", body = DeadlineList)),
    security(("bearer" = []))
)]
pub async fn compute_deadlines(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_staff(&caller)?;
    let calendar = calendar_named(&state, &name)?;
    let deadlines = compute_batch(&state, &request, payload, |item, index, errors| {
        let start = instant_field(item, index, "start", errors);
        let seconds = match item.get("seconds").and_then(Value::as_i64) {
            Some(seconds) if (0..=MAX_SECONDS).contains(&seconds) => Some(seconds),
            _ => {
                errors.malformed(
                    format!("items[{index}].seconds"),
                    format!("must be a whole number from 0 to {MAX_SECONDS}"),
                );
                None
            }
        };
        let deadline = calendar.deadline(start?, seconds?);
        deadline
            .map_err(|e| errors.malformed(format!("items[{index}].start"), e.to_string()))
            .ok()
            .map(|deadline| DeadlineResult { deadline })
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeadlineList { items: deadlines }))
}

/// Measure business time
///
/// For each item, the business seconds between `from` and `to` in this calendar (negative
/// when `to` is before `from`), in the order given; up to 10,000 items.
#[utoipa::path(
    post, path = "/calendars/{name}/elapsed", tag = "calendars", operation_id = "compute_elapsed",
    params(("name" = String, Path, description = "`default` or `24x7`.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$")),
    request_body = ElapsedRequest,
    responses((status = 200, description = "The business seconds, in the order asked.", body = ElapsedList)),
    security(("bearer" = []))
)]
pub async fn compute_elapsed(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_staff(&caller)?;
    let calendar = calendar_named(&state, &name)?;
    let results = compute_batch(&state, &request, payload, |item, index, errors| {
        let from = instant_field(item, index, "from", errors);
        let to = instant_field(item, index, "to", errors);
        calendar
            .elapsed(from?, to?)
            .map_err(|e| errors.malformed(format!("items[{index}].from"), e.to_string()))
            .ok()
            .map(|seconds| ElapsedResult { seconds })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ElapsedList { items: results }))
}
