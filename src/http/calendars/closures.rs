//! `/calendars/{name}/closures`: one-off closures (a bridge day) added and removed by an
//! administrator. Each is a new version of the calendar; the clocks that count in its days
//! follow within seconds.

use super::{calendar_named, calendar_reply};
use crate::db;
use crate::db::calendars::ClosureAdded;
use crate::domain::validation::Checker;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{JSON, read_json};
use crate::http::problem::{ApiError, Problem};
use crate::sla::Closure;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::ToSchema;

/// The instants a closure can affect, two days wider on each side: this instance's idea of
/// the calendar's time zone may lag a change made elsewhere, and a clock near the edge is
/// better computed again for nothing than left as it was.
fn widened(
    (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    (
        from - chrono::Duration::days(2),
        to + chrono::Duration::days(2),
    )
}

/// A closure to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClosureRequest {
    /// A local day of the years 1900 to 2400.
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^(19\d\d|2[0-3]\d\d|2400)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
    )]
    pub first_day: Option<NaiveDate>,
    /// Default: `first_day` (a single day); not before it, and at most a year after.
    #[schema(pattern = r"^(19\d\d|2[0-3]\d\d|2400)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]
    pub last_day: Option<NaiveDate>,
    #[schema(
        required = true,
        nullable = false,
        max_length = 500,
        example = "Ponte dell'Immacolata"
    )]
    pub reason: Option<String>,
}

/// Add a closure
///
/// Closes the calendar for whole local days (e.g. a bridge day); admin only. It is a new
/// version of the calendar: the clocks that count in those days are computed again in the
/// background within seconds (deadlines move, outcomes that change are recorded on their
/// tickets). The same closure posted again changes nothing (200); one that shares a day with
/// another closure is a conflict (409).
#[utoipa::path(
    post, path = "/calendars/{name}/closures", tag = "calendars", operation_id = "create_closure",
    params(("name" = String, Path, description = "A calendar other than `24x7`.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$")),
    request_body = CreateClosureRequest,
    responses(
        (status = 201, description = "The calendar with the new closure.", body = super::CalendarResponse),
        (status = 200, description = "The same closure was there already; nothing changed.", body = super::CalendarResponse),
        (status = 409, description = "The 24x7 calendar never closes, or one of these days is closed already.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_closure(
    state: web::Data<AppState>,
    caller: Caller,
    http_request: HttpRequest,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "change calendars")?;
    let calendar = calendar_named(&state, &name)?;
    if calendar.always_open {
        return Err(ApiError::Conflict("the 24x7 calendar never closes".into()));
    }
    let request: CreateClosureRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let mut checker = Checker::new();
    if request.first_day.is_none() {
        checker.add("first_day", "is required (YYYY-MM-DD)");
    }
    checker.required_line("reason", request.reason.as_deref(), 500);
    let first = request.first_day.unwrap_or_default();
    let last = request.last_day.unwrap_or(first);
    if !(1900..=2400).contains(&first.year()) {
        checker.add("first_day", "must be in the years 1900 to 2400");
    }
    if last < first {
        checker.add("last_day", "must not be before first_day");
    } else if (last - first).num_days() > 366 {
        checker.add("last_day", "a closure lasts at most a year");
    }
    checker.finish()?;
    let closure = Closure {
        first,
        last,
        reason: request.reason.unwrap_or_default().trim().to_owned(),
    };
    let affects = widened(calendar.closure_span(&closure));
    let (calendar_name, user, now) = (calendar.name.clone(), caller.0.user_id, state.now());
    let added = state
        .run(move |conn| {
            db::calendars::insert_closure(conn, &calendar_name, &closure, affects, user, now)
        })
        .await?;
    state.reload_calendars().await?;
    let builder = match added {
        ClosureAdded::Created => HttpResponse::Created(),
        ClosureAdded::AlreadyThere => HttpResponse::Ok(),
    };
    calendar_reply(&state, builder, &name).await
}

/// Remove a closure
///
/// Opens again the days of the closure that covers `date` (admin only); the clocks that
/// counted in them follow within seconds, as for a new closure.
#[utoipa::path(
    delete, path = "/calendars/{name}/closures/{date}", tag = "calendars", operation_id = "remove_closure",
    params(("name" = String, Path, description = "The calendar.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$"),
        ("date" = NaiveDate, Path, description = "A day of the closure (YYYY-MM-DD).")),
    responses((status = 200, description = "The calendar without the closure.", body = super::CalendarResponse)),
    security(("bearer" = []))
)]
pub async fn delete_closure(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "change calendars")?;
    let (name, date) = path.into_inner();
    let calendar = calendar_named(&state, &name)?;
    let day: NaiveDate = date
        .parse()
        .map_err(|_| ApiError::malformed("date", "must be a date like 2026-12-07"))?;
    let (calendar_name, user, now) = (calendar.name.clone(), caller.0.user_id, state.now());
    let spans = calendar.clone();
    state
        .run(move |conn| {
            db::calendars::delete_closure(
                conn,
                &calendar_name,
                day,
                |closure| widened(spans.closure_span(closure)),
                user,
                now,
            )
        })
        .await?;
    state.reload_calendars().await?;
    calendar_reply(&state, HttpResponse::Ok(), &name).await
}
