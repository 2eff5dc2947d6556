//! Users: created with their first token, changed under the rules of creation, the last
//! active admin kept.

use super::tokens::{IssuedToken, TokenPolicy, TokenRequest, issue_in};
use super::{Actor, USER_CHANGE_LOCK_KEY};
use crate::db::audit;
use crate::db::users::{self, NewUser, User};
use crate::db::{self, DbConnection, StoreError};
use crate::domain::user::{check_machine_identity, check_role_fields};
use crate::domain::validation::Checker;
use crate::domain::{AccessAction, Invalid, Level, Role, VersionCheck};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Creates a user and its first token (named `initial`).
pub fn create_user(
    conn: &mut DbConnection,
    actor: &Actor,
    new: NewUser,
    policy: TokenPolicy,
    now: DateTime<Utc>,
) -> Result<(User, IssuedToken), StoreError> {
    db::write_transaction(conn, |conn| create_user_in(conn, actor, new, policy, now))
}

/// `create_user` within a transaction the caller holds (the first start judges "no users
/// yet" in the same one).
pub fn create_user_in(
    conn: &mut DbConnection,
    actor: &Actor,
    new: NewUser,
    policy: TokenPolicy,
    now: DateTime<Utc>,
) -> Result<(User, IssuedToken), StoreError> {
    let mut checker = Checker::new();
    check_machine_identity(&mut checker, new.role, new.oidc_subject.as_deref());
    checker.finish()?;
    check_agency(conn, new.agency_id)?;
    let user = users::insert_user(conn, new, now)?;
    let changes = describe(None, &user);
    audit::record(
        conn,
        actor.audit(
            AccessAction::UserCreated,
            user.principal.user_id,
            None,
            changes,
        ),
        now,
    )?;
    let request = TokenRequest {
        name: "initial".into(),
        expires_at: None,
    };
    let issued = issue_in(conn, actor, &user, request, policy, now)?;
    Ok((user, issued))
}

/// A change to a user (JSON merge patch: `None` leaves a field as it is).
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub role: Option<Role>,
    pub level: Option<Option<Level>>,
    pub agency_id: Option<Option<Uuid>>,
    pub oidc_subject: Option<Option<String>>,
}

/// Changes a user under the rules of creation; the last active admin stays one. `expected`
/// (from `If-Match`) guards lost updates. A change that changes nothing writes nothing.
pub fn change_user(
    conn: &mut DbConnection,
    actor: &Actor,
    id: Uuid,
    patch: UserPatch,
    expected: &VersionCheck,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    db::write_transaction(conn, |conn| {
        db::lock_for_transaction(conn, USER_CHANGE_LOCK_KEY)?;
        let before = users::lock_user(conn, id)?.ok_or(StoreError::NotFound("user"))?;
        if !expected.admits(before.version) {
            return Err(StoreError::StaleVersion {
                current: before.version,
            });
        }
        let sets_role = patch.role.is_some() || patch.level.is_some() || patch.agency_id.is_some();
        let mut after = patched(&before, patch);
        // An admin who sets the role takes it over from the provider's groups.
        if sets_role {
            after.role_from_groups = false;
        }
        let mut checker = Checker::new();
        let principal = &after.principal;
        let hint = if principal.role != before.principal.role {
            ": send `null` for it with the new role"
        } else {
            ""
        };
        check_role_fields(
            &mut checker,
            principal.role,
            principal.level,
            principal.agency_id,
            hint,
        );
        check_machine_identity(&mut checker, principal.role, after.oidc_subject.as_deref());
        checker.finish()?;
        if after.principal.agency_id != before.principal.agency_id {
            check_agency(conn, after.principal.agency_id)?;
        }
        if let Some(subject) = &after.oidc_subject
            && after.oidc_subject != before.oidc_subject
            && users::find_user_by_oidc_subject(conn, subject)?.is_some()
        {
            return Err(Invalid::one("oidc_subject", "is linked to another user").into());
        }
        check_an_admin_remains(conn, &before, &after)?;
        let changes = describe(Some(&before), &after);
        if changes.as_object().is_none_or(Map::is_empty) {
            return Ok(before);
        }
        let action = match (before.active, after.active) {
            (true, false) => AccessAction::UserDeactivated,
            (false, true) => AccessAction::UserActivated,
            _ => AccessAction::UserChanged,
        };
        let stored = users::store_user(
            conn,
            &User {
                updated_at: now,
                version: before.version + 1,
                ..after
            },
        )?;
        audit::record(conn, actor.audit(action, id, None, changes), now)?;
        Ok(stored)
    })
}

fn check_agency(conn: &mut DbConnection, agency_id: Option<Uuid>) -> Result<(), StoreError> {
    if let Some(agency_id) = agency_id
        && crate::db::agencies::find_agency(conn, agency_id)?.is_none()
    {
        return Err(Invalid::one("agency_id", "is not a known agency").into());
    }
    Ok(())
}

/// Refuses a change that would leave no active admin.
pub(super) fn check_an_admin_remains(
    conn: &mut DbConnection,
    before: &User,
    after: &User,
) -> Result<(), StoreError> {
    let is_admin = |user: &User| user.active && user.principal.role == Role::Admin;
    if !is_admin(before) || is_admin(after) || users::count_active_admins(conn)? > 1 {
        return Ok(());
    }
    let (field, message) = if !after.active {
        ("active", "the last active admin cannot be deactivated")
    } else {
        ("role", "the last active admin cannot be given another role")
    };
    Err(Invalid::one(field, message).into())
}

fn patched(before: &User, patch: UserPatch) -> User {
    let mut after = before.clone();
    if let Some(name) = patch.name {
        after.principal.name = name;
    }
    if let Some(active) = patch.active {
        after.active = active;
    }
    if let Some(role) = patch.role {
        after.principal.role = role;
    }
    if let Some(level) = patch.level {
        after.principal.level = level;
    }
    if let Some(agency_id) = patch.agency_id {
        after.principal.agency_id = agency_id;
    }
    if let Some(subject) = patch.oidc_subject {
        after.oidc_subject = subject;
    }
    after
}

/// The fields that differ, as `{"field": {"from": …, "to": …}}` (`from` left out on creation).
pub(crate) fn describe(before: Option<&User>, after: &User) -> Value {
    let fields = |user: &User| {
        [
            ("name", json!(user.principal.name)),
            ("role", json!(user.principal.role)),
            ("level", json!(user.principal.level.map(Level::number))),
            ("agency_id", json!(user.principal.agency_id)),
            ("active", json!(user.active)),
            ("oidc_subject", json!(user.oidc_subject)),
            ("role_from_groups", json!(user.role_from_groups)),
        ]
    };
    let mut changes = Map::new();
    let old = before.map(fields);
    for (index, (field, to)) in fields(after).into_iter().enumerate() {
        match &old {
            Some(old) if old[index].1 == to => {}
            Some(old) => {
                changes.insert(field.into(), json!({ "from": old[index].1, "to": to }));
            }
            None if to.is_null() => {}
            None => {
                changes.insert(field.into(), json!({ "to": to }));
            }
        }
    }
    Value::Object(changes)
}
