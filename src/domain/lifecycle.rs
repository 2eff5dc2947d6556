//! The ticket state machine of SPEC §2: which event is allowed in which state, what it
//! changes, and the rules for `at` (when the event really happened).

use super::ticket::{Level, ReplyChannel, Status, TicketState, api_enum};
use super::user::Principal;
use super::validation::{Checker, FieldError, Invalid};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

api_enum! {
    /// The kinds of event in a ticket's history. All but `created`, `malfunction_updated`,
    /// `sla_at_risk` and `sla_breached` (recorded by the service) can be posted.
    Action {
        Created => "created",
        TakeCharge => "take_charge",
        Reply => "reply",
        Comment => "comment",
        Assign => "assign",
        Escalate => "escalate",
        Hold => "hold",
        Resume => "resume",
        Resolve => "resolve",
        CloseNotInScope => "close_not_in_scope",
        Reopen => "reopen",
        InterruptionStart => "interruption_start",
        InterruptionEnd => "interruption_end",
        StartIntervention => "start_intervention",
        NotifyAgency => "notify_agency",
        NotifyUsers => "notify_users",
        /// Takes a public notice posted by mistake off every public output (admin, supervisor).
        WithdrawNotice => "withdraw_notice",
        /// Recorded by `PATCH /tickets/{id}` when the malfunction's details change.
        MalfunctionUpdated => "malfunction_updated",
        SlaAtRisk => "sla_at_risk",
        SlaBreached => "sla_breached",
        /// Recorded when a calendar change altered a stopped clock's outcome.
        SlaOutcomeChanged => "sla_outcome_changed",
        /// Recorded by the mail channel: the requester wrote again. It resumes a ticket on
        /// hold and reopens a resolved one (within the reopen window, which the channel
        /// checks); on any other state it is only recorded.
        RequesterMessage => "requester_message",
    }
}

/// Clock skew tolerated on `at` values from the callers' clocks.
pub const MAX_CLOCK_SKEW: Duration = Duration::seconds(60);
/// Longest free text in an event (message, resolution, reason).
pub const MAX_EVENT_TEXT: usize = 10_000;
/// Most addresses an e-mail reply copies (`cc`).
pub const MAX_REPLY_CC: usize = 20;

/// Limits on what an event may claim, from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventRules {
    /// How far before its ticket's `reported_at` an interruption may be said to have started
    /// (a typo of a year, or 1970, would otherwise count as an interruption of decades).
    pub max_backdate: Duration,
}

impl Default for EventRules {
    fn default() -> Self {
        EventRules {
            max_backdate: Duration::days(30),
        }
    }
}

/// An event a caller asks to record, already parsed but not yet judged.
#[derive(Debug, Clone, Default)]
pub struct EventCommand {
    pub action: Option<Action>,
    pub at: Option<DateTime<Utc>>,
    pub channel: Option<ReplyChannel>,
    pub message: Option<String>,
    pub resolution: Option<String>,
    pub reason: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub service: Option<String>,
    /// For an e-mail `reply`: who else receives a copy.
    pub cc: Option<Vec<String>>,
    /// What a channel adds to the event's details (`from`, `attachments`, …); nothing a
    /// caller of the API can set.
    pub channel_details: Option<Map<String, Value>>,
    /// The received message a `requester_message` records: marked ingested in the event's
    /// transaction, so that the same message never makes two events.
    pub inbound_id: Option<Uuid>,
}

/// What an accepted event does to the ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub action: Action,
    pub at: DateTime<Utc>,
    pub status: Status,
    pub level: Level,
    pub assignee_id: Option<Uuid>,
    pub last_event_at: DateTime<Utc>,
    pub interruption_open: bool,
    pub interruption_started_at: Option<DateTime<Utc>>,
    /// The event's own data (channel, message, reason, …) as stored in the history.
    pub details: Map<String, Value>,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    #[error("`{action}` is not allowed while the ticket is `{status}` at level {}", level.number())]
    NotAllowed {
        action: Action,
        status: Status,
        level: Level,
        allowed: Vec<Action>,
    },
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// The fields an event of `action` may carry besides `type` and `at`.
pub fn event_fields(action: Action) -> &'static [&'static str] {
    match action {
        Action::TakeCharge | Action::Assign => &["assignee_id"],
        Action::Reply => &["channel", "message", "cc"],
        Action::Comment => &["message"],
        Action::Escalate | Action::Hold | Action::Resume | Action::Reopen => &["reason"],
        Action::WithdrawNotice => &["reason"],
        Action::CloseNotInScope => &["reason"],
        Action::Resolve => &["resolution"],
        Action::InterruptionStart | Action::InterruptionEnd | Action::StartIntervention => {
            &["service"]
        }
        Action::NotifyAgency | Action::NotifyUsers => &["message", "service"],
        // Recorded by the service or a channel; `check_fields` refuses them by type.
        Action::Created
        | Action::RequesterMessage
        | Action::MalfunctionUpdated
        | Action::SlaAtRisk
        | Action::SlaBreached
        | Action::SlaOutcomeChanged => &[],
    }
}

