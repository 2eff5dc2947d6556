//! The SLA engine as configured: the calendars by name and the policies. Computes all of a
//! ticket's clocks and the nearest running deadline.

use super::calendar::{Calendar, CalendarError, Closure};
use super::clock::{Clock, TicketFacts, compute};
use super::monitored::MonitoredSla;
use super::policy::SlaPolicy;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Calendars by name, policies, and the share of a target after which a clock is at risk.
#[derive(Debug, Clone)]
pub struct SlaEngine {
    pub calendars: BTreeMap<String, Arc<Calendar>>,
    pub policies: Vec<SlaPolicy>,
    pub at_risk_share: f64,
    /// Each calendar's version: it grows with every change of its definition or closures,
    /// and every stored clock carries the version it was computed with.
    pub versions: BTreeMap<String, i64>,
    /// SLA.1–SLA.5, measured by monitoring (none unless configured with `with_monitored`).
    pub monitored: Vec<MonitoredSla>,
}

impl SlaEngine {
    /// An engine with `calendars`, refusing policies that name an unknown calendar.
    pub fn new(
        calendars: Vec<Calendar>,
        policies: Vec<SlaPolicy>,
        at_risk_share: f64,
    ) -> Result<SlaEngine, String> {
        let calendars: BTreeMap<_, _> = calendars
            .into_iter()
            .map(|calendar| (calendar.name.clone(), Arc::new(calendar)))
            .collect();
        if let Some(policy) = policies
            .iter()
            .find(|p| !calendars.contains_key(&p.calendar))
        {
            return Err(format!(
                "{} uses calendar `{}`, which does not exist (known: {})",
                policy.code,
                policy.calendar,
                calendars.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !(0.0..=1.0).contains(&at_risk_share) {
            return Err(format!(
                "at-risk share {at_risk_share} is not between 0 and 1"
            ));
        }
        Ok(SlaEngine {
            calendars,
            policies,
            at_risk_share,
            versions: BTreeMap::new(),
            monitored: Vec::new(),
        })
    }

    /// The same engine, knowing the calendars' versions.
    pub fn with_versions(mut self, versions: BTreeMap<String, i64>) -> SlaEngine {
        self.versions = versions;
        self
    }

    /// The same engine, measuring `monitored` (each naming a calendar that exists).
    pub fn with_monitored(mut self, monitored: Vec<MonitoredSla>) -> Result<SlaEngine, String> {
        if let Some(sla) = monitored
            .iter()
            .find(|sla| !self.calendars.contains_key(&sla.calendar))
        {
            return Err(format!(
                "{} uses calendar `{}`, which does not exist (known: {})",
                sla.code,
                sla.calendar,
                self.calendars
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.monitored = monitored;
        Ok(self)
    }

    /// The version of calendar `name` (0 when unknown: a clock computed with it is stale).
    pub fn version_of(&self, name: &str) -> i64 {
        self.versions.get(name).copied().unwrap_or(0)
    }

    /// The calendar that counts `policy` on a ticket: the ticket's agency's calendar for the
    /// business-hour SLAs (those whose own calendar is not open around the clock) when the
    /// agency names one that exists, else the SLA's own.
    pub fn calendar_for(
        &self,
        policy: &SlaPolicy,
        agency_calendar: Option<&str>,
    ) -> &Arc<Calendar> {
        let own = &self.calendars[&policy.calendar];
        match agency_calendar.and_then(|name| self.calendars.get(name)) {
            Some(agency) if !own.always_open => agency,
            _ => own,
        }
    }

    pub fn calendar(&self, name: &str) -> Option<&Arc<Calendar>> {
        self.calendars.get(name)
    }

    pub fn policy(&self, code: &str) -> Option<&SlaPolicy> {
        self.policies.iter().find(|p| p.code == code)
    }

    /// The same engine with `closures` (by calendar name) in place of the current ones.
    pub fn with_closures(
        &self,
        closures: &BTreeMap<String, Vec<Closure>>,
    ) -> Result<SlaEngine, CalendarError> {
        let mut calendars = BTreeMap::new();
        for (name, calendar) in &self.calendars {
            let wanted = closures.get(name).cloned().unwrap_or_default();
            let calendar = if wanted == calendar.closures {
                calendar.clone()
            } else {
                Arc::new(calendar.with_closures(wanted)?)
            };
            calendars.insert(name.clone(), calendar);
        }
        Ok(SlaEngine {
            calendars,
            policies: self.policies.clone(),
            at_risk_share: self.at_risk_share,
            versions: self.versions.clone(),
            monitored: self.monitored.clone(),
        })
    }

    /// Every clock that applies to the ticket (started or not yet visible), in policy order.
    pub fn clocks(&self, ticket: &TicketFacts) -> Result<Vec<Clock>, CalendarError> {
        let mut clocks = Vec::new();
        for policy in &self.policies {
            let calendar = self.calendar_for(policy, ticket.agency_calendar);
            clocks.extend(compute(policy, calendar, ticket, self.at_risk_share)?);
        }
        Ok(clocks)
    }

    /// The nearest deadline among clocks that are running (neither stopped nor paused) and
    /// apply by `now`: an SLA.10 counts only from its interruption's 30th minute (the clock
    /// watcher brings the stored value up to date when that minute comes).
    pub fn next_deadline(clocks: &[Clock], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        clocks
            .iter()
            .filter(|clock| clock.stopped_at.is_none() && !clock.paused)
            .filter(|clock| clock.applies_from <= now)
            .filter_map(|clock| clock.deadline)
            .min()
    }
}
