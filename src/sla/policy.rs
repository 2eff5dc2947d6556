//! The SLA policies SLA.6–SLA.10 as data: target, calendar, start and stop events, when the
//! SLA applies, and whether it pauses while the ticket waits for the requester.

use crate::domain::{Action, Channel};
use std::time::Duration;

/// Where a clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStart {
    /// At the ticket's `reported_at`.
    Reported,
    /// At the first event of this kind.
    FirstEvent(Action),
    /// At the intervention on each interruption (SPEC §10): the first `start_intervention`
    /// at or after the interruption's start, or its start when one was already under way.
    InterruptionIntervention,
}

/// Which tickets an SLA applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicability {
    Always,
    /// Malfunctions reported by phone.
    PhoneMalfunction,
    /// Each interruption of a ticket: one clock per interruption.
    WithInterruption,
    /// Each interruption once it has lasted longer than this (also while it goes on).
    InterruptionLongerThan(Duration),
}

/// One service-level commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    /// `SLA.6` … `SLA.10`.
    pub code: String,
    /// The commitment in the contract's words.
    pub commitment: String,
    pub target_seconds: i64,
    /// The name of the calendar that counts the time.
    pub calendar: String,
    pub start: ClockStart,
    /// The first event of this kind stops the clock for good (a reopen does not restart it).
    pub stop: Action,
    pub applies: Applicability,
    /// Whether the clock stands still while the ticket is `on_hold`.
    pub pause_while_on_hold: bool,
}

impl SlaPolicy {
    /// Whether the policy can apply to a ticket of this kind (interruptions are judged on
    /// the history).
    pub fn may_apply(&self, channel: Channel, malfunction: bool) -> bool {
        match self.applies {
            Applicability::Always => true,
            Applicability::PhoneMalfunction => malfunction && channel == Channel::Phone,
            Applicability::WithInterruption | Applicability::InterruptionLongerThan(_) => {
                malfunction
            }
        }
    }
}

fn policy(
    code: &str,
    commitment: &str,
    target_seconds: i64,
    calendar: &str,
    start: ClockStart,
    stop: Action,
    applies: Applicability,
) -> SlaPolicy {
    SlaPolicy {
        code: code.into(),
        commitment: commitment.into(),
        target_seconds,
        calendar: calendar.into(),
        start,
        stop,
        applies,
        pause_while_on_hold: false,
    }
}

/// The contract's SLAs with the targets and calendars of SPEC §3.
pub fn default_policies() -> Vec<SlaPolicy> {
    vec![
        policy(
            "SLA.6",
            "Presa in carico della segnalazione entro 1 ora lavorativa",
            3600,
            "default",
            ClockStart::Reported,
            Action::TakeCharge,
            Applicability::Always,
        ),
        policy(
            "SLA.7",
            "Risposta via mail o telefonica entro 6 ore lavorative",
            6 * 3600,
            "default",
            ClockStart::Reported,
            Action::Reply,
            Applicability::Always,
        ),
        policy(
            "SLA.8",
            "Intervento a seguito di segnalazione telefonica sulle cause del malfunzionamento \
             entro 2 ore dalla comunicazione",
            2 * 3600,
            "24x7",
            ClockStart::Reported,
            Action::StartIntervention,
            Applicability::PhoneMalfunction,
        ),
        policy(
            "SLA.9",
            "Comunicazione agli uffici dell'ente per interruzioni impreviste dovute a \
             malfunzionamenti entro 30 minuti dall'inizio dell'intervento",
            30 * 60,
            "24x7",
            ClockStart::InterruptionIntervention,
            Action::NotifyAgency,
            Applicability::WithInterruption,
        ),
        policy(
            "SLA.10",
            "Comunicazione all'utenza per interruzioni che superino i 30 minuti entro 60 minuti \
             dall'inizio dell'intervento",
            60 * 60,
            "24x7",
            ClockStart::InterruptionIntervention,
            Action::NotifyUsers,
            Applicability::InterruptionLongerThan(Duration::from_secs(30 * 60)),
        ),
    ]
}