/// The fields of `event_fields(action)` an event of `action` must carry (what `check_fields`
/// requires): the API's schema for each event type says so.
pub fn required_event_fields(action: Action) -> &'static [&'static str] {
    match action {
        Action::Reply => &["channel", "message"],
        Action::Comment | Action::NotifyAgency | Action::NotifyUsers => &["message"],
        Action::Resolve => &["resolution"],
        Action::CloseNotInScope => &["reason"],
        Action::Assign => &["assignee_id"],
        _ => &[],
    }
}

/// Whether events of `action` are recorded by the service itself (or a channel), never posted.
pub fn is_recorded_by_service(action: Action) -> bool {
    matches!(
        action,
        Action::Created
            | Action::RequesterMessage
            | Action::MalfunctionUpdated
            | Action::SlaAtRisk
            | Action::SlaBreached
            | Action::SlaOutcomeChanged
    )
}

/// The actions allowed on a ticket in `state`, in a stable order. What a channel records
/// (`requester_message`, in every state) is no action of the caller's.
pub fn allowed_actions(state: &TicketState) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|&action| action != Action::RequesterMessage && is_allowed(state, action))
        .collect()
}

fn is_allowed(state: &TicketState, action: Action) -> bool {
    use Status::*;
    let active = matches!(state.status, New | Open | OnHold);
    match action {
        Action::Created
        | Action::MalfunctionUpdated
        | Action::SlaAtRisk
        | Action::SlaBreached
        | Action::SlaOutcomeChanged => false,
        Action::TakeCharge => state.status == New,
        Action::Reply => matches!(state.status, Open | OnHold),
        Action::Comment | Action::RequesterMessage => true,
        Action::Assign => active,
        Action::Escalate => state.status == Open && state.level == Level::First,
        Action::Hold => state.status == Open,
        Action::Resume => state.status == OnHold,
        Action::Resolve => matches!(state.status, Open | OnHold),
        Action::CloseNotInScope => active,
        Action::Reopen => matches!(state.status, Resolved | ClosedNotInScope),
        Action::InterruptionStart => state.malfunction && active && !state.interruption_open,
        // The end of an interruption is a fact about the service: it is recorded in every
        // state, also after the ticket was resolved (monitoring reports it whenever it comes).
        Action::InterruptionEnd => state.malfunction && state.interruption_open,
        Action::StartIntervention | Action::NotifyAgency | Action::NotifyUsers => {
            state.malfunction && active
        }
        // A notice posted by mistake may be found out after the ticket closed.
        Action::WithdrawNotice => state.public_notice,
    }
}

