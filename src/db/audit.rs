//! The audit of access changes: who created, changed, deactivated or activated a user, and
//! created or revoked a token, and when. Written in the change's own transaction; never holds
//! a token.

use super::error::parse_stored;
use super::schema::access_audit;
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::domain::{AccessAction, AccessVia};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_audit)]
struct AuditRow {
    id: String,
    at: NaiveDateTime,
    actor_id: Option<String>,
    via: String,
    action: String,
    user_id: String,
    token_id: Option<String>,
    changes: String,
}

/// One recorded access change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The user who made the change; `None` for the CLI, the first start and the demo.
    pub actor_id: Option<Uuid>,
    pub via: AccessVia,
    pub action: AccessAction,
    /// The user changed (or whose token was).
    pub user_id: Uuid,
    pub token_id: Option<Uuid>,
    /// Field → `{"from": …, "to": …}`.
    pub changes: serde_json::Value,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: parse_stored("access_audit.id", &row.id)?,
            at: from_db_time(row.at),
            actor_id: row
                .actor_id
                .map(|id| parse_stored("access_audit.actor_id", &id))
                .transpose()?,
            via: parse_stored("access_audit.via", &row.via)?,
            action: parse_stored("access_audit.action", &row.action)?,
            user_id: parse_stored("access_audit.user_id", &row.user_id)?,
            token_id: row
                .token_id
                .map(|id| parse_stored("access_audit.token_id", &id))
                .transpose()?,
            changes: serde_json::from_str(&row.changes)
                .map_err(|e| StoreError::Corrupt(format!("access_audit.changes: {e}")))?,
        })
    }
}

/// An entry to record.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub actor_id: Option<Uuid>,
    pub via: AccessVia,
    pub action: AccessAction,
    pub user_id: Uuid,
    pub token_id: Option<Uuid>,
    pub changes: serde_json::Value,
}

pub fn record(
    conn: &mut DbConnection,
    entry: NewAuditEntry,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = AuditRow {
        id: Uuid::now_v7().to_string(),
        at: to_db_time(now),
        actor_id: entry.actor_id.map(|id| id.to_string()),
        via: entry.via.as_str().to_owned(),
        action: entry.action.as_str().to_owned(),
        user_id: entry.user_id.to_string(),
        token_id: entry.token_id.map(|id| id.to_string()),
        changes: entry.changes.to_string(),
    };
    diesel::insert_into(access_audit::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Which entries to read: the newest first, `limit` of them, older than `before` if given.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<Uuid>,
    pub before: Option<Uuid>,
    pub limit: i64,
}

pub fn list(conn: &mut DbConnection, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
    let mut select = access_audit::table
        .select(AuditRow::as_select())
        .order(access_audit::id.desc())
        .limit(query.limit)
        .into_boxed();
    if let Some(user_id) = query.user_id {
        select = select.filter(access_audit::user_id.eq(user_id.to_string()));
    }
    if let Some(before) = query.before {
        select = select.filter(access_audit::id.lt(before.to_string()));
    }
    select
        .load(conn)?
        .into_iter()
        .map(AuditEntry::try_from)
        .collect()
}
