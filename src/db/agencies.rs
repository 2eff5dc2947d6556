//! Agencies (enti) and their contact e-mail addresses.

use super::error::parse_stored;
use super::schema::agencies;
use super::{DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time};
use crate::domain::VersionCheck;
use crate::domain::ticket::Agency;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agencies)]
struct AgencyRow {
    id: String,
    code: String,
    name: String,
    contacts: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl TryFrom<AgencyRow> for Agency {
    type Error = StoreError;
    fn try_from(row: AgencyRow) -> Result<Agency, StoreError> {
        Ok(Agency {
            id: parse_stored("agencies.id", &row.id)?,
            code: row.code,
            name: row.name,
            contacts: serde_json::from_str(&row.contacts)
                .map_err(|e| StoreError::Corrupt(format!("agencies.contacts: {e}")))?,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

fn to_row(agency: &Agency) -> AgencyRow {
    AgencyRow {
        id: agency.id.to_string(),
        code: agency.code.clone(),
        name: agency.name.clone(),
        contacts: serde_json::to_string(&agency.contacts).expect("strings serialize"),
        created_at: to_db_time(agency.created_at),
        updated_at: to_db_time(agency.updated_at),
        version: agency.version,
    }
}

/// Inserts a new agency; its `code` must be unused.
pub fn insert_agency(
    conn: &mut DbConnection,
    code: String,
    name: String,
    contacts: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Agency, StoreError> {
    let agency = Agency {
        id: Uuid::now_v7(),
        code,
        name,
        contacts,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    match diesel::insert_into(agencies::table)
        .values(&to_row(&agency))
        .execute(conn)
    {
        Ok(_) => find_agency(conn, agency.id)?.ok_or(StoreError::NotFound("agency")),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate("an agency with this code")),
        Err(e) => Err(e.into()),
    }
}

pub fn find_agency(conn: &mut DbConnection, id: Uuid) -> Result<Option<Agency>, StoreError> {
    agencies::table
        .find(id.to_string())
        .select(AgencyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Agency::try_from)
        .transpose()
}

pub fn list_agencies(conn: &mut DbConnection) -> Result<Vec<Agency>, StoreError> {
    agencies::table
        .order(agencies::code)
        .select(AgencyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Agency::try_from)
        .collect()
}

/// Changes name and/or contacts; `expected` (from `If-Match`) guards lost updates. Writers
/// queue on the agency's row; a change that changes nothing writes nothing (the version
/// stays).
pub fn update_agency(
    conn: &mut DbConnection,
    id: Uuid,
    name: Option<String>,
    contacts: Option<Vec<String>>,
    expected: &VersionCheck,
    now: DateTime<Utc>,
) -> Result<Agency, StoreError> {
    super::write_transaction(conn, |conn| {
        if let DbConnection::Postgresql(_) = conn {
            diesel::update(agencies::table.find(id.to_string()))
                .set(agencies::version.eq(agencies::version))
                .execute(conn)?;
        }
        let mut agency = find_agency(conn, id)?.ok_or(StoreError::NotFound("agency"))?;
        if !expected.admits(agency.version) {
            return Err(StoreError::StaleVersion {
                current: agency.version,
            });
        }
        let previous_version = agency.version;
        let before = (agency.name.clone(), agency.contacts.clone());
        if let Some(name) = name {
            agency.name = name;
        }
        if let Some(contacts) = contacts {
            agency.contacts = contacts;
        }
        if (agency.name.clone(), agency.contacts.clone()) == before {
            return Ok(agency);
        }
        agency.updated_at = now;
        agency.version += 1;
        let changed = diesel::update(
            agencies::table
                .find(id.to_string())
                .filter(agencies::version.eq(previous_version)),
        )
        .set(&to_row(&agency))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::StaleVersion {
                current: previous_version + 1,
            });
        }
        find_agency(conn, id)?.ok_or(StoreError::NotFound("agency"))
    })
}
