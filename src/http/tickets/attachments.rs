//! `/tickets/{id}/attachments/{attachment_id}`: the files that came with the ticket's mail,
//! as they were received.

use super::readable_ticket;
use crate::db;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::input::parse_id;
use crate::http::problem::ApiError;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A file that came with the ticket's mail.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: Uuid,
    #[schema(max_length = 1000)]
    pub filename: String,
    #[schema(max_length = 200)]
    pub content_type: String,
    /// Bytes.
    #[schema(minimum = 0)]
    pub size: i64,
}

impl From<db::attachments::StoredAttachment> for AttachmentResponse {
    fn from(stored: db::attachments::StoredAttachment) -> AttachmentResponse {
        AttachmentResponse {
            id: stored.id,
            filename: stored.filename,
            content_type: stored.content_type,
            size: stored.size,
        }
    }
}

/// Download an attachment
///
/// A file that came with the ticket's mail, as received (`Content-Disposition: attachment`).
/// An agency reading another agency's malfunction does not see them (404).
#[utoipa::path(
    get, path = "/tickets/{id}/attachments/{attachment_id}", tag = "tickets",
    operation_id = "read_ticket_attachment",
    params(("id" = Uuid, Path, description = "The ticket's id."),
        ("attachment_id" = Uuid, Path, description = "The attachment's id.")),
    responses((status = 200, description = "The file.", content_type = "application/octet-stream", body = Vec<u8>)),
    security(("bearer" = []))
)]
pub async fn get_attachment(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, attachment_id) = path.into_inner();
    let (id, attachment_id) = (
        parse_id("id", &id)?,
        parse_id("attachment_id", &attachment_id)?,
    );
    let (ticket, _) = readable_ticket(&state, &caller, id).await?;
    if caller.0.reads_as_affected_agency(ticket.agency_id) {
        return Err(ApiError::NotFound("attachment"));
    }
    let (stored, body) = state
        .run(move |conn| db::attachments::find_attachment(conn, id, attachment_id))
        .await?
        .ok_or(ApiError::NotFound("attachment"))?;
    // The name as a quoted string without what would end it; the content type as stored
    // when it parses, else bytes.
    let filename: String = stored
        .filename
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\'))
        .collect();
    let content_type = stored
        .content_type
        .parse::<actix_web::mime::Mime>()
        .unwrap_or(actix_web::mime::APPLICATION_OCTET_STREAM);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}\"",
                filename.replace(|c: char| !c.is_ascii(), "_")
            ),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body))
}
