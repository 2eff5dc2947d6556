//! `POST /monitoring/alertmanager`: Prometheus Alertmanager's webhook (version 4). Answers
//! fast: one transaction for the whole group. A malformed payload is a 4xx naming the field
//! (Alertmanager retries 5xx only); an alert without the system label, or naming a system the
//! helpdesk does not watch, is listed as ignored.

use super::require_monitor;
use crate::db::monitoring::NewAlert;
use crate::domain::Invalid;
use crate::http::AppState;
use crate::http::auth::MachineCaller;
use crate::http::input::{JSON, read_json};
use crate::http::problem::{ApiError, Problem};
use crate::monitoring::alertmanager::parse_webhook;
use crate::monitoring::record::{MonitorReport, unknown_systems};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The webhook's body, as Alertmanager sends it (only the fields below are read; others are
/// left alone).
#[derive(Debug, Deserialize, ToSchema)]
pub struct AlertmanagerWebhook {
    /// `"4"`.
    #[schema(pattern = r"^4$", max_length = 2, example = "4")]
    pub version: String,
    #[schema(max_items = 10000)]
    pub alerts: Vec<AlertmanagerAlert>,
}

/// One alert of the webhook.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerAlert {
    /// `firing` or `resolved`.
    #[schema(pattern = r"^(firing|resolved)$", max_length = 10)]
    pub status: String,
    /// The system's code is the `system` label (`monitoring_alert_label`).
    #[schema(value_type = Object)]
    pub labels: Value,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// Go's zero time (`0001-01-01T00:00:00Z`) while firing.
    pub ends_at: chrono::DateTime<chrono::Utc>,
    #[schema(max_length = 200)]
    pub fingerprint: String,
}

/// An alert not taken.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IgnoredAlert {
    #[schema(minimum = 0)]
    pub index: i64,
    #[schema(max_length = 200)]
    pub fingerprint: String,
    #[schema(max_length = 200)]
    pub reason: String,
}

/// What the webhook became.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertmanagerResponse {
    #[schema(minimum = 0)]
    pub received: i64,
    /// Alerts new, or newly resolved.
    #[schema(minimum = 0)]
    pub stored: i64,
    #[schema(max_items = 10000)]
    pub ignored: Vec<IgnoredAlert>,
}

/// Receive Alertmanager's webhook
///
/// Prometheus Alertmanager's webhook, version 4 (role `monitor`). A firing alert begins
/// `down` at `startsAt`, a resolved one begins `up` at `endsAt`; an alert is known by
/// (`fingerprint`, `startsAt`), so duplicates and retries change nothing.
#[utoipa::path(
    post, path = "/monitoring/alertmanager", tag = "monitoring", operation_id = "receive_alertmanager_webhook",
    request_body = AlertmanagerWebhook,
    responses((status = 200, description = "The alerts were stored.", body = AlertmanagerResponse),
        (status = 422, description = "A field of the payload is malformed; it is named.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn receive_webhook(
    state: web::Data<AppState>,
    caller: MachineCaller,
    http_request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_monitor(&caller)?;
    let body: Value = read_json(&http_request, payload, JSON, state.batch_body_limits()).await?;
    let alerts = parse_webhook(&body, &state.settings.monitoring_alert_label)
        .map_err(|errors| ApiError::Invalid(Invalid(errors)))?;
    let received = alerts.len();
    let label = state.settings.monitoring_alert_label.clone();
    let codes: Vec<String> = alerts
        .iter()
        .map(|a| a.system.clone().unwrap_or_default())
        .collect();
    // Systems are never deleted: those known now are known when the report is stored.
    let unknown = state
        .run(move |conn| {
            let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
            unknown_systems(conn, &codes)
        })
        .await?;
    let mut ignored = Vec::new();
    let mut report = MonitorReport::default();
    for (i, alert) in alerts.iter().enumerate() {
        if unknown.contains(&i) {
            ignored.push(IgnoredAlert {
                index: i as i64,
                fingerprint: alert.fingerprint.clone(),
                reason: match &alert.system {
                    None => format!("no `{label}` label"),
                    Some(code) => format!("`{code}` is not a system"),
                },
            });
            continue;
        }
        report.alerts.push(NewAlert {
            fingerprint: alert.fingerprint.clone(),
            starts_at: alert.starts_at,
            system: alert.system.clone().unwrap_or_default(),
            ends_at: alert.ends_at,
        });
    }
    let recorded = super::store_report(&state, caller.0, report, |_| Ok(())).await?;
    if !ignored.is_empty() {
        tracing::info!(
            ignored = ignored.len(),
            "Alertmanager alerts without a known system"
        );
    }
    Ok(HttpResponse::Ok().json(AlertmanagerResponse {
        received: received as i64,
        stored: recorded.alerts as i64,
        ignored,
    }))
}
