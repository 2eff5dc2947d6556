//! `/calendars`: the business calendars and their holidays (here), their definitions
//! (`definitions`: `PUT`, `DELETE`), closures (`closures`), and the batch deadline and
//! elapsed endpoints (`batch`).

pub mod batch;
pub mod closures;
pub mod definitions;
pub use batch::{compute_deadlines, compute_elapsed};
pub use closures::{create_closure, delete_closure};
pub use definitions::{delete_calendar, put_calendar};

use super::AppState;
use super::auth::Caller;
use super::input::{etag, parse_query};
use super::problem::ApiError;
use crate::db;
use crate::db::calendars::StoredCalendar;
use crate::sla::definition::{DayHours, HolidayDefinition};
use crate::sla::{Calendar, CalendarDefinition, Closure};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A one-off closure: whole local days, inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureResponse {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    #[schema(max_length = 500)]
    pub reason: String,
}

impl From<&Closure> for ClosureResponse {
    fn from(c: &Closure) -> ClosureResponse {
        ClosureResponse {
            first_day: c.first,
            last_day: c.last,
            reason: c.reason.clone(),
        }
    }
}

/// A business calendar: its definition (what `PUT` takes), closures, and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarResponse {
    #[schema(max_length = 50, example = "default")]
    pub name: String,
    // The definition's fields one by one rather than `#[serde(flatten)]`: the schema of a
    // flattened `CalendarDefinition` (which refuses unknown fields) would refuse the rest of
    // this response.
    /// An IANA time zone: the hours and holidays are local to it.
    #[schema(max_length = 50, example = "Europe/Rome")]
    pub time_zone: String,
    /// The opening hours of every weekday, `monday` first; a closed day has none.
    #[schema(max_items = 7)]
    pub week: Vec<DayHours>,
    /// Days closed every year (a holiday on a weekend is not moved).
    #[schema(max_items = 100)]
    pub holidays: Vec<HolidayDefinition>,
    /// Every second counts (`24x7`: no schedule, no holidays, no closures).
    pub always_open: bool,
    #[schema(max_items = 10000)]
    pub closures: Vec<ClosureResponse>,
    /// Grows with every change of the definition or the closures; also the `ETag`.
    #[schema(minimum = 0)]
    pub version: i64,
    /// `built_in` (`default`, `24x7`), `configuration` (`[calendars.NAME]` in the file) or
    /// `api` (defined with `PUT`, which wins over the others).
    #[schema(max_length = 20)]
    pub source: String,
    /// Clocks computed with an older version, that the calendar follower has yet to compute
    /// again (0 once a change is applied).
    #[schema(minimum = 0)]
    pub pending_clocks: i64,
}

/// The calendars.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarList {
    #[schema(max_items = 100)]
    pub items: Vec<CalendarResponse>,
}

/// Where a calendar is defined, and where its version stands. The version (the `ETag`) is the
/// engine's, the one the definition shown comes from: if the database has moved on since,
/// a `PUT` naming it gets a 412, never overwrites what it did not see.
pub(super) fn describe(
    state: &AppState,
    calendar: &Calendar,
    row: Option<&StoredCalendar>,
    pending_clocks: i64,
) -> CalendarResponse {
    let source = match row {
        Some(row) if row.definition.is_some() => "api",
        _ if state.settings.calendars.contains_key(&calendar.name) => "configuration",
        _ => "built_in",
    };
    let CalendarDefinition {
        time_zone,
        week,
        holidays,
    } = CalendarDefinition::of(calendar);
    CalendarResponse {
        name: calendar.name.clone(),
        time_zone,
        week,
        holidays,
        always_open: calendar.always_open,
        closures: calendar
            .closures
            .iter()
            .map(ClosureResponse::from)
            .collect(),
        version: state.engine().version_of(&calendar.name),
        source: source.into(),
        pending_clocks,
    }
}

/// The calendar `name` as the API shows it now, with its `ETag`.
pub(super) async fn calendar_reply(
    state: &AppState,
    mut builder: actix_web::HttpResponseBuilder,
    name: &str,
) -> Result<HttpResponse, ApiError> {
    let (wanted, runtime) = (name.to_owned(), state.runtime.clone());
    let (row, pending) = state
        .run(move |conn| {
            // What this instance shows should be what the database holds now.
            runtime.reload_calendars(conn)?;
            let stored = db::calendars::load_calendars(conn)?;
            let row = stored.calendars.into_iter().find(|row| row.name == wanted);
            let pending = match &row {
                Some(row) => db::stale_clocks::clocks_behind(conn, &row.name, row.version)?,
                None => 0,
            };
            Ok((row, pending))
        })
        .await?;
    let calendar = calendar_named(state, name)?;
    let body = describe(state, &calendar, row.as_ref(), pending);
    Ok(builder
        .insert_header((header::ETAG, etag(body.version)))
        .json(body))
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
/// The business calendars SLA clocks count in: `default` (Europe/Rome office hours), `24x7`,
/// and those defined in the configuration file or through `PUT /calendars/{name}`.
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
    let (rows, pending) = state
        .run(|conn| {
            let rows = db::calendars::load_calendars(conn)?.calendars;
            let mut pending = Vec::new();
            for row in &rows {
                pending.push(db::stale_clocks::clocks_behind(
                    conn,
                    &row.name,
                    row.version,
                )?);
            }
            Ok((rows, pending))
        })
        .await?;
    let items = engine
        .calendars
        .values()
        .map(|calendar| {
            let index = rows.iter().position(|row| row.name == calendar.name);
            let row = index.map(|i| &rows[i]);
            describe(&state, calendar, row, index.map_or(0, |i| pending[i]))
        })
        .collect();
    Ok(HttpResponse::Ok().json(CalendarList { items }))
}

/// Read a calendar
///
/// A calendar's time zone, weekly hours, holiday rules and closures, its version (also the
/// `ETag`), where it is defined, and how many clocks still wait to follow its last change.
#[utoipa::path(
    get, path = "/calendars/{name}", tag = "calendars", operation_id = "read_calendar",
    params(("name" = String, Path, description = "`default`, `24x7` or a defined calendar.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$")),
    responses((status = 200, description = "The calendar.", body = CalendarResponse,
        headers(("ETag" = String, description = "The calendar's version.")))),
    security(("bearer" = []))
)]
pub async fn get_calendar(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_staff(&caller)?;
    calendar_reply(&state, HttpResponse::Ok(), &name).await
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
    params(("name" = String, Path, description = "`default` or `24x7`.", max_length = 50, pattern = r"^[A-Za-z0-9_-]+$"), HolidaysQuery),
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
