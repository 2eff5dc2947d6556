//! `GET /reports/malfunctions`: the malfunction report (SPEC §4, SLA.11).

use super::{
    Format, ReportQuery, csv_response, html_response, load_agency, negotiate, report_period,
    text_response,
};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::parse_query;
use crate::http::problem::ApiError;
use crate::reports::malfunctions::MalfunctionReport;
use actix_web::{HttpRequest, HttpResponse, web};

/// Malfunction report
///
/// Every interruption in [`from`, `to`) of the services of `agency_id` (of every agency when
/// it is left out): ticket number, services, start, end, duration (whole and within the
/// period, for one that crosses its bounds), cause and actions, when the agency and the
/// public were told and whether SLA.9 and SLA.10 were met, and the totals. JSON by default;
/// `Accept: text/csv`, `text/html` or `text/plain`. An agency gets its own report only.
#[utoipa::path(
    get, path = "/reports/malfunctions", tag = "reports", operation_id = "malfunction_report",
    params(ReportQuery),
    responses((status = 200, description = "The report.", content(
        (MalfunctionReport = "application/json"),
        (String = "text/csv"),
        (String = "text/html"),
        (String = "text/plain"))),
        (status = 406, description = "`Accept` allows none of JSON, CSV, HTML and plain text.", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` or `to` is a leap second.", body = crate::http::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_malfunction_report(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_reports(), "read reports")?;
    let period = report_period(&caller, parse_query(&request)?)?;
    let format = negotiate(&request, &Format::ALL)?;
    let (engine, now) = (state.engine(), state.now());
    let report = state
        .run(move |conn| {
            let agency = load_agency(conn, period.agency_id)?;
            crate::reports::load::malfunctions(
                conn,
                &engine,
                agency.as_ref(),
                period.from,
                period.to,
                now,
            )
        })
        .await?;
    let centre = &state.settings.centre_name;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(&report),
        Format::Csv => csv_response(report.to_csv(), "malfunzionamenti.csv"),
        Format::Text => text_response(report.to_text(centre).map_err(ApiError::Internal)?),
        Format::Html => html_response(report.to_html(centre).map_err(ApiError::Internal)?),
    })
}
