//! `PATCH /tickets/{id}`: the malfunction details agents fill in as they learn them.

use super::{clocks_of, require_ticket_writer, ticket_response};
use crate::db;
use crate::domain::malfunction::MalfunctionPatch;
use crate::domain::validation::Checker;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::present;
use crate::http::input::{MERGE_PATCH, if_match, parse_id, read_json};
use crate::http::problem::{ApiError, Problem};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A change to a malfunction's details (JSON merge patch): a field left out stays as it is;
/// `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketRequest {
    /// The interrupted services (replaces the list).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, max_items = 50)]
    pub affected_services: Option<Option<Vec<String>>>,
    /// The agencies whose services are interrupted (replaces the list); `notify_agency`
    /// writes to their contacts.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 200)]
    pub affected_agency_ids: Option<Option<Vec<Uuid>>>,
    /// The cause, where known.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub cause: Option<Option<String>>,
    /// What was done.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub actions_taken: Option<Option<String>>,
}

impl UpdateTicketRequest {
    fn into_patch(self) -> Result<MalfunctionPatch, ApiError> {
        let patch = MalfunctionPatch {
            affected_services: self.affected_services.map(Option::unwrap_or_default),
            affected_agency_ids: self.affected_agency_ids.map(Option::unwrap_or_default),
            cause: self.cause,
            actions_taken: self.actions_taken,
        };
        let mut checker = Checker::new();
        patch.check(&mut checker);
        checker.finish()?;
        Ok(patch)
    }
}

/// Update a malfunction's details
///
/// Sets the affected services and agencies, the cause and the actions taken of a malfunction
/// ticket, in any state (the cause is often known after the resolution). Records a
/// `malfunction_updated` event naming the changed fields; a change that changes nothing
/// records nothing. Honours `If-Match`.
#[utoipa::path(
    patch, path = "/tickets/{id}", tag = "tickets", operation_id = "update_ticket",
    params(("id" = uuid::Uuid, Path, description = "The ticket's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the ticket changed since.", max_length = 30)),
    request_body(content = UpdateTicketRequest, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The ticket after the change.", body = super::TicketResponse,
            headers(("ETag" = String, description = "The ticket's version."))),
        (status = 409, description = "Other writers kept changing the ticket while this change was judged; retry.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, or the ticket is not a malfunction.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_ticket(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    require_ticket_writer(&state, &caller, id, "change tickets").await?;
    let expected = if_match(&request)?;
    let patch =
        read_json::<UpdateTicketRequest>(&request, payload, MERGE_PATCH, state.body_limits())
            .await?
            .into_patch()?;
    let (actor, now) = (caller.0, state.now());
    let (ticket, clocks) = state
        .run(move |conn| {
            let (ticket, _) = db::tickets::malfunction::update_malfunction(
                conn, id, &patch, &actor, &expected, now,
            )?;
            let clocks = clocks_of(conn, id)?;
            Ok((ticket, clocks))
        })
        .await?;
    Ok(ticket_response(
        &state,
        HttpResponse::Ok(),
        &ticket,
        &clocks,
    ))
}
