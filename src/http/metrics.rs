//! `GET /metrics`: the Prometheus text format. Readable with a token of the `metrics` (or
//! `admin`) role, or without one from the same host when `metrics_from_loopback` allows it;
//! and the middleware that counts every answered request by route and status.

use super::AppState;
use super::auth::{authenticate, bearer_token};
use super::problem::ApiError;
use crate::db;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::Instant;

/// The Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves the metrics to whoever may read them.
pub async fn get_metrics(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    match bearer_token(&request) {
        Some(token) => {
            let caller = authenticate(&state, token).await?;
            if !caller.can_read_metrics() {
                return Err(ApiError::Forbidden(format!(
                    "the `{}` role may not read the metrics",
                    caller.role
                )));
            }
        }
        None => {
            let loopback = request
                .peer_addr()
                .is_some_and(|peer| peer.ip().is_loopback());
            if !(loopback && state.settings.metrics_from_loopback) {
                return Err(ApiError::Unauthorized);
            }
        }
    }
    let now = state.now();
    // The database away: the series it feeds are left out, the rest still answer.
    let observed = state
        .run(move |conn| db::observed::observe(conn, now))
        .await
        .inspect_err(|error| tracing::warn!(%error, "metrics: the database was not read"))
        .ok();
    let text = state.metrics.render(&state.pool, observed.as_ref(), now);
    Ok(HttpResponse::Ok().content_type(PROMETHEUS_TEXT).body(text))
}

/// Counts each answered request under its route pattern (`/api/v1/tickets/{id}`), so that ids
/// never make a series each; a path no route matches counts as `unmatched`.
pub async fn count_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let method = request.method().as_str().to_owned();
    let response = next.call(request).await?;
    if let Some(state) = state {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let seconds = started.elapsed().as_secs_f64();
        state
            .metrics
            .observe_request(&method, &route, response.status().as_u16(), seconds);
    }
    Ok(response)
}
