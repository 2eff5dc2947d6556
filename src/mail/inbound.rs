//! Reading a received message (SPEC §8, "In"): mail-parser decodes the MIME structure, the
//! charsets and the encoded words; this module takes what the helpdesk needs of it — who
//! wrote, what they wrote (the text part, or the text of the HTML part), which messages it
//! answers, its attachments, and whether it was written by a machine. Pure: no database.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

/// A received message, as the ingest uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// `<id@domain>`, if the message has one.
    pub message_id: Option<String>,
    /// The sender's address, lowercase in its domain.
    pub from_address: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// The text part, or the text of the HTML part when there is only HTML.
    pub text: String,
    /// `In-Reply-To` then `References` (newest first), each `<id@domain>`: the messages
    /// this one answers.
    pub answers: Vec<String>,
    pub attachments: Vec<InboundAttachment>,
    /// Parts left out for their size: (file name, bytes).
    pub left_out: Vec<(String, usize)>,
    /// Written by a machine (RFC 3834 and the usual markers): never answered automatically.
    pub automatic: bool,
    /// A bounce or a PEC receipt: what became of a message the helpdesk sent. Such a message
    /// opens no ticket.
    pub report: Option<crate::mail::reports::DeliveryReport>,
    /// The helpdesk's loop header, when the message carries it: the domain of the helpdesk
    /// that sent it.
    pub loop_marker: Option<String>,
}

impl InboundMail {
    /// Whether the message is the helpdesk's own (its loop header, its `Message-ID` domain,
    /// or its sender), come back.
    pub fn is_own(&self, own_domain: &str, own_address: &str) -> bool {
        let own_id = self.message_id.as_deref().is_some_and(|id| {
            id.to_ascii_lowercase()
                .ends_with(&format!("@{}>", own_domain.to_ascii_lowercase()))
        });
        self.loop_marker
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(own_domain))
            || own_id
            || self.from_address.eq_ignore_ascii_case(own_address)
    }
}

/// An attachment kept with the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAttachment {
    /// Its place among the message's attachments, from 0.
    pub part: usize,
    pub filename: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Why a message cannot be ingested; it goes to the quarantine with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotUnderstood(pub String);

