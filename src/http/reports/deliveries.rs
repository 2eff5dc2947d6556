//! `/reports/malfunctions/deliveries`: send the malfunction reports of a period now, and list
//! what was delivered with the state of each e-mail.

use crate::db::StoreError;
use crate::db::deliveries::{Delivery, DeliveryFilter};
use crate::domain::validation::Checker;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{JSON, parse_instant_or_date, parse_query, read_json};
use crate::http::problem::ApiError;
use crate::reports::delivery::{Deliverer, Outcome, Request, Trigger};
use crate::reports::period::{ReportPeriod, parse_period};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Which reports to send now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeliveriesRequest {
    /// `2016-Q4`, `2016-H2`, `2016-11` or `2016`; or give `from` and `to`.
    #[schema(
        max_length = 20,
        pattern = r"^(19[7-9]\d|[2-9]\d{3})(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$",
        example = "2016-Q4"
    )]
    pub period: Option<String>,
    /// Start (inclusive): an RFC 3339 instant or a date (local midnight, Europe/Rome).
    #[schema(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$"
    )]
    pub from: Option<String>,
    /// End (exclusive), same forms.
    #[schema(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$"
    )]
    pub to: Option<String>,
    /// The agencies (default: every agency).
    #[schema(max_items = 1000)]
    pub agency_ids: Option<Vec<Uuid>>,
    /// Send again to agencies that already had this period's report.
    pub resend: Option<bool>,
}

/// A delivery of a malfunction report, with its e-mail's state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: Uuid,
    pub agency_id: Uuid,
    /// `2016-Q4` (and the other named periods), or `FROM..TO` as they were asked.
    #[schema(max_length = 82, example = "2016-Q4")]
    pub period: String,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    /// 1 for the report, 2 and up for deliberate resends.
    #[schema(minimum = 1)]
    pub edition: i32,
    /// `schedule`, `request` or `cli`.
    #[schema(max_length = 20)]
    pub trigger: String,
    pub requested_by: Option<Uuid>,
    /// Interruptions the report lists.
    #[schema(minimum = 0)]
    pub interruptions: i32,
    pub outbox_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// The e-mail: `pending`, `sent` or `failed`.
    #[schema(max_length = 20)]
    pub mail_status: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    #[schema(max_length = 2000)]
    pub last_error: Option<String>,
}

impl From<Delivery> for DeliveryResponse {
    fn from(d: Delivery) -> DeliveryResponse {
        DeliveryResponse {
            id: d.id,
            agency_id: d.agency_id,
            period: d.period,
            period_from: d.period_from,
            period_to: d.period_to,
            edition: d.edition,
            trigger: d.trigger,
            requested_by: d.requested_by,
            interruptions: d.interruptions,
            outbox_id: d.outbox_id,
            created_at: d.created_at,
            mail_status: d.mail_status,
            sent_at: d.sent_at,
            last_error: d.last_error,
        }
    }
}

/// What happened for one agency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryOutcome {
    pub agency_id: Uuid,
    /// `delivered` (written to the outbox now), `already_delivered` (nothing sent; ask with
    /// `resend`), or `no_contacts` (the agency has no address to send to).
    #[schema(max_length = 20)]
    pub outcome: String,
    pub delivery: Option<DeliveryResponse>,
}

/// The outcome for each agency.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryOutcomes {
    /// `2016-Q4` (and the other named periods), or `FROM..TO` as they were asked.
    #[schema(max_length = 82, example = "2016-Q4")]
    pub period: String,
    #[schema(max_items = 1000)]
    pub items: Vec<DeliveryOutcome>,
}

/// Deliveries, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    #[schema(max_items = 1000)]
    pub items: Vec<DeliveryResponse>,
}

fn requested_period(
    request: &CreateDeliveriesRequest,
    zone: chrono_tz::Tz,
) -> Result<ReportPeriod, ApiError> {
    match (&request.period, &request.from, &request.to) {
        (Some(period), None, None) => parse_period(zone, period)
            .map_err(|e| ApiError::Invalid(crate::domain::Invalid::one("period", e))),
        (None, Some(from), Some(to)) => {
            let (from_at, to_at) = (
                parse_instant_or_date("from", from)?,
                parse_instant_or_date("to", to)?,
            );
            if to_at <= from_at {
                return Err(ApiError::malformed("to", "must be after `from`"));
            }
            Ok(ReportPeriod {
                label: format!("{from}..{to}"),
                from: from_at,
                to: to_at,
            })
        }
        _ => {
            let mut checker = Checker::new();
            checker.add(
                "period",
                "give either `period` (like 2016-Q4) or both `from` and `to`",
            );
            Err(ApiError::Invalid(checker.finish().unwrap_err()))
        }
    }
}

