//! `PUT` and `DELETE /calendars/{name}`: administrators define the centre's own calendars
//! (or redefine `default`). A definition is a new version of the calendar, which wins over
//! the configuration's; the clocks that count in it follow within seconds.

use super::{ClosureResponse, calendar_named, calendar_reply};
use crate::calendars::{ALWAYS_OPEN, fingerprint, is_calendar_name};
use crate::db;
use crate::domain::Invalid;
use crate::domain::validation::Checker;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{JSON, if_match, read_json};
use crate::http::problem::{ApiError, Problem};
use crate::sla::CalendarDefinition;
use crate::sla::definition::{DayHours, HolidayDefinition};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

/// A calendar's definition, in the shape `GET /calendars/{name}` returns: what the server
/// keeps itself (`version`, `source`, `pending_clocks`) is read and ignored, `closures` must
/// be left out or be the current ones (they change through `…/closures`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCalendarRequest {
    /// The calendar's name, as in the path (may be left out).
    #[schema(max_length = 50, pattern = r"^[A-Za-z0-9_-]+$")]
    pub name: Option<String>,
    #[schema(max_length = 50, example = "Europe/Rome")]
    pub time_zone: String,
    /// Every weekday the calendar opens, with its intervals (`24:00` closes a day).
    #[schema(max_items = 7)]
    pub week: Vec<DayHours>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub holidays: Vec<HolidayDefinition>,
    /// Only `24x7` is open around the clock: `false` or left out.
    pub always_open: Option<bool>,
    #[schema(max_items = 10000)]
    pub closures: Option<Vec<ClosureResponse>>,
    #[schema(minimum = 0)]
    pub version: Option<i64>,
    #[schema(max_length = 20)]
    pub source: Option<String>,
    #[schema(minimum = 0)]
    pub pending_clocks: Option<i64>,
}

/// Checks what a definition may not say about itself and the calendar's name.
fn check_request(
    state: &AppState,
    name: &str,
    request: &PutCalendarRequest,
) -> Result<CalendarDefinition, ApiError> {
    let mut checker = Checker::new();
    if !is_calendar_name(name) {
        checker.add("name", "must be 1 to 50 letters, digits, `-` or `_`");
    } else if name == ALWAYS_OPEN {
        checker.add("name", "24x7 is built in and cannot be redefined");
    }
    if request.name.as_deref().is_some_and(|given| given != name) {
        checker.add("name", format!("must be the name in the path, `{name}`"));
    }
    if request.always_open == Some(true) {
        checker.add(
            "always_open",
            "only the built-in 24x7 calendar never closes",
        );
    }
    if let Some(closures) = &request.closures {
        let current: Vec<ClosureResponse> = state
            .engine()
            .calendar(name)
            .map(|c| c.closures.iter().map(ClosureResponse::from).collect())
            .unwrap_or_default();
        if *closures != current {
            checker.add(
                "closures",
                "change through POST and DELETE /calendars/{name}/closures; leave them out here",
            );
        }
    }
    let definition = CalendarDefinition {
        time_zone: request.time_zone.clone(),
        week: request.week.clone(),
        holidays: request.holidays.clone(),
    };
    let checked = definition.check();
    let mut errors = checker.finish().err().map(|e| e.0).unwrap_or_default();
    if let Err(invalid) = checked {
        errors.extend(invalid.0);
    }
    if errors.is_empty() {
        Ok(definition)
    } else {
        Err(ApiError::Invalid(Invalid(errors)))
    }
}

/// Define a calendar
///
/// Creates a calendar, or gives an existing one a new definition (admin only): its time
/// zone, the opening intervals of each weekday and its holiday rules. `default` may be
/// redefined; `24x7` may not. It wins over the configuration file's and survives restarts;
/// every instance uses it within `calendar_reload_seconds`. The running clocks in it, and
/// the stopped ones whose span the change touches, are computed again in the background;
/// an outcome that changes is recorded on its ticket. `If-Match` guards against overwriting
/// a change made since you read it.
#[utoipa::path(
    put, path = "/calendars/{name}", tag = "calendars", operation_id = "define_calendar",
    params(("name" = String, Path, description = "The calendar's name.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the calendar changed since.", max_length = 30)),
    request_body = PutCalendarRequest,
    responses(
        (status = 200, description = "The calendar with its new definition.", body = super::CalendarResponse,
            headers(("ETag" = String, description = "The calendar's new version."))),
        (status = 201, description = "The new calendar.", body = super::CalendarResponse,
            headers(("ETag" = String, description = "The calendar's version."))),
        (status = 409, description = "The calendar was created meanwhile by another request.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn put_calendar(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    name: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "define calendars")?;
    let expected = if_match(&request)?;
    let body: PutCalendarRequest = read_json(&request, payload, JSON, state.body_limits()).await?;
    let definition = check_request(&state, &name, &body)?;
    let digest = fingerprint(&definition.to_calendar(&name)?);
    let (calendar, actor, now) = (name.clone(), caller.0.user_id, state.now());
    let (_, created) = state
        .run(move |conn| {
            db::calendars::define_calendar(
                conn,
                &calendar,
                &definition,
                &digest,
                &expected,
                actor,
                now,
            )
        })
        .await?;
    state.reload_calendars().await?;
    let builder = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    calendar_reply(&state, builder, &name).await
}

/// Remove a calendar
///
/// Removes a calendar defined through the API that no SLA and no agency names and no clock
/// counts in (204). For `default` or a calendar of the configuration file it removes the
/// API's definition, so the configuration's counts again (200, a new version); `24x7` and a
/// configured calendar without an API definition cannot be removed (409).
#[utoipa::path(
    delete, path = "/calendars/{name}", tag = "calendars", operation_id = "remove_calendar",
    params(("name" = String, Path, description = "The calendar's name.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the calendar changed since.", max_length = 30)),
    responses(
        (status = 204, description = "The calendar is gone."),
        (status = 200, description = "The configuration's definition counts again.", body = super::CalendarResponse),
        (status = 409, description = "An SLA, an agency or a clock still uses the calendar, or it is built in.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn delete_calendar(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "remove calendars")?;
    let expected = if_match(&request)?;
    calendar_named(&state, &name)?;
    let configured = crate::calendars::configured_calendars(&state.settings)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(calendar) = configured.get(name.as_str()) {
        if name.as_str() == ALWAYS_OPEN {
            return Err(ApiError::Conflict("24x7 is built in".into()));
        }
        let digest = fingerprint(calendar);
        let (wanted, actor, now) = (name.clone(), caller.0.user_id, state.now());
        state
            .run(move |conn| {
                db::calendars::revert_to_configured(conn, &wanted, &digest, &expected, actor, now)
            })
            .await?;
        state.reload_calendars().await?;
        return calendar_reply(&state, HttpResponse::Ok(), &name).await;
    }
    if let Some(policy) = state.engine().policies.iter().find(|p| p.calendar == *name) {
        return Err(ApiError::Conflict(format!(
            "{} counts in calendar `{name}` (see [sla.\"{}\"] in the configuration)",
            policy.code, policy.code
        )));
    }
    let (wanted, actor, now) = (name.clone(), caller.0.user_id, state.now());
    state
        .run(move |conn| db::calendars::delete_calendar(conn, &wanted, &expected, actor, now))
        .await?;
    state.reload_calendars().await?;
    Ok(HttpResponse::NoContent().finish())
}
