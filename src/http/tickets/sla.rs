//! `GET /tickets/{id}/sla/{code}/explanation`: why a clock's deadline is what it is.

use super::readable_ticket;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::parse_id;
use crate::http::problem::ApiError;
use crate::sla::ClockState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stretch of business time the calendar counted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CountedSpanResponse {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub seconds: i64,
}

/// How a clock's deadline follows from its start, target and calendar.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClockExplanation {
    #[schema(max_length = 10, example = "SLA.6")]
    pub code: String,
    /// The interruption the clock measures (SLA.9, SLA.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<crate::sla::InterruptionRef>,
    #[schema(max_length = 300)]
    pub commitment: String,
    #[schema(max_length = 50)]
    pub calendar: String,
    #[schema(max_length = 50)]
    pub time_zone: String,
    pub target_seconds: i64,
    pub started_at: DateTime<Utc>,
    /// Business seconds counted before the latest pause ended (0 without pauses).
    pub counted_before_seconds: i64,
    /// Where the explained stretch starts (the start, or the end of the latest pause).
    pub counting_from: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub state: Option<ClockState>,
    /// The business intervals counted from `counting_from` up to the deadline.
    #[schema(max_items = 10000)]
    pub spans: Vec<CountedSpanResponse>,
    /// The same, in words.
    #[schema(max_length = 100000)]
    pub text: String,
}

/// Which of an SLA's clocks to explain.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExplanationQuery {
    /// For SLA.9 and SLA.10, the interruption's sequence (1 for the first); the latest
    /// interruption's clock when absent.
    #[param(minimum = 1, format = "int64")]
    pub interruption: Option<i64>,
}

/// Explain a clock's deadline
///
/// The business intervals the calendar counted from the clock's start to its deadline, so
/// that an agent can see why the deadline is what it is (nights, weekends, holidays,
/// closures and daylight-saving changes skipped).
#[utoipa::path(
    get, path = "/tickets/{id}/sla/{code}/explanation", tag = "tickets", operation_id = "explain_clock",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id."),
        ("code" = String, Path, description = "`SLA.6` … `SLA.10`.", max_length = 10),
        ExplanationQuery),
    responses((status = 200, description = "The explanation.", body = ClockExplanation)),
    security(("bearer" = []))
)]
pub async fn explain_clock(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, code) = path.into_inner();
    let query: ExplanationQuery = crate::http::input::parse_query(&request)?;
    let (_, clocks) = readable_ticket(&state, &caller, parse_id("id", &id)?).await?;
    let stored = clocks
        .into_iter()
        .rev() // the latest interruption's clock unless one is named
        .find(|stored| {
            stored.clock.code == code
                && query
                    .interruption
                    .is_none_or(|wanted| stored.clock.interruption_number() == wanted)
        })
        .ok_or(ApiError::NotFound("clock"))?;
    let clock = stored.clock;
    let engine = state.engine();
    let calendar = engine
        .calendar(&clock.calendar)
        .ok_or(ApiError::NotFound("calendar"))?;
    let budget = (clock.target_seconds - clock.consumed_seconds).max(0);
    let spans = if clock.paused {
        Vec::new()
    } else {
        calendar
            .explain(clock.segment_started_at, budget)
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&calendar.time_zone)
            .format("%a %d/%m/%Y %H:%M:%S %Z")
            .to_string()
    };
    let mut lines = vec![format!(
        "{} ({} s of the `{}` calendar) counted from {}:",
        clock.code,
        clock.target_seconds,
        clock.calendar,
        local(clock.segment_started_at)
    )];
    if clock.consumed_seconds > 0 {
        lines.push(format!(
            "  {} s already counted before the latest pause",
            clock.consumed_seconds
        ));
    }
    for span in &spans {
        lines.push(format!(
            "  {} → {}: {} s",
            local(span.from),
            local(span.to),
            span.seconds
        ));
    }
    match clock.deadline {
        Some(deadline) => lines.push(format!("deadline {}", local(deadline))),
        None => lines.push("paused: no deadline until the clock runs again".into()),
    }
    let view = clock.view(calendar, state.now()).ok().flatten();
    Ok(HttpResponse::Ok().json(ClockExplanation {
        commitment: engine
            .policy(&clock.code)
            .map(|p| p.commitment.clone())
            .unwrap_or_default(),
        code: clock.code,
        interruption: clock.interruption,
        calendar: clock.calendar,
        time_zone: calendar.time_zone.name().to_owned(),
        target_seconds: clock.target_seconds,
        started_at: clock.started_at,
        counted_before_seconds: clock.consumed_seconds,
        counting_from: clock.segment_started_at,
        deadline: clock.deadline,
        stopped_at: clock.stopped_at,
        state: view.map(|v| v.state),
        spans: spans
            .iter()
            .map(|s| CountedSpanResponse {
                from: s.from,
                to: s.to,
                seconds: s.seconds,
            })
            .collect(),
        text: lines.join("\n"),
    }))
}
