//! The SLA compliance table of SPEC §5, one row per SLA as in the annual report: expected
//! (ATTESO), measured (RILEVATO), deviation (SCOSTAMENTO). For the ticket SLAs the measure
//! is the share of decided clocks that were met, with the counts and the median and 90th
//! percentile of the time counted; for SLA.11, the cadence of the delivered reports.

use super::words::{duration_words, last_local_day, local_day, local_minute};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What was measured of one ticket SLA's clocks in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClockTally {
    pub met: i64,
    pub breached: i64,
    pub running: i64,
    /// The time counted by each stopped clock (met or breached), in the SLA's calendar.
    pub elapsed_seconds: Vec<i64>,
}

/// A ticket SLA as configured.
#[derive(Debug, Clone)]
pub struct TicketSla {
    pub code: String,
    pub commitment: String,
    pub target_seconds: i64,
    pub calendar: String,
}

/// The malfunction reports delivered for the period (SLA.11).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportCadence {
    /// The contract's cadence.
    pub expected_months: i64,
    /// The period's length in months.
    pub window_months: f64,
    /// Distinct periods for which a report was delivered.
    pub periods_delivered: i64,
}

/// One row of the table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlaComplianceRow {
    /// `SLA.1` … `SLA.11`.
    #[schema(max_length = 10)]
    pub code: String,
    #[schema(max_length = 300)]
    pub commitment: String,
    /// ATTESO, as the report writes it.
    #[schema(max_length = 100)]
    pub expected: String,
    /// RILEVATO.
    #[schema(max_length = 100)]
    pub measured: String,
    /// SCOSTAMENTO.
    #[schema(max_length = 100)]
    pub deviation: String,
    /// Ticket SLAs: the target and the calendar that counts it.
    pub target_seconds: Option<i64>,
    #[schema(max_length = 50)]
    pub calendar: Option<String>,
    /// Ticket SLAs: the share of clocks expected to be met (0 to 1).
    #[schema(format = Double)]
    pub expected_share: Option<f64>,
    /// Ticket SLAs: met / (met + breached); `null` when none was decided.
    #[schema(format = Double)]
    pub measured_share: Option<f64>,
    /// Ticket SLAs: measured minus expected share, in percentage points.
    #[schema(format = Double)]
    pub deviation_points: Option<f64>,
    pub met: Option<i64>,
    pub breached: Option<i64>,
    /// Clocks still running (within their deadline, or paused).
    pub running: Option<i64>,
    /// Of the stopped clocks (nearest rank).
    pub median_elapsed_seconds: Option<i64>,
    pub p90_elapsed_seconds: Option<i64>,
    /// SLA.11: the contract's cadence and the achieved one, in months.
    pub expected_months: Option<i64>,
    #[schema(format = Double)]
    pub measured_months: Option<f64>,
    /// SLA.11: (expected − achieved) / expected, in percent: positive is better.
    #[schema(format = Double)]
    pub deviation_percent: Option<f64>,
    /// SLA.11: the distinct periods for which reports were delivered.
    pub reports_delivered: Option<i64>,
    /// SLA.1–SLA.5 (availability): the target and the measure in percent (unrounded;
    /// `null` when nothing was counted).
    #[schema(format = Double)]
    pub expected_percent: Option<f64>,
    #[schema(format = Double)]
    pub measured_percent: Option<f64>,
    /// Availability: the calendar's seconds in which the group was up or down, and of those
    /// the seconds it was down.
    pub counted_seconds: Option<i64>,
    pub downtime_seconds: Option<i64>,
    /// Availability: counted / the calendar's seconds of the period (0 to 1).
    #[schema(format = Double)]
    pub coverage: Option<f64>,
    /// Availability: the group's outages that counted downtime in the period.
    pub outages: Option<i64>,
    /// SLA.3 (response time): the target and the statistic measured, in milliseconds.
    #[schema(format = Double)]
    pub expected_ms: Option<f64>,
    #[schema(format = Double)]
    pub measured_ms: Option<f64>,
    /// Response time: the check results counted.
    pub samples: Option<i64>,
    /// Response time: `max`, `p95`, `p99` or `mean`.
    #[schema(max_length = 4)]
    pub statistic: Option<String>,
}

/// The nearest-rank percentile `p` (0 < p ≤ 1) of `sorted` values (the engine's rule, which
/// SLA.3's response times use too).
pub fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    crate::sla::response_time::nearest_rank(sorted, p)
}

