//! Mail about mail (SPEC §8): a bounce (`multipart/report; report-type=delivery-status`,
//! RFC 3464) and the receipts of certified mail (PEC: `X-Ricevuta`, with
//! `X-Riferimento-Message-ID`) say what became of a message the helpdesk sent; a PEC envelope
//! carries the message itself as its `postacert.eml` part. Pure.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

/// What a report says of the message it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedDelivery {
    /// Returned, or refused by the recipient's provider: the message is `bounced`.
    Bounced,
    /// Delivered to the recipient's PEC mailbox: the message is `delivered`.
    Delivered,
    /// Taken on its way (a PEC `accettazione`, a delay notice): nothing changes.
    OnItsWay,
}

/// A report about messages the helpdesk may have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The `Message-ID`s it names (`<id@domain>`).
    pub refers_to: Vec<String>,
    pub delivery: ReportedDelivery,
    /// What the report says (the diagnostic, or the receipt's kind).
    pub reason: String,
}

/// The report `message` is, if it is one.
pub fn delivery_report(message: &Message) -> Option<DeliveryReport> {
    if let Some(kind) = message
        .header_raw("X-Ricevuta")
        .map(|k| k.trim().to_ascii_lowercase())
    {
        let delivery = match kind.as_str() {
            "avvenuta-consegna" => ReportedDelivery::Delivered,
            "non-accettazione" | "errore-consegna" | "preavviso-errore-consegna" => {
                ReportedDelivery::Bounced
            }
            _ => ReportedDelivery::OnItsWay,
        };
        let refers_to = message
            .header_raw("X-Riferimento-Message-ID")
            .map(|id| vec![angle(id)])
            .unwrap_or_default();
        return Some(DeliveryReport {
            refers_to,
            delivery,
            reason: format!("PEC: {kind}"),
        });
    }
    let content_type = message.content_type()?;
    let is_dsn = content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && content_type
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_dsn {
        return None;
    }
    let mut refers_to = Vec::new();
    let mut status = String::new();
    for part in &message.parts {
        let Some(part_type) = part.content_type() else {
            continue;
        };
        let kind = format!(
            "{}/{}",
            part_type.ctype().to_ascii_lowercase(),
            part_type.subtype().unwrap_or_default().to_ascii_lowercase()
        );
        match (kind.as_str(), &part.body) {
            ("message/rfc822", PartType::Message(returned)) => {
                refers_to.extend(returned.message_id().map(|id| format!("<{id}>")));
            }
            ("text/rfc822-headers", _) | ("message/rfc822", _) => {
                let headers = MessageParser::default().parse_headers(part.contents());
                refers_to.extend(headers.and_then(|h| h.message_id().map(|id| format!("<{id}>"))));
            }
            ("message/delivery-status", _) => {
                status = String::from_utf8_lossy(part.contents()).into_owned();
            }
            _ => {}
        }
    }
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let action = field("Action")
        .unwrap_or_else(|| "failed".into())
        .to_ascii_lowercase();
    let delivery = match action.as_str() {
        "failed" => ReportedDelivery::Bounced,
        _ => ReportedDelivery::OnItsWay,
    };
    let reason = [field("Status"), field("Diagnostic-Code")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Some(DeliveryReport {
        refers_to,
        delivery,
        reason: if reason.is_empty() {
            format!("delivery report: {action}")
        } else {
            reason
        },
    })
}

/// The raw message inside a PEC envelope (its `postacert.eml` part), if `message` is one.
pub fn pec_content<'a>(message: &'a Message<'a>) -> Option<&'a [u8]> {
    message
        .attachments()
        .find(|part| {
            part.attachment_name()
                .is_some_and(|name| name.eq_ignore_ascii_case("postacert.eml"))
        })
        .map(|part| part.contents())
}

fn angle(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Message<'_> {
        MessageParser::default().parse(raw).unwrap()
    }

    #[test]
    fn a_bounce_names_the_returned_message_and_why() {
        let raw = b"From: MAILER-DAEMON@example.org\r\nSubject: Undelivered\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nNon consegnato.\r\n\
--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
Final-Recipient: rfc822; nessuno@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\
--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <abc@cst.example.org>\r\nSubject: x\r\n\
--r--\r\n";
        let report = delivery_report(&parse(raw)).unwrap();
        assert_eq!(report.refers_to, ["<abc@cst.example.org>"]);
        assert_eq!(report.delivery, ReportedDelivery::Bounced);
        assert!(report.reason.contains("user unknown"), "{}", report.reason);
    }

    #[test]
    fn pec_receipts_say_delivered_or_bounced() {
        for (kind, delivery) in [
            ("avvenuta-consegna", ReportedDelivery::Delivered),
            ("errore-consegna", ReportedDelivery::Bounced),
            ("non-accettazione", ReportedDelivery::Bounced),
            ("accettazione", ReportedDelivery::OnItsWay),
        ] {
            let raw = format!(
                "From: posta-certificata@pec.example.it\r\nX-Ricevuta: {kind}\r\n\
X-Riferimento-Message-ID: <r1@cst.example.org>\r\nSubject: CONSEGNA\r\n\r\nx\r\n"
            );
            let report = delivery_report(&parse(raw.as_bytes())).unwrap();
            assert_eq!(report.delivery, delivery, "{kind}");
            assert_eq!(report.refers_to, ["<r1@cst.example.org>"]);
        }
        let plain = b"From: a@example.org\r\nSubject: x\r\n\r\nx\r\n";
        assert_eq!(delivery_report(&parse(plain)), None);
    }
}
