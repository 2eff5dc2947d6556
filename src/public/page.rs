//! The status page (`GET /status-page`): the public notices as an HTML page in Italian,
//! rendered on the server from `templates/public/status_page.html` (no JavaScript), with
//! every time in Europe/Rome inside a `<time datetime>`.

use super::{NoticeState, NoticeView, Presentation, PublicNotices};
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;

const MONTHS: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// An instant for people and for machines.
#[derive(Debug, Serialize)]
pub struct TimeView {
    /// RFC 3339 in UTC, for `<time datetime>`.
    pub iso: String,
    /// "23 giugno 2016, 10:50", local time in Rome.
    pub text: String,
}

/// `at` as the page and the feed write it.
pub fn time_view(at: DateTime<Utc>) -> TimeView {
    let local = at.with_timezone(&chrono_tz::Europe::Rome);
    TimeView {
        iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text: format!(
            "{} {} {}, {:02}:{:02}",
            local.day(),
            MONTHS[local.month0() as usize],
            local.year(),
            local.hour(),
            local.minute()
        ),
    }
}

#[derive(Debug, Serialize)]
struct TextView {
    at: TimeView,
    text: String,
}

#[derive(Debug, Serialize)]
struct NoticeCard {
    /// For the anchor `#avviso-<id>` the feed links to.
    id: String,
    title: String,
    text: String,
    services: Vec<String>,
    current: bool,
    state: &'static str,
    started: Option<TimeView>,
    ended: Option<TimeView>,
    published: TimeView,
    updated: TimeView,
    /// The earlier texts, newest first (the latest is `text`).
    earlier: Vec<TextView>,
    number: Option<String>,
}

#[derive(Debug, Serialize)]
struct CurrentRow {
    service: String,
    notice_id: String,
    title: String,
    text: String,
    started: Option<TimeView>,
    updated: TimeView,
}

#[derive(Debug, Serialize)]
struct PageContext<'a> {
    centre_name: &'a str,
    days: u32,
    current: Vec<CurrentRow>,
    current_notices: Vec<NoticeCard>,
    past_notices: Vec<NoticeCard>,
}

/// Italian for a notice's state: said in words, never by colour alone.
pub fn state_label(state: NoticeState) -> &'static str {
    match state {
        NoticeState::Current => "In corso",
        NoticeState::Resolved => "Risolto",
    }
}

fn card(notice: &NoticeView) -> NoticeCard {
    let earlier = notice.updates.len().saturating_sub(1);
    NoticeCard {
        id: notice.id.to_string(),
        title: notice.title.clone(),
        text: notice.text.clone(),
        services: notice.services.clone(),
        current: notice.state == NoticeState::Current,
        state: state_label(notice.state),
        started: notice.interruption_started_at.map(time_view),
        ended: notice.interruption_ended_at.map(time_view),
        published: time_view(notice.published_at),
        updated: time_view(notice.updated_at),
        earlier: notice.updates[..earlier]
            .iter()
            .rev()
            .map(|u| TextView {
                at: time_view(u.at),
                text: u.text.clone(),
            })
            .collect(),
        number: notice.number.clone(),
    }
}

/// The page for `board`.
pub fn render_page(board: &PublicNotices, presentation: &Presentation) -> Result<String, String> {
    let current = board
        .current
        .iter()
        .map(|c| CurrentRow {
            service: c
                .service
                .clone()
                .unwrap_or_else(|| "Servizio non indicato".into()),
            notice_id: c.notice.id.to_string(),
            title: c.notice.title.clone(),
            text: c.notice.text.clone(),
            started: c.notice.interruption_started_at.map(time_view),
            updated: time_view(c.notice.updated_at),
        })
        .collect();
    let (current_notices, past_notices): (Vec<_>, Vec<_>) =
        board.items.iter().map(card).partition(|c| c.current);
    crate::templates::render(
        "status_page.html",
        PageContext {
            centre_name: &presentation.centre_name,
            days: board.days,
            current,
            current_notices,
            past_notices,
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_in_rome_in_italian() {
        let summer = super::time_view("2016-06-23T08:50:00Z".parse().unwrap());
        assert_eq!(summer.text, "23 giugno 2016, 10:50");
        assert_eq!(summer.iso, "2016-06-23T08:50:00Z");
        let winter = super::time_view("2016-12-31T23:05:00Z".parse().unwrap());
        assert_eq!(winter.text, "1 gennaio 2017, 00:05");
    }
}