/// `0,975` → "97,5 %", the Italian way.
fn percent(share: f64) -> String {
    let text = format!("{:.1}", share * 100.0).replace('.', ",");
    format!("{} %", text.trim_end_matches(",0"))
}

fn signed(value: f64, unit: &str) -> String {
    let text = format!("{:+.1}", value).replace('.', ",");
    format!("{}{unit}", text.trim_end_matches(",0"))
}

/// The row of a ticket SLA.
pub fn ticket_row(sla: &TicketSla, tally: &ClockTally, expected_share: f64) -> SlaComplianceRow {
    let mut sorted = tally.elapsed_seconds.clone();
    sorted.sort_unstable();
    let decided = tally.met + tally.breached;
    let measured_share = (decided > 0).then(|| tally.met as f64 / decided as f64);
    let deviation_points = measured_share.map(|m| (m - expected_share) * 100.0);
    SlaComplianceRow {
        code: sla.code.clone(),
        commitment: sla.commitment.clone(),
        expected: percent(expected_share),
        measured: measured_share.map_or_else(|| "nessun caso".into(), percent),
        deviation: deviation_points.map_or_else(|| "—".into(), |d| signed(d, " punti")),
        target_seconds: Some(sla.target_seconds),
        calendar: Some(sla.calendar.clone()),
        expected_share: Some(expected_share),
        measured_share,
        deviation_points,
        met: Some(tally.met),
        breached: Some(tally.breached),
        running: Some(tally.running),
        median_elapsed_seconds: nearest_rank(&sorted, 0.5),
        p90_elapsed_seconds: nearest_rank(&sorted, 0.9),
        ..SlaComplianceRow::default()
    }
}

/// The SLA.11 row: expected cadence against the achieved one.
pub fn report_row(cadence: &ReportCadence) -> SlaComplianceRow {
    let measured_months = (cadence.periods_delivered > 0)
        .then(|| cadence.window_months / cadence.periods_delivered as f64);
    let expected = cadence.expected_months as f64;
    let deviation_percent = Some(match measured_months {
        Some(measured) => (expected - measured) / expected * 100.0,
        None => -100.0,
    });
    let months = |m: f64| {
        let text = format!("{m:.1}").replace('.', ",");
        format!("ogni {} mesi", text.trim_end_matches(",0"))
    };
    SlaComplianceRow {
        code: "SLA.11".into(),
        commitment: "Report sui malfunzionamenti che hanno determinato interruzioni del \
                     servizio, con i dettagli noti"
            .into(),
        expected: months(expected),
        measured: measured_months.map_or_else(|| "nessun report".into(), months),
        deviation: deviation_percent.map_or_else(|| "—".into(), |d| signed(d, " %")),
        target_seconds: None,
        calendar: None,
        expected_share: None,
        measured_share: None,
        deviation_points: None,
        met: None,
        breached: None,
        running: None,
        median_elapsed_seconds: None,
        p90_elapsed_seconds: None,
        expected_months: Some(cadence.expected_months),
        measured_months,
        deviation_percent,
        reports_delivered: Some(cadence.periods_delivered),
        ..SlaComplianceRow::default()
    }
}

/// The table for a period (and an agency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SlaComplianceReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub agency_id: Option<Uuid>,
    /// The instant at which running clocks were judged.
    pub generated_at: DateTime<Utc>,
    #[schema(max_items = 20)]
    pub rows: Vec<SlaComplianceRow>,
}

impl SlaComplianceReport {
    pub fn to_csv(&self) -> String {
        let mut csv = super::spreadsheet::SafeCsv::default();
        let header = [
            "code",
            "commitment",
            "expected",
            "measured",
            "deviation",
            "met",
            "breached",
            "running",
            "median_elapsed_seconds",
            "p90_elapsed_seconds",
            "measured_percent",
            "counted_seconds",
            "downtime_seconds",
            "coverage",
            "outages",
            "measured_ms",
            "samples",
        ];
        csv.row(header);
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let decimal = |n: Option<f64>| n.map(|n| n.to_string()).unwrap_or_default();
        for row in &self.rows {
            csv.row([
                row.code.clone(),
                row.commitment.clone(),
                row.expected.clone(),
                row.measured.clone(),
                row.deviation.clone(),
                number(row.met),
                number(row.breached),
                number(row.running),
                number(row.median_elapsed_seconds),
                number(row.p90_elapsed_seconds),
                decimal(row.measured_percent),
                number(row.counted_seconds),
                number(row.downtime_seconds),
                decimal(row.coverage),
                number(row.outages),
                decimal(row.measured_ms),
                number(row.samples),
            ]);
        }
        csv.finish()
    }

