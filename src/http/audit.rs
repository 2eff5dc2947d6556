//! `/audit`: the access changes (users created, changed, deactivated, activated; tokens
//! created, revoked), the newest first, for admins. Never a token.

use super::AppState;
use super::auth::Caller;
use super::input::parse_query;
use super::problem::ApiError;
use crate::db;
use crate::db::audit::{AuditEntry, AuditQuery};
use crate::domain::{AccessAction, AccessVia};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// Query parameters of the audit.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditListQuery {
    /// Only the changes to this user (and its tokens).
    pub user_id: Option<Uuid>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_before` of the previous page: entries older than that one.
    pub before: Option<Uuid>,
}

/// One access change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryResponse {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The user who made it; `null` for the command line, the first start and the demo.
    pub actor_id: Option<Uuid>,
    pub via: AccessVia,
    pub action: AccessAction,
    /// The user changed, or whose token was created or revoked.
    pub user_id: Uuid,
    pub token_id: Option<Uuid>,
    /// What changed: field → `{"from": …, "to": …}`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(entry: AuditEntry) -> AuditEntryResponse {
        AuditEntryResponse {
            id: entry.id,
            at: entry.at,
            actor_id: entry.actor_id,
            via: entry.via,
            action: entry.action,
            user_id: entry.user_id,
            token_id: entry.token_id,
            changes: entry.changes,
        }
    }
}

/// A page of the audit.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    #[schema(max_items = 1000)]
    pub items: Vec<AuditEntryResponse>,
    /// Pass as `before` for the next (older) page; `null` on the last page.
    pub next_before: Option<Uuid>,
}

/// Read the audit of access changes
///
/// Who created, changed, deactivated or activated a user and created or revoked a token, and
/// when: the newest first (admin only).
#[utoipa::path(
    get, path = "/audit", tag = "users", operation_id = "list_access_audit",
    params(AuditListQuery),
    responses((status = 200, description = "A page of the audit.", body = AuditList)),
    security(("bearer" = []))
)]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_users(), "read the audit")?;
    let query: AuditListQuery = parse_query(&request)?;
    let limit = crate::http::input::page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let query = AuditQuery {
        user_id: query.user_id,
        before: query.before,
        limit: i64::from(limit),
    };
    let entries = state.run(move |conn| db::audit::list(conn, &query)).await?;
    let next_before = (entries.len() == limit as usize)
        .then(|| entries.last().map(|entry| entry.id))
        .flatten();
    Ok(HttpResponse::Ok().json(AuditList {
        items: entries.into_iter().map(Into::into).collect(),
        next_before,
    }))
}
