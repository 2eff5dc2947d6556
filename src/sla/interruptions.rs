//! A ticket's interruptions as SPEC §10 measures them: each with its own intervention start,
//! from which its SLA.9 and SLA.10 run. Pure; the clocks and the malfunction report both use
//! it, so the two can never disagree on when an interruption's intervention began.

use crate::domain::Action;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The interruption a clock belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct InterruptionRef {
    /// Its place among the ticket's interruptions: 1 for the first.
    #[schema(minimum = 1, format = "int64")]
    pub sequence: i64,
    pub started_at: DateTime<Utc>,
}

/// One interruption of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterruptionWindow {
    pub interruption: InterruptionRef,
    /// `None` while it goes on.
    pub ended_at: Option<DateTime<Utc>>,
    /// The first `start_intervention` at or after its start (and before the next
    /// interruption's), or its start when an intervention was already under way; `None` while
    /// nobody has intervened.
    pub intervention_started_at: Option<DateTime<Utc>>,
}

/// The interruptions in `events` (a history in order, as action and instant), oldest first.
/// Interruptions never overlap: one starts only when none is open, never before the
/// previous one's end.
pub fn interruption_windows(
    events: impl IntoIterator<Item = (Action, DateTime<Utc>)> + Clone,
) -> Vec<InterruptionWindow> {
    let mut windows: Vec<InterruptionWindow> = Vec::new();
    for (action, at) in events.clone() {
        match action {
            Action::InterruptionStart => windows.push(InterruptionWindow {
                interruption: InterruptionRef {
                    sequence: windows.len() as i64 + 1,
                    started_at: at,
                },
                ended_at: None,
                intervention_started_at: None,
            }),
            Action::InterruptionEnd => {
                if let Some(open) = windows.last_mut().filter(|w| w.ended_at.is_none()) {
                    open.ended_at = Some(at);
                }
            }
            _ => {}
        }
    }
    let next_starts: Vec<Option<DateTime<Utc>>> = windows
        .iter()
        .skip(1)
        .map(|w| Some(w.interruption.started_at))
        .chain([None])
        .collect();
    for (window, next_start) in windows.iter_mut().zip(next_starts) {
        let start = window.interruption.started_at;
        let interventions = events
            .clone()
            .into_iter()
            .filter(|&(action, _)| action == Action::StartIntervention)
            .map(|(_, at)| at);
        let mut under_way = false;
        let mut first_after: Option<DateTime<Utc>> = None;
        for at in interventions {
            if at < start {
                under_way = true;
            } else if next_start.is_none_or(|next| at < next) {
                // An intervention once the next interruption began is that one's.
                first_after = Some(first_after.map_or(at, |first| first.min(at)));
            }
        }
        window.intervention_started_at = if under_way { Some(start) } else { first_after };
    }
    windows
}

/// The earliest `action` at or after `from`.
pub fn first_at_or_after(
    events: impl IntoIterator<Item = (Action, DateTime<Utc>)>,
    actions: &[Action],
    from: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    events
        .into_iter()
        .filter(|(action, at)| actions.contains(action) && *at >= from)
        .map(|(_, at)| at)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn each_interruption_has_its_own_intervention_start() {
        let events = [
            (Action::Created, at("2016-06-23T09:00:00Z")),
            (Action::InterruptionStart, at("2016-06-23T10:00:00Z")),
            (Action::StartIntervention, at("2016-06-23T10:10:00Z")),
            (Action::InterruptionEnd, at("2016-06-23T10:25:00Z")),
            (Action::InterruptionStart, at("2016-06-23T11:00:00Z")),
        ];
        let windows = interruption_windows(events.iter().copied());
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0].interruption.sequence, 1);
        assert_eq!(
            windows[0].intervention_started_at,
            Some(at("2016-06-23T10:10:00Z"))
        );
        assert_eq!(windows[0].ended_at, Some(at("2016-06-23T10:25:00Z")));
        // The intervention was already under way when the second one began.
        assert_eq!(windows[1].interruption.sequence, 2);
        assert_eq!(
            windows[1].intervention_started_at,
            Some(at("2016-06-23T11:00:00Z"))
        );
        assert_eq!(windows[1].ended_at, None);
    }

    #[test]
    fn an_intervention_on_the_next_interruption_is_not_this_ones() {
        let events = [
            (Action::InterruptionStart, at("2016-06-23T10:00:00Z")),
            (Action::InterruptionEnd, at("2016-06-23T10:40:00Z")),
            (Action::InterruptionStart, at("2016-06-23T11:00:00Z")),
            (Action::StartIntervention, at("2016-06-23T11:05:00Z")),
        ];
        let windows = interruption_windows(events.iter().copied());
        assert_eq!(windows[0].intervention_started_at, None);
        assert_eq!(
            windows[1].intervention_started_at,
            Some(at("2016-06-23T11:05:00Z"))
        );
    }

    #[test]
    fn no_intervention_yet_means_no_start() {
        let events = [(Action::InterruptionStart, at("2016-06-23T10:00:00Z"))];
        let windows = interruption_windows(events.iter().copied());
        assert_eq!(windows[0].intervention_started_at, None);
    }
}
