//! `/outbox`: the e-mails the helpdesk has written, with their delivery status, attempts and
//! errors (admins and supervisors), and the retry of a failed one (admins).

use super::AppState;
use super::auth::Caller;
use super::input::{parse_id, parse_query};
use super::problem::{ApiError, Problem};
use crate::db;
use crate::db::outbox::{OutboxEntry, OutboxFilter};
use crate::mail::OutboxStatus;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// One e-mail in the outbox.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OutboxEntryResponse {
    pub id: Uuid,
    /// The `Message-ID` header, the same on every attempt.
    #[schema(max_length = 300)]
    pub message_id: String,
    /// What wrote it: `notify_agency`, `notify_users`, `reply`, …
    #[schema(max_length = 50)]
    pub kind: String,
    pub ticket_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub agency_id: Option<Uuid>,
    #[schema(max_items = 1000)]
    pub recipients: Vec<String>,
    #[schema(max_length = 1000)]
    pub subject: String,
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    #[schema(minimum = 0)]
    pub attempts: i32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed.
    #[schema(max_length = 2000)]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The message as sent (RFC 5322), on `GET /outbox/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000000)]
    pub message: Option<String>,
}

impl From<OutboxEntry> for OutboxEntryResponse {
    fn from(entry: OutboxEntry) -> OutboxEntryResponse {
        OutboxEntryResponse {
            id: entry.id,
            message_id: entry.message_id,
            kind: entry.kind,
            ticket_id: entry.ticket_id,
            event_id: entry.event_id,
            agency_id: entry.agency_id,
            recipients: entry.recipients,
            subject: entry.subject,
            status: entry.status,
            attempts: entry.attempts,
            next_attempt_at: entry.next_attempt_at,
            last_error: entry.last_error,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
            sent_at: entry.sent_at,
            message: None,
        }
    }
}

/// A page of the outbox, newest first; pass `next_cursor` as `cursor` for the next one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OutboxList {
    #[schema(max_items = 200)]
    pub items: Vec<OutboxEntryResponse>,
    /// `null` on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Query parameters of the outbox list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOutboxQuery {
    pub status: Option<OutboxStatus>,
    pub ticket_id: Option<Uuid>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// List the outbox
///
/// The e-mails the helpdesk has written, newest first, with their status (`pending`, `sent`,
/// `failed`, `bounced`, `delivered`), attempts and last error. Admins and supervisors.
#[utoipa::path(
    get, path = "/outbox", tag = "outbox", operation_id = "list_outbox",
    params(ListOutboxQuery),
    responses((status = 200, description = "A page of the outbox.", body = OutboxList)),
    security(("bearer" = []))
)]
pub async fn list_outbox(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_outbox(), "read the outbox")?;
    let query: ListOutboxQuery = parse_query(&request)?;
    let limit = crate::http::input::page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let filter = OutboxFilter {
        status: query.status,
        ticket_id: query.ticket_id,
        before_id: query.cursor,
    };
    let mut entries = state
        .run(move |conn| db::outbox::list_outbox(conn, &filter, i64::from(limit) + 1))
        .await?;
    let next_cursor = crate::http::input::end_page(&mut entries, limit, |entry| entry.id);
    Ok(HttpResponse::Ok().json(OutboxList {
        items: entries.into_iter().map(OutboxEntryResponse::from).collect(),
        next_cursor,
    }))
}

/// Read an outbox e-mail
///
/// One e-mail with its delivery status and the message itself, as it is (or was) sent.
#[utoipa::path(
    get, path = "/outbox/{id}", tag = "outbox", operation_id = "read_outbox_entry",
    params(("id" = uuid::Uuid, Path, description = "The e-mail's id in the outbox.")),
    responses((status = 200, description = "The e-mail.", body = OutboxEntryResponse)),
    security(("bearer" = []))
)]
pub async fn get_outbox_entry(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_read_outbox(), "read the outbox")?;
    let id = parse_id("id", &id)?;
    let (entry, message) = state
        .run(move |conn| {
            let entry =
                db::outbox::find_entry(conn, id)?.ok_or(db::StoreError::NotFound("message"))?;
            Ok((entry, db::outbox::find_message(conn, id)?))
        })
        .await?;
    let mut response = OutboxEntryResponse::from(entry);
    response.message = message;
    Ok(HttpResponse::Ok().json(response))
}

/// Retry an outbox e-mail
///
/// Makes a `failed` (or waiting) e-mail due now, with a fresh set of attempts. A sent e-mail
/// (also one that then `bounced` or was `delivered`) is never sent again (409). Admins only.
#[utoipa::path(
    post, path = "/outbox/{id}/retry", tag = "outbox", operation_id = "retry_outbox_entry",
    params(("id" = uuid::Uuid, Path, description = "The e-mail's id in the outbox.")),
    responses(
        (status = 202, description = "The e-mail, due now.", body = OutboxEntryResponse),
        (status = 409, description = "The e-mail was already sent.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn retry_outbox_entry(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_retry_mail(), "retry e-mails")?;
    let id = parse_id("id", &id)?;
    let now = state.now();
    let entry = state
        .run(move |conn| db::outbox::retry(conn, id, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Accepted().json(OutboxEntryResponse::from(entry)))
}
