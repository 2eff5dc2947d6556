//! Availability of a group of monitored systems over a period, exactly as SPEC §9 defines it:
//! hard states only, each state holds until the next, nothing known before a system's first
//! state, the flap filter on the reported states, then maintenance and the `unknown` rule,
//! then the group's rule `all`/`any`, counted in a calendar's business seconds. Pure: the
//! history, the period and `now` are arguments; nothing here reads a clock or a database.

use super::calendar::{Calendar, CalendarError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const MICROS: i64 = 1_000_000;

/// A system's state in our words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Up,
    Unknown,
    Down,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Up => "up",
            HealthState::Unknown => "unknown",
            HealthState::Down => "down",
        }
    }
}

/// One state a monitor reported for a system, placed at the monitor's own time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateReport {
    pub at: DateTime<Utc>,
    pub state: HealthState,
    /// Soft states are ignored: only a hard state changes the history.
    pub hard: bool,
}

/// A maintenance window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What one system reported: its states and its maintenance windows, in any order and with
/// any repetition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemHistory {
    pub states: Vec<StateReport>,
    pub maintenance: Vec<Window>,
}

/// How a group's members make the group's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupRule {
    /// Down while any member is down; up while every member is up; otherwise not counted.
    All,
    /// Up while any member is up; otherwise down while any member is down; otherwise not
    /// counted.
    Any,
}

/// What a maintenance window makes of a member's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceRule {
    /// Not counted.
    Exclude,
    /// Counted as up.
    Up,
}

/// What a member's `unknown` counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownRule {
    /// Not counted.
    Exclude,
    /// Counted as down.
    Down,
}

/// The rules of one availability SLA (its target lives with its definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailabilityRules {
    pub group: GroupRule,
    /// A member's down stretch shorter than this counts as up (judged on the reported
    /// states, before maintenance and the `unknown` rule).
    pub min_outage_seconds: i64,
    pub maintenance: MaintenanceRule,
    pub unknown: UnknownRule,
}

impl Default for AvailabilityRules {
    fn default() -> Self {
        AvailabilityRules {
            group: GroupRule::All,
            min_outage_seconds: 0,
            maintenance: MaintenanceRule::Exclude,
            unknown: UnknownRule::Exclude,
        }
    }
}

/// What an instant counts as, for a member or for the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Up,
    Down,
    NotCounted,
}

/// A stretch `[start, end)` of a step function, in microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stretch<S> {
    pub start: i64,
    pub end: i64,
    pub state: S,
}

/// One outage of the group: a maximal stretch in which it counted as down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    pub start: DateTime<Utc>,
    /// `None` while it goes on at `now`.
    pub end: Option<DateTime<Utc>>,
    /// Its business seconds inside the period.
    pub counted_seconds: i64,
}

/// The figures of one availability SLA over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailabilityFigures {
    /// The calendar's seconds of the period (up to `now`).
    pub calendar_seconds: i64,
    /// Of those, the seconds in which the group was up or down.
    pub counted_seconds: i64,
    /// Of the counted seconds, those in which it was down.
    pub downtime_seconds: i64,
    /// The group's outages that count at least a microsecond inside the period.
    pub outages: Vec<Outage>,
    counted_micros: i64,
    downtime_micros: i64,
    calendar_micros: i64,
}

impl AvailabilityFigures {
    /// (counted − downtime) / counted; `None` when nothing was counted ("non rilevato").
    pub fn measured(&self) -> Option<f64> {
        (self.counted_micros > 0).then(|| {
            (self.counted_micros - self.downtime_micros) as f64 / self.counted_micros as f64
        })
    }

    /// counted / the calendar's seconds of the period; `None` for a period with none.
    pub fn coverage(&self) -> Option<f64> {
        (self.calendar_micros > 0).then(|| self.counted_micros as f64 / self.calendar_micros as f64)
    }

    /// measured − expected, in percentage points (`expected_percent` is e.g. 99.0).
    pub fn deviation_points(&self, expected_percent: f64) -> Option<f64> {
        self.measured().map(|m| m * 100.0 - expected_percent)
    }
}

