//! The acknowledgement of a ticket opened by e-mail: one message to its sender with the
//! ticket's number and the take-charge commitment, in the thread of the sender's message. It
//! is marked automatic (RFC 3834), so that an auto-responder does not answer it. Pure.

use super::MailSettings;
use super::compose::{Content, OutgoingMail, compose};
use super::replies::ACKNOWLEDGEMENT_KIND;
use crate::domain::ticket::Ticket;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Serialize)]
struct AcknowledgementFacts<'a> {
    centre_name: &'a str,
    number: &'a str,
    subject: &'a str,
    requester_name: Option<&'a str>,
    commitment: &'a str,
    title: &'a str,
}

/// Whom an acknowledgement answers.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// The sender's address.
    pub address: &'a str,
    /// The sender's `Message-ID`.
    pub message_id: Option<&'a str>,
    /// The helpdesk's address the message was delivered to: where answers go.
    pub wrote_to: Option<&'a str>,
}

/// The acknowledgement of `ticket` to `sender`, in the thread of its message; `commitment`
/// is the take-charge SLA's words.
pub fn acknowledgement(
    settings: &MailSettings,
    ticket: &Ticket,
    sender: Sender,
    commitment: &str,
    now: DateTime<Utc>,
) -> Result<OutgoingMail, String> {
    let (address, answered) = (sender.address, sender.message_id);
    let subject = format!("[{}] {}", ticket.number, ticket.subject);
    let facts = AcknowledgementFacts {
        centre_name: &settings.centre_name,
        number: &ticket.number,
        subject: &ticket.subject,
        requester_name: ticket.requester.name.as_deref(),
        commitment: commitment.trim_end_matches('.'),
        title: &subject,
    };
    let text = crate::templates::render("acknowledgement.txt", &facts)?;
    let html = crate::templates::render("acknowledgement.html", &facts)?;
    let recipients = vec![address.to_owned()];
    let references: Vec<String> = answered.iter().map(|id| (*id).to_owned()).collect();
    let reply_to = super::replies::reply_to_mailbox(settings, sender.wrote_to);
    let content = Content {
        recipients: &recipients,
        subject: &subject,
        text: &text,
        html: &html,
        reply_to: Some(&reply_to),
        in_reply_to: answered,
        references: &references,
        auto_submitted: true,
        ..Content::default()
    };
    let id = Uuid::now_v7();
    let (message_id, message) = compose(settings, id, &content, now)?;
    Ok(OutgoingMail {
        id,
        kind: ACKNOWLEDGEMENT_KIND.to_owned(),
        ticket_id: Some(ticket.id),
        event_id: None,
        agency_id: None,
        sender: settings.from.email.to_string(),
        recipients,
        subject,
        message_id,
        message,
    })
}
