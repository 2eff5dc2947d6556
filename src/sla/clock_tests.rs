use super::*;
use crate::sla::policy::default_policies;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn event(action: Action, when: &str, status: Status) -> ClockEvent {
    ClockEvent {
        action,
        at: at(when),
        status,
    }
}

/// The policy's only clock on a ticket with at most one interruption.
fn compute_one(
    policy: &SlaPolicy,
    calendar: &Calendar,
    ticket: &TicketFacts,
    at_risk_share: f64,
) -> Result<Option<Clock>, CalendarError> {
    let clocks = compute(policy, calendar, ticket, at_risk_share)?;
    assert!(clocks.len() <= 1, "{clocks:?}");
    Ok(clocks.into_iter().next())
}

fn policy(code: &str) -> SlaPolicy {
    default_policies()
        .into_iter()
        .find(|p| p.code == code)
        .unwrap()
}

fn facts<'a>(
    reported: &str,
    channel: Channel,
    malfunction: bool,
    events: &'a [ClockEvent],
) -> TicketFacts<'a> {
    TicketFacts {
        reported_at: at(reported),
        channel,
        malfunction,
        events,
        agency_calendar: None,
    }
}

#[test]
fn take_charge_stops_sla6_and_a_reopen_does_not_restart_it() {
    let calendar = Calendar::italian_default();
    let events = [
        event(Action::Created, "2016-06-23T15:30:00Z", Status::New),
        event(Action::TakeCharge, "2016-06-27T06:10:00Z", Status::Open),
        event(Action::Resolve, "2016-06-27T07:00:00Z", Status::Resolved),
        event(Action::Reopen, "2016-06-28T07:00:00Z", Status::Open),
    ];
    let ticket = facts("2016-06-23T15:30:00Z", Channel::Email, false, &events);
    let clock = compute_one(&policy("SLA.6"), &calendar, &ticket, 0.75)
        .unwrap()
        .unwrap();
    assert_eq!(clock.deadline, Some(at("2016-06-27T06:30:00Z")));
    assert_eq!(clock.stopped_at, Some(at("2016-06-27T06:10:00Z")));
    let view = clock
        .view(&calendar, at("2016-07-01T00:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (view.state, view.elapsed_seconds, view.remaining_seconds),
        (ClockState::Met, 2400, 1200)
    );
}

#[test]
fn a_running_clock_is_at_risk_then_breached() {
    let calendar = Calendar::italian_default();
    let events = [event(Action::Created, "2016-06-23T15:30:00Z", Status::New)];
    let ticket = facts("2016-06-23T15:30:00Z", Channel::Phone, false, &events);
    let clock = compute_one(&policy("SLA.6"), &calendar, &ticket, 0.75)
        .unwrap()
        .unwrap();
    assert_eq!(clock.at_risk_at, Some(at("2016-06-27T06:15:00Z")));
    let states: Vec<_> = [
        "2016-06-24T12:00:00Z",
        "2016-06-27T06:15:00Z",
        "2016-06-27T06:30:00Z",
        "2016-06-27T06:30:01Z",
    ]
    .iter()
    .map(|now| {
        let view = clock.view(&calendar, at(now)).unwrap().unwrap();
        (view.state, view.at_risk, view.remaining_seconds)
    })
    .collect();
    assert_eq!(
        states,
        [
            (ClockState::Running, false, 1800),
            (ClockState::Running, true, 900),
            (ClockState::Running, true, 0),
            (ClockState::Breached, false, -1),
        ]
    );
}

#[test]
fn sla8_applies_to_phone_malfunctions_only() {
    let calendar = Calendar::always_open();
    let events = [event(Action::Created, "2016-06-23T15:30:00Z", Status::New)];
    for (channel, malfunction, applies) in [
        (Channel::Phone, true, true),
        (Channel::Email, true, false),
        (Channel::Phone, false, false),
    ] {
        let ticket = facts("2016-06-23T15:30:00Z", channel, malfunction, &events);
        let clock = compute_one(&policy("SLA.8"), &calendar, &ticket, 0.75).unwrap();
        assert_eq!(
            clock.is_some(),
            applies,
            "{channel} malfunction={malfunction}"
        );
    }
}

fn interruption(minutes: Option<i64>) -> Vec<ClockEvent> {
    let start = at("2016-06-23T10:00:00Z");
    let mut events = vec![
        event(Action::Created, "2016-06-23T10:05:00Z", Status::New),
        ClockEvent {
            action: Action::InterruptionStart,
            at: start,
            status: Status::New,
        },
        event(
            Action::StartIntervention,
            "2016-06-23T10:10:00Z",
            Status::New,
        ),
    ];
    if let Some(minutes) = minutes {
        events.push(ClockEvent {
            action: Action::InterruptionEnd,
            at: start + Duration::minutes(minutes),
            status: Status::New,
        });
    }
    events
}

#[test]
fn sla10_appears_only_once_an_interruption_passes_30_minutes() {
    let calendar = Calendar::always_open();
    let sla10 = policy("SLA.10");
    let short = interruption(Some(25));
    let ticket = facts("2016-06-23T10:05:00Z", Channel::Phone, true, &short);
    assert_eq!(compute_one(&sla10, &calendar, &ticket, 0.75).unwrap(), None);

    for history in [interruption(Some(31)), interruption(None)] {
        let ticket = facts("2016-06-23T10:05:00Z", Channel::Phone, true, &history);
        let clock = compute_one(&sla10, &calendar, &ticket, 0.75)
            .unwrap()
            .unwrap();
        assert_eq!(clock.applies_from, at("2016-06-23T10:30:00Z"));
        assert_eq!(
            clock.deadline,
            Some(at("2016-06-23T11:10:00Z")),
            "start_intervention + 60 min"
        );
        assert_eq!(
            clock.view(&calendar, at("2016-06-23T10:29:59Z")).unwrap(),
            None
        );
        assert!(
            clock
                .view(&calendar, at("2016-06-23T10:30:00Z"))
                .unwrap()
                .is_some()
        );
    }
    let sla9 = compute_one(
        &policy("SLA.9"),
        &calendar,
        &facts("2016-06-23T10:05:00Z", Channel::Email, true, &short),
        0.75,
    )
    .unwrap()
    .unwrap();
    assert_eq!(sla9.deadline, Some(at("2016-06-23T10:40:00Z")));
}

#[test]
fn a_pausing_policy_stands_still_while_on_hold() {
    let calendar = Calendar::italian_default();
    let mut pausing = policy("SLA.7");
    pausing.pause_while_on_hold = true;
    // Reported Monday 08:00 CEST; on hold 09:00-11:00; replied 14:00.
    let mut events = vec![
        event(Action::Created, "2016-06-20T06:00:00Z", Status::New),
        event(Action::TakeCharge, "2016-06-20T06:30:00Z", Status::Open),
        event(Action::Hold, "2016-06-20T07:00:00Z", Status::OnHold),
    ];
    let paused = compute_one(
        &pausing,
        &calendar,
        &facts("2016-06-20T06:00:00Z", Channel::Email, false, &events),
        0.75,
    )
    .unwrap()
    .unwrap();
    assert!(paused.paused);
    assert_eq!(paused.deadline, None);
    let view = paused
        .view(&calendar, at("2016-06-20T08:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (view.state, view.elapsed_seconds),
        (ClockState::Paused, 3600)
    );

    events.push(event(Action::Resume, "2016-06-20T09:00:00Z", Status::Open));
    events.push(event(Action::Reply, "2016-06-20T12:00:00Z", Status::Open));
    let done = compute_one(
        &pausing,
        &calendar,
        &facts("2016-06-20T06:00:00Z", Channel::Email, false, &events),
        0.75,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        done.deadline,
        Some(at("2016-06-20T14:00:00Z")),
        "6 h plus the 2 h on hold"
    );
    let view = done
        .view(&calendar, at("2016-06-21T00:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (view.state, view.elapsed_seconds),
        (ClockState::Met, 4 * 3600)
    );
}

#[test]
fn two_interruptions_of_25_and_40_minutes_have_two_sla9_and_one_sla10() {
    let calendar = Calendar::always_open();
    let events = [
        event(Action::Created, "2016-06-23T08:00:00Z", Status::New),
        event(
            Action::InterruptionStart,
            "2016-06-23T08:00:00Z",
            Status::New,
        ),
        event(
            Action::StartIntervention,
            "2016-06-23T08:05:00Z",
            Status::New,
        ),
        event(Action::NotifyAgency, "2016-06-23T08:10:00Z", Status::New),
        event(Action::InterruptionEnd, "2016-06-23T08:25:00Z", Status::New),
        event(
            Action::InterruptionStart,
            "2016-06-23T09:00:00Z",
            Status::New,
        ),
        event(Action::InterruptionEnd, "2016-06-23T09:40:00Z", Status::New),
    ];
    let ticket = facts("2016-06-23T08:00:00Z", Channel::Phone, true, &events);
    let sla9 = compute(&policy("SLA.9"), &calendar, &ticket, 0.75).unwrap();
    assert_eq!(sla9.len(), 2);
    assert_eq!(sla9[0].started_at, at("2016-06-23T08:05:00Z"));
    assert_eq!(sla9[0].stopped_at, Some(at("2016-06-23T08:10:00Z")));
    // Under way already when the second began: it starts with it, and the earlier notice
    // does not stop it.
    assert_eq!(sla9[1].interruption.unwrap().sequence, 2);
    assert_eq!(sla9[1].started_at, at("2016-06-23T09:00:00Z"));
    assert_eq!(sla9[1].deadline, Some(at("2016-06-23T09:30:00Z")));
    assert_eq!(sla9[1].stopped_at, None);
    let sla10 = compute(&policy("SLA.10"), &calendar, &ticket, 0.75).unwrap();
    assert_eq!(sla10.len(), 1, "the 25-minute one has none");
    assert_eq!(sla10[0].interruption.unwrap().sequence, 2);
    assert_eq!(sla10[0].applies_from, at("2016-06-23T09:30:00Z"));
    assert_eq!(sla10[0].deadline, Some(at("2016-06-23T10:00:00Z")));
    // Not in the next deadline before its 30th minute.
    let clocks: Vec<Clock> = sla9.into_iter().chain(sla10).collect();
    assert_eq!(
        crate::sla::SlaEngine::next_deadline(&clocks, at("2016-06-23T09:10:00Z")),
        Some(at("2016-06-23T09:30:00Z"))
    );
    let running: Vec<Clock> = clocks.into_iter().skip(2).collect(); // SLA.10 alone
    assert_eq!(
        crate::sla::SlaEngine::next_deadline(&running, at("2016-06-23T09:29:59Z")),
        None
    );
    assert_eq!(
        crate::sla::SlaEngine::next_deadline(&running, at("2016-06-23T09:30:00Z")),
        Some(at("2016-06-23T10:00:00Z"))
    );
}
