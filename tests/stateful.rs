//! A stateful property test through HTTP (issue 9): random sequences of creations, events
//! (any type, any actor, any `at`, any `If-Match`), patches, bursts of concurrent writers and
//! moves of the clock, with invariants checked after each step and at the end:
//! - no 5xx; every 4xx is problem+json naming a field, a state or a version, and writes nothing;
//! - a ticket's version grows by exactly one per change, and its history counts 1..=version;
//! - its clocks agree with a recomputation from its history by the SLA engine;
//! - paging through every sort and filter lists each matching ticket exactly once, in order.
//!
//! `PROPTEST_CASES` sets how many sequences run (default 24).

mod common;
#[path = "stateful/invariants.rs"]
mod invariants;

use invariants::{check_answer, check_clocks, check_paging};

use chrono::{DateTime, Duration, Utc};
use common::{Reply, TestApp, spawn_app_with, test_settings};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use proptest::prelude::*;
use serde_json::json;
use std::sync::Arc;

const START: &str = "2016-06-23T15:30:00Z";
const POSTED: [&str; 16] = [
    "take_charge",
    "reply",
    "comment",
    "assign",
    "escalate",
    "hold",
    "resume",
    "resolve",
    "close_not_in_scope",
    "reopen",
    "interruption_start",
    "interruption_end",
    "start_intervention",
    "notify_agency",
    "notify_users",
    "created",
];

#[derive(Debug, Clone, Copy)]
enum Actor {
    Admin,
    First,
    Second,
    Agency,
}

#[derive(Debug, Clone, Copy)]
enum IfMatch {
    Absent,
    Current,
    Stale,
    Weak,
}

#[derive(Debug, Clone)]
enum Step {
    Create {
        malfunction: bool,
        phone: bool,
        minutes_ago: i64,
    },
    Event {
        ticket: usize,
        kind: usize,
        actor: Actor,
        at_minutes: Option<i64>,
        if_match: IfMatch,
    },
    Patch {
        ticket: usize,
        cause: u8,
    },
    Burst {
        ticket: usize,
        writers: usize,
    },
    Wait {
        minutes: i64,
    },
    /// The clock watcher's pass: its events are in the history but move no version.
    Watch,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let actor = prop_oneof![
        Just(Actor::Admin),
        Just(Actor::First),
        Just(Actor::Second),
        Just(Actor::Agency)
    ];
    let if_match = prop_oneof![
        4 => Just(IfMatch::Absent),
        2 => Just(IfMatch::Current),
        1 => Just(IfMatch::Stale),
        1 => Just(IfMatch::Weak)
    ];
    let step = prop_oneof![
        2 => (any::<bool>(), any::<bool>(), prop_oneof![Just(0i64), Just(30), 0i64..600])
            .prop_map(|(malfunction, phone, minutes_ago)| Step::Create { malfunction, phone, minutes_ago }),
        8 => (0usize..8, 0..POSTED.len(), actor, prop::option::of(-90i64..5), if_match)
            .prop_map(|(ticket, kind, actor, at_minutes, if_match)| Step::Event { ticket, kind, actor, at_minutes, if_match }),
        1 => (0usize..8, 0u8..3).prop_map(|(ticket, cause)| Step::Patch { ticket, cause }),
        1 => (0usize..8, 2usize..6).prop_map(|(ticket, writers)| Step::Burst { ticket, writers }),
        1 => (1i64..300).prop_map(|minutes| Step::Wait { minutes }),
        1 => Just(Step::Watch),
    ];
    prop::collection::vec(step, 20..60)
}

/// The app under test, its users, and what the test expects of each ticket's version.
struct World {
    app: Arc<TestApp>,
    settings: Settings,
    tokens: [String; 4],
    agent_ids: Vec<String>,
    agency: String,
    now: DateTime<Utc>,
    tickets: Vec<(String, i64)>,
}