/// Judges `command` against the ticket's `state`, for `actor`, at server time `now`.
/// `assignee` is the user named by `assignee_id`, when the command names one.
pub fn decide(
    state: &TicketState,
    command: &EventCommand,
    actor: &Principal,
    assignee: Option<&Principal>,
    rules: &EventRules,
    now: DateTime<Utc>,
) -> Result<Transition, LifecycleError> {
    let action = check_fields(command, assignee)?;
    if action == Action::RequesterMessage && !actor.can_post_inbound_mail() {
        return Err(Invalid::one(
            "type",
            "`requester_message` is recorded by the mail channel, not posted",
        )
        .into());
    }
    // Whatever the ticket's state: an agent never may.
    if action == Action::WithdrawNotice && !actor.can_withdraw_notices() {
        return Err(LifecycleError::Forbidden(
            "withdrawing a public notice needs an admin or a supervisor".into(),
        ));
    }
    if !is_allowed(state, action) {
        return Err(LifecycleError::NotAllowed {
            action,
            status: state.status,
            level: state.level,
            allowed: allowed_actions(state),
        });
    }
    let at = check_at(state, action, command.at, rules, now)?;

    let mut next = Transition {
        action,
        at,
        status: state.status,
        level: state.level,
        assignee_id: state.assignee_id,
        last_event_at: state.last_event_at.max(at),
        interruption_open: state.interruption_open,
        interruption_started_at: state.interruption_started_at,
        details: details_of(command),
    };
    match action {
        // Taking charge is the acting agent's act, whoever it names as assignee: a level-1
        // agent cannot open a level-2 ticket by naming a level-2 colleague. Assigning only
        // hands the ticket on (it stays `new` until its assignee takes charge), so anyone
        // who works tickets may, to an agent of the ticket's level.
        Action::TakeCharge | Action::Assign => {
            let number = state.level.number();
            if action == Action::TakeCharge && !actor.can_handle_level(state.level) {
                return Err(LifecycleError::Forbidden(format!(
                    "taking charge at level {number} needs a level-{number} agent"
                )));
            }
            let target = assignee.unwrap_or(actor);
            if !target.can_handle_level(state.level) {
                return Err(Invalid::one(
                    "assignee_id",
                    format!("a ticket at level {number} needs a level-{number} agent"),
                )
                .into());
            }
            if action == Action::TakeCharge {
                next.status = Status::Open;
            }
            next.assignee_id = Some(target.user_id);
        }
        Action::Escalate => {
            next.level = Level::Second;
            next.status = Status::New;
            next.assignee_id = None;
        }
        Action::Hold => next.status = Status::OnHold,
        // The requester answered: a ticket waiting for them goes on, a resolved one is open
        // again. On a ticket closed as not in scope the message is only recorded.
        // A machine's message (an out-of-office answer) is recorded and changes nothing.
        Action::RequesterMessage => {
            let automatic = command
                .channel_details
                .as_ref()
                .and_then(|details| details.get("automatic"))
                .and_then(Value::as_bool)
                == Some(true);
            if !automatic && matches!(state.status, Status::OnHold | Status::Resolved) {
                next.status = Status::Open;
            }
        }
        Action::Resume | Action::Reopen => next.status = Status::Open,
        Action::Resolve => next.status = Status::Resolved,
        Action::CloseNotInScope => next.status = Status::ClosedNotInScope,
        Action::InterruptionStart => {
            next.interruption_open = true;
            next.interruption_started_at = Some(at);
        }
        Action::InterruptionEnd => next.interruption_open = false,
        Action::Created
        | Action::MalfunctionUpdated
        | Action::SlaAtRisk
        | Action::SlaBreached
        | Action::SlaOutcomeChanged
        | Action::Reply
        | Action::Comment
        | Action::StartIntervention
        | Action::NotifyAgency
        | Action::NotifyUsers
        | Action::WithdrawNotice => {}
    }
    Ok(next)
}

/// Checks the fields each action needs, before the state is consulted.
fn check_fields(command: &EventCommand, assignee: Option<&Principal>) -> Result<Action, Invalid> {
    let Some(action) = command.action else {
        return Err(Invalid::one("type", "is required"));
    };
    let mut checker = Checker::new();
    let message = command.message.as_deref();
    match action {
        Action::Created | Action::SlaAtRisk | Action::SlaBreached | Action::SlaOutcomeChanged => {
            checker.add(
                "type",
                format!("`{action}` is recorded by the service, not posted"),
            )
        }
        Action::MalfunctionUpdated => checker.add(
            "type",
            "`malfunction_updated` is recorded by PATCH /tickets/{id}, not posted",
        ),
        Action::Reply => {
            if command.channel.is_none() {
                checker.add("channel", "is required for a reply (`email` or `phone`)");
            }
            checker.required_text("message", message, MAX_EVENT_TEXT);
            check_cc(&mut checker, command);
        }
        Action::Comment | Action::NotifyAgency | Action::NotifyUsers => {
            checker.required_text("message", message, MAX_EVENT_TEXT)
        }
        Action::Resolve => {
            checker.required_text("resolution", command.resolution.as_deref(), MAX_EVENT_TEXT)
        }
        Action::CloseNotInScope => {
            checker.required_text("reason", command.reason.as_deref(), MAX_EVENT_TEXT)
        }
        Action::Assign if command.assignee_id.is_none() => {
            checker.add("assignee_id", "is required")
        }
        _ => {}
    }
    if command.assignee_id.is_some() && assignee.is_none() {
        checker.add("assignee_id", "is not a user of this helpdesk");
    }
    if let Some(user) = assignee {
        if !matches!(action, Action::Assign | Action::TakeCharge) {
            checker.add(
                "assignee_id",
                "is only accepted with `assign` and `take_charge`",
            );
        } else if !user.can_work_tickets() {
            checker.add("assignee_id", "must be an agent, supervisor or admin");
        }
    }
    checker.optional_text("message", message, MAX_EVENT_TEXT);
    checker.optional_text("reason", command.reason.as_deref(), MAX_EVENT_TEXT);
    checker.optional_text("resolution", command.resolution.as_deref(), MAX_EVENT_TEXT);
    checker.optional_line("service", command.service.as_deref(), 200);
    checker.finish().map(|()| action)
}

