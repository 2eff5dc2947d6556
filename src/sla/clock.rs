//! A ticket's SLA clocks, computed from its history, a policy and a calendar. `compute`
//! needs no clock (what it returns can be stored); `view` applies `now`.

use super::calendar::{Calendar, CalendarError};
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

/// The clock of `policy` on a ticket, or `None` when it does not apply or has not started.
pub fn compute(
    policy: &SlaPolicy,
    calendar: &Calendar,
    ticket: &TicketFacts,
    at_risk_share: f64,
) -> Result<Option<Clock>, CalendarError> {
    if !policy.may_apply(ticket.channel, ticket.malfunction) {
        return Ok(None);
    }
    let Some(applies_from) = applies_from(policy, ticket) else {
        return Ok(None);
    };
    let started_at = match policy.start {
        ClockStart::Reported => ticket.reported_at,
        ClockStart::FirstEvent(action) => match first(ticket.events, action) {
            Some(event) => event.at,
            None => return Ok(None),
        },
    };
    // The first stop event stops the clock for good; so does the ticket's first resolution or
    // closure (nothing can stop it after that, and a closed ticket has nothing left to meet).
    let stopped_at = ticket
        .events
        .iter()
        .find(|event| {
            event.action == policy.stop
                || matches!(event.action, Action::Resolve | Action::CloseNotInScope)
        })
        .map(|event| event.at.max(started_at));
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
    Ok(Some(Clock {
        code: policy.code.clone(),
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
    }))
}

fn first(events: &[ClockEvent], action: Action) -> Option<&ClockEvent> {
    events.iter().find(|event| event.action == action)
}

/// When the policy starts to apply to the ticket: `None` if it does not (yet) apply.
fn applies_from(policy: &SlaPolicy, ticket: &TicketFacts) -> Option<DateTime<Utc>> {
    let earliest = DateTime::<Utc>::MIN_UTC;
    match policy.applies {
        Applicability::Always | Applicability::PhoneMalfunction => Some(earliest),
        Applicability::WithInterruption => {
            first(ticket.events, Action::InterruptionStart).map(|_| earliest)
        }
        Applicability::InterruptionLongerThan(limit) => {
            let limit = Duration::from_std(limit).ok()?;
            // The first interruption that lasted (or may still last) longer than the limit.
            let mut open: Option<DateTime<Utc>> = None;
            for event in ticket.events {
                match event.action {
                    Action::InterruptionStart if open.is_none() => open = Some(event.at),
                    Action::InterruptionEnd => {
                        if let Some(start) = open.take()
                            && event.at - start > limit
                        {
                            return Some(start + limit);
                        }
                    }
                    _ => {}
                }
            }
            open.map(|start| start + limit)
        }
    }
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