impl World {
    fn new() -> World {
        let settings = Settings {
            // The watcher's events would move versions between steps; it has its own tests.
            sla_watch_interval_seconds: 86_400,
            public_notice_addresses: "avvisi@cst.example.org".into(),
            ..test_settings()
        };
        let app = Arc::new(spawn_app_with(settings.clone()));
        let now: DateTime<Utc> = START.parse().unwrap();
        app.set_now(START);
        let agency = app.add_agency("FI");
        let (first_id, first) = app.add_user(Role::Agent, Some(Level::First), None);
        let (second_id, second) = app.add_user(Role::Agent, Some(Level::Second), None);
        let (_, agency_user) = app.add_user(Role::Agency, None, Some(&agency));
        World {
            tokens: [app.admin.clone(), first, second, agency_user],
            agent_ids: vec![first_id, second_id],
            app,
            settings,
            agency,
            now,
            tickets: Vec::new(),
        }
    }

    /// The `ticket`-th ticket (modulo how many there are) and the version expected of it.
    fn pick(&self, ticket: usize) -> Option<(String, i64)> {
        self.tickets
            .get(ticket % self.tickets.len().max(1))
            .cloned()
    }

    fn token(&self, actor: Actor) -> &str {
        &self.tokens[actor as usize]
    }

    fn instant(&self, minutes: i64) -> String {
        (self.now + Duration::minutes(minutes)).to_rfc3339()
    }

    fn run(&mut self, step: &Step) {
        match *step {
            Step::Create {
                malfunction,
                phone,
                minutes_ago,
            } => {
                let mut body = json!({
                    "subject": "prova", "channel": if phone { "phone" } else { "email" },
                    "reported_at": self.instant(-minutes_ago), "agency_id": self.agency,
                });
                if malfunction {
                    body["malfunction"] = json!(true);
                    body["affected_services"] = json!(["PagoPA"]);
                }
                let reply = self.app.post("/tickets", self.token(Actor::First), &body);
                check_answer(&reply);
                assert_eq!(reply.status, 201, "{}", reply.body);
                self.tickets
                    .push((reply.json()["id"].as_str().unwrap().to_owned(), 1));
            }
            Step::Event {
                ticket,
                kind,
                actor,
                at_minutes,
                if_match,
            } => {
                let Some((id, version)) = self.pick(ticket) else {
                    return;
                };
                let mut body = json!({"type": POSTED[kind]});
                match POSTED[kind] {
                    "reply" => {
                        body["channel"] = json!("phone");
                        body["message"] = json!("ok");
                    }
                    "comment" | "notify_agency" | "notify_users" => {
                        body["message"] = json!("avviso")
                    }
                    "resolve" => body["resolution"] = json!("fatto"),
                    "close_not_in_scope" => body["reason"] = json!("altro ente"),
                    "assign" => body["assignee_id"] = json!(self.agent_ids[kind % 2]),
                    _ => {}
                }
                if let Some(minutes) = at_minutes {
                    body["at"] = json!(self.instant(minutes));
                }
                let tag = match if_match {
                    IfMatch::Absent => None,
                    IfMatch::Current => Some(format!("\"{version}\"")),
                    IfMatch::Stale => Some(format!("\"{}\"", version - 1)),
                    IfMatch::Weak => Some(format!("W/\"{version}\"")),
                };
                let headers: Vec<(&str, &str)> =
                    tag.iter().map(|t| ("If-Match", t.as_str())).collect();
                let path = format!("/tickets/{id}/events");
                let reply = self.app.send(
                    "POST",
                    &path,
                    Some(self.token(actor)),
                    &headers,
                    Some(&body.to_string()),
                );
                self.judge(ticket, &reply, 201);
            }
            Step::Patch { ticket, cause } => {
                let Some((id, _)) = self.pick(ticket) else {
                    return;
                };
                let reply = self.app.patch(
                    &format!("/tickets/{id}"),
                    self.token(Actor::First),
                    &json!({"cause": format!("causa {cause}")}),
                );
                check_answer(&reply);
                if reply.status == 200 {
                    let now = reply.json()["version"].as_i64().unwrap();
                    let index = ticket % self.tickets.len();
                    let before = self.tickets[index].1;
                    assert!(
                        now == before || now == before + 1,
                        "a patch is one change or none"
                    );
                    self.tickets[index].1 = now;
                } else {
                    self.judge(ticket, &reply, 200);
                }
            }
            Step::Burst { ticket, writers } => {
                let Some((id, _)) = self.pick(ticket) else {
                    return;
                };
                let threads: Vec<_> = (0..writers)
                    .map(|i| {
                        let (app, token, id) = (
                            self.app.clone(),
                            self.token(Actor::Admin).to_owned(),
                            id.clone(),
                        );
                        std::thread::spawn(move || {
                            app.event(
                                &token,
                                &id,
                                json!({"type": "comment", "message": format!("{i}")}),
                            )
                            .status
                        })
                    })
                    .collect();
                let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
                assert_eq!(
                    statuses,
                    vec![201; writers],
                    "concurrent writers all recorded"
                );
                let index = ticket % self.tickets.len();
                self.tickets[index].1 += writers as i64;
            }
            Step::Wait { minutes } => {
                self.now += Duration::minutes(minutes);
                self.app.set_now(&self.now.to_rfc3339());
            }
            Step::Watch => {
                helpdesk::jobs::clock_watcher::record_crossings(&self.app.pool, self.now).unwrap();
            }
        }
        self.check_versions();
    }

