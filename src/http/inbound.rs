//! `/inbound`: mail piped in by a mail server (`POST /inbound/mail`, the `mailgate` role), and
//! the quarantine of what could not be understood (admins). Both hand the message to the one
//! ingest (`crate::ingest`), as the mailbox poller does.

use super::AppState;
use super::auth::{Caller, MachineCaller};
use super::input::{BodyLimits, check_media_type, parse_id, parse_query, read_body};
use super::problem::{ApiError, Problem};
use crate::db;
use crate::db::inbound::{InboundEntry, InboundStatus};
use crate::ingest::{Ingested, Receipt};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const MAIL: &[&str] = &["message/rfc822"];
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// A received message and what became of it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InboundMessageResponse {
    pub id: Uuid,
    /// The sender's `Message-ID`, if the message has one.
    #[schema(max_length = 1000)]
    pub message_id: Option<String>,
    /// `gateway`, or `imap:<mailbox>`.
    #[schema(max_length = 300)]
    pub source: String,
    /// When it reached the helpdesk: the `reported_at` of the ticket it opens.
    pub received_at: DateTime<Utc>,
    /// The helpdesk's address it was delivered to (the mailbox's, or the gateway's
    /// `recipient`): replies to its ticket name it as `Reply-To`.
    #[schema(max_length = 254)]
    pub recipient: Option<String>,
    /// The raw message's size in bytes.
    #[schema(minimum = 0)]
    pub size: i64,
    /// `ingested` (it opened or continued `ticket_id`), `quarantined` (`reason`), or
    /// `stored` (not yet ingested).
    #[schema(max_length = 20)]
    pub status: String,
    /// Why it is in the quarantine.
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    pub ticket_id: Option<Uuid>,
    /// The `requester_message` event, when it continued a ticket.
    pub event_id: Option<Uuid>,
    /// On `POST /inbound/mail`: `opened`, `continued`, `quarantined`, `delivery_report` (a
    /// bounce or PEC receipt updated the state of the message it names, in `GET /outbox`
    /// and the ticket's `messages`), or `already` (the same message was received before, and
    /// nothing changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20)]
    pub outcome: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl InboundMessageResponse {
    fn new(entry: &InboundEntry, outcome: Option<&Ingested>) -> InboundMessageResponse {
        InboundMessageResponse {
            id: entry.id,
            message_id: entry.message_id.clone(),
            source: entry.source.clone(),
            received_at: entry.received_at,
            recipient: entry.recipient.clone(),
            size: entry.size,
            status: entry.status.as_str().to_owned(),
            reason: entry.reason.clone(),
            ticket_id: entry.ticket_id,
            event_id: entry.event_id,
            outcome: outcome.map(|o| {
                match o {
                    Ingested::Opened { .. } => "opened",
                    Ingested::Continued { .. } => "continued",
                    Ingested::Quarantined { .. } => "quarantined",
                    Ingested::Already { .. } => "already",
                    Ingested::Reported { .. } => "delivery_report",
                }
                .to_owned()
            }),
            updated_at: entry.updated_at,
        }
    }
}

/// A page of the quarantine; pass `next_cursor` as `cursor` for the next one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InboundMessageList {
    #[schema(max_items = 200)]
    pub items: Vec<InboundMessageResponse>,
    pub next_cursor: Option<Uuid>,
}

/// Query parameters of the quarantine list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuarantineQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// Query parameters of `POST /inbound/mail`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboundMailQuery {
    /// The helpdesk's address the message was delivered to (the envelope recipient, Postfix's
    /// `${recipient}`): replies to the ticket it opens name it as `Reply-To`.
    #[param(max_length = 254, pattern = "^[^@\\s]+@[^@\\s]+$")]
    pub recipient: Option<String>,
}

