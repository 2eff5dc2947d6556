//! The malfunction report of SPEC §4 (SLA.11): for one agency and period, every interruption
//! of its services, with its start, end and duration (whole, and within the period), cause
//! and actions, and when the agency and the public were told against SLA.9 and SLA.10.

use super::words::{duration_words, last_local_day, local_day, local_minute};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One interruption as stored, with what the report needs of its ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct InterruptionFacts {
    pub ticket_id: Uuid,
    pub number: String,
    pub subject: String,
    pub services: Vec<String>,
    pub cause: Option<String>,
    pub actions_taken: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub intervention_started_at: Option<DateTime<Utc>>,
    pub agency_notified_at: Option<DateTime<Utc>>,
    pub users_notified_at: Option<DateTime<Utc>>,
    /// The clocks' states now (`None`: the SLA does not apply).
    pub sla9: Option<String>,
    pub sla10: Option<String>,
}

/// One row: an interruption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MalfunctionRow {
    #[schema(max_length = 20)]
    pub number: String,
    pub ticket_id: Uuid,
    #[schema(max_length = 200)]
    pub subject: String,
    /// The affected services, comma-separated.
    #[schema(max_length = 2000)]
    pub services: String,
    pub started_at: DateTime<Utc>,
    /// `null` while it goes on.
    pub ended_at: Option<DateTime<Utc>>,
    /// From start to end (to the report's instant while it goes on).
    pub duration_seconds: i64,
    /// The part within the period.
    pub duration_in_period_seconds: i64,
    #[schema(max_length = 10000)]
    pub cause: Option<String>,
    #[schema(max_length = 10000)]
    pub actions_taken: Option<String>,
    pub intervention_started_at: Option<DateTime<Utc>>,
    /// When the agency was told (the first `notify_agency`), and SLA.9's state.
    pub agency_notified_at: Option<DateTime<Utc>>,
    #[schema(max_length = 20)]
    pub sla9: Option<String>,
    /// When the public was told (the first `notify_users`), and SLA.10's state (`null`: it
    /// does not apply, the interruption lasted 30 minutes or less).
    pub users_notified_at: Option<DateTime<Utc>>,
    #[schema(max_length = 20)]
    pub sla10: Option<String>,
}

/// The totals of the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MalfunctionTotals {
    pub interruptions: i64,
    pub duration_in_period_seconds: i64,
    pub sla9_met: i64,
    pub sla9_breached: i64,
    pub sla10_met: i64,
    pub sla10_breached: i64,
}

/// The agency a report is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportAgency {
    pub id: Uuid,
    #[schema(max_length = 50)]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MalfunctionReport {
    /// `null`: every agency.
    pub agency: Option<ReportAgency>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    #[schema(max_items = 100000)]
    pub rows: Vec<MalfunctionRow>,
    pub totals: MalfunctionTotals,
}

impl MalfunctionReport {
    /// The interruptions that overlap `[from, to)`, oldest first, as seen at `now`.
    pub fn build(
        agency: Option<ReportAgency>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
        mut facts: Vec<InterruptionFacts>,
    ) -> MalfunctionReport {
        facts.sort_by(|a, b| (a.started_at, &a.number).cmp(&(b.started_at, &b.number)));
        let mut totals = MalfunctionTotals::default();
        let rows: Vec<MalfunctionRow> = facts
            .into_iter()
            .filter(|f| f.started_at < to && f.ended_at.is_none_or(|end| end > from))
            .map(|f| {
                let end = f.ended_at.unwrap_or(now.max(f.started_at));
                let clipped = (end.min(to) - f.started_at.max(from)).num_seconds().max(0);
                totals.interruptions += 1;
                totals.duration_in_period_seconds += clipped;
                for (state, met, breached) in [
                    (&f.sla9, &mut totals.sla9_met, &mut totals.sla9_breached),
                    (&f.sla10, &mut totals.sla10_met, &mut totals.sla10_breached),
                ] {
                    match state.as_deref() {
                        Some("met") => *met += 1,
                        Some("breached") => *breached += 1,
                        _ => {}
                    }
                }
                MalfunctionRow {
                    number: f.number,
                    ticket_id: f.ticket_id,
                    subject: f.subject,
                    services: f.services.join(", "),
                    started_at: f.started_at,
                    ended_at: f.ended_at,
                    duration_seconds: (end - f.started_at).num_seconds(),
                    duration_in_period_seconds: clipped,
                    cause: f.cause,
                    actions_taken: f.actions_taken,
                    intervention_started_at: f.intervention_started_at,
                    agency_notified_at: f.agency_notified_at,
                    sla9: f.sla9,
                    users_notified_at: f.users_notified_at,
                    sla10: f.sla10,
                }
            })
            .collect();
        MalfunctionReport {
            agency,
            from,
            to,
            generated_at: now,
            rows,
            totals,
        }
    }

    pub const CSV_HEADER: [&'static str; 15] = [
        "number",
        "subject",
        "services",
        "started_at",
        "ended_at",
        "duration_seconds",
        "duration_in_period_seconds",
        "cause",
        "actions_taken",
        "intervention_started_at",
        "agency_notified_at",
        "sla9",
        "users_notified_at",
        "sla10",
        "ticket_id",
    ];

