//! One system's outages over a period, as the availability report lists them: each reported
//! down stretch with the business seconds it counted, or why it counted none (a flap shorter
//! than `min_outage_seconds`, a maintenance window, outside the calendar's hours). Pure.

use super::availability::{
    AvailabilityRules, Counted, HealthState, SystemHistory, member_timeline, reported_stretches,
};
use super::calendar::{Calendar, CalendarError};
use chrono::{DateTime, Utc};

const MICROS: i64 = 1_000_000;

/// Why a down stretch counted nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    ShorterThanMinOutage,
    Maintenance,
    OutsideCalendarHours,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::ShorterThanMinOutage => "shorter_than_min_outage",
            Exclusion::Maintenance => "maintenance",
            Exclusion::OutsideCalendarHours => "outside_calendar_hours",
        }
    }
}

/// One reported down stretch of a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemOutage {
    pub start: DateTime<Utc>,
    /// `None` while it goes on at `now`.
    pub end: Option<DateTime<Utc>>,
    /// Business seconds of downtime it counted inside the period.
    pub counted_seconds: i64,
    pub excluded: Option<Exclusion>,
}

fn instant(micros: i64) -> Result<DateTime<Utc>, CalendarError> {
    DateTime::from_timestamp_micros(micros).ok_or(CalendarError::OutOfRange)
}

/// The reported down stretches of `history` that overlap `[from, to)`, as known at `now`.
pub fn system_outages(
    history: &SystemHistory,
    rules: &AvailabilityRules,
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<SystemOutage>, CalendarError> {
    let horizon = now.timestamp_micros();
    let (from, to) = (from.timestamp_micros(), to.timestamp_micros().min(horizon));
    let timeline = member_timeline(history, rules, horizon);
    let windows: Vec<(i64, i64)> = history
        .maintenance
        .iter()
        .map(|w| (w.start.timestamp_micros(), w.end.timestamp_micros()))
        .collect();
    let mut outages = Vec::new();
    for stretch in reported_stretches(&history.states, horizon) {
        if stretch.state != HealthState::Down || stretch.end <= from || stretch.start >= to {
            continue;
        }
        let shortest = rules.min_outage_seconds.saturating_mul(MICROS);
        let mut counted = 0;
        for part in timeline
            .iter()
            .filter(|t| t.state == Counted::Down && t.start < stretch.end && t.end > stretch.start)
        {
            let (start, end) = (part.start.max(from), part.end.min(to));
            if start < end {
                counted += calendar.elapsed_micros(start, end)?;
            }
        }
        let excluded = if stretch.end - stretch.start < shortest {
            Some(Exclusion::ShorterThanMinOutage)
        } else if counted > 0 {
            None
        } else if windows
            .iter()
            .any(|&(s, e)| s < stretch.end && e > stretch.start)
        {
            Some(Exclusion::Maintenance)
        } else {
            Some(Exclusion::OutsideCalendarHours)
        };
        outages.push(SystemOutage {
            start: instant(stretch.start)?,
            end: (stretch.end < horizon)
                .then(|| instant(stretch.end))
                .transpose()?,
            counted_seconds: counted / MICROS,
            excluded,
        });
    }
    Ok(outages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::availability::{StateReport, Window};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn report(time: &str, state: HealthState) -> StateReport {
        StateReport {
            at: at(time),
            state,
            hard: true,
        }
    }

    #[test]
    fn each_outage_says_what_it_counted_or_why_not() {
        use HealthState::{Down, Up};
        let history = SystemHistory {
            states: vec![
                report("2016-01-04T00:00:00Z", Up),
                report("2016-01-04T09:00:00Z", Down), // Monday 10:00 in Rome: an hour
                report("2016-01-04T10:00:00Z", Up),
                report("2016-01-04T11:00:00Z", Down), // thirty seconds: a flap
                report("2016-01-04T11:00:30Z", Up),
                report("2016-01-04T20:00:00Z", Down), // 21:00 in Rome: closed
                report("2016-01-04T21:00:00Z", Up),
                report("2016-01-05T12:00:00Z", Down), // inside maintenance
                report("2016-01-05T12:30:00Z", Up),
            ],
            maintenance: vec![Window {
                start: at("2016-01-05T11:00:00Z"),
                end: at("2016-01-05T13:00:00Z"),
            }],
        };
        let rules = AvailabilityRules {
            min_outage_seconds: 60,
            ..AvailabilityRules::default()
        };
        let outages = system_outages(
            &history,
            &rules,
            &Calendar::italian_default(),
            at("2016-01-04T00:00:00Z"),
            at("2016-01-06T00:00:00Z"),
            at("2016-02-01T00:00:00Z"),
        )
        .unwrap();
        let summary: Vec<(i64, Option<Exclusion>)> = outages
            .iter()
            .map(|o| (o.counted_seconds, o.excluded))
            .collect();
        assert_eq!(
            summary,
            [
                (3600, None),
                (0, Some(Exclusion::ShorterThanMinOutage)),
                (0, Some(Exclusion::OutsideCalendarHours)),
                (0, Some(Exclusion::Maintenance)),
            ]
        );
    }
}