    /// Checks an answer to a write on `ticket`: `success` moves the version by one, any
    /// refusal leaves it.
    fn judge(&mut self, ticket: usize, reply: &Reply, success: u16) {
        check_answer(reply);
        let index = ticket % self.tickets.len();
        if reply.status == success {
            self.tickets[index].1 += 1;
            let version = reply.json()["ticket"]["version"]
                .as_i64()
                .or_else(|| reply.json()["version"].as_i64());
            assert_eq!(version, Some(self.tickets[index].1), "{}", reply.body);
        }
    }

    fn check_versions(&self) {
        for (id, version) in &self.tickets {
            let ticket = self
                .app
                .get(&format!("/tickets/{id}"), &self.app.admin)
                .json();
            assert_eq!(
                ticket["version"].as_i64(),
                Some(*version),
                "version of {id}"
            );
        }
    }

    /// The end-of-sequence invariants: histories, clocks, paging.
    fn check_everything(&self) {
        let engine =
            helpdesk::calendars::build_engine(&self.settings, &Default::default()).unwrap();
        let mut tickets = Vec::new();
        for (id, version) in &self.tickets {
            let ticket = self
                .app
                .get(&format!("/tickets/{id}"), &self.app.admin)
                .json();
            let history = self
                .app
                .get(&format!("/tickets/{id}/events"), &self.app.admin)
                .json();
            let items = history["items"].as_array().unwrap();
            let sequences: Vec<i64> = items
                .iter()
                .map(|e| e["sequence"].as_i64().unwrap())
                .collect();
            assert_eq!(
                sequences,
                (1..=items.len() as i64).collect::<Vec<_>>(),
                "history of {id}: numbered without gaps"
            );
            let by_people = items.iter().filter(|e| !e["actor_id"].is_null()).count() as i64;
            assert_eq!(
                by_people, *version,
                "{id}: one version per change a person made"
            );
            check_clocks(&engine, &ticket, &history, self.now);
            tickets.push(ticket);
        }
        check_paging(&self.app, &tickets);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_sequences_keep_every_invariant(steps in steps()) {
        let mut world = World::new();
        for (index, step) in steps.iter().enumerate() {
            world.run(step);
            if index % 10 == 9 {
                world.check_everything();
            }
        }
        world.check_everything();
    }
}
