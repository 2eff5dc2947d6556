//! Who an OpenID Connect identity is here: the user an admin linked to it (`oidc_subject`),
//! or, with `oidc_group_roles`, a user made at its first sign-in whose role follows its
//! groups until an admin sets one. The token itself was verified by `crate::oidc`.

use super::users::{check_an_admin_remains, describe};
use super::{Actor, USER_CHANGE_LOCK_KEY};
use crate::db::audit::{self, NewAuditEntry};
use crate::db::users::{self, NewUser};
use crate::db::{self, DbConnection, StoreError};
use crate::domain::{AccessAction, Level, Principal, Role};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A user made from its groups is named by its identity, cut to a name's length.
const NAME_MAX_CHARS: usize = 200;

/// What a group of the identity provider makes its members (agencies by code).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRole {
    pub group: String,
    pub role: Role,
    pub level: Option<Level>,
    pub agency_code: Option<String>,
}

impl GroupRole {
    /// Higher is more: admin, supervisor, level-2 agent, level-1 agent, agency user.
    fn rank(&self) -> u8 {
        match (self.role, self.level) {
            (Role::Admin, _) => 5,
            (Role::Supervisor, _) => 4,
            (Role::Agent, Some(Level::Second)) => 3,
            (Role::Agent, _) => 2,
            (Role::Agency, _) => 1,
            (Role::Metrics | Role::Mailgate | Role::Monitor, _) => 0,
        }
    }
}

/// The most a person's groups give them, if any of them is mapped.
pub fn role_of_groups<'a>(mapping: &'a [GroupRole], groups: &[String]) -> Option<&'a GroupRole> {
    mapping
        .iter()
        .filter(|mapped| groups.contains(&mapped.group))
        .max_by_key(|mapped| mapped.rank())
}

/// Why a verified identity may not act (403: the provider vouched for the person, the
/// helpdesk does not let them in).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignInRefused {
    #[error(
        "no helpdesk user is linked to this identity: an admin sets `oidc_subject` on the user"
    )]
    Unknown,
    #[error("the helpdesk user linked to this identity is deactivated")]
    Deactivated,
    #[error("none of this identity's groups gives access to the helpdesk")]
    NoGroup,
    #[error("the group `{0}` names an agency code the helpdesk does not know")]
    UnknownAgency(String),
}

/// Who a sign-in acts as, and whether the groups just made or changed that user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub principal: Principal,
    pub changed: bool,
}

impl SignedIn {
    fn as_is(principal: &Principal) -> SignedIn {
        SignedIn {
            principal: principal.clone(),
            changed: false,
        }
    }
}

/// The principal an identity (`subject`, with its `groups`) acts as at `now`.
pub fn principal_of_identity(
    conn: &mut DbConnection,
    subject: &str,
    groups: &[String],
    mapping: &[GroupRole],
    now: DateTime<Utc>,
) -> Result<Result<SignedIn, SignInRefused>, StoreError> {
    let found = users::find_user_by_oidc_subject(conn, subject)?;
    let mapped = role_of_groups(mapping, groups);
    match (&found, mapped) {
        (Some(user), _) if !user.active => return Ok(Err(SignInRefused::Deactivated)),
        (Some(user), _) if !user.role_from_groups => {
            return Ok(Ok(SignedIn::as_is(&user.principal)));
        }
        (Some(_), None) => return Ok(Err(SignInRefused::NoGroup)),
        (None, None) if mapping.is_empty() => return Ok(Err(SignInRefused::Unknown)),
        (None, None) => return Ok(Err(SignInRefused::NoGroup)),
        _ => {}
    }
    let mapped = mapped.expect("matched above").clone();
    let agency_id = match &mapped.agency_code {
        None => None,
        Some(code) => match agency_by_code(conn, code)? {
            Some(id) => Some(id),
            None => return Ok(Err(SignInRefused::UnknownAgency(mapped.group.clone()))),
        },
    };
    if let Some(user) = &found
        && (
            user.principal.role,
            user.principal.level,
            user.principal.agency_id,
        ) == (mapped.role, mapped.level, agency_id)
    {
        return Ok(Ok(SignedIn::as_is(&user.principal)));
    }
    sync_from_groups(conn, subject, &mapped, agency_id, now)
}

/// Makes or changes the user of `subject` as its groups say, once however many sign-ins race.
fn sync_from_groups(
    conn: &mut DbConnection,
    subject: &str,
    mapped: &GroupRole,
    agency_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Result<SignedIn, SignInRefused>, StoreError> {
    db::write_transaction(conn, |conn| {
        db::lock_for_transaction(conn, USER_CHANGE_LOCK_KEY)?;
        let before = users::find_user_by_oidc_subject(conn, subject)?;
        let (user, action) = match &before {
            None => {
                let new = NewUser {
                    name: subject.chars().take(NAME_MAX_CHARS).collect(),
                    role: mapped.role,
                    level: mapped.level,
                    agency_id,
                    oidc_subject: Some(subject.to_owned()),
                    role_from_groups: true,
                };
                (
                    users::insert_user(conn, new, now)?,
                    AccessAction::UserCreated,
                )
            }
            // Deactivated, or taken over by an admin, since it was read: as it now stands.
            Some(user) if !user.active => return Ok(Err(SignInRefused::Deactivated)),
            Some(user) if !user.role_from_groups => {
                return Ok(Ok(SignedIn::as_is(&user.principal)));
            }
            Some(user) => {
                let mut changed = user.clone();
                changed.principal.role = mapped.role;
                changed.principal.level = mapped.level;
                changed.principal.agency_id = agency_id;
                changed.updated_at = now;
                changed.version += 1;
                // The groups may not take the last active admin away: it stays one until
                // another admin exists (or an admin takes the user over).
                if check_an_admin_remains(conn, user, &changed).is_err() {
                    tracing::warn!(
                        user_id = %user.principal.user_id,
                        "the groups would demote the last active admin; it stays an admin"
                    );
                    return Ok(Ok(SignedIn::as_is(&user.principal)));
                }
                (
                    users::store_user(conn, &changed)?,
                    AccessAction::UserChanged,
                )
            }
        };
        let mut changes = describe(before.as_ref(), &user);
        changes["group"] = serde_json::json!({ "to": mapped.group });
        audit::record(
            conn,
            NewAuditEntry {
                changes,
                ..Actor::Oidc.audit(action, user.principal.user_id, None, Default::default())
            },
            now,
        )?;
        Ok(Ok(SignedIn {
            principal: user.principal,
            changed: true,
        }))
    })
}

fn agency_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Uuid>, StoreError> {
    Ok(crate::db::agencies::list_agencies(conn)?
        .into_iter()
        .find(|agency| agency.code.eq_ignore_ascii_case(code))
        .map(|agency| agency.id))
}
