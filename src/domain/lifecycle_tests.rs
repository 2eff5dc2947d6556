use super::*;
use crate::domain::user::Role;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn state(status: Status, level: Level) -> TicketState {
    TicketState {
        status,
        level,
        assignee_id: None,
        malfunction: false,
        reported_at: at("2016-06-23T15:30:00Z"),
        last_event_at: at("2016-06-23T15:30:00Z"),
        interruption_open: false,
        interruption_started_at: None,
        last_interruption_end: None,
        public_notice: false,
    }
}

fn agent(level: Level) -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        name: "Agent".into(),
        role: Role::Agent,
        level: Some(level),
        agency_id: None,
    }
}

fn command(action: Action) -> EventCommand {
    EventCommand {
        action: Some(action),
        ..EventCommand::default()
    }
}

const NOW: &str = "2016-06-24T08:00:00Z";

#[test]
fn take_charge_opens_a_new_ticket_and_assigns_the_taker() {
    let taker = agent(Level::First);
    let next = decide(
        &state(Status::New, Level::First),
        &command(Action::TakeCharge),
        &taker,
        None,
        &EventRules::default(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(next.status, Status::Open);
    assert_eq!(next.assignee_id, Some(taker.user_id));
    assert_eq!(next.at, at(NOW));
}

#[test]
fn escalated_ticket_is_new_again_at_level_two_without_assignee() {
    let mut open = state(Status::Open, Level::First);
    open.assignee_id = Some(Uuid::now_v7());
    let next = decide(
        &open,
        &command(Action::Escalate),
        &agent(Level::First),
        None,
        &EventRules::default(),
        at(NOW),
    )
    .unwrap();
    assert_eq!(
        (next.status, next.level, next.assignee_id),
        (Status::New, Level::Second, None)
    );
}

#[test]
fn level_one_agent_cannot_take_charge_at_level_two() {
    let refused = decide(
        &state(Status::New, Level::Second),
        &command(Action::TakeCharge),
        &agent(Level::First),
        None,
        &EventRules::default(),
        at(NOW),
    );
    assert!(matches!(refused, Err(LifecycleError::Forbidden(_))));
}

#[test]
fn refused_transition_names_state_and_allowed_actions() {
    let refused = decide(
        &state(Status::Resolved, Level::Second),
        &command(Action::Escalate),
        &agent(Level::Second),
        None,
        &EventRules::default(),
        at(NOW),
    )
    .unwrap_err();
    assert_eq!(
        refused,
        LifecycleError::NotAllowed {
            action: Action::Escalate,
            status: Status::Resolved,
            level: Level::Second,
            allowed: vec![Action::Comment, Action::Reopen],
        }
    );
}

#[test]
fn allowed_actions_follow_the_spec_table() {
    let cases = [
        (
            Status::New,
            Level::First,
            vec!["take_charge", "comment", "assign", "close_not_in_scope"],
        ),
        (
            Status::Open,
            Level::First,
            vec![
                "reply",
                "comment",
                "assign",
                "escalate",
                "hold",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            Status::Open,
            Level::Second,
            vec![
                "reply",
                "comment",
                "assign",
                "hold",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            Status::OnHold,
            Level::First,
            vec![
                "reply",
                "comment",
                "assign",
                "resume",
                "resolve",
                "close_not_in_scope",
            ],
        ),
        (
            Status::ClosedNotInScope,
            Level::First,
            vec!["comment", "reopen"],
        ),
    ];
    for (status, level, expected) in cases {
        let names: Vec<_> = allowed_actions(&state(status, level))
            .iter()
            .map(|a| a.as_str())
            .collect();
        assert_eq!(names, expected, "{status} at level {}", level.number());
    }
}

#[test]
fn at_rules_refuse_future_and_earlier_than_latest_event() {
    let open = state(Status::Open, Level::First);
    let cases = [
        ("2016-06-24T08:01:00Z", true),  // within the 60 s skew
        ("2016-06-24T08:01:01Z", false), // future
        ("2016-06-23T15:29:59Z", false), // before reported_at
        ("2016-06-23T15:30:00Z", true),
    ];
    for (when, accepted) in cases {
        let mut reply = command(Action::Comment);
        reply.message = Some("note".into());
        reply.at = Some(at(when));
        let result = decide(
            &open,
            &reply,
            &agent(Level::First),
            None,
            &EventRules::default(),
            at(NOW),
        );
        assert_eq!(result.is_ok(), accepted, "at = {when}");
        if let Err(LifecycleError::Invalid(Invalid(errors))) = result {
            assert_eq!(errors[0].field, "at");
        }
    }
}

#[test]
fn interruption_start_may_precede_the_report() {
    let mut malfunction = state(Status::New, Level::First);
    malfunction.malfunction = true;
    let mut start = command(Action::InterruptionStart);
    start.at = Some(at("2016-06-23T15:00:00Z"));
    let next = decide(
        &malfunction,
        &start,
        &agent(Level::First),
        None,
        &EventRules::default(),
        at(NOW),
    )
    .unwrap();
    assert!(next.interruption_open);
    assert_eq!(next.last_event_at, malfunction.last_event_at);
}

#[test]
fn an_interruption_ends_after_it_starts() {
    let mut interrupted = state(Status::Open, Level::First);
    interrupted.malfunction = true;
    interrupted.interruption_open = true;
    interrupted.interruption_started_at = Some(at(NOW));
    interrupted.last_event_at = at(NOW);
    let end = command(Action::InterruptionEnd);
    let refused = decide(
        &interrupted,
        &end,
        &agent(Level::First),
        None,
        &EventRules::default(),
        at(NOW),
    )
    .unwrap_err();
    let LifecycleError::Invalid(Invalid(errors)) = refused else {
        panic!("expected an invalid `at`, got {refused:?}");
    };
    assert_eq!(errors[0].field, "at");
    assert!(errors[0].message.contains("after the interruption's start"));
    let later = at(NOW) + chrono::Duration::seconds(1);
    let next = decide(
        &interrupted,
        &end,
        &agent(Level::First),
        None,
        &EventRules::default(),
        later,
    )
    .unwrap();
    assert!(!next.interruption_open);
}

#[test]
fn actions_name_their_missing_fields() {
    let cases = [
        (Action::Reply, vec!["channel", "message"]),
        (Action::Resolve, vec!["resolution"]),
        (Action::CloseNotInScope, vec!["reason"]),
        (Action::Assign, vec!["assignee_id"]),
        (Action::Comment, vec!["message"]),
        (Action::NotifyAgency, vec!["message"]),
        (Action::NotifyUsers, vec!["message"]),
    ];
    for (action, fields) in cases {
        let refused = decide(
            &state(Status::Open, Level::First),
            &command(action),
            &agent(Level::First),
            None,
            &EventRules::default(),
            at(NOW),
        )
        .unwrap_err();
        let LifecycleError::Invalid(Invalid(errors)) = refused else {
            panic!("{action}: expected invalid fields");
        };
        let named: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, fields, "{action}");
    }
}

#[test]
fn the_acting_agent_decides_whether_it_may_take_charge_whoever_it_names() {
    let escalated = state(Status::New, Level::Second);
    let mut take = command(Action::TakeCharge);
    let second = agent(Level::Second);
    take.assignee_id = Some(second.user_id);
    let rules = EventRules::default();
    let refused = decide(
        &escalated,
        &take,
        &agent(Level::First),
        Some(&second),
        &rules,
        at(NOW),
    );
    assert!(
        matches!(refused, Err(LifecycleError::Forbidden(_))),
        "{refused:?}"
    );
    let first = agent(Level::First);
    take.assignee_id = Some(first.user_id);
    let refused = decide(&escalated, &take, &second, Some(&first), &rules, at(NOW)).unwrap_err();
    assert_eq!(
        refused,
        LifecycleError::Invalid(Invalid::one(
            "assignee_id",
            "a ticket at level 2 needs a level-2 agent"
        ))
    );
    let next = decide(
        &escalated,
        &command(Action::TakeCharge),
        &second,
        None,
        &rules,
        at(NOW),
    )
    .unwrap();
    assert_eq!(
        (next.status, next.assignee_id),
        (Status::Open, Some(second.user_id))
    );
}

#[test]
fn an_open_interruption_ends_in_every_state() {
    for status in [
        Status::New,
        Status::Open,
        Status::OnHold,
        Status::Resolved,
        Status::ClosedNotInScope,
    ] {
        let mut ticket = state(status, Level::First);
        ticket.malfunction = true;
        ticket.interruption_open = true;
        ticket.interruption_started_at = Some(at("2016-06-23T15:00:00Z"));
        assert!(
            allowed_actions(&ticket).contains(&Action::InterruptionEnd),
            "{status}"
        );
        ticket.interruption_open = false;
        assert!(!allowed_actions(&ticket).contains(&Action::InterruptionEnd));
    }
}

#[test]
fn an_interruption_starts_at_most_max_backdate_before_the_report() {
    let mut ticket = state(Status::Open, Level::First);
    ticket.malfunction = true;
    let rules = EventRules {
        max_backdate: chrono::Duration::days(2),
    };
    let mut start = command(Action::InterruptionStart);
    start.at = Some(at("2016-06-21T15:29:59Z"));
    let refused = decide(&ticket, &start, &agent(Level::First), None, &rules, at(NOW));
    assert!(
        matches!(refused, Err(LifecycleError::Invalid(_))),
        "{refused:?}"
    );
    start.at = Some(at("2016-06-21T15:30:00Z"));
    assert!(decide(&ticket, &start, &agent(Level::First), None, &rules, at(NOW)).is_ok());
}

#[test]
fn only_admins_and_supervisors_withdraw_a_published_notice_in_any_state() {
    let mut ticket = state(Status::Resolved, Level::First);
    ticket.malfunction = true;
    let supervisor = Principal {
        role: Role::Supervisor,
        level: None,
        ..agent(Level::First)
    };
    let (rules, now) = (EventRules::default(), at(NOW));
    let withdraw = command(Action::WithdrawNotice);
    let refused = decide(&ticket, &withdraw, &supervisor, None, &rules, now);
    assert!(
        matches!(refused, Err(LifecycleError::NotAllowed { .. })),
        "no notice to withdraw: {refused:?}"
    );
    ticket.public_notice = true;
    assert!(allowed_actions(&ticket).contains(&Action::WithdrawNotice));
    let next = decide(&ticket, &withdraw, &supervisor, None, &rules, now).unwrap();
    assert_eq!((next.status, next.level), (Status::Resolved, Level::First));
    let refused = decide(&ticket, &withdraw, &agent(Level::Second), None, &rules, now);
    assert!(
        matches!(refused, Err(LifecycleError::Forbidden(_))),
        "{refused:?}"
    );
}

#[test]
fn the_required_event_fields_are_those_check_fields_requires() {
    let assignee = agent(Level::First);
    for &action in Action::ALL {
        if is_recorded_by_service(action) {
            continue;
        }
        let required = required_event_fields(action);
        assert!(
            required
                .iter()
                .all(|field| event_fields(action).contains(field)),
            "{action}: a required field is not one of its fields"
        );
        let with = |fields: &[&str]| {
            let given = |field: &str| fields.contains(&field);
            EventCommand {
                action: Some(action),
                channel: given("channel").then_some(ReplyChannel::Phone),
                message: given("message").then(|| "testo".to_owned()),
                resolution: given("resolution").then(|| "testo".to_owned()),
                reason: given("reason").then(|| "testo".to_owned()),
                assignee_id: given("assignee_id").then_some(assignee.user_id),
                ..EventCommand::default()
            }
        };
        let named = given_assignee(required, &assignee);
        assert_eq!(
            check_fields(&with(required), named),
            Ok(action),
            "{action}: its required fields alone pass"
        );
        for missing in required {
            let rest: Vec<&str> = required.iter().copied().filter(|f| f != missing).collect();
            let refused = check_fields(&with(&rest), given_assignee(&rest, &assignee)).unwrap_err();
            assert!(
                refused.0.iter().any(|error| error.field == *missing),
                "{action}: refused without {missing}"
            );
        }
    }
}

fn given_assignee<'a>(fields: &[&str], assignee: &'a Principal) -> Option<&'a Principal> {
    fields.contains(&"assignee_id").then_some(assignee)
}
