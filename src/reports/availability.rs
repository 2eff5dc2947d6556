//! The availability report (`GET /reports/availability`): each system's uptime over a period
//! and its outages (start, end, business seconds counted, or why none were), under the rules
//! and calendar of the first availability SLA that measures the system (`24x7` and the
//! default rules otherwise).

use super::load_monitored::{calendar_error, measured_span};
use super::monitored::{NOT_MEASURED, percent_two};
use super::words::{last_local_day, local_day, local_minute};
use crate::db::monitoring_history::load_history;
use crate::db::systems::System;
use crate::db::{DbConnection, StoreError};
use crate::sla::SlaEngine;
use crate::sla::availability::{AvailabilityRules, measure_availability};
use crate::sla::availability_outages::system_outages;
use crate::sla::monitored::MonitoredMeasure;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One reported down stretch of a system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutageRow {
    pub start: DateTime<Utc>,
    /// `null` while it goes on.
    pub end: Option<DateTime<Utc>>,
    /// Business seconds of downtime counted inside the period.
    pub counted_seconds: i64,
    /// Why it counted none: `shorter_than_min_outage`, `maintenance` or
    /// `outside_calendar_hours`; `null` when it counted.
    #[schema(max_length = 30)]
    pub excluded: Option<String>,
}

/// One system's availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SystemAvailability {
    #[schema(max_length = 50)]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// The SLA whose rules and calendar measure it (`null`: none; `24x7`, default rules).
    #[schema(max_length = 10)]
    pub sla: Option<String>,
    #[schema(max_length = 50)]
    pub calendar: String,
    pub counted_seconds: i64,
    pub downtime_seconds: i64,
    /// `null` when nothing was counted.
    #[schema(format = Double)]
    pub measured_percent: Option<f64>,
    #[schema(format = Double)]
    pub coverage: Option<f64>,
    #[schema(max_items = 100000)]
    pub outages: Vec<OutageRow>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AvailabilityReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    #[schema(max_items = 10000)]
    pub systems: Vec<SystemAvailability>,
}

/// The report for `systems` over `[from, to)` at `now`.
pub fn availability_report(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    systems: &[System],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<AvailabilityReport, StoreError> {
    let (span_from, span_to) = measured_span(from, to, now);
    let mut rows = Vec::with_capacity(systems.len());
    for system in systems {
        let measuring = engine.monitored.iter().find_map(|sla| match &sla.measure {
            MonitoredMeasure::Availability { rules, .. } if sla.systems.contains(&system.code) => {
                Some((sla.code.clone(), *rules, sla.calendar.clone()))
            }
            _ => None,
        });
        let (sla, rules, calendar_name) = match measuring {
            Some((code, rules, calendar)) => (Some(code), rules, calendar),
            None => (None, AvailabilityRules::default(), "24x7".to_owned()),
        };
        let calendar = engine
            .calendar(&calendar_name)
            .ok_or(StoreError::NotFound("calendar"))?;
        let history = load_history(conn, &system.code, span_from, span_to)?;
        let figures = measure_availability(
            std::slice::from_ref(&history),
            &rules,
            calendar,
            span_from,
            span_to,
            now,
        )
        .map_err(calendar_error)?;
        let outages = system_outages(&history, &rules, calendar, span_from, span_to, now)
            .map_err(calendar_error)?
            .into_iter()
            .map(|o| OutageRow {
                start: o.start,
                end: o.end,
                counted_seconds: o.counted_seconds,
                excluded: o.excluded.map(|e| e.as_str().to_owned()),
            })
            .collect();
        rows.push(SystemAvailability {
            code: system.code.clone(),
            name: system.name.clone(),
            sla,
            calendar: calendar_name,
            counted_seconds: figures.counted_seconds,
            downtime_seconds: figures.downtime_seconds,
            measured_percent: figures.measured().map(|m| m * 100.0),
            coverage: figures.coverage(),
            outages,
        });
    }
    Ok(AvailabilityReport {
        from,
        to,
        generated_at: now,
        systems: rows,
    })
}

impl AvailabilityReport {
    pub fn to_csv(&self) -> String {
        let mut csv = super::spreadsheet::SafeCsv::default();
        csv.row(["system", "start", "end", "counted_seconds", "excluded"]);
        for system in &self.systems {
            for outage in &system.outages {
                csv.row([
                    system.code.clone(),
                    outage.start.to_rfc3339(),
                    outage.end.map(|e| e.to_rfc3339()).unwrap_or_default(),
                    outage.counted_seconds.to_string(),
                    outage.excluded.clone().unwrap_or_default(),
                ]);
            }
        }
        csv.finish()
    }

    fn measured(system: &SystemAvailability) -> String {
        system
            .measured_percent
            .map_or_else(|| NOT_MEASURED.into(), percent_two)
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Disponibilità dei sistemi dal {} al {}\n",
            local_day(self.from),
            last_local_day(self.to)
        );
        for system in &self.systems {
            out.push_str(&format!(
                "\n{} ({}): {}, {} interruzioni\n",
                system.code,
                system.name,
                Self::measured(system),
                system
                    .outages
                    .iter()
                    .filter(|o| o.excluded.is_none())
                    .count()
            ));
            for outage in &system.outages {
                out.push_str(&format!(
                    "  {} - {} {:>8} s {}\n",
                    local_minute(outage.start),
                    outage
                        .end
                        .map(local_minute)
                        .unwrap_or_else(|| "in corso".into()),
                    outage.counted_seconds,
                    outage.excluded.as_deref().unwrap_or("")
                ));
            }
        }
        out
    }

    pub fn to_html(&self, centre_name: &str) -> Result<String, String> {
        let systems: Vec<serde_json::Value> = self
            .systems
            .iter()
            .map(|system| {
                serde_json::json!({
                    "code": system.code,
                    "name": system.name,
                    "calendar": system.calendar,
                    "measured": Self::measured(system),
                    "outage_count": system.outages.iter().filter(|o| o.excluded.is_none()).count(),
                    "outages": system.outages.iter().map(|o| serde_json::json!({
                        "start": local_minute(o.start),
                        "end": o.end.map(local_minute),
                        "counted_seconds": o.counted_seconds,
                        "excluded": o.excluded,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        crate::templates::render(
            "availability.html",
            serde_json::json!({
                "title": "Disponibilità dei sistemi",
                "generated": local_minute(self.generated_at),
                "centre_name": centre_name,
                "from": local_day(self.from),
                "to": last_local_day(self.to),
                "systems": systems,
            }),
        )
    }
}
