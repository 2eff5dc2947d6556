//! Calendars as stored: one row per calendar with its version (and its definition when an
//! administrator gave it through the API), the log of changes that made each version, and
//! the one-off closures. Every change takes the calendar's row lock, bumps its version and
//! logs which instants it can affect, in one transaction.

use super::schema::{calendar_changes, calendar_closures, calendars};
use super::{DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time};
use crate::domain::VersionCheck;
use crate::sla::{CalendarDefinition, Closure};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A calendar's row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCalendar {
    pub name: String,
    /// Given through the API; `None` for a calendar built in or from the configuration file.
    pub definition: Option<CalendarDefinition>,
    pub fingerprint: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// Everything stored about the calendars.
#[derive(Debug, Clone, Default)]
pub struct StoredCalendars {
    pub calendars: Vec<StoredCalendar>,
    pub closures: BTreeMap<String, Vec<Closure>>,
}

impl StoredCalendars {
    pub fn versions(&self) -> BTreeMap<String, i64> {
        self.calendars
            .iter()
            .map(|c| (c.name.clone(), c.version))
            .collect()
    }
}

/// What a change did, as `calendar_changes.kind` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Configured,
    Defined,
    Removed,
    ClosureAdded,
    ClosureRemoved,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Configured => "configured",
            ChangeKind::Defined => "defined",
            ChangeKind::Removed => "removed",
            ChangeKind::ClosureAdded => "closure_added",
            ChangeKind::ClosureRemoved => "closure_removed",
        }
    }
}

/// One version of a calendar and the instants `[affects_from, affects_to)` it can change.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarChange {
    pub version: i64,
    pub affects_from: DateTime<Utc>,
    pub affects_to: DateTime<Utc>,
}

/// The whole of time as the database holds it (a definition can change any instant).
pub fn all_time() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        DateTime::from_timestamp(-62_135_596_800, 0).expect("0001-01-01"),
        DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31"),
    )
}

fn parse_day(text: &str) -> Result<NaiveDate, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("calendar_closures day {text:?}")))
}

/// Every calendar row and every closure.
pub fn load_calendars(conn: &mut DbConnection) -> Result<StoredCalendars, StoreError> {
    let rows: Vec<(String, Option<String>, String, i64, chrono::NaiveDateTime)> = calendars::table
        .order(calendars::name)
        .select((
            calendars::name,
            calendars::definition,
            calendars::fingerprint,
            calendars::version,
            calendars::updated_at,
        ))
        .load(conn)?;
    let mut stored = StoredCalendars::default();
    for (name, definition, fingerprint, version, updated_at) in rows {
        let definition = definition
            .map(|text| {
                serde_json::from_str(&text).map_err(|e| {
                    StoreError::Corrupt(format!("calendars.definition of {name}: {e}"))
                })
            })
            .transpose()?;
        stored.calendars.push(StoredCalendar {
            name,
            definition,
            fingerprint,
            version,
            updated_at: from_db_time(updated_at),
        });
    }
    stored.closures = list_closures(conn)?;
    Ok(stored)
}

