//! `/reports`: the status-by-level summary (here), the SLA compliance table (`sla`), the
//! malfunction report (`malfunctions`) and its deliveries (`deliveries`), as JSON, CSV,
//! HTML or text by `Accept`.

pub mod availability;
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
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$",
        example = "2016-01-01"
    )]
    pub from: Option<String>,
    /// End (exclusive), same forms. Default: no end.
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$",
        example = "2017-01-01"
    )]
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

/// The forms a report can be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Text,
    Html,
}

impl Format {
    /// Every form, in the order preferred when `Accept` likes several equally.
    pub(crate) const ALL: [Format; 4] = [Format::Json, Format::Csv, Format::Html, Format::Text];

    fn media_type(self) -> (&'static str, &'static str) {
        match self {
            Format::Json => ("application", "json"),
            Format::Csv => ("text", "csv"),
            Format::Text => ("text", "plain"),
            Format::Html => ("text", "html"),
        }
    }
}

/// The form `Accept` prefers among `offered` (RFC 9110 §12.5.1): each form gets the quality
/// of the most specific range that matches it (`text/csv` over `text/*` over `*/*`); the
/// highest quality above zero wins, ties going to the earlier in `offered`. No `Accept` is
/// the first offered; nothing acceptable is a 406.
pub(crate) fn negotiate(request: &HttpRequest, offered: &[Format]) -> Result<Format, ApiError> {
    use actix_web::http::header::{Accept, Header, Quality};
    use actix_web::mime::STAR;
    if request.headers().get(header::ACCEPT).is_none() {
        return Ok(offered[0]);
    }
    let accept = Accept::parse(request).map_err(|_| {
        ApiError::malformed(
            "Accept",
            "must be a list of media ranges like text/csv;q=0.5",
        )
    })?;
    if accept.is_empty() {
        return Ok(offered[0]);
    }
    let quality_of = |format: Format| {
        let (kind, subtype) = format.media_type();
        accept
            .iter()
            .filter_map(|range| {
                let specificity = match (range.item.type_(), range.item.subtype()) {
                    (t, s) if t == kind && s == subtype => 3,
                    (t, STAR) if t == kind => 2,
                    (STAR, STAR) => 1,
                    _ => return None,
                };
                Some((specificity, range.quality))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map_or(Quality::ZERO, |(_, quality)| quality)
    };
    let mut best: Option<(Format, Quality)> = None;
    for &format in offered {
        let quality = quality_of(format);
        if quality > Quality::ZERO && best.is_none_or(|(_, q)| quality > q) {
            best = Some((format, quality));
        }
    }
    best.map(|(format, _)| format)
        .ok_or_else(|| ApiError::NotAcceptable {
            offered: offered
                .iter()
                .map(|f| match f {
                    Format::Json => "application/json",
                    Format::Csv => "text/csv",
                    Format::Text => "text/plain",
                    Format::Html => "text/html",
                })
                .collect(),
        })
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
        (String = "text/plain"))),
        (status = 406, description = "`Accept` allows none of JSON, CSV and plain text.", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` or `to` is a leap second.", body = super::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_status_by_level(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_reports(), "read reports")?;
    let period = report_period(&caller, parse_query(&request)?)?;
    let format = negotiate(&request, &[Format::Json, Format::Csv, Format::Text])?;
    let counts = state
        .run(move |conn| {
            load_agency(conn, period.agency_id)?;
            db::summary::count_by_status_and_level(conn, period.from, period.to, period.agency_id)
        })
        .await?;
    let summary = StatusByLevel::from_counts(&counts).map_err(ApiError::Internal)?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(summary),
        Format::Csv => csv_response(summary.to_csv(), "status-by-level.csv"),
        Format::Text | Format::Html => text_response(summary.to_text()),
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
