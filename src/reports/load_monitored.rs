//! SLA.1–SLA.5 from the database: each SLA's systems' histories read for the period, then
//! measured by the pure engine. The compliance table and the availability report get them
//! here, whoever asks (API, CLI).

use super::monitored::{availability_row, response_row};
use super::sla_compliance::SlaComplianceRow;
use crate::db::monitoring_history::{load_history, response_statistic};
use crate::db::{DbConnection, StoreError};
use crate::sla::SlaEngine;
use crate::sla::availability::measure_availability;
use crate::sla::monitored::MonitoredMeasure;
use chrono::{DateTime, Utc};

/// The years the calendars answer for bound an open-ended period; the future is not measured.
pub fn measured_span(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let earliest = DateTime::from_timestamp(0, 0).expect("the epoch");
    let from = from.max(earliest);
    (from, to.min(now).max(from))
}

pub fn calendar_error(error: crate::sla::CalendarError) -> StoreError {
    StoreError::Invalid(crate::domain::Invalid::one("to", error.to_string()))
}

/// The rows SLA.1–SLA.5 for `[from, to)` at `now`.
pub fn monitored_rows(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<SlaComplianceRow>, StoreError> {
    let (from, to) = measured_span(from, to, now);
    let mut rows = Vec::with_capacity(engine.monitored.len());
    for sla in &engine.monitored {
        let row = match &sla.measure {
            MonitoredMeasure::Availability {
                rules,
                target_percent,
            } => {
                let members = sla
                    .systems
                    .iter()
                    .map(|system| load_history(conn, system, from, to))
                    .collect::<Result<Vec<_>, _>>()?;
                let calendar = engine
                    .calendar(&sla.calendar)
                    .ok_or(StoreError::NotFound("calendar"))?;
                let figures = measure_availability(&members, rules, calendar, from, to, now)
                    .map_err(calendar_error)?;
                availability_row(sla, *target_percent, &figures)
            }
            MonitoredMeasure::ResponseTime {
                target_ms,
                statistic,
            } => {
                let figures = response_statistic(conn, &sla.systems, from, to, *statistic)?;
                response_row(sla, *target_ms, *statistic, &figures)
            }
        };
        rows.push(row);
    }
    Ok(rows)
}
