//! Building the periodic reports from the database: the one place the API, the CLI, the
//! scheduler and the deliveries get them from.

use super::malfunctions::{InterruptionFacts, MalfunctionReport, ReportAgency};
use super::sla_compliance::{
    ReportCadence, SlaComplianceReport, TicketSla, report_row, ticket_row,
};
use crate::db::report_data::{clock_tally, delivered_periods, interruption_events, interruptions};
use crate::db::{DbConnection, StoreError};
use crate::domain::Action;
use crate::domain::ticket::Agency;
use crate::sla::SlaEngine;
use crate::sla::interruptions::{first_at_or_after, interruption_windows};
use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

/// What the compliance table compares against.
#[derive(Debug, Clone, Copy)]
pub struct Expectations {
    /// Share of clocks each ticket SLA should meet (1.0: every one).
    pub share: f64,
    /// SLA.11: the contract's reporting cadence in months.
    pub report_months: i64,
}

/// The SLA compliance table for tickets reported in `[from, to)` (of `agency`), at `now`.
pub fn sla_compliance(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    expectations: Expectations,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    agency: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<SlaComplianceReport, StoreError> {
    // SLA.1–SLA.5 open the table, as in the annual report.
    let mut rows = super::load_monitored::monitored_rows(conn, engine, from, to, now)?;
    for policy in &engine.policies {
        let tally = clock_tally(conn, &policy.code, from, to, agency, now)?;
        let sla = TicketSla {
            code: policy.code.clone(),
            commitment: policy.commitment.clone(),
            target_seconds: policy.target_seconds,
            calendar: policy.calendar.clone(),
        };
        rows.push(ticket_row(&sla, &tally, expectations.share));
    }
    let periods = delivered_periods(conn, from, to, agency)?;
    // An open-ended window is measured over the delivered periods themselves.
    let window_from = if from.year() <= 1 {
        periods.iter().map(|p| p.0).min().unwrap_or(from)
    } else {
        from
    };
    let window_to = if to.year() >= 9999 {
        periods.iter().map(|p| p.1).max().unwrap_or(to)
    } else {
        to
    };
    rows.push(report_row(&ReportCadence {
        expected_months: expectations.report_months,
        window_months: months_between(window_from, window_to),
        periods_delivered: periods.len() as i64,
    }));
    Ok(SlaComplianceReport {
        from,
        to,
        agency_id: agency,
        generated_at: now,
        rows,
    })
}

/// Calendar months between two instants, counted on local (Rome) dates: a quarter is 3.
pub fn months_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    let zone = chrono_tz::Europe::Rome;
    let (a, b) = (from.with_timezone(&zone), to.with_timezone(&zone));
    let whole = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
    let days = b.day() as f64 - a.day() as f64;
    (whole as f64 + days / 30.0).max(0.0)
}

/// The malfunction report of `agency` (or of every agency) for `[from, to)`, at `now`.
pub fn malfunctions(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    agency: Option<&Agency>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<MalfunctionReport, StoreError> {
    let rows = interruptions(conn, from, to, agency.map(|a| a.id))?;
    let mut ticket_ids: Vec<Uuid> = rows.iter().map(|r| r.ticket_id).collect();
    ticket_ids.sort_unstable();
    ticket_ids.dedup();
    let events = interruption_events(conn, &ticket_ids)?;
    let clocks = crate::db::clocks::load_clocks(conn, &ticket_ids)?;
    // Each interruption's own clocks (SPEC §10), found by its start.
    let state_of = |ticket_id: &Uuid, code: &str, started: DateTime<Utc>| -> Option<String> {
        let stored = clocks.get(ticket_id)?.iter().find(|c| {
            c.clock.code == code
                && c.clock
                    .interruption
                    .is_some_and(|i| i.started_at == started)
        })?;
        let calendar = engine.calendar(&stored.clock.calendar)?;
        let view = stored.clock.view(calendar, now).ok()??;
        Some(view.state.as_str().to_owned())
    };
    // Each ticket's interruptions once, whatever number of them the period holds.
    let windows: std::collections::HashMap<Uuid, Vec<_>> = events
        .iter()
        .map(|(id, events)| (*id, interruption_windows(events.iter().copied())))
        .collect();
    let facts = rows
        .into_iter()
        .map(|row| {
            let events = events.get(&row.ticket_id).map_or(&[][..], Vec::as_slice);
            let intervention = windows
                .get(&row.ticket_id)
                .and_then(|ws| {
                    ws.iter()
                        .find(|w| w.interruption.started_at == row.started_at)
                })
                .and_then(|w| w.intervention_started_at);
            // Told about this interruption: the first notice from its intervention on.
            let from = intervention.unwrap_or(row.started_at);
            let told = |action| first_at_or_after(events.iter().copied(), &[action], from);
            InterruptionFacts {
                sla9: state_of(&row.ticket_id, "SLA.9", row.started_at),
                sla10: state_of(&row.ticket_id, "SLA.10", row.started_at),
                agency_notified_at: told(Action::NotifyAgency),
                users_notified_at: told(Action::NotifyUsers),
                intervention_started_at: intervention,
                ticket_id: row.ticket_id,
                number: row.number,
                subject: row.subject,
                services: row.services,
                cause: row.cause,
                actions_taken: row.actions_taken,
                started_at: row.started_at,
                ended_at: row.ended_at,
            }
        })
        .collect();
    let agency = agency.map(|a| ReportAgency {
        id: a.id,
        code: a.code.clone(),
        name: a.name.clone(),
    });
    Ok(MalfunctionReport::build(agency, from, to, now, facts))
}