/// Reads `raw`; attachments larger than `max_attachment_bytes` are left out (and listed).
pub fn read_message(raw: &[u8], max_attachment_bytes: usize) -> Result<InboundMail, NotUnderstood> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(NotUnderstood("the message is empty".into()));
    }
    let mut message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| NotUnderstood("not an RFC 5322 message".into()))?;
    // A report may come from no address at all (`From: <>`): it is read before the sender.
    if let Some(report) = crate::mail::reports::delivery_report(&message) {
        return Ok(InboundMail {
            message_id: message.message_id().map(|id| format!("<{id}>")),
            from_address: message
                .from()
                .and_then(Address::first)
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned(),
            from_name: None,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: String::new(),
            answers: Vec::new(),
            attachments: Vec::new(),
            left_out: Vec::new(),
            automatic: true,
            report: Some(report),
            loop_marker: None,
        });
    }
    // Certified mail: the message is the envelope's `postacert.eml`.
    if let Some(content) = crate::mail::reports::pec_content(&message) {
        return read_message(content, max_attachment_bytes);
    }
    let sender = message
        .from()
        .and_then(Address::first)
        .ok_or_else(|| NotUnderstood("the message has no From address".into()))?;
    let from_address = sender
        .address()
        .map(str::trim)
        .filter(|a| is_address(a))
        .ok_or_else(|| NotUnderstood("the From header holds no e-mail address".into()))?;
    let from_address = match from_address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => from_address.to_owned(),
    };
    let mut answers: Vec<String> = ids(message.in_reply_to());
    let mut references = ids(message.references());
    references.reverse();
    for id in references {
        if !answers.contains(&id) {
            answers.push(id);
        }
    }
    // The bodies are taken out of the parsed message at the end, not copied: a large
    // attachment is held once, as mail-parser decoded it.
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    let mut unparsed = String::new();
    for (part, attachment) in message.attachments().enumerate() {
        let filename = attachment
            .attachment_name()
            .map(str::to_owned)
            .unwrap_or_else(|| match attachment.is_message() {
                true => format!("messaggio-{}.eml", part + 1),
                false => format!("allegato-{}", part + 1),
            });
        let body = attachment.contents();
        // A multipart body whose boundaries never match comes back whole, as one part: it is
        // what the sender wrote, not a file.
        if attachment
            .content_type()
            .is_some_and(|ct| ct.c_type.eq_ignore_ascii_case("multipart"))
        {
            unparsed.push_str(String::from_utf8_lossy(body).trim());
            continue;
        }
        if body.len() > max_attachment_bytes {
            left_out.push((filename, body.len()));
            continue;
        }
        let content_type = attachment
            .content_type()
            .map(|ct| match &ct.c_subtype {
                Some(subtype) => format!("{}/{subtype}", ct.c_type),
                None => ct.c_type.to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        kept.push((part, filename, content_type));
    }
    // mail-parser turns an HTML-only body into text here.
    let mut text = message
        .body_text(0)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    if text.is_empty() {
        text = unparsed;
    }
    let mut mail = InboundMail {
        message_id: message.message_id().map(|id| format!("<{id}>")),
        from_address,
        from_name: sender
            .name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        text,
        answers,
        attachments: Vec::with_capacity(kept.len()),
        left_out,
        automatic: is_automatic(&message, &sender_address_lower(sender.address())),
        report: None,
        loop_marker: message
            .header_raw(crate::mail::compose::LOOP_HEADER)
            .map(|v| v.trim().to_owned()),
    };
    for (part, filename, content_type) in kept {
        let body = message.attachments.get(part).and_then(|&id| {
            let found = message.parts.get_mut(id as usize)?;
            Some(take_contents(std::mem::take(&mut found.body)))
        });
        mail.attachments.push(InboundAttachment {
            part,
            filename,
            content_type,
            body: body.unwrap_or_default(),
        });
    }
    Ok(mail)
}

/// A part's contents (what `MessagePart::contents` reads), owned without a copy when
/// mail-parser decoded them.
fn take_contents(body: PartType) -> Vec<u8> {
    match body {
        PartType::Text(text) | PartType::Html(text) => text.into_owned().into_bytes(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes.into_owned(),
        PartType::Message(message) => message.raw_message().to_vec(),
        PartType::Multipart(_) => Vec::new(),
    }
}

fn sender_address_lower(address: Option<&str>) -> String {
    address.unwrap_or_default().to_ascii_lowercase()
}

fn ids(value: &HeaderValue) -> Vec<String> {
    value
        .as_text_list()
        .unwrap_or_default()
        .iter()
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
        .map(|id| format!("<{id}>"))
        .collect()
}

fn is_address(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
                && text.len() <= 254
        }
        None => false,
    }
}

/// RFC 3834's `Auto-Submitted` other than `no`, bulk and list mail, the auto-responders'
/// own markers, an empty `Return-Path` (a bounce), or a mailer daemon.
fn is_automatic(message: &mail_parser::Message, sender: &str) -> bool {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| !v.starts_with("no"));
    let bulk = header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"));
    let markers = [
        "List-Id",
        "X-Autoreply",
        "X-Autorespond",
        "X-Auto-Response-Suppress",
    ]
    .iter()
    .any(|name| header(name).is_some());
    let empty_return_path = header("Return-Path").is_some_and(|v| v == "<>" || v.is_empty());
    let local = sender.split('@').next().unwrap_or_default();
    let daemon = matches!(local, "mailer-daemon" | "postmaster");
    auto_submitted || bulk || markers || empty_return_path || daemon
}

