//! Putting a message together: multipart (plain text and HTML, plus attachments), with a
//! `Message-ID` fixed when the message is decided, so every delivery attempt sends the very
//! same message and a receiver can recognise a repeat.

use super::MailSettings;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message, MultiPart};
use uuid::Uuid;

/// The header every message of the helpdesk carries, with its `Message-ID` domain.
pub const LOOP_HEADER: &str = "X-Helpdesk-Loop";

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// E.g. `text/csv; charset=utf-8`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A message ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The outbox row's id; also the left part of the `Message-ID`.
    pub id: Uuid,
    /// What caused it: `notify_agency`, `notify_users`, …
    pub kind: String,
    pub ticket_id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub agency_id: Option<Uuid>,
    /// The envelope sender.
    pub sender: String,
    pub recipients: Vec<String>,
    pub subject: String,
    /// `<id@domain>`.
    pub message_id: String,
    /// The RFC 5322 text as it will be sent.
    pub message: String,
}

/// What a message says, before it is put together.
#[derive(Debug, Clone, Default)]
pub struct Content<'a> {
    pub recipients: &'a [String],
    /// Copied (`Cc`); they are also envelope recipients.
    pub cc: &'a [String],
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub attachments: &'a [Attachment],
    /// Where answers go, when not to the sender (`Reply-To`).
    pub reply_to: Option<&'a str>,
    /// The message this one answers (`In-Reply-To`), `<id@domain>`.
    pub in_reply_to: Option<&'a str>,
    /// The thread so far, oldest first (`References`), each `<id@domain>`.
    pub references: &'a [String],
    /// Written by the helpdesk on its own (an acknowledgement): `Auto-Submitted:
    /// auto-replied` (RFC 3834), so that auto-responders leave it unanswered.
    pub auto_submitted: bool,
}

/// Puts a message together; refuses recipients that are not e-mail addresses.
pub fn compose(
    settings: &MailSettings,
    id: Uuid,
    content: &Content,
    date: DateTime<Utc>,
) -> Result<(String, String), String> {
    let message_id = format!("<{}@{}>", id, settings.message_id_domain);
    let mut builder = Message::builder()
        .from(settings.from.clone())
        .subject(content.subject)
        .message_id(Some(message_id.clone()))
        .date(date.into());
    let mailbox = |address: &str| {
        address
            .parse::<Mailbox>()
            .map_err(|e| format!("`{address}` is not an e-mail address: {e}"))
    };
    for recipient in content.recipients {
        builder = builder.to(mailbox(recipient)?);
    }
    for copied in content.cc {
        builder = builder.cc(mailbox(copied)?);
    }
    if let Some(reply_to) = content.reply_to {
        builder = builder.reply_to(mailbox(reply_to)?);
    }
    if let Some(parent) = content.in_reply_to {
        builder = builder.in_reply_to(parent.to_owned());
    }
    if !content.references.is_empty() {
        builder = builder.references(content.references.join(" "));
    }
    use lettre::message::header::{HeaderName, HeaderValue};
    // Every message says it is the helpdesk's: one that comes back (an auto-responder
    // quoting it, a forwarding loop) is recognised and never answered.
    builder = builder.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str(LOOP_HEADER),
        settings.message_id_domain.clone(),
    ));
    if content.auto_submitted {
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-replied".to_owned(),
        ));
    }
    let alternative =
        MultiPart::alternative_plain_html(content.text.to_owned(), content.html.to_owned());
    let body = if content.attachments.is_empty() {
        alternative
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for attachment in content.attachments {
            let content_type = ContentType::parse(&attachment.content_type)
                .map_err(|e| format!("attachment {}: {e}", attachment.filename))?;
            mixed = mixed.singlepart(
                lettre::message::Attachment::new(attachment.filename.clone())
                    .body(attachment.body.clone(), content_type),
            );
        }
        mixed
    };
    let message = builder
        .multipart(body)
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let text = String::from_utf8(message.formatted())
        .map_err(|e| format!("the message is not text: {e}"))?;
    Ok((message_id, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings::from_settings(&crate::config::Settings::default()).unwrap()
    }

    #[test]
    fn a_message_has_both_parts_a_stable_id_and_an_encoded_subject() {
        let id = Uuid::now_v7();
        let recipients = vec!["urp@comune.fi.it".to_owned()];
        let content = Content {
            recipients: &recipients,
            subject: "[2016-000042] Interruzione del servizio: Portale è giù",
            text: "Il servizio è interrotto.",
            html: "<p>Il servizio è interrotto.</p>",
            ..Content::default()
        };
        let at = "2016-06-23T15:30:00Z".parse().unwrap();
        let (message_id, first) = compose(&settings(), id, &content, at).unwrap();
        let (_, again) = compose(&settings(), id, &content, at).unwrap();
        assert_eq!(message_id, format!("<{id}@localhost>"));
        assert!(
            first.contains(&format!("Message-ID: {message_id}")),
            "{first}"
        );
        assert!(first.contains("multipart/alternative"));
        assert!(first.contains("text/plain") && first.contains("text/html"));
        assert!(
            first.is_ascii(),
            "headers and bodies are encoded for 7-bit transport"
        );
        // Boundaries are random; everything else is the same message.
        let strip = |m: &str| {
            m.lines()
                .filter(|l| !l.contains("boundary") && !l.starts_with("--"))
                .count()
        };
        assert_eq!(strip(&first), strip(&again));
    }

    #[test]
    fn a_bad_recipient_is_refused_by_name() {
        let recipients = vec!["not an address".to_owned()];
        let content = Content {
            recipients: &recipients,
            subject: "x",
            text: "x",
            html: "x",
            ..Content::default()
        };
        let error = compose(&settings(), Uuid::now_v7(), &content, Utc::now()).unwrap_err();
        assert!(error.contains("not an address"), "{error}");
    }

    #[test]
    fn a_reply_names_its_copies_its_answer_address_and_its_thread() {
        let recipients = vec!["mario.rossi@example.org".to_owned()];
        let cc = vec!["ufficio@comune.fi.it".to_owned()];
        let references = vec!["<a@x.org>".to_owned(), "<b@localhost>".to_owned()];
        let content = Content {
            recipients: &recipients,
            cc: &cc,
            subject: "[2016-000042] Accesso",
            text: "x",
            html: "x",
            reply_to: Some("Assistenza <assistenza@cst.example.org>"),
            in_reply_to: Some("<a@x.org>"),
            references: &references,
            ..Content::default()
        };
        let (_, text) = compose(&settings(), Uuid::now_v7(), &content, Utc::now()).unwrap();
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(parsed.in_reply_to().as_text(), Some("a@x.org"), "{text}");
        let thread: Vec<&str> = parsed
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|id| id.as_ref())
            .collect();
        assert_eq!(thread, ["a@x.org", "b@localhost"], "{text}");
        let reply_to = parsed.reply_to().and_then(|a| a.first()).unwrap();
        assert_eq!(reply_to.address(), Some("assistenza@cst.example.org"));
        let copied = parsed.cc().and_then(|a| a.first()).unwrap();
        assert_eq!(copied.address(), Some("ufficio@comune.fi.it"));
    }
}
