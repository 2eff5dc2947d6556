//! `GET /reports/sla`: the SLA compliance table (SPEC §5).

use super::{
    Format, ReportQuery, csv_response, html_response, load_agency, negotiate, report_period,
    text_response,
};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::parse_query;
use crate::http::problem::ApiError;
use crate::reports::sla_compliance::SlaComplianceReport;
use actix_web::{HttpRequest, HttpResponse, web};

/// SLA compliance report
///
/// One row per SLA (SLA.1–SLA.11) as in the centre's annual report: the commitment, expected
/// (ATTESO), measured (RILEVATO) and deviation (SCOSTAMENTO). For SLA.1–SLA.5, from the
/// monitor's history over the period up to now (SPEC §9): availability as `99,92 %` with
/// `expected_percent`, `measured_percent`, `counted_seconds`, `downtime_seconds`, `coverage`
/// and `outages`; SLA.3's response time as `7 ms` with `expected_ms`, `measured_ms` and
/// `samples`; "non rilevato" when nothing was measured. For SLA.6–SLA.10, over the
/// clocks of tickets reported in [`from`, `to`): the share met of those decided, the counts
/// met / breached / still running, and the median and 90th percentile (nearest rank) of the
/// time the stopped clocks counted, in each SLA's calendar. For SLA.11, the contract's
/// cadence against that of the malfunction reports delivered in the period. JSON by default;
/// `Accept: text/csv`, `text/html` or `text/plain`. An agency gets its own tickets only.
#[utoipa::path(
    get, path = "/reports/sla", tag = "reports", operation_id = "sla_report",
    params(ReportQuery),
    responses((status = 200, description = "The compliance table.", content(
        (SlaComplianceReport = "application/json"),
        (String = "text/csv"),
        (String = "text/html"),
        (String = "text/plain"))),
        (status = 406, description = "`Accept` allows none of JSON, CSV, HTML and plain text.", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` or `to` is a leap second.", body = crate::http::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn get_sla_report(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_reports(), "read reports")?;
    let period = report_period(&caller, parse_query(&request)?)?;
    let format = negotiate(&request, &Format::ALL)?;
    let (engine, now, expectations) = (state.engine(), state.now(), state.settings.expectations());
    let agency_id = period.agency_id;
    let (report, agency) = state
        .run(move |conn| {
            let agency = load_agency(conn, agency_id)?;
            let report = crate::reports::load::sla_compliance(
                conn,
                &engine,
                expectations,
                period.from,
                period.to,
                agency_id,
                now,
            )?;
            Ok((report, agency))
        })
        .await?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(&report),
        Format::Csv => csv_response(report.to_csv(), "sla.csv"),
        Format::Text => text_response(report.to_text()),
        Format::Html => html_response(
            report
                .to_html(
                    &state.settings.centre_name,
                    agency.as_ref().map(|a| a.name.as_str()),
                )
                .map_err(ApiError::Internal)?,
        ),
    })
}
