//! What a received message's text becomes on a ticket: a subject of one line, a description
//! and an event message within the API's limits, with a note for each attachment left out.
//! The raw message keeps everything; these are what agents read.

use crate::domain::lifecycle::MAX_EVENT_TEXT;
use crate::domain::ticket::Ticket;
use crate::mail::inbound::InboundMail;

/// Longest subject and description a ticket takes (as `POST /tickets`).
const MAX_SUBJECT: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;

/// One line: control characters and line breaks become spaces, runs of space one.
fn one_line(text: &str, max: usize) -> String {
    let spaced: String = text
        .chars()
        .map(
            |c| match c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                true => ' ',
                false => c,
            },
        )
        .collect();
    spaced
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// Free text: tabs and line breaks stay, other control characters go; cut at `max`
/// characters with a note.
fn free_text(text: &str, max: usize) -> String {
    let kept: String = text
        .chars()
        .filter(|&c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    if kept.chars().count() <= max {
        return kept;
    }
    let note = "\n\n[Testo troncato: il messaggio completo è conservato.]";
    let mut cut: String = kept.chars().take(max - note.chars().count()).collect();
    cut.push_str(note);
    cut
}

pub fn ticket_subject(subject: &str) -> String {
    match one_line(subject, MAX_SUBJECT) {
        line if line.is_empty() => "(senza oggetto)".into(),
        line => line,
    }
}

pub fn requester_name(name: &str) -> String {
    one_line(name, 200)
}

/// The notes of what was left out, one line each.
fn notes(mail: &InboundMail) -> String {
    mail.left_out
        .iter()
        .map(|(name, size)| {
            format!(
                "\n[Allegato «{name}» di {:.1} MB non conservato: supera il limite per allegato.]",
                *size as f64 / 1_048_576.0
            )
        })
        .collect()
}

pub fn ticket_description(mail: &InboundMail, follows: Option<&Ticket>) -> String {
    let mut text = String::new();
    if let Some(old) = follows {
        text.push_str(&format!(
            "[Segue la segnalazione {} «{}», risolta: il richiedente ha scritto dopo la \
             finestra di riapertura.]\n\n",
            old.number, old.subject
        ));
    }
    text.push_str(&mail.text);
    text.push_str(&notes(mail));
    free_text(&text, MAX_DESCRIPTION)
}

pub fn event_message(mail: &InboundMail) -> String {
    free_text(&format!("{}{}", mail.text, notes(mail)), MAX_EVENT_TEXT)
}
