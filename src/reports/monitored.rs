//! SLA.1–SLA.5 in the compliance table, in the centre's form (`99,00 %`, `+0,92 %`, `7 ms`,
//! `0 %`, "non rilevato") and in numbers. Pure: the figures come from `sla::availability` and
//! `sla::response_time`.

use super::sla_compliance::SlaComplianceRow;
use crate::sla::availability::AvailabilityFigures;
use crate::sla::monitored::MonitoredSla;
use crate::sla::response_time::{ResponseFigures, Statistic};

/// What an SLA shows when nothing was measured.
pub const NOT_MEASURED: &str = "non rilevato";

/// `99.0` → "99,00 %".
pub fn percent_two(value: f64) -> String {
    format!("{value:.2} %").replace('.', ",")
}

/// `0.92` → "+0,92 %"; what rounds to zero → "0 %".
pub fn signed_percent(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded == 0.0 {
        "0 %".into()
    } else {
        format!("{rounded:+.2} %").replace('.', ",")
    }
}

/// `7.0` → "7 ms", `7.125` → "7,13 ms".
pub fn milliseconds(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{} ms", text.replace('.', ","))
}

/// The row of an availability SLA.
pub fn availability_row(
    sla: &MonitoredSla,
    target_percent: f64,
    figures: &AvailabilityFigures,
) -> SlaComplianceRow {
    let measured_percent = figures.measured().map(|m| m * 100.0);
    let deviation = figures.deviation_points(target_percent);
    SlaComplianceRow {
        code: sla.code.clone(),
        commitment: sla.commitment.clone(),
        expected: percent_two(target_percent),
        measured: measured_percent.map_or_else(|| NOT_MEASURED.into(), percent_two),
        deviation: deviation.map_or_else(|| "—".into(), signed_percent),
        calendar: Some(sla.calendar.clone()),
        deviation_points: deviation,
        expected_percent: Some(target_percent),
        measured_percent,
        counted_seconds: Some(figures.counted_seconds),
        downtime_seconds: Some(figures.downtime_seconds),
        coverage: figures.coverage(),
        outages: Some(figures.outages.len() as i64),
        ..SlaComplianceRow::default()
    }
}

/// The row of a response-time SLA.
pub fn response_row(
    sla: &MonitoredSla,
    target_ms: f64,
    statistic: Statistic,
    figures: &ResponseFigures,
) -> SlaComplianceRow {
    let deviation = figures.deviation_percent(target_ms);
    SlaComplianceRow {
        code: sla.code.clone(),
        commitment: sla.commitment.clone(),
        expected: milliseconds(target_ms),
        measured: figures
            .measured_ms
            .map_or_else(|| NOT_MEASURED.into(), milliseconds),
        deviation: deviation.map_or_else(|| "—".into(), signed_percent),
        deviation_percent: deviation,
        expected_ms: Some(target_ms),
        measured_ms: figures.measured_ms,
        samples: Some(figures.samples),
        statistic: Some(statistic.as_str().into()),
        ..SlaComplianceRow::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_the_centres_table() {
        assert_eq!(percent_two(99.0), "99,00 %");
        assert_eq!(percent_two(99.9166), "99,92 %");
        assert_eq!(signed_percent(0.9166), "+0,92 %");
        assert_eq!(signed_percent(-1.757), "-1,76 %");
        assert_eq!(signed_percent(0.001), "0 %");
        assert_eq!(milliseconds(7.0), "7 ms");
        assert_eq!(milliseconds(7.126), "7,13 ms");
        assert_eq!(milliseconds(7.5), "7,5 ms");
    }
}
