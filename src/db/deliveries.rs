//! Malfunction-report deliveries: one row per (agency, period, edition), with the e-mail in
//! the outbox. The unique (agency, period, edition) is what makes a report go out once,
//! whoever asks first: the scheduler of either instance, or a person.

use super::error::parse_stored;
use super::schema::{outbox, report_deliveries};
use super::{DbConnection, StoreError, from_db_time, to_db_time, truncate_to_micros};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// A delivery with its e-mail's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub period: String,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    pub edition: i32,
    pub trigger: String,
    pub requested_by: Option<Uuid>,
    pub interruptions: i32,
    pub outbox_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// The e-mail's status (`pending`, `sent`, `failed`), when it was sent, its last error.
    pub mail_status: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

type Row = (
    (
        String,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        i32,
        String,
        Option<String>,
        i32,
        Option<String>,
        NaiveDateTime,
    ),
    Option<(String, Option<NaiveDateTime>, Option<String>)>,
);

fn to_delivery(row: Row) -> Result<Delivery, StoreError> {
    let (d, mail) = row;
    let id = |column: &str, value: Option<String>| {
        value.map(|v| parse_stored::<Uuid>(column, &v)).transpose()
    };
    Ok(Delivery {
        id: parse_stored("report_deliveries.id", &d.0)?,
        agency_id: parse_stored("report_deliveries.agency_id", &d.1)?,
        period: d.2,
        period_from: from_db_time(d.3),
        period_to: from_db_time(d.4),
        edition: d.5,
        trigger: d.6,
        requested_by: id("report_deliveries.requested_by", d.7)?,
        interruptions: d.8,
        outbox_id: id("report_deliveries.outbox_id", d.9)?,
        created_at: from_db_time(d.10),
        mail_status: mail.as_ref().map(|m| m.0.clone()),
        sent_at: mail.as_ref().and_then(|m| m.1).map(from_db_time),
        last_error: mail.and_then(|m| m.2),
    })
}

/// Which deliveries a list shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub agency_id: Option<Uuid>,
    /// Deliveries of periods that start at or after this instant and end by `period_to`.
    pub period_from: Option<DateTime<Utc>>,
    pub period_to: Option<DateTime<Utc>>,
}

pub fn list_deliveries(
    conn: &mut DbConnection,
    filter: &DeliveryFilter,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut query = report_deliveries::table
        .left_join(outbox::table)
        .select((
            (
                report_deliveries::id,
                report_deliveries::agency_id,
                report_deliveries::period,
                report_deliveries::period_from,
                report_deliveries::period_to,
                report_deliveries::edition,
                report_deliveries::trigger,
                report_deliveries::requested_by,
                report_deliveries::interruptions,
                report_deliveries::outbox_id,
                report_deliveries::created_at,
            ),
            (outbox::status, outbox::sent_at, outbox::last_error).nullable(),
        ))
        .into_boxed();
    if let Some(agency) = filter.agency_id {
        query = query.filter(report_deliveries::agency_id.eq(agency.to_string()));
    }
    if let Some(from) = filter.period_from {
        query = query.filter(report_deliveries::period_from.ge(to_db_time(from)));
    }
    if let Some(to) = filter.period_to {
        query = query.filter(report_deliveries::period_to.le(to_db_time(to)));
    }
    query
        .order((
            report_deliveries::created_at.desc(),
            report_deliveries::id.desc(),
        ))
        .limit(limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(to_delivery)
        .collect()
}

/// The latest edition delivered to `agency` for exactly `[from, to)`.
pub fn latest_edition(
    conn: &mut DbConnection,
    agency: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<Delivery>, StoreError> {
    let filter = DeliveryFilter {
        agency_id: Some(agency),
        period_from: Some(from),
        period_to: Some(to),
    };
    Ok(list_deliveries(conn, &filter, 1000)?
        .into_iter()
        .filter(|d| d.period_from == from && d.period_to == to)
        .max_by_key(|d| d.edition))
}

/// Periods as `[from, to)`.
pub type PeriodSpans = std::collections::HashSet<(DateTime<Utc>, DateTime<Utc>)>;

/// The periods delivered to `agency` that start at or after `since`: one read for all the
/// periods the scheduler checks.
pub fn delivered_periods_of(
    conn: &mut DbConnection,
    agency: Uuid,
    since: DateTime<Utc>,
) -> Result<PeriodSpans, StoreError> {
    let rows: Vec<(NaiveDateTime, NaiveDateTime)> = report_deliveries::table
        .filter(report_deliveries::agency_id.eq(agency.to_string()))
        .filter(report_deliveries::period_from.ge(to_db_time(since)))
        .select((report_deliveries::period_from, report_deliveries::period_to))
        .distinct()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(from, to)| (from_db_time(from), from_db_time(to)))
        .collect())
}

/// A delivery to record.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub period: String,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    pub edition: i32,
    pub trigger: &'static str,
    pub requested_by: Option<Uuid>,
    pub interruptions: i32,
    pub outbox_id: Uuid,
}

/// Inserts the delivery (after its outbox row, in the same transaction). A concurrent
/// delivery of the same edition makes this fail with a unique violation.
pub fn insert_delivery(
    conn: &mut DbConnection,
    delivery: &NewDelivery,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(report_deliveries::table)
        .values((
            report_deliveries::id.eq(delivery.id.to_string()),
            report_deliveries::agency_id.eq(delivery.agency_id.to_string()),
            report_deliveries::period.eq(&delivery.period),
            report_deliveries::period_from.eq(to_db_time(delivery.period_from)),
            report_deliveries::period_to.eq(to_db_time(delivery.period_to)),
            report_deliveries::edition.eq(delivery.edition),
            report_deliveries::trigger.eq(delivery.trigger),
            report_deliveries::requested_by.eq(delivery.requested_by.map(|id| id.to_string())),
            report_deliveries::interruptions.eq(delivery.interruptions),
            report_deliveries::outbox_id.eq(Some(delivery.outbox_id.to_string())),
            report_deliveries::created_at.eq(to_db_time(truncate_to_micros(now))),
        ))
        .execute(conn)?;
    Ok(())
}