/// The `Message-ID` of `raw` (`<id@domain>`), read from its headers alone.
pub fn message_id_of(raw: &[u8]) -> Option<String> {
    MessageParser::default()
        .parse_headers(raw)
        .and_then(|headers| headers.message_id().map(|id| format!("<{id}>")))
}

/// The ticket number a subject carries in brackets (`[2016-000042]`), if any.
pub fn subject_ticket_number(subject: &str) -> Option<String> {
    subject.match_indices('[').find_map(|(start, _)| {
        let candidate = subject.get(start + 1..start + 12)?;
        let closing = subject.get(start + 12..start + 13)?;
        let (year, serial) = candidate.split_once('-')?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        (closing == "]" && digits(year, 4) && digits(serial, 6)).then(|| candidate.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1024;

    #[test]
    fn a_plain_message_gives_sender_subject_text_and_thread() {
        let raw = b"From: =?utf-8?q?Mario_Ross=C3=AC?= <mario@Example.ORG>\r\n\
Subject: =?iso-8859-1?q?Re:_citt=E0?=\r\nMessage-ID: <m1@example.org>\r\n\
In-Reply-To: <r2@helpdesk>\r\nReferences: <r1@helpdesk> <r2@helpdesk>\r\n\r\nCiao\r\n";
        let mail = read_message(raw, LIMIT).unwrap();
        assert_eq!(mail.from_address, "mario@example.org");
        assert_eq!(mail.from_name.as_deref(), Some("Mario Rossì"));
        assert_eq!(mail.subject, "Re: città");
        assert_eq!(mail.text, "Ciao");
        assert_eq!(mail.message_id.as_deref(), Some("<m1@example.org>"));
        assert_eq!(mail.answers, ["<r2@helpdesk>", "<r1@helpdesk>"]);
        assert!(!mail.automatic);
    }

    #[test]
    fn what_a_machine_wrote_is_automatic() {
        for header in [
            "Auto-Submitted: auto-replied",
            "Precedence: bulk",
            "List-Id: <x.example.org>",
            "X-Autoreply: yes",
            "Return-Path: <>",
        ] {
            let raw = format!("From: a@example.org\r\n{header}\r\nSubject: x\r\n\r\nx\r\n");
            assert!(
                read_message(raw.as_bytes(), LIMIT).unwrap().automatic,
                "{header}"
            );
        }
        let raw = b"From: MAILER-DAEMON@example.org\r\nSubject: x\r\n\r\nx\r\n";
        assert!(read_message(raw, LIMIT).unwrap().automatic);
        let raw = b"From: a@example.org\r\nAuto-Submitted: no\r\n\r\nx\r\n";
        assert!(!read_message(raw, LIMIT).unwrap().automatic);
    }

    #[test]
    fn what_cannot_be_understood_says_why() {
        assert!(read_message(b"", LIMIT).unwrap_err().0.contains("empty"));
        let no_from = b"Subject: x\r\n\r\nx\r\n";
        assert!(read_message(no_from, LIMIT).unwrap_err().0.contains("From"));
        let bad_from = b"From: nobody\r\nSubject: x\r\n\r\nx\r\n";
        assert!(
            read_message(bad_from, LIMIT)
                .unwrap_err()
                .0
                .contains("From")
        );
    }

    #[test]
    fn the_subject_tag_is_found_anywhere_and_only_in_its_form() {
        assert_eq!(
            subject_ticket_number("Re: [2016-000042] Accesso").as_deref(),
            Some("2016-000042")
        );
        assert_eq!(
            subject_ticket_number("R: R: Accesso [2026-000001]").as_deref(),
            Some("2026-000001")
        );
        assert_eq!(subject_ticket_number("[2016-42] x"), None);
        assert_eq!(subject_ticket_number("[2016-0000420] x"), None);
        assert_eq!(subject_ticket_number("città [è"), None);
    }
}
