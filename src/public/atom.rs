//! The Atom feed (RFC 4287) of the public notices, `GET /public/notices.atom`: one entry per
//! notice, its id `urn:uuid:<notice id>` for the notice's whole life and its `updated` moved
//! by every change, so a feed reader shows an update as the same entry changed. Italian text,
//! escaped by the template (`templates/public/notices.atom.xml`).

use super::page::{state_label, time_view};
use super::{NoticeView, Presentation, PublicNotices};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Entry {
    id: String,
    title: String,
    published: String,
    updated: String,
    content: String,
}

#[derive(Debug, Serialize)]
struct Feed<'a> {
    base_url: &'a str,
    centre_name: &'a str,
    days: u32,
    updated: String,
    entries: Vec<Entry>,
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The entry's text: the latest message, then the facts, then the earlier texts.
fn content(notice: &NoticeView) -> String {
    let mut lines = vec![notice.text.clone(), String::new()];
    lines.push(format!(
        "Stato: {}",
        state_label(notice.state).to_lowercase()
    ));
    if !notice.services.is_empty() {
        lines.push(format!("Servizi: {}", notice.services.join(", ")));
    }
    if let Some(start) = notice.interruption_started_at {
        lines.push(format!(
            "Inizio dell'interruzione: {}",
            time_view(start).text
        ));
    }
    if let Some(end) = notice.interruption_ended_at {
        lines.push(format!("Fine dell'interruzione: {}", time_view(end).text));
    }
    if let Some(number) = &notice.number {
        lines.push(format!("Segnalazione: {number}"));
    }
    lines.push("(orari in ora italiana)".into());
    let earlier = notice.updates.len().saturating_sub(1);
    if earlier > 0 {
        lines.push(String::new());
        lines.push("Aggiornamenti precedenti:".into());
        for update in notice.updates[..earlier].iter().rev() {
            lines.push(format!("{} — {}", time_view(update.at).text, update.text));
        }
    }
    lines.join("\n")
}

/// The feed of `board`. `last_change` is the latest change of any notice (a withdrawal
/// changes the feed too); a feed that never had a notice says 1970.
pub fn render_feed(
    board: &PublicNotices,
    last_change: Option<DateTime<Utc>>,
    presentation: &Presentation,
) -> Result<String, String> {
    let entries: Vec<Entry> = board
        .items
        .iter()
        .map(|notice| Entry {
            id: notice.id.to_string(),
            title: match notice.state {
                super::NoticeState::Current => notice.title.clone(),
                super::NoticeState::Resolved => format!("{} (risolto)", notice.title),
            },
            published: instant(notice.published_at),
            updated: instant(notice.updated_at),
            content: content(notice),
        })
        .collect();
    let updated = board
        .items
        .iter()
        .map(|n| n.updated_at)
        .chain(last_change)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    crate::templates::render(
        "notices.atom.xml",
        Feed {
            base_url: &presentation.base_url,
            centre_name: &presentation.centre_name,
            days: board.days,
            updated: instant(updated),
            entries,
        },
    )
}
