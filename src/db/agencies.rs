//! Agencies (enti), their contact e-mail addresses and their mail domains.

use super::error::parse_stored;
use super::schema::{agencies, agency_mail_domains};
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
            mail_domains: Vec::new(),
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
    pub mail_domains: Vec<String>,
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
        mail_domains: new.mail_domains,
        calendar: new.calendar,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    super::write_transaction(conn, |conn| {
        match diesel::insert_into(agencies::table)
            .values(&to_row(&agency))
            .execute(conn)
        {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Duplicate("an agency with this code"));
            }
            Err(e) => return Err(e.into()),
        }
        replace_mail_domains(conn, agency.id, &agency.mail_domains)?;
        find_agency(conn, agency.id)?.ok_or(StoreError::NotFound("agency"))
    })
}

/// Makes `domains` the agency's mail domains, inside the caller's transaction; a domain of
/// another agency is refused by name (`mail_domains[i]`).
fn replace_mail_domains(
    conn: &mut DbConnection,
    id: Uuid,
    domains: &[String],
) -> Result<(), StoreError> {
    let taken: Vec<(String, String)> = agency_mail_domains::table
        .inner_join(agencies::table)
        .filter(agency_mail_domains::domain.eq_any(domains.to_vec()))
        .filter(agency_mail_domains::agency_id.ne(id.to_string()))
        .select((agency_mail_domains::domain, agencies::code))
        .load(conn)?;
    let refused: Vec<crate::domain::FieldError> = domains
        .iter()
        .enumerate()
        .filter_map(|(index, domain)| {
            let (_, code) = taken.iter().find(|(taken, _)| taken == domain)?;
            Some(crate::domain::FieldError::new(
                format!("mail_domains[{index}]"),
                format!("`{domain}` is a mail domain of agency {code} already"),
            ))
        })
        .collect();
    if !refused.is_empty() {
        return Err(crate::domain::Invalid(refused).into());
    }
    diesel::delete(
        agency_mail_domains::table.filter(agency_mail_domains::agency_id.eq(id.to_string())),
    )
    .execute(conn)?;
    // One row at a time: multi-row inserts do not compile through the MultiConnection.
    for domain in domains {
        match diesel::insert_into(agency_mail_domains::table)
            .values((
                agency_mail_domains::domain.eq(domain),
                agency_mail_domains::agency_id.eq(id.to_string()),
            ))
            .execute(conn)
        {
            // Another agency took it meanwhile (PostgreSQL, two admins at once).
            Err(e) if is_unique_violation(&e) => {
                return Err(crate::domain::Invalid::one(
                    "mail_domains",
                    format!("`{domain}` became another agency's mail domain meanwhile"),
                )
                .into());
            }
            other => other?,
        };
    }
    Ok(())
}

/// Every agency's mail domains, by agency id.
fn mail_domains_by_agency(
    conn: &mut DbConnection,
    ids: Option<&[String]>,
) -> Result<std::collections::HashMap<String, Vec<String>>, StoreError> {
    let mut query = agency_mail_domains::table
        .select((agency_mail_domains::agency_id, agency_mail_domains::domain))
        .order(agency_mail_domains::domain)
        .into_boxed();
    if let Some(ids) = ids {
        query = query.filter(agency_mail_domains::agency_id.eq_any(ids.to_vec()));
    }
    let mut by_agency = std::collections::HashMap::<String, Vec<String>>::new();
    for (agency_id, domain) in query.load::<(String, String)>(conn)? {
        by_agency.entry(agency_id).or_default().push(domain);
    }
    Ok(by_agency)
}

/// The agency whose mail domain `domain` is (lowercase), if any.
pub fn agency_of_mail_domain(
    conn: &mut DbConnection,
    domain: &str,
) -> Result<Option<Uuid>, StoreError> {
    agency_mail_domains::table
        .find(domain.to_ascii_lowercase())
        .select(agency_mail_domains::agency_id)
        .get_result::<String>(conn)
        .optional()?
        .map(|id| parse_stored("agency_mail_domains.agency_id", &id))
        .transpose()
}

pub fn find_agency(conn: &mut DbConnection, id: Uuid) -> Result<Option<Agency>, StoreError> {
    let Some(mut agency) = agencies::table
        .find(id.to_string())
        .select(AgencyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Agency::try_from)
        .transpose()?
    else {
        return Ok(None);
    };
    let key = id.to_string();
    agency.mail_domains = mail_domains_by_agency(conn, Some(std::slice::from_ref(&key)))?
        .remove(&key)
        .unwrap_or_default();
    Ok(Some(agency))
}

pub fn list_agencies(conn: &mut DbConnection) -> Result<Vec<Agency>, StoreError> {
    let mut domains = mail_domains_by_agency(conn, None)?;
    agencies::table
        .order(agencies::code)
        .select(AgencyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            let mut agency = Agency::try_from(row)?;
            agency.mail_domains = domains.remove(&agency.id.to_string()).unwrap_or_default();
            Ok(agency)
        })
        .collect()
}

/// A change to an agency (merge patch: `None` leaves a field; `calendar: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct AgencyPatch {
    pub name: Option<String>,
    pub contacts: Option<Vec<String>>,
    pub mail_domains: Option<Vec<String>>,
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
        if let Some(domains) = patch.mail_domains {
            agency.mail_domains = domains;
        }
        fn compared(a: &Agency) -> (&String, &Vec<String>, &Option<String>, &Vec<String>) {
            (&a.name, &a.contacts, &a.calendar, &a.mail_domains)
        }
        // Domains are read back sorted: the same set in another order is no change.
        let mut sorted = agency.clone();
        sorted.mail_domains.sort();
        if compared(&sorted) == compared(&before) {
            return Ok(before);
        }
        if agency.mail_domains != before.mail_domains {
            replace_mail_domains(conn, id, &agency.mail_domains)?;
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
