//! `/calendars`: the business calendars, their holidays and closures; `batch` computes
//! deadlines and elapsed times.

pub mod batch;
pub use batch::{compute_deadlines, compute_elapsed};

use super::AppState;
use super::auth::Caller;
use super::input::{JSON, parse_query, read_json};
use super::problem::ApiError;
use crate::db;
use crate::domain::validation::Checker;
use crate::sla::holidays::HolidayDate;
use crate::sla::{Calendar, Closure};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// Opening hours within a day, local time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OpeningHours {
    #[schema(max_length = 5, example = "08:00")]
    pub open: String,
    #[schema(max_length = 5, example = "18:00")]
    pub close: String,
}

/// One weekday's opening hours.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DaySchedule {
    #[schema(max_length = 10, example = "monday")]
    pub day: String,
    #[schema(max_items = 24)]
    pub hours: Vec<OpeningHours>,
}

/// A holiday rule.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HolidayRuleResponse {
    #[schema(max_length = 100)]
    pub name: String,
    /// `MM-DD` for a fixed date, `easter_monday` for Easter Monday.
    #[schema(max_length = 20, example = "06-24")]
    pub date: String,
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
}

/// A one-off closure: whole local days, inclusive.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClosureResponse {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    #[schema(max_length = 500)]
    pub reason: String,
}

/// A business calendar.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarResponse {
    #[schema(max_length = 50, example = "default")]
    pub name: String,
    #[schema(max_length = 50, example = "Europe/Rome")]
    pub time_zone: String,
    /// Every second counts (no schedule, no holidays).
    pub always_open: bool,
    #[schema(max_items = 7)]
    pub week: Vec<DaySchedule>,
    #[schema(max_items = 100)]
    pub holidays: Vec<HolidayRuleResponse>,
    #[schema(max_items = 10000)]
    pub closures: Vec<ClosureResponse>,
}

/// The calendars.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarList {
    #[schema(max_items = 100)]
    pub items: Vec<CalendarResponse>,
}

fn clock_text(seconds: u32) -> String {
    format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60)
}

impl From<&Calendar> for CalendarResponse {
    fn from(calendar: &Calendar) -> CalendarResponse {
        let days = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        CalendarResponse {
            name: calendar.name.clone(),
            time_zone: calendar.time_zone.name().to_owned(),
            always_open: calendar.always_open,
            week: days
                .iter()
                .zip(&calendar.week.days)
                .map(|(day, intervals)| DaySchedule {
                    day: (*day).to_owned(),
                    hours: intervals
                        .iter()
                        .map(|i| OpeningHours {
                            open: clock_text(i.open),
                            close: clock_text(i.close),
                        })
                        .collect(),
                })
                .collect(),
            holidays: calendar
                .holidays
                .rules
                .iter()
                .map(|rule| HolidayRuleResponse {
                    name: rule.name.clone(),
                    date: match rule.date {
                        HolidayDate::Fixed { month, day } => format!("{month:02}-{day:02}"),
                        HolidayDate::EasterMonday => "easter_monday".into(),
                    },
                    first_year: rule.first_year,
                    last_year: rule.last_year,
                })
                .collect(),
            closures: calendar
                .closures
                .iter()
                .map(|c| ClosureResponse {
                    first_day: c.first,
                    last_day: c.last,
                    reason: c.reason.clone(),
                })
                .collect(),
        }
    }
}

/// Calendars are the helpdesk's working tools; agencies see only their own data (SPEC §6).
pub(super) fn require_staff(caller: &Caller) -> Result<(), ApiError> {
    caller.require(caller.0.can_work_tickets(), "use the calendars")
}

pub(super) fn calendar_named(state: &AppState, name: &str) -> Result<Arc<Calendar>, ApiError> {
    state
        .engine()
        .calendar(name)
        .cloned()
        .ok_or(ApiError::NotFound("calendar"))
}

/// List calendars
///
/// The business calendars SLA clocks count in: `default` (Europe/Rome office hours) and
/// `24x7`.
#[utoipa::path(
    get, path = "/calendars", tag = "calendars", operation_id = "list_calendars",
    responses((status = 200, description = "The calendars.", body = CalendarList)),
    security(("bearer" = []))
)]
pub async fn list_calendars(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    require_staff(&caller)?;
    let engine = state.engine();
    Ok(HttpResponse::Ok().json(CalendarList {
        items: engine
            .calendars
            .values()
            .map(|c| CalendarResponse::from(c.as_ref()))
            .collect(),
    }))
}

