//! `GET /tickets`: filters, sort and keyset cursor pagination.

use super::types::{TicketList, TicketResponse};
use crate::db;
use crate::db::tickets::{ListOrder, SlaStateFilter, TicketFilter};
use crate::domain::{Level, Role, Status};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{parse_instant_or_date, parse_query};
use crate::http::problem::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// Query parameters of the ticket list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTicketsQuery {
    pub status: Option<Status>,
    /// 1 or 2.
    #[param(minimum = 1, maximum = 2)]
    pub level: Option<i32>,
    pub agency_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    /// Reported at or after: an RFC 3339 instant or a date (local midnight, Europe/Rome).
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$"
    )]
    pub reported_from: Option<String>,
    /// Reported before: an RFC 3339 instant or a date.
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$"
    )]
    pub reported_to: Option<String>,
    /// Tickets with an SLA clock in this state now: `running`, `at_risk`, `breached`,
    /// `met` or `paused`.
    #[param(max_length = 20, pattern = "^(running|at_risk|breached|met|paused)$")]
    pub sla_state: Option<String>,
    /// `reported_at` (oldest first, the default), `-reported_at` (newest first) or
    /// `deadline` (nearest running SLA deadline first; tickets without one last).
    #[param(max_length = 20, pattern = "^(reported_at|-reported_at|deadline)$")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

/// List tickets
///
/// Tickets matching the filters, a page at a time. Pages follow a cursor on
/// (`reported_at`, `id`), so tickets created while you page neither shift nor repeat rows.
/// An agency sees only its own agency's tickets.
#[utoipa::path(
    get, path = "/tickets", tag = "tickets", operation_id = "list_tickets",
    params(ListTicketsQuery),
    responses((status = 200, description = "A page of tickets.", body = TicketList),
        (status = 422, description = "`reported_from` or `reported_to` is a leap second.", body = crate::http::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_tickets(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query: ListTicketsQuery = parse_query(&request)?;
    let order = match query.sort.as_deref() {
        None | Some("reported_at") => ListOrder::ReportedAsc,
        Some("-reported_at") => ListOrder::ReportedDesc,
        Some("deadline") => ListOrder::Deadline,
        Some(_) => {
            return Err(ApiError::malformed(
                "sort",
                "must be `reported_at`, `-reported_at` or `deadline`",
            ));
        }
    };
    let now = state.now();
    let sla_state = match query.sla_state.as_deref() {
        None => None,
        Some("running") => Some(SlaStateFilter::Running),
        Some("at_risk") => Some(SlaStateFilter::AtRisk),
        Some("breached") => Some(SlaStateFilter::Breached),
        Some("met") => Some(SlaStateFilter::Met),
        Some("paused") => Some(SlaStateFilter::Paused),
        Some(_) => {
            return Err(ApiError::malformed(
                "sla_state",
                "must be running, at_risk, breached, met or paused",
            ));
        }
    };
    let limit = crate::http::input::page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut filter = TicketFilter {
        status: query.status,
        level: match query.level {
            None => None,
            Some(n) => Some(
                Level::from_number(n.into())
                    .ok_or_else(|| ApiError::malformed("level", "must be 1 or 2"))?,
            ),
        },
        agency_id: query.agency_id,
        readable_by_agency: None,
        assignee_id: query.assignee_id,
        reported_from: query
            .reported_from
            .as_deref()
            .map(|t| parse_instant_or_date("reported_from", t))
            .transpose()?,
        reported_to: query
            .reported_to
            .as_deref()
            .map(|t| parse_instant_or_date("reported_to", t))
            .transpose()?,
        sla_state: sla_state.map(|state| (state, now)),
    };
    if caller.0.role == Role::Agency {
        if filter
            .agency_id
            .is_some_and(|id| Some(id) != caller.0.agency_id)
        {
            return Err(ApiError::Forbidden(
                "an agency may list only its own tickets".into(),
            ));
        }
        // Without `agency_id`, also the malfunctions that affect it.
        if filter.agency_id.is_none() {
            filter.readable_by_agency = caller.0.agency_id;
            if filter.readable_by_agency.is_none() {
                filter.agency_id = Some(Uuid::nil()); // an agency user without an agency
            }
        }
    }
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| decode_cursor(cursor, order))
        .transpose()?;
    let (mut tickets, mut clocks) = state
        .run(move |conn| {
            let tickets =
                db::tickets::list_tickets(conn, &filter, order, after, i64::from(limit) + 1)?;
            let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
            let clocks = db::clocks::load_clocks(conn, &ids)?;
            Ok((tickets, clocks))
        })
        .await?;
    let more = tickets.len() > limit as usize;
    tickets.truncate(limit as usize);
    let next_cursor = match tickets.last() {
        Some(last) if more => Some(encode_cursor(order.key_of(last), last.id, order)),
        _ => None,
    };
    let engine = state.engine();
    let items = tickets
        .iter()
        .map(|t| {
            let clocks = clocks.remove(&t.id).unwrap_or_default();
            let mut response = TicketResponse::new(t, &clocks, &engine, now);
            response.redact_for(&caller.0, t);
            response
        })
        .collect();
    Ok(HttpResponse::Ok().json(TicketList { items, next_cursor }))
}

fn order_tag(order: ListOrder) -> &'static str {
    match order {
        ListOrder::ReportedAsc => "a",
        ListOrder::ReportedDesc => "d",
        ListOrder::Deadline => "n",
    }
}

fn encode_cursor(reported_at: DateTime<Utc>, id: Uuid, order: ListOrder) -> String {
    let raw = format!(
        "{}|{}|{}",
        order_tag(order),
        reported_at.timestamp_micros(),
        id
    );
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(cursor: &str, order: ListOrder) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad = || ApiError::malformed("cursor", "is not a cursor this list returned");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.split('|');
    let (Some(tag), Some(micros), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if tag != order_tag(order) {
        return Err(ApiError::malformed(
            "cursor",
            "belongs to a list with another sort order",
        ));
    }
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    // Years 1900 to 9999 only: both backends store and compare those alike.
    if !(-2_208_988_800_000_000..=253_402_300_799_999_999).contains(&micros) {
        return Err(bad());
    }
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((at, id))
}
