//! Users: who they are, what they may do, whether they still may. Their tokens are in
//! `api_tokens`; the rules for changing a user are in `crate::access`.

use super::error::parse_stored;
use super::schema::users;
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::domain::{Level, Principal, Role};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub(super) struct UserRow {
    id: String,
    name: String,
    role: String,
    level: Option<i32>,
    agency_id: Option<String>,
    active: bool,
    oidc_subject: Option<String>,
    role_from_groups: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

/// A user as stored (never a token).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub principal: Principal,
    /// A deactivated user can do nothing; its history stays attributed to it.
    pub active: bool,
    /// The identity an OpenID Connect provider names this user by.
    pub oidc_subject: Option<String>,
    /// Made at a sign-in from `oidc_group_roles`: its role follows its groups until an admin
    /// sets one.
    pub role_from_groups: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A user to be created.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub level: Option<Level>,
    pub agency_id: Option<Uuid>,
    pub oidc_subject: Option<String>,
    pub role_from_groups: bool,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<User, StoreError> {
        Ok(User {
            principal: Principal {
                user_id: parse_stored("users.id", &row.id)?,
                name: row.name,
                role: parse_stored("users.role", &row.role)?,
                level: row.level.and_then(|n| Level::from_number(n.into())),
                agency_id: row
                    .agency_id
                    .map(|id| parse_stored("users.agency_id", &id))
                    .transpose()?,
            },
            active: row.active,
            oidc_subject: row.oidc_subject,
            role_from_groups: row.role_from_groups,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

fn to_row(user: &User) -> UserRow {
    UserRow {
        id: user.principal.user_id.to_string(),
        name: user.principal.name.clone(),
        role: user.principal.role.as_str().to_owned(),
        level: user.principal.level.map(Level::number),
        agency_id: user.principal.agency_id.map(|id| id.to_string()),
        active: user.active,
        oidc_subject: user.oidc_subject.clone(),
        role_from_groups: user.role_from_groups,
        created_at: to_db_time(user.created_at),
        updated_at: to_db_time(user.updated_at),
        version: user.version,
    }
}

/// Stores a new user. An `oidc_subject` already linked to another user is a duplicate.
pub fn insert_user(
    conn: &mut DbConnection,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    if let Some(subject) = &new.oidc_subject
        && find_user_by_oidc_subject(conn, subject)?.is_some()
    {
        return Err(StoreError::Duplicate("a user with this oidc_subject"));
    }
    let user = User {
        principal: Principal {
            user_id: Uuid::now_v7(),
            name: new.name,
            role: new.role,
            level: new.level,
            agency_id: new.agency_id,
        },
        active: true,
        oidc_subject: new.oidc_subject,
        role_from_groups: new.role_from_groups,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(users::table)
        .values(&to_row(&user))
        .execute(conn)?;
    // Read back: the database truncates instants to microseconds.
    find_user(conn, user.principal.user_id)?.ok_or(StoreError::NotFound("user"))
}

/// Writes `user` over its row (the caller has bumped the version and holds the row).
pub fn store_user(conn: &mut DbConnection, user: &User) -> Result<User, StoreError> {
    diesel::update(users::table.find(user.principal.user_id.to_string()))
        .set(&to_row(user))
        .execute(conn)?;
    find_user(conn, user.principal.user_id)?.ok_or(StoreError::NotFound("user"))
}

pub fn find_user(conn: &mut DbConnection, id: Uuid) -> Result<Option<User>, StoreError> {
    users::table
        .find(id.to_string())
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// The user, its row locked until the transaction ends (PostgreSQL; SQLite's write
/// transaction already excludes every other writer).
pub fn lock_user(conn: &mut DbConnection, id: Uuid) -> Result<Option<User>, StoreError> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::update(users::table.find(id.to_string()))
            .set(users::version.eq(users::version))
            .execute(conn)?;
    }
    find_user(conn, id)
}

/// How many active admins there are (judged under `crate::access`'s lock on user changes).
pub fn count_active_admins(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)?)
}

pub fn find_user_by_oidc_subject(
    conn: &mut DbConnection,
    subject: &str,
) -> Result<Option<User>, StoreError> {
    users::table
        .filter(users::oidc_subject.eq(subject))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

pub fn list_users(conn: &mut DbConnection) -> Result<Vec<User>, StoreError> {
    users::table
        .order(users::id)
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

pub fn count_users(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

/// The active user `name` with the machine role `role` that a background job acts as (the
/// mailbox poller, the outage timer), created the first time.
pub fn machine_principal(
    conn: &mut DbConnection,
    role: Role,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Principal, StoreError> {
    let existing = list_users(conn)?
        .into_iter()
        .find(|u| u.principal.role == role && u.principal.name == name && u.active);
    if let Some(user) = existing {
        return Ok(user.principal);
    }
    let new = NewUser {
        name: name.into(),
        role,
        level: None,
        agency_id: None,
        oidc_subject: None,
        role_from_groups: false,
    };
    Ok(insert_user(conn, new, now)?.principal)
}