/// `cc` copies an e-mail reply: a few addresses, and only when the reply is mailed.
fn check_cc(checker: &mut Checker, command: &EventCommand) {
    let Some(cc) = &command.cc else { return };
    if command.channel != Some(ReplyChannel::Email) {
        checker.add("cc", "is only accepted with `channel: email`");
        return;
    }
    if cc.len() > MAX_REPLY_CC {
        checker.add("cc", format!("must name at most {MAX_REPLY_CC} addresses"));
    }
    for (index, address) in cc.iter().enumerate() {
        checker.email(&format!("cc[{index}]"), address);
    }
}

/// `at` defaults to now, may not be in the future (beyond the skew), and may not be earlier
/// than the ticket's report or latest event — except `interruption_start`, which monitoring
/// often knows to have begun before anyone called.
fn check_at(
    state: &TicketState,
    action: Action,
    at: Option<DateTime<Utc>>,
    rules: &EventRules,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Invalid> {
    let at = match at {
        None => now.max(state.last_event_at),
        Some(at) => check_given_at(state, action, at, rules, now)?,
    };
    // An interruption ends after it starts, even when its start was back-dated to now.
    if action == Action::InterruptionEnd
        && let Some(started) = state.interruption_started_at
        && at <= started
    {
        return Err(Invalid::one(
            "at",
            format!(
                "must be after the interruption's start ({})",
                rfc3339(started)
            ),
        ));
    }
    Ok(at)
}

fn check_given_at(
    state: &TicketState,
    action: Action,
    at: DateTime<Utc>,
    rules: &EventRules,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Invalid> {
    if at > now + MAX_CLOCK_SKEW {
        return Err(Invalid::one("at", "must not be in the future"));
    }
    if action == Action::InterruptionStart {
        let earliest = state
            .reported_at
            .checked_sub_signed(rules.max_backdate)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        if at < earliest {
            return Err(Invalid::one(
                "at",
                format!(
                    "must not be more than {} days before the ticket's reported_at ({})",
                    rules.max_backdate.num_days(),
                    rfc3339(state.reported_at)
                ),
            ));
        }
        if let Some(end) = state.last_interruption_end
            && at < end
        {
            return Err(Invalid::one(
                "at",
                format!(
                    "must not be before the previous interruption's end ({})",
                    rfc3339(end)
                ),
            ));
        }
        return Ok(at);
    }
    let earliest = state.reported_at.max(state.last_event_at);
    if at < earliest {
        let what = if earliest == state.reported_at {
            "the ticket's reported_at"
        } else {
            "the ticket's latest event"
        };
        return Err(Invalid(vec![FieldError::new(
            "at",
            format!("must not be earlier than {what} ({})", rfc3339(earliest)),
        )]));
    }
    Ok(at)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn details_of(command: &EventCommand) -> Map<String, Value> {
    let mut details = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            details.insert(key.to_owned(), Value::String(value));
        }
    };
    put("channel", command.channel.map(|c| c.as_str().to_owned()));
    put("message", command.message.clone());
    put("resolution", command.resolution.clone());
    put("reason", command.reason.clone());
    put("service", command.service.clone());
    put("assignee_id", command.assignee_id.map(|id| id.to_string()));
    if let Some(cc) = command.cc.as_ref().filter(|cc| !cc.is_empty()) {
        details.insert("cc".to_owned(), Value::from(cc.clone()));
    }
    if let Some(extra) = &command.channel_details {
        details.extend(extra.clone());
    }
    details
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
