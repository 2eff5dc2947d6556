//! `GET /status`: 200 when the database answers, 503 (problem+json) when it does not.

use super::AppState;
use super::problem::{ApiError, Problem};
use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

/// Service health
///
/// 200 when the service and its database answer; 503 with a problem document when the
/// database does not. Needs no token.
#[utoipa::path(
    get, path = "/status", tag = "status", operation_id = "service_status",
    responses((status = 200, description = "The service is up.", body = Problem, content_type = "application/problem+json")),
    security(())
)]
pub async fn get_status(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .run(|conn| Ok(conn.batch_execute("SELECT 1")?))
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let up = Problem {
        problem_type: "about:blank".into(),
        title: "OK".into(),
        status: 200,
        detail: "the service and its database answer".into(),
        errors: Vec::new(),
        current_status: None,
        current_level: None,
        allowed_actions: None,
        current_version: None,
    };
    Ok(HttpResponse::Ok()
        .content_type(super::problem::PROBLEM_JSON)
        .json(up))
}
