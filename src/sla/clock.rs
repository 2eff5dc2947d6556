//! A ticket's SLA clocks, computed from its history, a policy and a calendar. `compute`
//! needs no clock (what it returns can be stored); `view` applies `now`.

use super::calendar::{Calendar, CalendarError};
use super::interruptions::{InterruptionRef, first_at_or_after, interruption_windows};
use super::policy::{Applicability, ClockStart, SlaPolicy};
use crate::domain::{Action, Channel, Status};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the clocks need of one history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockEvent {
    pub action: Action,
    pub at: DateTime<Utc>,
    /// The ticket's status after the event.
    pub status: Status,
}

/// What the clocks need of a ticket.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    pub reported_at: DateTime<Utc>,
    pub channel: Channel,
    pub malfunction: bool,
    /// The history in order.
    pub events: &'a [ClockEvent],
    /// The calendar of the ticket's agency, when it names one: it counts the business-hour
    /// SLAs instead of the SLA's own calendar.
    pub agency_calendar: Option<&'a str>,
}

/// A clock as stored: everything that does not depend on `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub code: String,
    /// The interruption the clock measures (SLA.9, SLA.10: one clock per interruption).
    pub interruption: Option<InterruptionRef>,
    pub target_seconds: i64,
    pub calendar: String,
    pub started_at: DateTime<Utc>,
    /// When the clock is shown at all (SLA.10 from the interruption's 30th minute).
    pub applies_from: DateTime<Utc>,
    /// When the target runs out; `None` while paused with budget left.
    pub deadline: Option<DateTime<Utc>>,
    /// When the configured share of the target is used.
    pub at_risk_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Start of the running (or last) segment, after the latest pause.
    pub segment_started_at: DateTime<Utc>,
    /// Business seconds counted before `segment_started_at`.
    pub consumed_seconds: i64,
    pub paused: bool,
}

/// A clock's state at some instant (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Met,
    Breached,
    Paused,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
            ClockState::Paused => "paused",
        }
    }
}

/// A clock as seen at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockView {
    pub state: ClockState,
    pub elapsed_seconds: i64,
    pub remaining_seconds: i64,
    pub at_risk: bool,
}

/// The clocks of `policy` on a ticket: none when it does not apply or has not started, one
/// per interruption for the SLAs measured per interruption, else one.
pub fn compute(
    policy: &SlaPolicy,
    calendar: &Calendar,
    ticket: &TicketFacts,
    at_risk_share: f64,
) -> Result<Vec<Clock>, CalendarError> {
    if !policy.may_apply(ticket.channel, ticket.malfunction) {
        return Ok(Vec::new());
    }
    let actions = || ticket.events.iter().map(|event| (event.action, event.at));
    let mut clocks = Vec::new();
    match policy.applies {
        Applicability::Always | Applicability::PhoneMalfunction => {
            let started_at = match policy.start {
                ClockStart::Reported => Some(ticket.reported_at),
                ClockStart::FirstEvent(action) => first(ticket.events, action).map(|e| e.at),
                ClockStart::InterruptionIntervention => None,
            };
            let Some(started_at) = started_at else {
                return Ok(clocks);
            };
            // The first stop event stops the clock for good; so does the ticket's first
            // resolution or closure (nothing can stop it after that).
            let stopped_at = ticket
                .events
                .iter()
                .find(|event| is_stop(policy, event.action))
                .map(|event| event.at.max(started_at));
            let applies_from = DateTime::<Utc>::MIN_UTC;
            clocks.push(clock(
                policy,
                calendar,
                ticket,
                at_risk_share,
                (started_at, applies_from, stopped_at),
                None,
            )?);
        }
        Applicability::WithInterruption | Applicability::InterruptionLongerThan(_) => {
            for window in interruption_windows(actions()) {
                let start = window.interruption.started_at;
                let applies_from = match policy.applies {
                    Applicability::InterruptionLongerThan(limit) => {
                        let Ok(limit) = Duration::from_std(limit) else {
                            continue;
                        };
                        if window.ended_at.is_some_and(|end| end - start <= limit) {
                            continue; // short enough: this interruption has no such clock
                        }
                        start + limit
                    }
                    _ => DateTime::<Utc>::MIN_UTC,
                };
                let started_at = match policy.start {
                    ClockStart::InterruptionIntervention => window.intervention_started_at,
                    ClockStart::Reported => Some(ticket.reported_at.max(start)),
                    ClockStart::FirstEvent(action) => {
                        first_at_or_after(actions(), &[action], start)
                    }
                };
                let Some(started_at) = started_at else {
                    continue;
                };
                // Only what follows this interruption's start stops its clock: telling the
                // agency about an earlier interruption says nothing of this one.
                let stopped_at = first_at_or_after(
                    actions(),
                    &[policy.stop, Action::Resolve, Action::CloseNotInScope],
                    started_at,
                );
                clocks.push(clock(
                    policy,
                    calendar,
                    ticket,
                    at_risk_share,
                    (started_at, applies_from, stopped_at),
                    Some(window.interruption),
                )?);
            }
        }
    }
    Ok(clocks)
}

fn is_stop(policy: &SlaPolicy, action: Action) -> bool {
    action == policy.stop || matches!(action, Action::Resolve | Action::CloseNotInScope)
}

