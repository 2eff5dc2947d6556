//! The systems monitoring watches (SPEC §9): a code the monitor names, the services they run
//! and the agencies whose services they are.

use super::error::parse_stored;
use super::schema::systems;
use super::{DbConnection, StoreError, from_db_time, to_db_time, write_transaction};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// A monitored system.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub code: String,
    pub name: String,
    pub services: Vec<String>,
    pub agency_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = systems)]
struct SystemRow {
    code: String,
    name: String,
    services: String,
    agency_ids: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl TryFrom<SystemRow> for System {
    type Error = StoreError;
    fn try_from(row: SystemRow) -> Result<System, StoreError> {
        let ids: Vec<String> = serde_json::from_str(&row.agency_ids)
            .map_err(|e| StoreError::Corrupt(format!("systems.agency_ids: {e}")))?;
        Ok(System {
            code: row.code,
            name: row.name,
            services: serde_json::from_str(&row.services)
                .map_err(|e| StoreError::Corrupt(format!("systems.services: {e}")))?,
            agency_ids: ids
                .iter()
                .map(|id| parse_stored("systems.agency_ids", id))
                .collect::<Result<_, _>>()?,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

/// What a `PUT /systems/{code}` says of a system.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemDefinition {
    pub name: String,
    pub services: Vec<String>,
    pub agency_ids: Vec<Uuid>,
}

/// Creates the system or replaces its definition (its version grows when anything changed).
/// Returns it and whether it was created. The agencies must exist.
pub fn put_system(
    conn: &mut DbConnection,
    code: &str,
    definition: SystemDefinition,
    now: DateTime<Utc>,
) -> Result<(System, bool), StoreError> {
    write_transaction(conn, |conn| {
        for id in &definition.agency_ids {
            if super::agencies::find_agency(conn, *id)?.is_none() {
                return Err(StoreError::Invalid(crate::domain::Invalid(vec![
                    crate::domain::FieldError::new("agency_ids", format!("{id} is not an agency")),
                ])));
            }
        }
        let existing = find_system(conn, code)?;
        let ids: Vec<String> = definition.agency_ids.iter().map(Uuid::to_string).collect();
        let mut row = SystemRow {
            code: code.to_owned(),
            name: definition.name.clone(),
            services: serde_json::to_string(&definition.services).expect("strings serialize"),
            agency_ids: serde_json::to_string(&ids).expect("strings serialize"),
            created_at: to_db_time(now),
            updated_at: to_db_time(now),
            version: 1,
        };
        match existing {
            None => {
                diesel::insert_into(systems::table)
                    .values(&row)
                    .execute(conn)?;
            }
            Some(system) => {
                let same = system.name == definition.name
                    && system.services == definition.services
                    && system.agency_ids == definition.agency_ids;
                if same {
                    return Ok((system, false));
                }
                row.created_at = to_db_time(system.created_at);
                row.version = system.version + 1;
                diesel::update(systems::table.find(code))
                    .set(&row)
                    .execute(conn)?;
            }
        }
        let created = row.version == 1;
        Ok((System::try_from(row)?, created))
    })
}

pub fn find_system(conn: &mut DbConnection, code: &str) -> Result<Option<System>, StoreError> {
    systems::table
        .find(code)
        .select(SystemRow::as_select())
        .get_result(conn)
        .optional()?
        .map(System::try_from)
        .transpose()
}

/// Every system, by code.
pub fn list_systems(conn: &mut DbConnection) -> Result<Vec<System>, StoreError> {
    systems::table
        .order(systems::code)
        .select(SystemRow::as_select())
        .load(conn)?
        .into_iter()
        .map(System::try_from)
        .collect()
}

/// The codes of every system, sorted.
pub fn system_codes(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(systems::table
        .order(systems::code)
        .select(systems::code)
        .load(conn)?)
}
