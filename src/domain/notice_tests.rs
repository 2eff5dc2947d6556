use super::*;
use crate::domain::malfunction::MalfunctionDetails;
use crate::domain::ticket::Requester;
use crate::domain::{Channel, Level, Status};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn ticket() -> Ticket {
    let reported = at("2016-06-23T08:00:00Z");
    Ticket {
        id: Uuid::now_v7(),
        number: "2016-000042".into(),
        subject: "Pagamenti giù".into(),
        description: "Anna Verdi non riesce a pagare".into(),
        channel: Channel::Phone,
        status: Status::Open,
        level: Level::First,
        assignee_id: None,
        agency_id: None,
        requester: Requester::default(),
        malfunction: true,
        interruption_open: true,
        interruption_started_at: Some(at("2016-06-23T07:50:00Z")),
        details: MalfunctionDetails {
            affected_services: vec!["PagoPA".into()],
            ..MalfunctionDetails::default()
        },
        reported_at: reported,
        last_event_at: reported,
        next_deadline: None,
        created_by: Uuid::now_v7(),
        created_at: reported,
        updated_at: reported,
        version: 1,
        last_sequence: 1,
        public_notice_id: None,
    }
}

fn event(ticket: &Ticket, action: Action, when: &str, message: Option<&str>) -> TicketEvent {
    let mut details = serde_json::Map::new();
    if let Some(message) = message {
        details.insert("message".into(), message.into());
    }
    TicketEvent {
        id: Uuid::now_v7(),
        ticket_id: ticket.id,
        sequence: 2,
        action,
        at: at(when),
        recorded_at: at(when),
        actor_id: None,
        status: ticket.status,
        level: ticket.level,
        assignee_id: None,
        details,
    }
}

fn published(change: Option<NoticeChange>) -> PublicNotice {
    match change {
        Some(NoticeChange::Published(notice)) => notice,
        other => panic!("expected a new notice, got {other:?}"),
    }
}

fn changed(change: Option<NoticeChange>) -> (PublicNotice, Option<NoticeUpdate>) {
    match change {
        Some(NoticeChange::Changed { notice, update }) => (notice, update),
        other => panic!("expected a change, got {other:?}"),
    }
}

#[test]
fn a_second_notify_users_updates_the_same_notice_and_moves_its_time() {
    let ticket = ticket();
    let first = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T08:40:00Z",
        Some("Giù."),
    );
    let notice = published(follow_event(None, &ticket, &[], &first, first.at));
    assert_eq!(
        (notice.published_at, notice.updated_at),
        (first.at, first.at)
    );
    assert_eq!(notice.services, ["PagoPA"]);
    assert!(notice.is_current());
    assert_eq!(notice.updates.len(), 1);

    // Recorded in the same microsecond as the first: the time still moves.
    let second = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T08:40:00Z",
        Some("Ancora."),
    );
    let (after, update) = changed(follow_event(
        Some(&notice),
        &ticket,
        &[],
        &second,
        second.at,
    ));
    assert_eq!(after.id, notice.id);
    assert_eq!(after.text, "Ancora.");
    assert_eq!(after.published_at, notice.published_at);
    assert!(after.updated_at > notice.updated_at);
    assert_eq!(update.unwrap().text, "Ancora.");
}

#[test]
fn the_interruption_resolves_the_notice_and_the_next_one_gets_its_own() {
    let mut ticket = ticket();
    let told = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T08:40:00Z",
        Some("Giù."),
    );
    let notice = published(follow_event(None, &ticket, &[], &told, told.at));
    ticket.interruption_open = false;
    let end = event(
        &ticket,
        Action::InterruptionEnd,
        "2016-06-23T09:00:00Z",
        None,
    );
    let (resolved, update) = changed(follow_event(Some(&notice), &ticket, &[], &end, end.at));
    assert_eq!(resolved.interruption_ended_at, Some(end.at));
    assert!(!resolved.is_current() && update.is_none());

    // A text posted after the end keeps it resolved.
    let history = [told.clone(), end.clone()];
    let after = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T09:10:00Z",
        Some("Risolto."),
    );
    let (still, _) = changed(follow_event(
        Some(&resolved),
        &ticket,
        &history,
        &after,
        after.at,
    ));
    assert_eq!(still.interruption_ended_at, Some(end.at));

    // A new interruption leaves the resolved notice as it is; the next text about it is a
    // notice of its own.
    ticket.interruption_open = true;
    ticket.interruption_started_at = Some(at("2016-06-23T10:00:00Z"));
    let again = event(
        &ticket,
        Action::InterruptionStart,
        "2016-06-23T10:00:00Z",
        None,
    );
    assert_eq!(
        follow_event(Some(&still), &ticket, &history, &again, again.at),
        None
    );
    let told_again = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T10:20:00Z",
        Some("Di nuovo giù."),
    );
    let fresh = published(follow_event(
        Some(&still),
        &ticket,
        &history,
        &told_again,
        told_again.at,
    ));
    assert_ne!(fresh.id, still.id);
    assert!(fresh.is_current());
    assert_eq!(fresh.interruption_started_at, Some(again.at));
    assert_eq!(fresh.text, "Di nuovo giù.");
}

#[test]
fn resolving_without_an_open_interruption_resolves_a_current_notice() {
    let mut ticket = ticket();
    ticket.interruption_open = false;
    let told = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T08:40:00Z",
        Some("Giù."),
    );
    let notice = published(follow_event(None, &ticket, &[], &told, told.at));
    assert!(notice.is_current());
    let resolve = event(&ticket, Action::Resolve, "2016-06-23T09:00:00Z", None);
    let (resolved, _) = changed(follow_event(
        Some(&notice),
        &ticket,
        &[],
        &resolve,
        resolve.at,
    ));
    assert_eq!(resolved.interruption_ended_at, Some(resolve.at));
    // With the interruption still open, the service is still down: the notice stays current.
    ticket.interruption_open = true;
    assert_eq!(
        follow_event(Some(&notice), &ticket, &[], &resolve, resolve.at),
        None
    );
}

#[test]
fn withdrawal_and_events_without_a_notice() {
    let ticket = ticket();
    let end = event(
        &ticket,
        Action::InterruptionEnd,
        "2016-06-23T09:00:00Z",
        None,
    );
    assert_eq!(follow_event(None, &ticket, &[], &end, end.at), None);
    let comment = event(
        &ticket,
        Action::Comment,
        "2016-06-23T09:00:00Z",
        Some("nota"),
    );
    assert_eq!(follow_event(None, &ticket, &[], &comment, comment.at), None);

    let told = event(
        &ticket,
        Action::NotifyUsers,
        "2016-06-23T08:40:00Z",
        Some("Giù."),
    );
    let notice = published(follow_event(None, &ticket, &[], &told, told.at));
    let now = at("2016-06-23T08:45:00Z");
    let withdraw = event(
        &ticket,
        Action::WithdrawNotice,
        "2016-06-23T08:45:00Z",
        None,
    );
    match follow_event(Some(&notice), &ticket, &[], &withdraw, now) {
        Some(NoticeChange::Withdrawn(gone)) => {
            assert_eq!(gone.withdrawn_at, Some(now));
            assert_eq!(gone.id, notice.id);
        }
        other => panic!("expected a withdrawal, got {other:?}"),
    }
    assert_eq!(
        follow_event(Some(&notice), &ticket, &[], &comment, now),
        None
    );
}