    /// One line per interruption, instants in RFC 3339 UTC.
    pub fn to_csv(&self) -> String {
        let mut csv = super::spreadsheet::SafeCsv::default();
        csv.row(Self::CSV_HEADER);
        let instant = |at: Option<DateTime<Utc>>| {
            at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        for row in &self.rows {
            csv.row([
                row.number.clone(),
                row.subject.clone(),
                row.services.clone(),
                instant(Some(row.started_at)),
                instant(row.ended_at),
                row.duration_seconds.to_string(),
                row.duration_in_period_seconds.to_string(),
                row.cause.clone().unwrap_or_default(),
                row.actions_taken.clone().unwrap_or_default(),
                instant(row.intervention_started_at),
                instant(row.agency_notified_at),
                row.sla9.clone().unwrap_or_default(),
                instant(row.users_notified_at),
                row.sla10.clone().unwrap_or_default(),
                row.ticket_id.to_string(),
            ]);
        }
        csv.finish()
    }

    /// What the templates show: local times, durations in words, Italian states.
    fn view(&self) -> serde_json::Value {
        let local = |at: Option<DateTime<Utc>>| at.map(local_minute);
        let state = |s: &Option<String>| match s.as_deref() {
            Some("met") => "rispettato",
            Some("breached") => "non rispettato",
            Some("running") => "in corso",
            Some(_) => "sospeso",
            None => "non applicabile",
        };
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "number": row.number,
                    "subject": row.subject,
                    "services": row.services,
                    "started": local(Some(row.started_at)),
                    "ended": local(row.ended_at),
                    "duration": duration_words(row.duration_seconds),
                    "duration_in_period": duration_words(row.duration_in_period_seconds),
                    "clipped": row.duration_in_period_seconds != row.duration_seconds,
                    "cause": row.cause,
                    "actions_taken": row.actions_taken,
                    "intervention": local(row.intervention_started_at),
                    "agency_notified": local(row.agency_notified_at),
                    "sla9": state(&row.sla9),
                    "users_notified": local(row.users_notified_at),
                    "sla10": state(&row.sla10),
                })
            })
            .collect();
        serde_json::json!({
            "title": "Report dei malfunzionamenti (SLA.11)",
            "generated": local(Some(self.generated_at)),
            "agency": self.agency,
            "from": local_day(self.from),
            "to": last_local_day(self.to),
            "rows": rows,
            "totals": self.totals,
            "total_duration": duration_words(self.totals.duration_in_period_seconds),
        })
    }

    /// The plain-text version (the e-mail's text part, the CLI's `text` format).
    pub fn to_text(&self, centre_name: &str) -> Result<String, String> {
        let mut view = self.view();
        view["centre_name"] = centre_name.into();
        crate::templates::render("malfunction_report.txt", view)
    }

    /// The HTML version (the e-mail's HTML part, the API's `text/html`).
    pub fn to_html(&self, centre_name: &str) -> Result<String, String> {
        let mut view = self.view();
        view["centre_name"] = centre_name.into();
        crate::templates::render("malfunction_report.html", view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn interruption(number: &str, start: &str, end: Option<&str>) -> InterruptionFacts {
        InterruptionFacts {
            ticket_id: Uuid::now_v7(),
            number: number.into(),
            subject: "Portale giù".into(),
            services: vec!["Portale".into()],
            cause: None,
            actions_taken: None,
            started_at: at(start),
            ended_at: end.map(at),
            intervention_started_at: None,
            agency_notified_at: None,
            users_notified_at: None,
            sla9: Some("met".into()),
            sla10: None,
        }
    }

    #[test]
    fn an_interruption_across_the_boundary_is_listed_once_with_both_durations() {
        let report = MalfunctionReport::build(
            None,
            at("2016-09-30T22:00:00Z"),
            at("2016-12-31T23:00:00Z"),
            at("2017-02-01T00:00:00Z"),
            vec![
                interruption(
                    "2016-000002",
                    "2016-12-31T22:00:00Z",
                    Some("2017-01-01T01:00:00Z"),
                ),
                interruption(
                    "2016-000001",
                    "2016-09-30T21:00:00Z",
                    Some("2016-09-30T22:00:00Z"),
                ),
                interruption(
                    "2016-000003",
                    "2016-10-10T08:00:00Z",
                    Some("2016-10-10T09:30:00Z"),
                ),
            ],
        );
        let numbers: Vec<&str> = report.rows.iter().map(|r| r.number.as_str()).collect();
        assert_eq!(
            numbers,
            ["2016-000003", "2016-000002"],
            "one that ended at `from` is out"
        );
        assert_eq!(report.rows[1].duration_seconds, 3 * 3600);
        assert_eq!(report.rows[1].duration_in_period_seconds, 3600);
        assert_eq!(report.totals.interruptions, 2);
        assert_eq!(report.totals.duration_in_period_seconds, 5400 + 3600);
        assert_eq!(report.totals.sla9_met, 2);
    }
}