/// Each calendar's version: what an instance compares to notice a change elsewhere.
pub fn calendar_versions(conn: &mut DbConnection) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(calendars::table
        .select((calendars::name, calendars::version))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Held while the configured calendars are compared with the stored ones at start.
const SYNC_LOCK_KEY: i64 = 0x6864_6361_6c73_796e; // "hdcalsyn"

/// Makes the stored rows agree with the configured calendars (`name`, fingerprint of the
/// definition in force): a new one gets version 1, a configured one whose definition changed
/// (the file was edited) and one no longer configured get the next version. Calendars an
/// administrator defined through the API are left alone: their definition wins. Returns the
/// names whose version moved.
pub fn sync_configured(
    conn: &mut DbConnection,
    configured: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    super::write_transaction(conn, |conn| {
        super::lock_for_transaction(conn, SYNC_LOCK_KEY)?;
        let stored = load_calendars(conn)?.calendars;
        let mut moved = Vec::new();
        for (name, fingerprint) in configured {
            match stored.iter().find(|row| &row.name == name) {
                None => {
                    diesel::insert_into(calendars::table)
                        .values((
                            calendars::name.eq(name),
                            calendars::fingerprint.eq(fingerprint),
                            calendars::version.eq(0),
                            calendars::updated_at.eq(to_db_time(now)),
                        ))
                        .execute(conn)?;
                    record_change(conn, name, ChangeKind::Created, all_time(), None, now)?;
                    moved.push(name.clone());
                }
                Some(row) if row.definition.is_none() && &row.fingerprint != fingerprint => {
                    set_fingerprint(conn, name, fingerprint)?;
                    record_change(conn, name, ChangeKind::Configured, all_time(), None, now)?;
                    moved.push(name.clone());
                }
                Some(_) => {}
            }
        }
        for row in &stored {
            let still_configured = configured.iter().any(|(name, _)| name == &row.name);
            if row.definition.is_none() && !still_configured && row.fingerprint != REMOVED {
                set_fingerprint(conn, &row.name, REMOVED)?;
                record_change(conn, &row.name, ChangeKind::Removed, all_time(), None, now)?;
                moved.push(row.name.clone());
            }
        }
        Ok(moved)
    })
}

/// The fingerprint of a calendar that is no longer defined anywhere.
const REMOVED: &str = "removed";

fn set_fingerprint(
    conn: &mut DbConnection,
    name: &str,
    fingerprint: &str,
) -> Result<(), StoreError> {
    diesel::update(calendars::table.find(name))
        .set(calendars::fingerprint.eq(fingerprint))
        .execute(conn)?;
    Ok(())
}

/// Takes the calendar's row lock for the transaction (PostgreSQL; SQLite's `BEGIN IMMEDIATE`
/// holds the database's) and returns its version; `NotFound` without a row.
fn lock_calendar(conn: &mut DbConnection, name: &str) -> Result<i64, StoreError> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::update(calendars::table.find(name))
            .set(calendars::version.eq(calendars::version))
            .execute(conn)?;
    }
    calendars::table
        .find(name)
        .select(calendars::version)
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound("calendar"))
}

/// Bumps the calendar's version and logs the change with the instants it can affect, in the
/// caller's transaction; returns the new version.
pub fn record_change(
    conn: &mut DbConnection,
    name: &str,
    kind: ChangeKind,
    (affects_from, affects_to): (DateTime<Utc>, DateTime<Utc>),
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let version: i64 = diesel::update(calendars::table.find(name))
        .set((
            calendars::version.eq(calendars::version + 1),
            calendars::updated_at.eq(to_db_time(now)),
            calendars::updated_by.eq(actor.map(|id| id.to_string())),
        ))
        .returning(calendars::version)
        .get_result(conn)?;
    diesel::insert_into(calendar_changes::table)
        .values((
            calendar_changes::calendar.eq(name),
            calendar_changes::version.eq(version),
            calendar_changes::kind.eq(kind.as_str()),
            calendar_changes::affects_from.eq(to_db_time(affects_from)),
            calendar_changes::affects_to.eq(to_db_time(affects_to)),
            calendar_changes::recorded_at.eq(to_db_time(now)),
            calendar_changes::recorded_by.eq(actor.map(|id| id.to_string())),
        ))
        .execute(conn)?;
    Ok(version)
}

/// The changes of `name` after `version`, oldest first.
pub fn changes_after(
    conn: &mut DbConnection,
    name: &str,
    version: i64,
) -> Result<Vec<CalendarChange>, StoreError> {
    Ok(calendar_changes::table
        .filter(calendar_changes::calendar.eq(name))
        .filter(calendar_changes::version.gt(version))
        .order(calendar_changes::version)
        .select((
            calendar_changes::version,
            calendar_changes::affects_from,
            calendar_changes::affects_to,
        ))
        .load::<(i64, chrono::NaiveDateTime, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(version, from, to)| CalendarChange {
            version,
            affects_from: from_db_time(from),
            affects_to: from_db_time(to),
        })
        .collect())
}

