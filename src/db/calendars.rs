//! One-off calendar closures added by administrators.

use super::schema::calendar_closures;
use super::{DbConnection, StoreError, to_db_time};
use crate::sla::Closure;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

fn parse_day(text: &str) -> Result<NaiveDate, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("calendar_closures day {text:?}")))
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

/// Adds a closure to `calendar`. The same days again are a no-op when the reason is the
/// same (a retried request) and a conflict when it differs.
pub fn insert_closure(
    conn: &mut DbConnection,
    calendar: &str,
    closure: &Closure,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> Result<ClosureAdded, StoreError> {
    let same_days = || {
        calendar_closures::table
            .filter(calendar_closures::calendar.eq(calendar))
            .filter(calendar_closures::first_day.eq(closure.first.to_string()))
            .filter(calendar_closures::last_day.eq(closure.last.to_string()))
            .select(calendar_closures::reason)
    };
    let judge = |reason: String| {
        if reason == closure.reason {
            Ok(ClosureAdded::AlreadyThere)
        } else {
            Err(StoreError::Conflict(format!(
                "a closure of these days exists already, with the reason {reason:?}"
            )))
        }
    };
    if let Some(reason) = same_days().get_result::<String>(conn).optional()? {
        return judge(reason);
    }
    let inserted = diesel::insert_into(calendar_closures::table)
        .values((
            calendar_closures::id.eq(Uuid::now_v7().to_string()),
            calendar_closures::calendar.eq(calendar),
            calendar_closures::first_day.eq(closure.first.to_string()),
            calendar_closures::last_day.eq(closure.last.to_string()),
            calendar_closures::reason.eq(&closure.reason),
            calendar_closures::created_by.eq(created_by.to_string()),
            calendar_closures::created_at.eq(to_db_time(now)),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(ClosureAdded::Created),
        // Another request stored the same days in between.
        Err(e) if super::is_unique_violation(&e) => judge(same_days().get_result(conn)?),
        Err(e) => Err(e.into()),
    }
}
