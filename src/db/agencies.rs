//! Agencies (enti) and their contact e-mail addresses.

use super::error::parse_stored;
use super::schema::agencies;
use super::{DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time};
use crate::domain::VersionCheck;
use crate::domain::ticket::Agency;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

// `treat_none_as_null`: a calendar cleared by a PATCH must be written as NULL, not skipped.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agencies, treat_none_as_null = true)]
struct AgencyRow {
    id: String,
    code: String,
    name: String,
    contacts: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    calendar: Option<String>,
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
            calendar: row.calendar,
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
        calendar: agency.calendar.clone(),
        created_at: to_db_time(agency.created_at),
        updated_at: to_db_time(agency.updated_at),
        version: agency.version,
    }
}

/// A new agency's fields.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub code: String,
    pub name: String,
    pub contacts: Vec<String>,
    pub calendar: Option<String>,
}

/// Inserts a new agency; its `code` must be unused.
pub fn insert_agency(
    conn: &mut DbConnection,
    new: NewAgency,
    now: DateTime<Utc>,
) -> Result<Agency, StoreError> {
    let agency = Agency {
        id: Uuid::now_v7(),
        code: new.code,
        name: new.name,
        contacts: new.contacts,
        calendar: new.calendar,
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

/// A change to an agency (merge patch: `None` leaves a field; `calendar: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct AgencyPatch {
    pub name: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub calendar: Option<Option<String>>,
}

/// Changes an agency; `expected` (from `If-Match`) guards lost updates. Writers queue on the
/// agency's row; a change that changes nothing writes nothing (the version stays). A new
/// calendar queues the agency for the calendar follower, which computes its tickets' clocks
/// again.
pub fn update_agency(
    conn: &mut DbConnection,
    id: Uuid,
    patch: AgencyPatch,
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
        let before = agency.clone();
        if let Some(name) = patch.name {
            agency.name = name;
        }
        if let Some(contacts) = patch.contacts {
            agency.contacts = contacts;
        }
        if let Some(calendar) = patch.calendar {
            agency.calendar = calendar;
        }
        if (&agency.name, &agency.contacts, &agency.calendar)
            == (&before.name, &before.contacts, &before.calendar)
        {
            return Ok(agency);
        }
        agency.updated_at = now;
        agency.version += 1;
        diesel::update(agencies::table.find(id.to_string()))
            .set(&to_row(&agency))
            .execute(conn)?;
        if agency.calendar != before.calendar {
            queue_calendar_switch(conn, id, now)?;
        }
        find_agency(conn, id)?.ok_or(StoreError::NotFound("agency"))
    })
}

/// Queues the agency for the calendar follower, which marks its clocks stale in batches.
fn queue_calendar_switch(
    conn: &mut DbConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use super::schema::agency_calendar_changes as queue;
    let queued: i64 = queue::table
        .filter(queue::agency_id.eq(id.to_string()))
        .count()
        .get_result(conn)?;
    if queued == 0 {
        diesel::insert_into(queue::table)
            .values((
                queue::agency_id.eq(id.to_string()),
                queue::recorded_at.eq(to_db_time(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The calendar of an agency's office hours, read for computing its tickets' clocks. On
/// PostgreSQL the row is share-locked for the transaction: a change of the calendar waits for
/// the clocks computed with the old one, and marks them stale after they are written.
pub fn agency_calendar(
    conn: &mut DbConnection,
    id: Option<Uuid>,
) -> Result<Option<String>, StoreError> {
    match id {
        Some(id) => Ok(existing_agency_calendar(conn, id)?.flatten()),
        None => Ok(None),
    }
}

/// As `agency_calendar`, for an agency that may not exist: `None` when it does not.
pub fn existing_agency_calendar(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<Option<String>>, StoreError> {
    let query = agencies::table
        .find(id.to_string())
        .select(agencies::calendar);
    Ok(match conn {
        DbConnection::Postgresql(pg) => query.for_share().get_result(pg).optional()?,
        DbConnection::Sqlite(_) => query.get_result(conn).optional()?,
    })
}
