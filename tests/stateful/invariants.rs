//! The invariants the stateful test checks: every answer, the clocks against the SLA
//! engine's recomputation from the history, and paging through every sort and filter.

use super::common::{Reply, TestApp};
use chrono::{DateTime, Utc};
use helpdesk::domain::{Action, Channel, Status};
use helpdesk::sla::{ClockEvent, SlaEngine, TicketFacts};
use serde_json::Value;
use std::collections::BTreeSet;

/// No 5xx; a 4xx is problem+json naming a field (400/422), a state (409) or a version (412).
pub fn check_answer(reply: &Reply) {
    assert!(reply.status < 500, "{} {}", reply.status, reply.body);
    if reply.status < 400 {
        return;
    }
    let problem = reply.problem(reply.status);
    match reply.status {
        400 | 422 => assert!(!reply.problem_fields().is_empty(), "{}", reply.body),
        409 => assert!(
            problem["current_status"].is_string() || problem["detail"].is_string(),
            "{}",
            reply.body
        ),
        412 => assert!(problem["current_version"].is_i64(), "{}", reply.body),
        403 | 404 => assert!(problem["detail"].is_string()),
        other => panic!("unexpected {other}: {}", reply.body),
    }
}

/// A clock as compared: code, deadline, stop and state.
type ClockSummary = (String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, String);
/// A list filter as a query and the rule it stands for.
type Filter = (String, Box<dyn Fn(&Value) -> bool>);

/// The ticket's clocks as the SLA engine computes them from its history, seen at `now`.
pub fn check_clocks(engine: &SlaEngine, ticket: &Value, history: &Value, now: DateTime<Utc>) {
    let events: Vec<ClockEvent> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| ClockEvent {
            action: e["type"].as_str().unwrap().parse::<Action>().unwrap(),
            at: e["at"].as_str().unwrap().parse().unwrap(),
            status: e["status"].as_str().unwrap().parse::<Status>().unwrap(),
        })
        .collect();
    let facts = TicketFacts {
        reported_at: ticket["reported_at"].as_str().unwrap().parse().unwrap(),
        channel: ticket["channel"]
            .as_str()
            .unwrap()
            .parse::<Channel>()
            .unwrap(),
        malfunction: ticket["malfunction"].as_bool().unwrap(),
        events: &events,
        agency_calendar: None,
    };
    let expected: Vec<ClockSummary> = engine
        .clocks(&facts)
        .unwrap()
        .iter()
        .filter_map(|clock| {
            let view = clock
                .view(engine.calendar(&clock.calendar).unwrap(), now)
                .unwrap()?;
            Some((
                clock.code.clone(),
                clock.deadline,
                clock.stopped_at,
                view.state.as_str().to_owned(),
            ))
        })
        .collect();
    let shown: Vec<ClockSummary> = ticket["sla"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["deadline"].as_str().map(|t| t.parse().unwrap()),
                c["stopped_at"].as_str().map(|t| t.parse().unwrap()),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(shown, expected, "clocks of {}", ticket["id"]);
}

/// Pages of 2 through each sort and filter: each ticket that matches, once, in order.
pub fn check_paging(app: &TestApp, tickets: &[Value]) {
    let states = |t: &Value| -> BTreeSet<String> {
        t["sla"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| {
                let state = c["state"].as_str().unwrap().to_owned();
                let risk =
                    (state == "running" && c["at_risk"] == true).then(|| "at_risk".to_owned());
                std::iter::once(state).chain(risk)
            })
            .collect()
    };
    let mut filters: Vec<Filter> = vec![("".into(), Box::new(|_| true))];
    for status in ["new", "open", "on_hold", "resolved", "closed_not_in_scope"] {
        filters.push((
            format!("status={status}"),
            Box::new(move |t| t["status"] == status),
        ));
    }
    for level in [1, 2] {
        filters.push((
            format!("level={level}"),
            Box::new(move |t| t["level"] == level),
        ));
    }
    for state in ["running", "at_risk", "breached", "met", "paused"] {
        filters.push((
            format!("sla_state={state}"),
            Box::new(move |t| states(t).contains(state)),
        ));
    }
    for sort in ["reported_at", "-reported_at", "deadline"] {
        for (query, matches) in &filters {
            let mut seen: Vec<Value> = Vec::new();
            let mut cursor = String::new();
            loop {
                let path = format!("/tickets?sort={sort}&limit=2&{query}{cursor}");
                let page = app.get(&path, &app.admin);
                check_answer(&page);
                let page = page.json();
                seen.extend(page["items"].as_array().unwrap().iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => break,
                }
                assert!(seen.len() <= tickets.len(), "{path} never ends");
            }
            let ids: Vec<&str> = seen.iter().map(|t| t["id"].as_str().unwrap()).collect();
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            assert_eq!(unique.len(), ids.len(), "{sort} {query}: a ticket twice");
            let expected: BTreeSet<&str> = tickets
                .iter()
                .filter(|t| matches(t))
                .map(|t| t["id"].as_str().unwrap())
                .collect();
            assert_eq!(unique, expected, "{sort} {query}");
            let key = |t: &Value| {
                let field = if sort == "deadline" {
                    "next_deadline"
                } else {
                    "reported_at"
                };
                let at = t[field].as_str().unwrap_or("9999-12-31T23:59:59Z");
                (
                    at.parse::<DateTime<Utc>>().unwrap(),
                    t["id"].as_str().unwrap().to_owned(),
                )
            };
            let keys: Vec<_> = seen.iter().map(key).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if sort == "-reported_at" {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{sort} {query}: order");
        }
    }
}