/// The clock that runs from `started_at`, shows from `applies_from` and stops at `stopped_at`.
fn clock(
    policy: &SlaPolicy,
    calendar: &Calendar,
    ticket: &TicketFacts,
    at_risk_share: f64,
    (started_at, applies_from, stopped_at): (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>),
    interruption: Option<InterruptionRef>,
) -> Result<Clock, CalendarError> {
    let (closed, tail) = running_segments(policy, ticket.events, started_at, stopped_at);
    let target = policy.target_seconds;
    let risk_target = ((target as f64) * at_risk_share).ceil() as i64;
    let mut consumed = 0;
    for &(from, to) in &closed {
        consumed += calendar.elapsed(from, to)?;
    }
    let segment_started_at = match tail {
        Some(from) => from,
        None => closed.last().map_or(started_at, |&(_, to)| to),
    };
    Ok(Clock {
        code: policy.code.clone(),
        interruption,
        target_seconds: target,
        calendar: calendar.name.clone(),
        started_at,
        applies_from: applies_from.max(started_at),
        deadline: instant_of_budget(calendar, &closed, tail, target)?,
        at_risk_at: instant_of_budget(calendar, &closed, tail, risk_target)?,
        stopped_at,
        segment_started_at,
        consumed_seconds: consumed,
        paused: tail.is_none(),
    })
}

fn first(events: &[ClockEvent], action: Action) -> Option<&ClockEvent> {
    events.iter().find(|event| event.action == action)
}

/// Stretches of running time that ended in a pause: `[from, to)`.
type ClosedStretches = Vec<(DateTime<Utc>, DateTime<Utc>)>;

/// The stretches during which the clock ran and was then paused (closed), and the start of
/// the last stretch if the clock is running or was stopped while running (`None`: paused).
fn running_segments(
    policy: &SlaPolicy,
    events: &[ClockEvent],
    started_at: DateTime<Utc>,
    stopped_at: Option<DateTime<Utc>>,
) -> (ClosedStretches, Option<DateTime<Utc>>) {
    let mut closed = Vec::new();
    let mut running_since = Some(started_at);
    if policy.pause_while_on_hold {
        for event in events {
            if event.at < started_at || stopped_at.is_some_and(|stop| event.at >= stop) {
                continue;
            }
            match (running_since, event.status == Status::OnHold) {
                (Some(from), true) => {
                    closed.push((from, event.at));
                    running_since = None;
                }
                (None, false) => running_since = Some(event.at),
                _ => {}
            }
        }
    }
    (closed, running_since)
}

/// The instant at which `budget` business seconds have been used: within a closed stretch,
/// or counting on from the last one; `None` if the clock is paused with budget left.
fn instant_of_budget(
    calendar: &Calendar,
    closed: &[(DateTime<Utc>, DateTime<Utc>)],
    running_since: Option<DateTime<Utc>>,
    budget: i64,
) -> Result<Option<DateTime<Utc>>, CalendarError> {
    let mut used = 0;
    for &(from, to) in closed {
        let within = calendar.elapsed(from, to)?;
        if used + within >= budget {
            return calendar.deadline(from, budget - used).map(Some);
        }
        used += within;
    }
    running_since
        .map(|from| calendar.deadline(from, budget - used))
        .transpose()
}

impl Clock {
    /// The clock's place among the ticket's interruptions (0: a clock of the whole ticket):
    /// with the code, what tells one of a ticket's clocks from another.
    pub fn interruption_number(&self) -> i64 {
        self.interruption.map_or(0, |i| i.sequence)
    }

    /// The clock's key among its ticket's clocks.
    pub fn key(&self) -> (String, i64) {
        (self.code.clone(), self.interruption_number())
    }

    /// A stopped clock's final state (`met` or `breached`) and the time it counted, which no
    /// later instant changes; `None` while it has not stopped.
    pub fn outcome(&self, calendar: &Calendar) -> Result<Option<(ClockState, i64)>, CalendarError> {
        let Some(stop) = self.stopped_at else {
            return Ok(None);
        };
        let view = self.view(calendar, stop.max(self.applies_from))?;
        Ok(view.map(|view| (view.state, view.elapsed_seconds)))
    }

    /// The clock's state at `now`; `None` before the clock applies.
    pub fn view(
        &self,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) -> Result<Option<ClockView>, CalendarError> {
        if now < self.applies_from {
            return Ok(None);
        }
        let (state, elapsed) = match self.stopped_at {
            Some(stop) => {
                let elapsed = if self.paused {
                    self.consumed_seconds
                } else {
                    self.consumed_seconds + calendar.elapsed(self.segment_started_at, stop)?
                };
                let met = match self.deadline {
                    Some(deadline) => stop <= deadline,
                    None => elapsed <= self.target_seconds,
                };
                (
                    if met {
                        ClockState::Met
                    } else {
                        ClockState::Breached
                    },
                    elapsed,
                )
            }
            None if self.paused => (ClockState::Paused, self.consumed_seconds),
            None => {
                let elapsed = self.consumed_seconds
                    + calendar
                        .elapsed(self.segment_started_at, now.max(self.segment_started_at))?;
                let breached = self.deadline.is_some_and(|deadline| now > deadline);
                (
                    if breached {
                        ClockState::Breached
                    } else {
                        ClockState::Running
                    },
                    elapsed,
                )
            }
        };
        Ok(Some(ClockView {
            state,
            elapsed_seconds: elapsed,
            remaining_seconds: self.target_seconds - elapsed,
            at_risk: state == ClockState::Running
                && self.at_risk_at.is_some_and(|risk| now >= risk),
        }))
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