    /// A fixed-width table for terminals and cron mail.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Livelli di servizio dal {} al {}\n\n{:<7} {:>12} {:>14} {:>14} {:>6} {:>6} {:>6}\n",
            local_day(self.from),
            last_local_day(self.to),
            "SLA",
            "ATTESO",
            "RILEVATO",
            "SCOSTAMENTO",
            "met",
            "breach",
            "run"
        );
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        for row in &self.rows {
            out.push_str(&format!(
                "{:<7} {:>12} {:>14} {:>14} {:>6} {:>6} {:>6}\n",
                row.code,
                row.expected,
                row.measured,
                row.deviation,
                number(row.met),
                number(row.breached),
                number(row.running)
            ));
        }
        out
    }

    /// The table an agency can read; `agency` names it when the report is for one.
    pub fn to_html(&self, centre_name: &str, agency: Option<&str>) -> Result<String, String> {
        let words = |s: Option<i64>| s.map(duration_words);
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut value = serde_json::to_value(row).expect("rows serialize");
                value["median"] = words(row.median_elapsed_seconds).into();
                value["p90"] = words(row.p90_elapsed_seconds).into();
                let deviation = row.deviation_points.or(row.deviation_percent);
                value["tone"] = match deviation {
                    Some(d) if d < 0.0 => "ko",
                    Some(_) => "ok",
                    None => "",
                }
                .into();
                value
            })
            .collect();
        crate::templates::render(
            "sla_compliance.html",
            serde_json::json!({
                "title": "Livelli di servizio",
                "generated": local_minute(self.generated_at),
                "centre_name": centre_name,
                "agency": agency,
                "from": local_day(self.from),
                "to": last_local_day(self.to),
                "rows": rows,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(nearest_rank(&values, 0.5), Some(50));
        assert_eq!(nearest_rank(&values, 0.9), Some(90));
        assert_eq!(nearest_rank(&[7], 0.9), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3], 0.5), Some(2));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }

    #[test]
    fn six_months_expected_three_achieved_is_plus_fifty_percent() {
        let row = report_row(&ReportCadence {
            expected_months: 6,
            window_months: 12.0,
            periods_delivered: 4,
        });
        assert_eq!(row.measured_months, Some(3.0));
        assert_eq!(row.deviation_percent, Some(50.0));
        assert_eq!(
            (
                row.expected.as_str(),
                row.measured.as_str(),
                row.deviation.as_str()
            ),
            ("ogni 6 mesi", "ogni 3 mesi", "+50 %")
        );
    }

    #[test]
    fn a_ticket_row_reads_as_the_annual_report() {
        let sla = TicketSla {
            code: "SLA.6".into(),
            commitment: "Presa in carico".into(),
            target_seconds: 3600,
            calendar: "default".into(),
        };
        let tally = ClockTally {
            met: 39,
            breached: 1,
            running: 2,
            elapsed_seconds: vec![60; 40],
        };
        let row = ticket_row(&sla, &tally, 1.0);
        assert_eq!(
            (
                row.expected.as_str(),
                row.measured.as_str(),
                row.deviation.as_str()
            ),
            ("100 %", "97,5 %", "-2,5 punti")
        );
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;

    #[test]
    fn every_format_renders() {
        let sla = TicketSla {
            code: "SLA.6".into(),
            commitment: "Presa in carico".into(),
            target_seconds: 3600,
            calendar: "default".into(),
        };
        let tally = ClockTally {
            met: 1,
            breached: 0,
            running: 0,
            elapsed_seconds: vec![60],
        };
        let report = SlaComplianceReport {
            from: "2016-01-01T00:00:00Z".parse().unwrap(),
            to: "2017-01-01T00:00:00Z".parse().unwrap(),
            agency_id: None,
            generated_at: "2017-01-01T00:00:00Z".parse().unwrap(),
            rows: vec![
                ticket_row(&sla, &tally, 1.0),
                report_row(&ReportCadence {
                    expected_months: 6,
                    window_months: 12.0,
                    periods_delivered: 0,
                }),
            ],
        };
        let html = report.to_html("CST", Some("Comune di Firenze")).unwrap();
        assert!(html.contains("Comune di Firenze"), "{html}");
        assert!(report.to_text().contains("SLA.11"));
        assert!(report.to_csv().starts_with("code,"));
    }
}
