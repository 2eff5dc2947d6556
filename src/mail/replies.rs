//! What an e-mail `reply` sends: one message to the ticket's requester (and its copies), in
//! the thread of the ticket's correspondence. Pure: the caller finds the thread and stores
//! the result in the outbox, in the event's transaction.

use super::MailSettings;
use super::compose::{Content, OutgoingMail, compose};
use crate::domain::Invalid;
use crate::domain::ticket::{Ticket, TicketEvent};
use serde::Serialize;
use uuid::Uuid;

/// The outbox `kind` of a reply to the requester.
pub const REPLY_KIND: &str = "reply";
/// The outbox `kind` of the acknowledgement of a ticket opened by e-mail.
pub const ACKNOWLEDGEMENT_KIND: &str = "acknowledgement";
/// Most earlier messages a reply's `References` names: the thread's start and its latest
/// messages are what clients use, and a header must stay a reasonable length.
const MAX_REFERENCES: usize = 20;

/// Where a reply stands in the ticket's correspondence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyThread {
    /// The requester's latest message on the ticket (`<id@domain>`), which the reply answers.
    pub in_reply_to: Option<String>,
    /// The ticket's messages so far, both ways, oldest first.
    pub references: Vec<String>,
    /// The mailbox the ticket came in through; answers go back there. `None`: `mail_from`.
    pub reply_to: Option<String>,
}

/// The `Reply-To` of the helpdesk's messages about a ticket: the mailbox it came in through
/// (`wrote_to`), under the centre's name, or else `mail_from`.
pub fn reply_to_mailbox(settings: &MailSettings, wrote_to: Option<&str>) -> String {
    wrote_to
        .and_then(|address| address.parse().ok())
        .map(|address| lettre::message::Mailbox::new(settings.from.name.clone(), address))
        .unwrap_or_else(|| settings.from.clone())
        .to_string()
}

#[derive(Debug, Serialize)]
struct ReplyFacts<'a> {
    centre_name: &'a str,
    number: &'a str,
    subject: &'a str,
    requester_name: Option<&'a str>,
    message: &'a str,
    title: &'a str,
}

/// The message `event` (a `reply` with `channel: email`) sends to the requester of `ticket`:
/// subject `[NUMBER] subject`, the event's `cc` copied. Refused (naming `requester.email`)
/// when the requester has no address.
pub fn reply_mail(
    settings: &MailSettings,
    ticket: &Ticket,
    event: &TicketEvent,
    thread: &ReplyThread,
) -> Result<OutgoingMail, Invalid> {
    let Some(requester) = ticket.requester.email.as_deref().filter(|e| !e.is_empty()) else {
        return Err(Invalid::one(
            "requester.email",
            "the ticket's requester has no e-mail address to reply to: reply by phone \
             (`channel: phone`)",
        ));
    };
    let text_of = |key: &str| event.details.get(key).and_then(|v| v.as_str());
    let cc: Vec<String> = event
        .details
        .get("cc")
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let subject = format!("[{}] {}", ticket.number, ticket.subject);
    let facts = ReplyFacts {
        centre_name: &settings.centre_name,
        number: &ticket.number,
        subject: &ticket.subject,
        requester_name: ticket.requester.name.as_deref().filter(|n| !n.is_empty()),
        message: text_of("message").unwrap_or_default(),
        title: &subject,
    };
    let internal = |e: String| Invalid::one("message", format!("cannot compose the reply: {e}"));
    let text = crate::templates::render("reply.txt", &facts).map_err(internal)?;
    let html = crate::templates::render("reply.html", &facts).map_err(internal)?;
    let recipients = vec![requester.to_owned()];
    let skip = thread.references.len().saturating_sub(MAX_REFERENCES);
    // The first message and the latest ones: the thread's root keeps clients' threading.
    let references: Vec<String> = thread
        .references
        .iter()
        .take(1)
        .chain(thread.references.iter().skip(skip.max(1)))
        .cloned()
        .collect();
    let reply_to = reply_to_mailbox(settings, thread.reply_to.as_deref());
    let content = Content {
        recipients: &recipients,
        cc: &cc,
        subject: &subject,
        text: &text,
        html: &html,
        reply_to: Some(&reply_to),
        in_reply_to: thread.in_reply_to.as_deref(),
        references: &references,
        ..Content::default()
    };
    let id = Uuid::now_v7();
    let (message_id, message) =
        compose(settings, id, &content, event.recorded_at).map_err(|e| {
            // The requester's address was checked when the ticket was opened; a copy's when the
            // event was; what is left is the configured mailbox.
            Invalid::one("requester.email", format!("cannot address the reply: {e}"))
        })?;
    Ok(OutgoingMail {
        id,
        kind: REPLY_KIND.to_owned(),
        ticket_id: Some(ticket.id),
        event_id: Some(event.id),
        agency_id: None,
        sender: settings.from.email.to_string(),
        recipients: recipients.into_iter().chain(cc).collect(),
        subject,
        message_id,
        message,
    })
}
