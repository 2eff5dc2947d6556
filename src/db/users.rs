//! Users and their bearer tokens (stored as SHA-256 hashes, never in clear).

use super::error::parse_stored;
use super::schema::users;
use super::{DbConnection, StoreError, from_db_time, to_db_time};
use crate::domain::{Level, Principal, Role};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    name: String,
    role: String,
    level: Option<i32>,
    agency_id: Option<String>,
    token_hash: String,
    created_at: NaiveDateTime,
}

/// A user as the API shows it (never the token).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub principal: Principal,
    pub created_at: DateTime<Utc>,
}

/// A user to be created; `token_hash` is the hash of the token handed out once.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub level: Option<Level>,
    pub agency_id: Option<Uuid>,
    pub token_hash: String,
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
            created_at: from_db_time(row.created_at),
        })
    }
}

pub fn insert_user(
    conn: &mut DbConnection,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let row = UserRow {
        id: Uuid::now_v7().to_string(),
        name: new.name,
        role: new.role.as_str().to_owned(),
        level: new.level.map(Level::number),
        agency_id: new.agency_id.map(|id| id.to_string()),
        token_hash: new.token_hash,
        created_at: to_db_time(now),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)?;
    row.try_into()
}

pub fn find_user_by_token_hash(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<User>, StoreError> {
    users::table
        .filter(users::token_hash.eq(token_hash))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
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