/// The hard states of a history as a step function up to `horizon`: sorted by time, one
/// state per instant (the worst, so that the result does not depend on arrival order), runs
/// of the same state joined. Before the first state there is nothing.
pub(crate) fn reported_stretches(
    states: &[StateReport],
    horizon: i64,
) -> Vec<Stretch<HealthState>> {
    let mut hard: Vec<(i64, HealthState)> = states
        .iter()
        .filter(|report| report.hard)
        .map(|report| (report.at.timestamp_micros(), report.state))
        .filter(|(at, _)| *at < horizon)
        .collect();
    // Sorting by (time, state) puts the worst state of an instant last; keep that one.
    hard.sort_unstable();
    let mut points: Vec<(i64, HealthState)> = Vec::with_capacity(hard.len());
    for (at, state) in hard {
        match points.last_mut() {
            Some(last) if last.0 == at => last.1 = state,
            _ => points.push((at, state)),
        }
    }
    points.dedup_by(|next, previous| next.1 == previous.1);
    let mut stretches = Vec::with_capacity(points.len());
    for (i, &(start, state)) in points.iter().enumerate() {
        let end = points.get(i + 1).map_or(horizon, |next| next.0);
        stretches.push(Stretch { start, end, state });
    }
    stretches
}

/// The flap filter: a down stretch shorter than `min_outage_seconds` counts as up.
fn filter_flaps(stretches: &mut [Stretch<HealthState>], min_outage_seconds: i64) {
    let shortest = min_outage_seconds.saturating_mul(MICROS);
    for stretch in stretches.iter_mut() {
        if stretch.state == HealthState::Down && stretch.end - stretch.start < shortest {
            stretch.state = HealthState::Up;
        }
    }
}

/// The windows as sorted, disjoint `[start, end)` pairs.
fn merged_windows(windows: &[Window]) -> Vec<(i64, i64)> {
    let mut pairs: Vec<(i64, i64)> = windows
        .iter()
        .map(|w| (w.start.timestamp_micros(), w.end.timestamp_micros()))
        .filter(|(start, end)| start < end)
        .collect();
    pairs.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(pairs.len());
    for (start, end) in pairs {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// What a member counts as at each instant up to `horizon`, after the flap filter, the
/// maintenance windows and the `unknown` rule; stretches of `NotCounted` are left out.
pub(crate) fn member_timeline(
    history: &SystemHistory,
    rules: &AvailabilityRules,
    horizon: i64,
) -> Vec<Stretch<Counted>> {
    let mut reported = reported_stretches(&history.states, horizon);
    filter_flaps(&mut reported, rules.min_outage_seconds);
    let windows = merged_windows(&history.maintenance);
    let outside = |state: HealthState| match (state, rules.unknown) {
        (HealthState::Up, _) => Counted::Up,
        (HealthState::Down, _) | (HealthState::Unknown, UnknownRule::Down) => Counted::Down,
        (HealthState::Unknown, UnknownRule::Exclude) => Counted::NotCounted,
    };
    let inside = match rules.maintenance {
        MaintenanceRule::Exclude => Counted::NotCounted,
        MaintenanceRule::Up => Counted::Up,
    };
    let mut timeline: Vec<Stretch<Counted>> = Vec::with_capacity(reported.len());
    let mut push = |start: i64, end: i64, state: Counted| {
        if start >= end || state == Counted::NotCounted {
            return;
        }
        match timeline.last_mut() {
            Some(last) if last.end == start && last.state == state => last.end = end,
            _ => timeline.push(Stretch { start, end, state }),
        }
    };
    let mut w = 0;
    for stretch in reported {
        let mut at = stretch.start;
        while at < stretch.end {
            while w < windows.len() && windows[w].1 <= at {
                w += 1;
            }
            match windows.get(w) {
                Some(&(start, end)) if start <= at => {
                    let until = end.min(stretch.end);
                    push(at, until, inside);
                    at = until;
                }
                Some(&(start, _)) if start < stretch.end => {
                    push(at, start, outside(stretch.state));
                    at = start;
                }
                _ => {
                    push(at, stretch.end, outside(stretch.state));
                    at = stretch.end;
                }
            }
        }
    }
    timeline
}

/// A member's state at each elementary interval, read by walking its timeline forwards.
struct Cursor<'a> {
    timeline: &'a [Stretch<Counted>],
    next: usize,
}

impl Cursor<'_> {
    fn state_at(&mut self, t: i64) -> Counted {
        while self.next < self.timeline.len() && self.timeline[self.next].end <= t {
            self.next += 1;
        }
        match self.timeline.get(self.next) {
            Some(stretch) if stretch.start <= t => stretch.state,
            _ => Counted::NotCounted,
        }
    }
}

