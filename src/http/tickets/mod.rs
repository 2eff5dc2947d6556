//! `/tickets`: open, list, read, and record events on tickets, with `ETag`/`If-Match`
//! and `Idempotency-Key`.

pub mod attachments;
mod event_types;
pub mod list;
pub mod malfunction;
pub mod sla;
mod types;

pub use event_types::*;
pub use list::list_tickets;
pub use malfunction::update_ticket;
pub use types::*;

use super::AppState;
use super::auth::Caller;
use super::input::{JSON, etag, if_match, parse_id, read_json};
use super::problem::{ApiError, Problem};
use crate::db;
use crate::db::clocks::StoredClock;
use crate::db::tickets::{IdempotencyKey, MailFlags};
use crate::domain::Role;
use crate::domain::ticket::Ticket;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

const MAX_IDEMPOTENCY_KEY: usize = 200;

/// Open a ticket
///
/// Opens a ticket at level 1 in state `new`, with the next number of its year. With an
/// `Idempotency-Key`, a retry of the same request returns the same ticket (never a second
/// one); the same key with a different body is refused with 422.
#[utoipa::path(
    post, path = "/tickets", tag = "tickets", operation_id = "create_ticket",
    request_body = CreateTicketRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: same key, same ticket. Visible ASCII (and inner spaces).", max_length = 200, pattern = "^[!-~]([ -~]*[!-~])?$")),
    responses(
        (status = 201, description = "The ticket, created now or by an earlier request with the same key.", body = TicketResponse,
            headers(("Location" = String, description = "The ticket's URL."), ("ETag" = String, description = "The ticket's version."))),
        (status = 422, description = "A field is invalid, or the key was used with another body.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_work_tickets(), "open tickets")?;
    let new = read_json::<CreateTicketRequest>(&request, payload, JSON, state.body_limits())
        .await?
        .validate(state.now())?;
    let (actor, now, engine) = (caller.0, state.now(), state.engine());
    let remembered = chrono::TimeDelta::hours(i64::from(state.settings.idempotency_key_hours));
    let idempotency = idempotency_key(&request, &new, now - remembered)?;
    let created = state
        .ticket_writer
        .create(engine, new, actor, idempotency, now)
        .await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, ticket_location(&created.ticket)));
    if created.replayed {
        response.insert_header(("Idempotency-Replayed", "true"));
    } else {
        state.metrics.tickets_created.inc();
    }
    Ok(ticket_response(
        &state,
        response,
        &created.ticket,
        &created.clocks,
    ))
}

fn idempotency_key(
    request: &HttpRequest,
    new: &crate::domain::ticket::NewTicket,
    used_since: chrono::DateTime<chrono::Utc>,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = request.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            ApiError::malformed(
                "Idempotency-Key",
                "must be 1 to 200 visible ASCII characters",
            )
        })?;
    let canonical = serde_json::to_vec(new).expect("requests serialize");
    let request_hash = Sha256::digest(&canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash,
        used_since,
    }))
}

/// Read a ticket
///
/// The ticket with its current state, level, assignee and the actions allowed now, and
/// every e-mail it sent (`messages`) with its delivery state, and the files its mail brought
/// (`attachments`).
/// An agency reads its own agency's tickets and the malfunctions that affect it (without
/// their requester and messages); others answer 404.
#[utoipa::path(
    get, path = "/tickets/{id}", tag = "tickets", operation_id = "read_ticket",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    responses((status = 200, description = "The ticket.", body = TicketResponse,
        headers(("ETag" = String, description = "The ticket's version.")))),
    security(("bearer" = []))
)]
pub async fn get_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // The messages and attachments are read after the ticket, in the same call: a message is
    // written with its event, so each one listed belongs to a version at least as old as the
    // ticket's.
    let (ticket, clocks, (messages, attachments)) = readable_ticket_with(
        &state,
        &caller,
        parse_id("id", &id)?,
        |conn, ticket, flags| {
            let messages = match flags.has_messages {
                true => db::outbox::list_ticket_messages(conn, ticket.id)?,
                false => Vec::new(),
            };
            let attachments = match flags.has_attachments {
                true => db::attachments::list_attachments(conn, ticket.id)?,
                false => Vec::new(),
            };
            Ok((messages, attachments))
        },
    )
    .await?;
    let mut response = TicketResponse::new(&ticket, &clocks, &state.engine(), state.now());
    response.attachments = Some(attachments.into_iter().map(Into::into).collect());
    response.messages = Some(
        messages
            .into_iter()
            .map(crate::http::outbox::OutboxEntryResponse::from)
            .collect(),
    );
    response.redact_for(&caller.0, &ticket);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(ticket.version)))
        .json(response))
}

/// The ticket if it exists and the caller may read it; 404 otherwise, so that an agency
/// cannot learn whether another agency's ticket exists.
pub(super) async fn readable_ticket(
    state: &AppState,
    caller: &Caller,
    id: uuid::Uuid,
) -> Result<(Ticket, Vec<StoredClock>), ApiError> {
    let (ticket, clocks, ()) = readable_ticket_with(state, caller, id, |_, _, _| Ok(())).await?;
    Ok((ticket, clocks))
}