/// Read a calendar
///
/// A calendar's time zone, weekly hours, holiday rules and closures.
#[utoipa::path(
    get, path = "/calendars/{name}", tag = "calendars", operation_id = "read_calendar",
    params(("name" = String, Path, description = "`default` or `24x7`.", max_length = 50)),
    responses((status = 200, description = "The calendar.", body = CalendarResponse)),
    security(("bearer" = []))
)]
pub async fn get_calendar(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&caller)?;
    let calendar = calendar_named(&state, &name)?;
    Ok(HttpResponse::Ok().json(CalendarResponse::from(calendar.as_ref())))
}

/// The year whose closed days to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HolidaysQuery {
    /// Default: the current year.
    #[param(minimum = 1900, maximum = 2400, example = 2016)]
    pub year: Option<i32>,
}

/// A day the calendar is closed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClosedDay {
    pub date: NaiveDate,
    #[schema(max_length = 500)]
    pub name: String,
    /// `holiday` or `closure`.
    #[schema(max_length = 10)]
    pub kind: String,
}

/// A year's closed days.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClosedDayList {
    #[schema(max_items = 400)]
    pub items: Vec<ClosedDay>,
}

/// A calendar's holidays in a year
///
/// The holidays and closures of one year, in date order (a holiday on a weekend is listed
/// as it falls; it is not moved).
#[utoipa::path(
    get, path = "/calendars/{name}/holidays", tag = "calendars", operation_id = "calendar_holidays",
    params(("name" = String, Path, description = "`default` or `24x7`.", max_length = 50), HolidaysQuery),
    responses((status = 200, description = "The closed days.", body = ClosedDayList)),
    security(("bearer" = []))
)]
pub async fn get_holidays(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use chrono::Datelike;
    require_staff(&caller)?;
    let query: HolidaysQuery = parse_query(&request)?;
    let year = query.year.unwrap_or_else(|| state.now().year());
    if !(1900..=2400).contains(&year) {
        return Err(ApiError::malformed("year", "must be between 1900 and 2400"));
    }
    let calendar = calendar_named(&state, &name)?;
    let mut items: Vec<ClosedDay> = calendar
        .holidays
        .in_year(year)
        .into_iter()
        .map(|(date, name)| ClosedDay {
            date,
            name: name.to_owned(),
            kind: "holiday".into(),
        })
        .collect();
    for closure in &calendar.closures {
        for date in closure.first.iter_days().take_while(|d| *d <= closure.last) {
            if date.year() == year {
                items.push(ClosedDay {
                    date,
                    name: closure.reason.clone(),
                    kind: "closure".into(),
                });
            }
        }
    }
    items.sort_by_key(|day| day.date);
    Ok(HttpResponse::Ok().json(ClosedDayList { items }))
}

/// A closure to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClosureRequest {
    #[schema(required = true)]
    pub first_day: Option<NaiveDate>,
    /// Default: `first_day` (a single day).
    pub last_day: Option<NaiveDate>,
    #[schema(required = true, max_length = 500, example = "Ponte dell'Immacolata")]
    pub reason: Option<String>,
}

/// Add a closure
///
/// Closes the calendar for whole local days (e.g. a bridge day); admin only. Clocks computed
/// from now on count it; clocks already stored change with their ticket's next event. The
/// same days posted again with the same reason change nothing (200); with another reason,
/// 409.
#[utoipa::path(
    post, path = "/calendars/{name}/closures", tag = "calendars", operation_id = "create_closure",
    params(("name" = String, Path, description = "`default`.", max_length = 50)),
    request_body = CreateClosureRequest,
    responses(
        (status = 201, description = "The calendar with the new closure.", body = CalendarResponse),
        (status = 200, description = "The same closure was there already; nothing changed.", body = CalendarResponse),
        (status = 409, description = "The 24x7 calendar never closes, or these days are closed already for another reason.", body = super::problem::Problem, content_type = "application/problem+json"),
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
    use chrono::Datelike;
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
    let (calendar_name, user, now) = (calendar.name.clone(), caller.0.user_id, state.now());
    let added = state
        .run(move |conn| db::calendars::insert_closure(conn, &calendar_name, &closure, user, now))
        .await?;
    state.reload_closures().await?;
    let calendar = calendar_named(&state, &name)?;
    let mut response = match added {
        db::calendars::ClosureAdded::Created => HttpResponse::Created(),
        db::calendars::ClosureAdded::AlreadyThere => HttpResponse::Ok(),
    };
    Ok(response.json(CalendarResponse::from(calendar.as_ref())))
}
