//! What the public reads of the notices `notify_users` publishes (SPEC §10): the services
//! with a current interruption and the latest notice of each, and the notices of the last
//! days — as JSON (serde, here), Atom (`atom`) and an HTML page in Italian (`page`), served
//! from a cache (`cache`). Pure: the notices come from `db::notices`. Only a notice's text,
//! its services and times are shown, and the ticket number when configured; nothing else of
//! the ticket is ever at hand here.

pub mod atom;
pub mod cache;
pub mod page;

use crate::domain::notice::PublicNotice;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Days of notices shown by default, and at most.
pub const DEFAULT_DAYS: u32 = 90;
pub const MAX_DAYS: u32 = 365;

/// What every public output needs of the configuration.
#[derive(Debug, Clone)]
pub struct Presentation {
    /// Whether to show each notice's ticket number (`public_notices_show_number`).
    pub show_number: bool,
    /// How the page and the feed sign (`centre_name`).
    pub centre_name: String,
    /// Where the outputs are published, without a trailing slash: the feed's id and links.
    pub base_url: String,
}

/// Whether a notice's interruption goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    /// The interruption has not ended.
    Current,
    /// The interruption ended at `interruption_ended_at`.
    Resolved,
}

/// One text of a notice, as posted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeText {
    pub at: DateTime<Utc>,
    #[schema(max_length = 10000)]
    pub text: String,
}

/// A notice to the public.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeView {
    /// Stable for the notice's life (the feed's `urn:uuid:` entry id).
    pub id: Uuid,
    /// "Interruzione del servizio …", from the services.
    #[schema(max_length = 11000)]
    pub title: String,
    /// The latest text.
    #[schema(max_length = 10000)]
    pub text: String,
    #[schema(max_items = 50)]
    pub services: Vec<String>,
    pub state: NoticeState,
    /// When the interruption started, if that was recorded.
    pub interruption_started_at: Option<DateTime<Utc>>,
    pub interruption_ended_at: Option<DateTime<Utc>>,
    /// When the public was first told.
    pub published_at: DateTime<Utc>,
    /// The latest change: a new text, the interruption's end or a new start.
    pub updated_at: DateTime<Utc>,
    /// Every text the notice has had, oldest first; the last is `text`.
    #[schema(max_items = 1000)]
    pub updates: Vec<NoticeText>,
    /// The ticket's number, only where `public_notices_show_number` is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 20)]
    pub number: Option<String>,
}

/// A service with a current interruption, and its latest notice.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentInterruption {
    /// `null` for a notice that names no service.
    #[schema(max_length = 200)]
    pub service: Option<String>,
    pub notice: NoticeView,
}

/// `GET /public/notices`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicNotices {
    /// The services with a current interruption, by name, each with its latest notice.
    #[schema(max_items = 500)]
    pub current: Vec<CurrentInterruption>,
    /// The notices of the last `days` days (and every current one), latest change first.
    #[schema(max_items = 500)]
    pub items: Vec<NoticeView>,
    /// The days `items` covers.
    #[schema(minimum = 1, maximum = 365)]
    pub days: u32,
}

/// The public view of the notices changed in the `days` before `now`, and of every current
/// one. `notices` come newest change first.
pub fn public_notices(
    notices: &[PublicNotice],
    days: u32,
    now: DateTime<Utc>,
    presentation: &Presentation,
) -> PublicNotices {
    let since = now - Duration::days(i64::from(days));
    let items: Vec<NoticeView> = notices
        .iter()
        .filter(|n| n.is_current() || n.updated_at >= since)
        .map(|n| view(n, presentation))
        .collect();
    // Newest change first, so the first notice met for a service is its latest.
    let mut current: Vec<CurrentInterruption> = Vec::new();
    for notice in items.iter().filter(|n| n.state == NoticeState::Current) {
        let services = match notice.services.as_slice() {
            [] => vec![None],
            named => named.iter().cloned().map(Some).collect(),
        };
        for service in services {
            if !current.iter().any(|c| c.service == service) {
                current.push(CurrentInterruption {
                    service,
                    notice: notice.clone(),
                });
            }
        }
    }
    current.sort_by(|a, b| match (&a.service, &b.service) {
        (Some(a), Some(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        (a, b) => b.is_some().cmp(&a.is_some()),
    });
    PublicNotices {
        current,
        items,
        days,
    }
}

fn view(notice: &PublicNotice, presentation: &Presentation) -> NoticeView {
    NoticeView {
        id: notice.id,
        title: title(&notice.services),
        text: notice.text.clone(),
        services: notice.services.clone(),
        state: match notice.is_current() {
            true => NoticeState::Current,
            false => NoticeState::Resolved,
        },
        interruption_started_at: notice.interruption_started_at,
        interruption_ended_at: notice.interruption_ended_at,
        published_at: notice.published_at,
        updated_at: notice.updated_at,
        updates: notice
            .updates
            .iter()
            .map(|u| NoticeText {
                at: u.at,
                text: u.text.clone(),
            })
            .collect(),
        number: presentation
            .show_number
            .then(|| notice.ticket_number.clone()),
    }
}

/// "Interruzione del servizio PagoPA", "… dei servizi PagoPA, Anagrafe", or of "un servizio"
/// when the notice names none.
pub fn title(services: &[String]) -> String {
    match services {
        [] => "Interruzione di un servizio".into(),
        [one] => format!("Interruzione del servizio {one}"),
        many => format!("Interruzione dei servizi {}", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notice::PublicNotice;

    fn notice(services: &[&str], updated: &str, ended: Option<&str>) -> PublicNotice {
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        PublicNotice {
            id: Uuid::now_v7(),
            ticket_id: Uuid::now_v7(),
            ticket_number: "2016-000042".into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            text: "Servizio interrotto.".into(),
            interruption_started_at: Some(at("2016-06-01T08:00:00Z")),
            interruption_ended_at: ended.map(at),
            published_at: at("2016-06-01T08:30:00Z"),
            updated_at: at(updated),
            withdrawn_at: None,
            updates: Vec::new(),
        }
    }

    #[test]
    fn current_lists_each_service_once_with_its_latest_notice() {
        let presentation = Presentation {
            show_number: false,
            centre_name: "CST".into(),
            base_url: "http://x".into(),
        };
        let notices = [
            notice(&["PagoPA"], "2016-06-23T10:00:00Z", None),
            notice(&["PagoPA", "Anagrafe"], "2016-06-23T09:00:00Z", None),
            notice(&[], "2016-06-23T08:00:00Z", None),
            notice(
                &["SUAP"],
                "2016-06-22T08:00:00Z",
                Some("2016-06-22T09:00:00Z"),
            ),
            notice(
                &["Tributi"],
                "2016-01-01T08:00:00Z",
                Some("2016-01-01T09:00:00Z"),
            ),
        ];
        let now = "2016-06-24T00:00:00Z".parse().unwrap();
        let board = public_notices(&notices, 90, now, &presentation);
        let current: Vec<_> = board
            .current
            .iter()
            .map(|c| (c.service.as_deref(), c.notice.id))
            .collect();
        assert_eq!(
            current,
            [
                (Some("Anagrafe"), notices[1].id),
                (Some("PagoPA"), notices[0].id),
                (None, notices[2].id)
            ]
        );
        assert_eq!(board.items.len(), 4, "Tributi is older than 90 days");
        assert!(board.items.iter().all(|n| n.number.is_none()));
        assert_eq!(
            title(&["A".into(), "B".into()]),
            "Interruzione dei servizi A, B"
        );
    }
}
