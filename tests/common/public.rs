//! The public outputs as the public reads them (no token), and a malfunction whose notice
//! they show.

use super::{Reply, TestApp};
use serde_json::{Value, json};

impl TestApp {
    /// The service's root URL (the API is under `/api/v1`).
    pub fn root(&self) -> String {
        self.base.trim_end_matches("/api/v1").to_owned()
    }

    /// `GET` of a public output (`/public/notices`, …) at the root, without a token.
    pub fn public(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let url = format!("{}{path}", self.root());
        self.send("GET", &url, None, headers, None)
    }

    /// The JSON of `/public/notices`.
    pub fn public_notices(&self) -> Value {
        let reply = self.public("/public/notices", &[]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    }

    /// The Atom feed, parsed by a feed reader's parser.
    pub fn public_feed(&self) -> feed_rs::model::Feed {
        let reply = self.public("/public/notices.atom", &[]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/atom+xml; charset=utf-8")
        );
        feed_rs::parser::parse(reply.body.as_bytes())
            .unwrap_or_else(|e| panic!("the feed does not parse ({e}): {}", reply.body))
    }

    /// The status page's HTML.
    pub fn status_page(&self) -> String {
        let reply = self.public("/status-page", &[]);
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// Opens a malfunction of `services` and starts its interruption at 08:00 and the
    /// intervention at 08:10 on 23 June 2016 (the app's clock is set); returns the ticket id.
    pub fn interrupted_malfunction(&self, agent: &str, services: &[&str], extra: Value) -> String {
        self.set_now("2016-06-23T08:05:00Z");
        let mut report = json!({"subject": "Pagamenti giù", "channel": "phone",
            "malfunction": true, "affected_services": services,
            "reported_at": "2016-06-23T08:05:00Z"});
        if let (Some(report), Some(extra)) = (report.as_object_mut(), extra.as_object()) {
            report.extend(extra.clone());
        }
        let id = self.open_ticket_id(agent, report);
        self.event_ok(agent, &id, json!({"type": "take_charge"}));
        self.event_ok(
            agent,
            &id,
            json!({"type": "interruption_start", "at": "2016-06-23T08:00:00Z"}),
        );
        self.set_now("2016-06-23T08:10:00Z");
        self.event_ok(agent, &id, json!({"type": "start_intervention"}));
        id
    }
}
