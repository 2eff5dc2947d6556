//! Public notices (SPEC §10): what `notify_users` publishes to the public, and how the
//! ticket's later events change it. Pure: `db::notices` stores it, `public/` renders it.
//!
//! A notice holds only what the public may read (its text, the services, the times) plus the
//! ticket it belongs to, which no public output shows (its number only when configured).

use super::Action;
use super::ticket::{Ticket, TicketEvent};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// A ticket's notice to the public, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicNotice {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_number: String,
    /// The interrupted services, as the ticket named them at the latest `notify_users`.
    pub services: Vec<String>,
    /// The latest `notify_users` message.
    pub text: String,
    /// The start of the ticket's current (or last) interruption, if one was recorded.
    pub interruption_started_at: Option<DateTime<Utc>>,
    /// When that interruption ended; `None` while the notice is current.
    pub interruption_ended_at: Option<DateTime<Utc>>,
    /// The `at` of the first `notify_users`: when the public was told.
    pub published_at: DateTime<Utc>,
    /// Moves with every change (a new text, the end or a new start of the interruption).
    pub updated_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Every text the notice has had, oldest first (the last is `text`); empty when the
    /// caller did not load them.
    pub updates: Vec<NoticeUpdate>,
}

impl PublicNotice {
    /// Current until its interruption ends (a later `interruption_start` makes it current
    /// again).
    pub fn is_current(&self) -> bool {
        self.interruption_ended_at.is_none()
    }
}

/// One text of a notice: a `notify_users` message.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeUpdate {
    /// The `notify_users` event that posted it.
    pub event_id: Uuid,
    pub at: DateTime<Utc>,
    pub text: String,
    pub services: Vec<String>,
}

/// What an event did to the ticket's notice.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeChange {
    /// The first `notify_users` (or the first after a withdrawal): a new notice, with its
    /// first text in `updates`.
    Published(PublicNotice),
    /// The published notice changed; `update` is its new text, when the event posted one.
    Changed {
        notice: PublicNotice,
        update: Option<NoticeUpdate>,
    },
    /// Taken off every public output.
    Withdrawn(PublicNotice),
}

/// Whether events of `action` can change a public notice.
pub fn touches_notices(action: Action) -> bool {
    matches!(
        action,
        Action::NotifyUsers
            | Action::InterruptionStart
            | Action::InterruptionEnd
            | Action::WithdrawNotice
            | Action::Resolve
            | Action::CloseNotInScope
    )
}

/// What `event`, just recorded, does to the ticket's published `notice` (`None`: it has
/// none). `ticket` is the ticket after the event and `history` includes the event; `now` is
/// when the server records it. `None`: the event changes no notice.
pub fn follow_event(
    notice: Option<&PublicNotice>,
    ticket: &Ticket,
    history: &[TicketEvent],
    event: &TicketEvent,
    now: DateTime<Utc>,
) -> Option<NoticeChange> {
    // Strictly later than the last change, so a feed reader always sees that it changed.
    let updated =
        |previous: DateTime<Utc>| now.max(event.at).max(previous + Duration::microseconds(1));
    // A notice whose interruption is over belongs to that interruption: a later one on the
    // same ticket gets a notice of its own, and never reopens (or rewrites) the old one.
    let new_interruption_since = |notice: &PublicNotice| {
        notice.interruption_ended_at.is_some_and(|ended| {
            ticket.interruption_open && ticket.interruption_started_at.is_some_and(|s| s >= ended)
        })
    };
    let notice =
        notice.filter(|n| !(event.action == Action::NotifyUsers && new_interruption_since(n)));
    match (event.action, notice) {
        (Action::NotifyUsers, None) => {
            let update = text_of(ticket, event);
            Some(NoticeChange::Published(PublicNotice {
                id: Uuid::now_v7(),
                ticket_id: ticket.id,
                ticket_number: ticket.number.clone(),
                services: update.services.clone(),
                text: update.text.clone(),
                interruption_started_at: ticket.interruption_started_at,
                interruption_ended_at: last_end(ticket, history),
                published_at: event.at,
                updated_at: now.max(event.at),
                withdrawn_at: None,
                updates: vec![update],
            }))
        }
        (Action::NotifyUsers, Some(notice)) => {
            let update = text_of(ticket, event);
            Some(NoticeChange::Changed {
                notice: PublicNotice {
                    services: update.services.clone(),
                    text: update.text.clone(),
                    interruption_started_at: ticket.interruption_started_at,
                    interruption_ended_at: last_end(ticket, history),
                    updated_at: updated(notice.updated_at),
                    ..notice.clone()
                },
                update: Some(update),
            })
        }
        // Still current (told before the interruption was recorded): now it has a start.
        (Action::InterruptionStart, Some(notice)) if notice.interruption_ended_at.is_none() => {
            Some(NoticeChange::Changed {
                notice: PublicNotice {
                    interruption_started_at: Some(event.at),
                    updated_at: updated(notice.updated_at),
                    ..notice.clone()
                },
                update: None,
            })
        }
        (Action::InterruptionEnd, Some(notice)) => Some(NoticeChange::Changed {
            notice: PublicNotice {
                interruption_ended_at: Some(event.at),
                updated_at: updated(notice.updated_at),
                ..notice.clone()
            },
            update: None,
        }),
        // Resolved or closed with no interruption open: nothing is down any more, so a
        // notice posted without a recorded interruption does not stay "in corso" for ever.
        (Action::Resolve | Action::CloseNotInScope, Some(notice))
            if notice.interruption_ended_at.is_none() && !ticket.interruption_open =>
        {
            Some(NoticeChange::Changed {
                notice: PublicNotice {
                    interruption_ended_at: Some(event.at),
                    updated_at: updated(notice.updated_at),
                    ..notice.clone()
                },
                update: None,
            })
        }
        (Action::WithdrawNotice, Some(notice)) => Some(NoticeChange::Withdrawn(PublicNotice {
            withdrawn_at: Some(now),
            updated_at: updated(notice.updated_at),
            ..notice.clone()
        })),
        _ => None,
    }
}

fn text_of(ticket: &Ticket, event: &TicketEvent) -> NoticeUpdate {
    NoticeUpdate {
        event_id: event.id,
        at: event.at,
        text: event
            .details
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned(),
        services: ticket.details.affected_services.clone(),
    }
}

/// The end of the ticket's last interruption, unless one is open. A notice posted before any
/// interruption was recorded is current: the public is told of a problem.
fn last_end(ticket: &Ticket, history: &[TicketEvent]) -> Option<DateTime<Utc>> {
    if ticket.interruption_open {
        return None;
    }
    history
        .iter()
        .rev()
        .find(|e| e.action == Action::InterruptionEnd)
        .map(|e| e.at)
}

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
