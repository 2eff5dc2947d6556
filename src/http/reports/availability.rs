//! `GET /reports/availability`: each system's outages over a period (SPEC §9).

use super::{
    Format, csv_response, earliest_instant, html_response, latest_instant, negotiate, text_response,
};
use crate::domain::Role;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{parse_instant_or_date, parse_query};
use crate::http::problem::ApiError;
use crate::reports::availability::AvailabilityReport;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// The period and the system of the report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Start (inclusive): an RFC 3339 instant or a date (local midnight, Europe/Rome).
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$",
        example = "2016-01-01"
    )]
    pub from: Option<String>,
    /// End (exclusive), same forms; the time after now is not measured.
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$",
        example = "2017-01-01"
    )]
    pub to: Option<String>,
    /// Only this system (default: every one).
    #[param(max_length = 50, pattern = r"^[A-Za-z0-9._-]+$", example = "CSDB1")]
    pub system: Option<String>,
}

/// Availability report
///
/// Each system's uptime over [`from`, `to`) and its outages: start, end, the business
/// seconds counted, or why none were (`shorter_than_min_outage`, `maintenance`,
/// `outside_calendar_hours`), under the rules and calendar of the first availability SLA that
/// measures the system. JSON by default; `Accept: text/csv`, `text/html` or `text/plain`.
/// An agency sees the systems of its services only.
#[utoipa::path(
    get, path = "/reports/availability", tag = "reports", operation_id = "availability_report",
    params(AvailabilityQuery),
    responses((status = 200, description = "The systems' availability.", content(
        (AvailabilityReport = "application/json"),
        (String = "text/csv"),
        (String = "text/html"),
        (String = "text/plain"))),
        (status = 404, description = "No such system.", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 406, description = "`Accept` allows none of JSON, CSV, HTML and plain text.", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` or `to` is a leap second or outside the years 1–9999.", body = crate::http::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_availability_report(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_reports(), "read reports")?;
    let query: AvailabilityQuery = parse_query(&request)?;
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
    let format = negotiate(&request, &Format::ALL)?;
    let own = (caller.0.role == Role::Agency)
        .then_some(caller.0.agency_id)
        .flatten();
    let (engine, now) = (state.engine(), state.now());
    let wanted = query.system;
    let report = state
        .run(move |conn| {
            let systems: Vec<_> = crate::db::systems::list_systems(conn)?
                .into_iter()
                .filter(|s| wanted.as_ref().is_none_or(|code| &s.code == code))
                .filter(|s| own.is_none_or(|id| s.agency_ids.contains(&id)))
                .collect();
            if wanted.is_some() && systems.is_empty() {
                return Err(crate::db::StoreError::NotFound("system"));
            }
            crate::reports::availability::availability_report(
                conn, &engine, &systems, from, to, now,
            )
        })
        .await?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(&report),
        Format::Csv => csv_response(report.to_csv(), "availability.csv"),
        Format::Text => text_response(report.to_text()),
        Format::Html => html_response(
            report
                .to_html(&state.settings.centre_name)
                .map_err(ApiError::Internal)?,
        ),
    })
}