/// Send malfunction reports now
///
/// Delivers the malfunction report of a period (`{"period": "2016-Q4"}`, `2016-H2`,
/// `2016-11`, `2016`, or `{"from", "to"}`) to each agency (`agency_ids`, default all), by
/// e-mail through the outbox: Italian text, HTML, and the rows as a CSV attachment. An agency
/// that already had this period's report gets nothing more unless `"resend": true`.
/// Admins and supervisors.
#[utoipa::path(
    post, path = "/reports/malfunctions/deliveries", tag = "reports", operation_id = "create_report_deliveries",
    request_body = CreateDeliveriesRequest,
    responses((status = 200, description = "What happened for each agency.", body = DeliveryOutcomes)),
    security(("bearer" = []))
)]
pub async fn create_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    http_request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_send_reports(), "send reports")?;
    let request: CreateDeliveriesRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let zone = state
        .settings
        .report_zone()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let period = requested_period(&request, zone)?;
    let (engine, now, mail, actor) = (
        state.engine(),
        state.now(),
        state.mail.clone(),
        caller.0.user_id,
    );
    let resend = request.resend.unwrap_or(false);
    let wanted = request.agency_ids;
    let label = period.label.clone();
    let items = state
        .run(move |conn| {
            let agencies = match wanted {
                None => crate::db::agencies::list_agencies(conn)?,
                Some(ids) => {
                    let mut found = Vec::new();
                    let mut unknown = Vec::new();
                    for (index, id) in ids.iter().enumerate() {
                        match crate::db::agencies::find_agency(conn, *id)? {
                            Some(agency) => found.push(agency),
                            None => unknown.push(crate::domain::FieldError::new(
                                format!("agency_ids[{index}]"),
                                "is not a known agency",
                            )),
                        }
                    }
                    if !unknown.is_empty() {
                        return Err(StoreError::Invalid(crate::domain::Invalid(unknown)));
                    }
                    found
                }
            };
            let deliverer = Deliverer {
                engine: &engine,
                mail: &mail,
            };
            let delivery_request = Request {
                trigger: Trigger::Request,
                requested_by: Some(actor),
                resend,
            };
            let mut items = Vec::new();
            for agency in agencies {
                let outcome = deliverer.deliver(conn, &agency, &period, delivery_request, now)?;
                let (name, delivery) = match outcome {
                    Outcome::Delivered(d) => ("delivered", Some(d)),
                    Outcome::AlreadyDelivered(d) => ("already_delivered", Some(d)),
                    Outcome::NoContacts => ("no_contacts", None),
                };
                items.push(DeliveryOutcome {
                    agency_id: agency.id,
                    outcome: name.into(),
                    delivery: delivery.map(DeliveryResponse::from),
                });
            }
            Ok(items)
        })
        .await?;
    if items.iter().any(|i| i.outcome == "delivered") {
        state.outbox_wakeup.notify_one();
    }
    Ok(HttpResponse::Ok().json(DeliveryOutcomes {
        period: label,
        items,
    }))
}

/// Filters of the delivery list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveriesQuery {
    pub agency_id: Option<Uuid>,
    /// Periods starting at or after (an RFC 3339 instant or a date).
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$"
    )]
    pub from: Option<String>,
    /// Periods ending by.
    #[param(
        max_length = 40,
        pattern = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$"
    )]
    pub to: Option<String>,
    /// At most this many, 1 to 1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// List report deliveries
///
/// The malfunction reports delivered, newest first, with the state of each e-mail. An
/// agency sees its own.
#[utoipa::path(
    get, path = "/reports/malfunctions/deliveries", tag = "reports", operation_id = "list_report_deliveries",
    params(ListDeliveriesQuery),
    responses((status = 200, description = "The deliveries.", body = DeliveryList),
        (status = 422, description = "`from` or `to` is a leap second.", body = crate::http::problem::Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_reports(), "read reports")?;
    let query: ListDeliveriesQuery = parse_query(&request)?;
    let limit = query.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::malformed("limit", "must be between 1 and 1000"));
    }
    let mut filter = DeliveryFilter {
        agency_id: query.agency_id,
        period_from: query
            .from
            .as_deref()
            .map(|t| parse_instant_or_date("from", t))
            .transpose()?,
        period_to: query
            .to
            .as_deref()
            .map(|t| parse_instant_or_date("to", t))
            .transpose()?,
    };
    if let (Some(from), Some(to)) = (filter.period_from, filter.period_to)
        && to < from
    {
        return Err(ApiError::malformed("to", "must not be before `from`"));
    }
    filter.agency_id = super::readable_agency(&caller, filter.agency_id)?;
    let items = state
        .run(move |conn| {
            super::load_agency(conn, filter.agency_id)?;
            crate::db::deliveries::list_deliveries(conn, &filter, i64::from(limit))
        })
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        items: items.into_iter().map(DeliveryResponse::from).collect(),
    }))
}