/// Stores an administrator's definition of `name` (a new calendar, or a new definition of
/// one); returns its version and whether the calendar is new.
pub fn define_calendar(
    conn: &mut DbConnection,
    name: &str,
    definition: &CalendarDefinition,
    fingerprint: &str,
    expected: &VersionCheck,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<(i64, bool), StoreError> {
    super::write_transaction(conn, |conn| {
        let text = serde_json::to_string(definition).expect("definitions serialize");
        let created = match lock_calendar(conn, name) {
            Ok(current) => {
                if !expected.admits(current) {
                    return Err(StoreError::StaleVersion { current });
                }
                let (stored, stored_fingerprint): (Option<String>, String) = calendars::table
                    .find(name)
                    .select((calendars::definition, calendars::fingerprint))
                    .get_result(conn)?;
                // The same definition again (a configuration tool re-applying it) is no
                // change: no new version, nothing recomputed.
                if stored.is_some() && stored_fingerprint == fingerprint {
                    return Ok((current, false));
                }
                // A removed calendar defined again is a new calendar (its versions go on).
                stored.is_none() && stored_fingerprint == REMOVED
            }
            Err(StoreError::NotFound(_)) if !expected.is_guarded() => {
                let inserted = diesel::insert_into(calendars::table)
                    .values((
                        calendars::name.eq(name),
                        calendars::fingerprint.eq(fingerprint),
                        calendars::version.eq(0),
                        calendars::updated_at.eq(to_db_time(now)),
                    ))
                    .execute(conn);
                match inserted {
                    Ok(_) => true,
                    Err(e) if is_unique_violation(&e) => {
                        return Err(StoreError::Conflict(format!(
                            "calendar `{name}` was created meanwhile; read it and retry"
                        )));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(StoreError::NotFound(_)) => return Err(StoreError::StaleVersion { current: 0 }),
            Err(e) => return Err(e),
        };
        diesel::update(calendars::table.find(name))
            .set((
                calendars::definition.eq(Some(text)),
                calendars::fingerprint.eq(fingerprint),
            ))
            .execute(conn)?;
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Defined
        };
        let version = record_change(conn, name, kind, all_time(), Some(actor), now)?;
        Ok((version, created))
    })
}

/// Drops the API's definition of a configured calendar (`fingerprint` is the configuration's):
/// the configuration's definition counts again, as a new version.
pub fn revert_to_configured(
    conn: &mut DbConnection,
    name: &str,
    fingerprint: &str,
    expected: &VersionCheck,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    super::write_transaction(conn, |conn| {
        let current = lock_calendar(conn, name)?;
        if !expected.admits(current) {
            return Err(StoreError::StaleVersion { current });
        }
        let defined: Option<String> = calendars::table
            .find(name)
            .select(calendars::definition)
            .get_result(conn)?;
        if defined.is_none() {
            return Err(StoreError::Conflict(format!(
                "calendar `{name}` is defined in the configuration, not through the API: \
                 change it there"
            )));
        }
        diesel::update(calendars::table.find(name))
            .set((
                calendars::definition.eq(None::<String>),
                calendars::fingerprint.eq(fingerprint),
            ))
            .execute(conn)?;
        record_change(
            conn,
            name,
            ChangeKind::Configured,
            all_time(),
            Some(actor),
            now,
        )
    })
}

/// Removes an administrator's calendar: its definition and closures go, its row stays as a
/// tombstone so that its versions go on if it is defined again. The caller has checked that
/// no SLA names it; an agency that names it, or a clock that still counts in it, refuses it.
pub fn delete_calendar(
    conn: &mut DbConnection,
    name: &str,
    expected: &VersionCheck,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use super::schema::{agencies, ticket_clocks};
    super::write_transaction(conn, |conn| {
        let current = lock_calendar(conn, name)?;
        if !expected.admits(current) {
            return Err(StoreError::StaleVersion { current });
        }
        let naming: Vec<String> = agencies::table
            .filter(agencies::calendar.eq(name))
            .select(agencies::code)
            .load(conn)?;
        if !naming.is_empty() {
            return Err(StoreError::Conflict(format!(
                "the agencies {} name calendar `{name}`",
                naming.join(", ")
            )));
        }
        let counting: i64 = ticket_clocks::table
            .filter(ticket_clocks::calendar.eq(name))
            .count()
            .get_result(conn)?;
        if counting > 0 {
            return Err(StoreError::Conflict(format!(
                "{counting} SLA clocks still count in calendar `{name}`"
            )));
        }
        diesel::delete(calendar_closures::table.filter(calendar_closures::calendar.eq(name)))
            .execute(conn)?;
        diesel::update(calendars::table.find(name))
            .set((
                calendars::definition.eq(None::<String>),
                calendars::fingerprint.eq(REMOVED),
            ))
            .execute(conn)?;
        record_change(
            conn,
            name,
            ChangeKind::Removed,
            all_time(),
            Some(actor),
            now,
        )?;
        Ok(())
    })
}

/// Every closure, by calendar name, in date order.
pub fn list_closures(
    conn: &mut DbConnection,
) -> Result<BTreeMap<String, Vec<Closure>>, StoreError> {
    let rows: Vec<(String, String, String, String)> = calendar_closures::table
        .order((calendar_closures::calendar, calendar_closures::first_day))
        .select((
            calendar_closures::calendar,
            calendar_closures::first_day,
            calendar_closures::last_day,
            calendar_closures::reason,
        ))
        .load(conn)?;
    let mut by_calendar: BTreeMap<String, Vec<Closure>> = BTreeMap::new();
    for (calendar, first, last, reason) in rows {
        by_calendar.entry(calendar).or_default().push(Closure {
            first: parse_day(&first)?,
            last: parse_day(&last)?,
            reason,
        });
    }
    Ok(by_calendar)
}

/// Whether a closure was stored now, or the same one was there already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureAdded {
    Created,
    AlreadyThere,
}

/// The stored closures of `calendar` that share a day with `[first, last]`.
fn overlapping(
    conn: &mut DbConnection,
    calendar: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<Closure>, StoreError> {
    let rows: Vec<(String, String, String)> = calendar_closures::table
        .filter(calendar_closures::calendar.eq(calendar))
        .filter(calendar_closures::first_day.le(last.to_string()))
        .filter(calendar_closures::last_day.ge(first.to_string()))
        .select((
            calendar_closures::first_day,
            calendar_closures::last_day,
            calendar_closures::reason,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(first, last, reason)| {
            Ok(Closure {
                first: parse_day(&first)?,
                last: parse_day(&last)?,
                reason,
            })
        })
        .collect()
}

/// Adds a closure to `calendar`; `affects` are the instants its days cover. The same closure
/// again is a no-op (a retried request); one that shares a day with another is a conflict (a
/// day is closed or not).
pub fn insert_closure(
    conn: &mut DbConnection,
    calendar: &str,
    closure: &Closure,
    affects: (DateTime<Utc>, DateTime<Utc>),
    created_by: Uuid,
    now: DateTime<Utc>,
) -> Result<ClosureAdded, StoreError> {
    super::write_transaction(conn, |conn| {
        lock_calendar(conn, calendar)?;
        if let Some(existing) = overlapping(conn, calendar, closure.first, closure.last)?.first() {
            if existing == closure {
                return Ok(ClosureAdded::AlreadyThere);
            }
            return Err(StoreError::Conflict(format!(
                "the calendar is closed already from {} to {} ({:?})",
                existing.first, existing.last, existing.reason
            )));
        }
        diesel::insert_into(calendar_closures::table)
            .values((
                calendar_closures::id.eq(Uuid::now_v7().to_string()),
                calendar_closures::calendar.eq(calendar),
                calendar_closures::first_day.eq(closure.first.to_string()),
                calendar_closures::last_day.eq(closure.last.to_string()),
                calendar_closures::reason.eq(&closure.reason),
                calendar_closures::created_by.eq(created_by.to_string()),
                calendar_closures::created_at.eq(to_db_time(now)),
            ))
            .execute(conn)?;
        record_change(
            conn,
            calendar,
            ChangeKind::ClosureAdded,
            affects,
            Some(created_by),
            now,
        )?;
        Ok(ClosureAdded::Created)
    })
}

/// Removes the closure of `calendar` that covers `day`; `affects` gives the instants of a
/// closure's days. Returns the closure removed.
pub fn delete_closure(
    conn: &mut DbConnection,
    calendar: &str,
    day: NaiveDate,
    affects: impl Fn(&Closure) -> (DateTime<Utc>, DateTime<Utc>),
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<Closure, StoreError> {
    super::write_transaction(conn, |conn| {
        lock_calendar(conn, calendar)?;
        let closure = overlapping(conn, calendar, day, day)?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("closure"))?;
        diesel::delete(
            calendar_closures::table
                .filter(calendar_closures::calendar.eq(calendar))
                .filter(calendar_closures::first_day.eq(closure.first.to_string()))
                .filter(calendar_closures::last_day.eq(closure.last.to_string())),
        )
        .execute(conn)?;
        record_change(
            conn,
            calendar,
            ChangeKind::ClosureRemoved,
            affects(&closure),
            Some(actor),
            now,
        )?;
        Ok(closure)
    })
}