/// Take a piped message
///
/// For a mail server that pipes each message it receives (`helpdesk mailgate`): the raw
/// message (`message/rfc822`) is stored, then ingested — it opens a ticket, continues the
/// ticket it answers, or goes to the quarantine. 202 once it is stored and ingested; the same
/// message posted again changes nothing (`outcome: already`). A 5xx means it may not be
/// taken yet: post it again. The `mailgate` role (and admins) only.
#[utoipa::path(
    post, path = "/inbound/mail", tag = "inbound", operation_id = "receive_inbound_mail",
    params(InboundMailQuery),
    request_body(content = String, content_type = "message/rfc822", description = "The message as received (RFC 5322)."),
    responses(
        (status = 202, description = "Stored and ingested (or quarantined).", body = InboundMessageResponse),
        (status = 413, description = "Larger than `max_inbound_mail_bytes`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `message/rfc822`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`recipient` is not an e-mail address.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_inbound_mail(
    state: web::Data<AppState>,
    caller: MachineCaller,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if !caller.0.can_post_inbound_mail() {
        return Err(ApiError::Forbidden(format!(
            "the `{}` role may not post mail",
            caller.0.role
        )));
    }
    check_media_type(&request, MAIL)?;
    let query: InboundMailQuery = parse_query(&request)?;
    let recipient = query
        .recipient
        .as_deref()
        .map(recipient_address)
        .transpose()?;
    let limits = BodyLimits {
        max_bytes: state.settings.max_inbound_mail_bytes,
        ..state.body_limits()
    };
    let raw = read_body(&request, payload, limits).await?;
    let (runtime, actor, received_at) = (state.runtime.clone(), caller.0, state.now());
    let (entry, outcome) = state
        .run(move |conn| {
            let receipt = Receipt {
                source: "gateway",
                received_at,
                recipient: recipient.as_deref(),
            };
            crate::ingest::receive(conn, &runtime, &actor, &raw, receipt)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(InboundMessageResponse::new(&entry, Some(&outcome))))
}

/// The envelope recipient as stored: an address, its domain in lowercase.
fn recipient_address(text: &str) -> Result<String, ApiError> {
    let refuse = || {
        ApiError::Invalid(crate::domain::Invalid::one(
            "recipient",
            "must be one e-mail address, such as assistenza@example.org",
        ))
    };
    let address: lettre::Address = text.trim().parse().map_err(|_| refuse())?;
    if text.trim().len() > 254 {
        return Err(refuse());
    }
    Ok(format!(
        "{}@{}",
        address.user(),
        address.domain().to_ascii_lowercase()
    ))
}

/// List the quarantine
///
/// The received messages that could not be ingested, newest first, with the reason. Admins.
#[utoipa::path(
    get, path = "/inbound/quarantine", tag = "inbound", operation_id = "list_quarantine",
    params(ListQuarantineQuery),
    responses((status = 200, description = "A page of the quarantine.", body = InboundMessageList)),
    security(("bearer" = []))
)]
pub async fn list_quarantine(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "read the quarantine")?;
    let query: ListQuarantineQuery = parse_query(&request)?;
    let limit = crate::http::input::page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let mut entries = state
        .run(move |conn| db::inbound::list_quarantine(conn, query.cursor, i64::from(limit) + 1))
        .await?;
    let next_cursor = crate::http::input::end_page(&mut entries, limit, |entry| entry.id);
    Ok(HttpResponse::Ok().json(InboundMessageList {
        items: entries
            .iter()
            .map(|e| InboundMessageResponse::new(e, None))
            .collect(),
        next_cursor,
    }))
}

/// Ingest a quarantined message again
///
/// Runs the ingest on the stored message once more (after a fix, or a change of the
/// agencies' mail domains): 202 with what became of it. A message already ingested answers
/// 409. Admins.
#[utoipa::path(
    post, path = "/inbound/quarantine/{id}/retry", tag = "inbound", operation_id = "retry_quarantined_mail",
    params(("id" = Uuid, Path, description = "The received message's id.")),
    responses(
        (status = 202, description = "What became of the message now.", body = InboundMessageResponse),
        (status = 409, description = "The message was ingested already.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn retry_quarantined_mail(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "retry quarantined mail")?;
    let id = parse_id("id", &id)?;
    let (runtime, actor) = (state.runtime.clone(), caller.0);
    let (entry, outcome) = state
        .run(move |conn| {
            let entry =
                db::inbound::find_inbound(conn, id)?.ok_or(db::StoreError::NotFound("message"))?;
            if entry.status == InboundStatus::Ingested {
                return Err(db::StoreError::Conflict(
                    "the message was ingested already".into(),
                ));
            }
            let outcome = crate::ingest::ingest(conn, &runtime, &actor, id)?;
            let entry = db::inbound::find_inbound(conn, id)?.unwrap_or(entry);
            Ok((entry, outcome))
        })
        .await?;
    Ok(HttpResponse::Accepted().json(InboundMessageResponse::new(&entry, Some(&outcome))))
}
