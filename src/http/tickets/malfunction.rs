//! `PATCH /tickets/{id}`: the malfunction details agents fill in as they learn them.

use super::{clocks_of, require_ticket_writer, ticket_response};
use crate::db;
use crate::domain::malfunction::MalfunctionPatch;
use crate::domain::validation::Checker;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::{if_match_version, parse_id, parse_json, read_body};
use crate::http::problem::{ApiError, Problem};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Deserializer};
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

/// A field that is present (even as `null`) becomes `Some`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
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
        (status = 412, description = "The ticket changed since the If-Match version.", body = Problem, content_type = "application/problem+json"),
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
    let expected_version = if_match_version(&request)?;
    let body = read_body(payload, state.settings.max_body_bytes).await?;
    let patch = parse_json::<UpdateTicketRequest>(&body)?.into_patch()?;
    let (actor, now) = (caller.0, state.now());
    let (ticket, clocks) = state
        .run(move |conn| {
            let (ticket, _) = db::tickets::malfunction::update_malfunction(
                conn,
                id,
                &patch,
                &actor,
                expected_version,
                now,
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
