//! `/reports`: the status-by-level summary (here), the SLA compliance table (`sla`), the
//! malfunction report (`malfunctions`) and its deliveries (`deliveries`), as JSON, CSV,
//! HTML or text by `Accept`.

pub mod deliveries;
pub mod malfunctions;
pub mod sla;

use super::AppState;
use super::auth::Caller;
use super::input::{parse_instant_or_date, parse_query};
use super::problem::ApiError;
use crate::db;
use crate::domain::Role;
use crate::reports::status_by_level::StatusByLevel;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// The period and agency of a report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Start (inclusive): an RFC 3339 instant or a date (local midnight, Europe/Rome).
    /// Default: the beginning of the records.
    #[param(max_length = 40, example = "2016-01-01")]
    pub from: Option<String>,
    /// End (exclusive), same forms. Default: no end.
    #[param(max_length = 40, example = "2017-01-01")]
    pub to: Option<String>,
    pub agency_id: Option<Uuid>,
}

/// The checked period: `[from, to)` and the agency the caller may see.
pub(crate) struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub agency_id: Option<Uuid>,
}

pub(crate) fn report_period(caller: &Caller, query: ReportQuery) -> Result<Period, ApiError> {
    let from = match query.from.as_deref() {
        Some(text) => parse_instant_or_date("from", text)?,
        None => earliest_instant(),
    };
    let to = match query.to.as_deref() {
        Some(text) => parse_instant_or_date("to", text)?,
        None => latest_instant(),
    };
    if to < from {
        return Err(ApiError::malformed("to", "must not be before `from`"));
    }
    let agency_id = readable_agency(caller, query.agency_id)?;
    Ok(Period {
        from,
        to,
        agency_id,
    })
}

/// The agency whose reports the caller asked for, as it may read them: an agency user gets
/// its own (403 for another's); staff get what they asked for.
pub(crate) fn readable_agency(
    caller: &Caller,
    asked: Option<Uuid>,
) -> Result<Option<Uuid>, ApiError> {
    if caller.0.role != Role::Agency {
        return Ok(asked);
    }
    if asked.is_some_and(|id| Some(id) != caller.0.agency_id) {
        return Err(ApiError::Forbidden(
            "an agency may read only its own reports".into(),
        ));
    }
    Ok(caller.0.agency_id)
}

/// Open ends of a period: far enough for any ticket, and in a range whose text form sorts
/// chronologically (SQLite compares timestamps as text; negative years would not).
pub(crate) fn earliest_instant() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).expect("0001-01-01 is representable")
}

pub(crate) fn latest_instant() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31 is representable")
}

/// What the caller asked for in `Accept`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Text,
    Html,
}

pub(crate) fn negotiate(request: &HttpRequest) -> Format {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/csv") {
        Format::Csv
    } else if accept.contains("text/html") {
        Format::Html
    } else if accept.contains("text/plain") {
        Format::Text
    } else {
        Format::Json
    }
}

/// Status-by-level summary
///
/// Tickets reported in [`from`, `to`) by current state, at level 1 and level 2, with the
/// totals, as in the centre's annual report. JSON by default; `Accept: text/csv` gives CSV
/// and `Accept: text/plain` a table for people. An agency gets its own tickets only.
#[utoipa::path(
    get, path = "/reports/status-by-level", tag = "reports", operation_id = "status_by_level_report",
    params(ReportQuery),
    responses((status = 200, description = "The summary.", content(
        (StatusByLevel = "application/json"),
        (String = "text/csv"),
        (String = "text/plain")))),
    security(("bearer" = []))
)]
pub async fn get_status_by_level(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_reports(), "read reports")?;
    let period = report_period(&caller, parse_query(&request)?)?;
    let counts = state
        .run(move |conn| {
            db::summary::count_by_status_and_level(conn, period.from, period.to, period.agency_id)
        })
        .await?;
    let summary = StatusByLevel::from_counts(&counts).map_err(ApiError::Internal)?;
    Ok(match negotiate(&request) {
        Format::Json => HttpResponse::Ok().json(summary),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"status-by-level.csv\"",
            ))
            .body(summary.to_csv()),
        Format::Text | Format::Html => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(summary.to_text()),
    })
}

/// The agency a report is for, if one was named (404 when it does not exist).
pub(crate) fn load_agency(
    conn: &mut crate::db::DbConnection,
    id: Option<Uuid>,
) -> Result<Option<crate::domain::ticket::Agency>, crate::db::StoreError> {
    id.map(|id| {
        db::agencies::find_agency(conn, id)?.ok_or(crate::db::StoreError::NotFound("agency"))
    })
    .transpose()
}

/// A CSV download.
pub(crate) fn csv_response(body: String, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

pub(crate) fn html_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub(crate) fn text_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