/// `readable_ticket` with what `more` reads of the ticket on the same connection, in one call
/// off the executor; `more` is told whether the ticket has messages and attachments at all.
pub(super) async fn readable_ticket_with<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    id: uuid::Uuid,
    more: impl FnOnce(
        &mut crate::db::DbConnection,
        &Ticket,
        MailFlags,
    ) -> Result<T, crate::db::StoreError>
    + Send
    + 'static,
) -> Result<(Ticket, Vec<StoredClock>, T), ApiError> {
    let found = state
        .run(move |conn| {
            let Some((ticket, flags)) = db::tickets::find_ticket_with_mail_flags(conn, id)? else {
                return Ok(None);
            };
            let clocks = clocks_of(conn, id)?;
            let more = more(conn, &ticket, flags)?;
            Ok(Some((ticket, clocks, more)))
        })
        .await?;
    found
        .filter(|(ticket, _, _)| {
            caller
                .0
                .can_read_ticket_of(ticket.agency_id, &ticket.details.affected_agency_ids)
        })
        .ok_or(ApiError::NotFound("ticket"))
}

/// Refuses callers that may not change tickets. An agency is read-only, and a ticket it may
/// not read does not exist for it (404 before 403).
pub(super) async fn require_ticket_writer(
    state: &AppState,
    caller: &Caller,
    id: uuid::Uuid,
    what: &str,
) -> Result<(), ApiError> {
    if caller.0.role == Role::Agency {
        let _ = readable_ticket(state, caller, id).await?;
    }
    caller.require(caller.0.can_work_tickets(), what)
}

/// A ticket's stored clocks.
pub(super) fn clocks_of(
    conn: &mut crate::db::DbConnection,
    id: uuid::Uuid,
) -> Result<Vec<StoredClock>, crate::db::StoreError> {
    Ok(db::clocks::load_clocks(conn, &[id])?
        .remove(&id)
        .unwrap_or_default())
}

/// Record an event on a ticket
///
/// Records `take_charge`, `reply`, `comment`, `assign`, `escalate`, `hold`, `resume`,
/// `resolve`, `close_not_in_scope`, `reopen` or a malfunction event. `at` says when it
/// really happened (default now; not in the future, not before the latest event). A
/// transition the ticket's state does not allow answers 409 with the allowed actions.
/// `notify_users` publishes the ticket's public notice (or updates it) on
/// `/public/notices`, the Atom feed and the status page; `withdraw_notice` (admins and
/// supervisors) takes it off them.
#[utoipa::path(
    post, path = "/tickets/{id}/events", tag = "tickets", operation_id = "create_ticket_event",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the ticket changed since.", max_length = 30)),
    request_body = CreateEventRequest,
    responses(
        (status = 201, description = "The event and the ticket after it.", body = EventCreatedResponse,
            headers(("ETag" = String, description = "The ticket's new version."))),
        (status = 409, description = "The ticket's state does not allow this action (`allowed_actions` says what it allows), or other writers kept changing the ticket meanwhile (retry).", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_ticket_event(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    require_ticket_writer(&state, &caller, id, "record ticket events").await?;
    let expected = if_match(&request)?;
    let command = read_json::<CreateEventRequest>(&request, payload, JSON, state.body_limits())
        .await?
        .into_command()?;
    let (actor, now, engine, mail) = (caller.0, state.now(), state.engine(), state.mail.clone());
    let (rules, notice_changes) = (state.settings.event_rules(), state.notice_changes.clone());
    let (event, ticket, clocks) = state
        .run(move |conn| {
            let context = db::tickets::EventContext {
                engine: &engine,
                mail: &mail,
                actor: &actor,
                rules,
                now,
                notice_changes: &notice_changes,
            };
            db::tickets::record_event(conn, &context, id, &command, &expected)
        })
        .await?;
    if event.details.contains_key("outbox_ids") {
        state.outbox_wakeup.notify_one();
    }
    let body = EventCreatedResponse {
        event: EventResponse::from(&event),
        ticket: TicketResponse::new(&ticket, &clocks, &state.engine(), now),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag(ticket.version)))
        .json(body))
}

/// Read a ticket's history
///
/// Every event of the ticket, oldest first, with `at` (when it happened), `recorded_at`
/// (when the server received it) and the actor.
#[utoipa::path(
    get, path = "/tickets/{id}/events", tag = "tickets", operation_id = "list_ticket_events",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id.")),
    responses((status = 200, description = "The history, oldest first.", body = EventList)),
    security(("bearer" = []))
)]
pub async fn list_ticket_events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (ticket, _) = readable_ticket(&state, &caller, parse_id("id", &id)?).await?;
    let events = state
        .run(move |conn| db::events::list_events(conn, ticket.id))
        .await?;
    // Comments are internal notes: an agency reads the rest of its tickets' history. Of a
    // malfunction that only affects it, it sees neither whom the notices went to (other
    // agencies' contacts) nor the replies to its requester.
    let internal_hidden = caller.0.role == Role::Agency;
    let recipients_hidden = caller.0.reads_as_affected_agency(ticket.agency_id);
    Ok(HttpResponse::Ok().json(EventList {
        items: events
            .iter()
            .filter(|e| !(internal_hidden && e.action == crate::domain::Action::Comment))
            .map(|event| {
                let mut response = EventResponse::from(event);
                if recipients_hidden {
                    response.recipients = None;
                    response.cc = None;
                    // Replies and the requester's messages are the correspondence with
                    // another agency's requester.
                    if matches!(
                        event.action,
                        crate::domain::Action::Reply | crate::domain::Action::RequesterMessage
                    ) {
                        response.message = None;
                        response.from = None;
                        response.subject = None;
                        response.message_id = None;
                        response.attachments = None;
                    }
                }
                response
            })
            .collect(),
    }))
}

fn ticket_location(ticket: &Ticket) -> String {
    format!("/api/v1/tickets/{}", ticket.id)
}

pub(super) fn ticket_response(
    state: &AppState,
    mut builder: actix_web::HttpResponseBuilder,
    ticket: &Ticket,
    clocks: &[StoredClock],
) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag(ticket.version)))
        .json(TicketResponse::new(
            ticket,
            clocks,
            &state.engine(),
            state.now(),
        ))
}