fn combine(rule: GroupRule, states: impl Iterator<Item = Counted>) -> Counted {
    let (mut any_up, mut any_down, mut all_up, mut members) = (false, false, true, 0);
    for state in states {
        members += 1;
        any_up |= state == Counted::Up;
        any_down |= state == Counted::Down;
        all_up &= state == Counted::Up;
    }
    match rule {
        _ if members == 0 => Counted::NotCounted,
        GroupRule::All if any_down => Counted::Down,
        GroupRule::All if all_up => Counted::Up,
        GroupRule::Any if any_up => Counted::Up,
        GroupRule::Any if any_down => Counted::Down,
        _ => Counted::NotCounted,
    }
}

/// The group's state as a step function up to `horizon` (`NotCounted` left out).
pub(crate) fn group_timeline(
    members: &[SystemHistory],
    rules: &AvailabilityRules,
    horizon: i64,
) -> Vec<Stretch<Counted>> {
    let timelines: Vec<Vec<Stretch<Counted>>> = members
        .iter()
        .map(|member| member_timeline(member, rules, horizon))
        .collect();
    let mut bounds: Vec<i64> = timelines
        .iter()
        .flatten()
        .flat_map(|stretch| [stretch.start, stretch.end])
        .collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut cursors: Vec<Cursor> = timelines
        .iter()
        .map(|timeline| Cursor { timeline, next: 0 })
        .collect();
    let mut group: Vec<Stretch<Counted>> = Vec::new();
    for pair in bounds.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        let state = combine(rules.group, cursors.iter_mut().map(|c| c.state_at(start)));
        if state == Counted::NotCounted {
            continue;
        }
        match group.last_mut() {
            Some(last) if last.end == start && last.state == state => last.end = end,
            _ => group.push(Stretch { start, end, state }),
        }
    }
    group
}

fn instant(micros: i64) -> Result<DateTime<Utc>, CalendarError> {
    DateTime::from_timestamp_micros(micros).ok_or(CalendarError::OutOfRange)
}

/// The figures of a group over `[from, to)` as known at `now` (time after `now` is neither
/// counted nor in the calendar's seconds: the last state holds until `now`).
pub fn measure_availability(
    members: &[SystemHistory],
    rules: &AvailabilityRules,
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<AvailabilityFigures, CalendarError> {
    let horizon = now.timestamp_micros();
    let (from, to) = (from.timestamp_micros(), to.timestamp_micros().min(horizon));
    let calendar_micros = if from < to {
        calendar.elapsed_micros(from, to)?
    } else {
        0
    };
    let (mut counted_micros, mut downtime_micros) = (0, 0);
    let mut outages = Vec::new();
    for stretch in group_timeline(members, rules, horizon) {
        let (start, end) = (stretch.start.max(from), stretch.end.min(to));
        if start >= end {
            continue;
        }
        let micros = calendar.elapsed_micros(start, end)?;
        counted_micros += micros;
        if stretch.state == Counted::Down {
            downtime_micros += micros;
            if micros > 0 {
                outages.push(Outage {
                    start: instant(stretch.start)?,
                    end: (stretch.end < horizon)
                        .then(|| instant(stretch.end))
                        .transpose()?,
                    counted_seconds: micros / MICROS,
                });
            }
        }
    }
    Ok(AvailabilityFigures {
        calendar_seconds: calendar_micros / MICROS,
        counted_seconds: counted_micros / MICROS,
        downtime_seconds: downtime_micros / MICROS,
        outages,
        counted_micros,
        downtime_micros,
        calendar_micros,
    })
}
