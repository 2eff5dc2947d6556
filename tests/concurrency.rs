//! Concurrent writers: one winner per transition, gap-free numbers, idempotent creation.

mod common;

use common::{phone_report, spawn_app};
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

#[test]
fn two_agents_taking_charge_at_once_exactly_one_succeeds() {
    let app = Arc::new(spawn_app());
    let (_, a) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, b) = app.add_user(Role::Agent, Some(Level::First), None);
    for round in 0..10 {
        let id = app.open_ticket_id(&a, phone_report("race"));
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|token| {
                let (app, id, barrier) = (app.clone(), id.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    app.event(&token, &id, json!({"type": "take_charge"}))
                        .status
                })
            })
            .collect();
        let mut statuses: Vec<u16> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        statuses.sort();
        assert_eq!(statuses, [201, 409], "round {round}");
        let history = app.get(&format!("/tickets/{id}/events"), &a).json();
        let takes = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "take_charge")
            .count();
        assert_eq!(takes, 1, "round {round}");
    }
}

#[test]
fn fifty_concurrent_creations_get_fifty_consecutive_numbers() {
    let app = Arc::new(spawn_app());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let barrier = Arc::new(Barrier::new(50));
    let creators: Vec<_> = (0..50)
        .map(|i| {
            let (app, agent, barrier) = (app.clone(), agent.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let ticket = app.open_ticket(
                    &agent,
                    json!({"subject": format!("ticket {i}"), "channel": "portal",
                           "reported_at": "2016-05-10T09:00:00Z"}),
                );
                ticket["number"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let numbers: BTreeSet<String> = creators.into_iter().map(|c| c.join().unwrap()).collect();
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("2016-{n:06}")).collect();
    assert_eq!(numbers, expected);
    // Another year starts its own sequence.
    let next_year = app.open_ticket(
        &agent,
        json!({"subject": "capodanno", "channel": "phone", "reported_at": "2016-12-31T23:30:00Z"}),
    );
    assert_eq!(
        next_year["number"], "2017-000001",
        "00:30 in Rome is already 2017"
    );
}

#[test]
fn same_idempotency_key_gives_one_ticket_and_another_body_gives_422() {
    let app = Arc::new(spawn_app());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let body = json!({"subject": "idempotent", "channel": "email"}).to_string();
    let key = [("Idempotency-Key", "retry-0001")];
    let first = app.send("POST", "/tickets", Some(&agent), &key, Some(&body));
    let again = app.send("POST", "/tickets", Some(&agent), &key, Some(&body));
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));

    let other = json!({"subject": "something else", "channel": "email"}).to_string();
    let reply = app.send("POST", "/tickets", Some(&agent), &key, Some(&other));
    reply.problem(422);
    assert_eq!(reply.problem_fields(), ["Idempotency-Key"]);

    // Concurrent retries with a fresh key still make exactly one ticket, numbered, and the
    // same key with another body in the same burst is refused, whichever body came first.
    let barrier = Arc::new(Barrier::new(10));
    let retries: Vec<_> = (0..10)
        .map(|i| {
            let (app, agent, barrier) = (app.clone(), agent.clone(), barrier.clone());
            let body = if i < 8 { body.clone() } else { other.clone() };
            std::thread::spawn(move || {
                barrier.wait();
                let reply = app.send(
                    "POST",
                    "/tickets",
                    Some(&agent),
                    &[("Idempotency-Key", "burst")],
                    Some(&body),
                );
                (i < 8, reply)
            })
        })
        .collect();
    let replies: Vec<(bool, common::Reply)> =
        retries.into_iter().map(|r| r.join().unwrap()).collect();
    let created: Vec<&(bool, common::Reply)> =
        replies.iter().filter(|(_, r)| r.status == 201).collect();
    let winner = created.first().expect("one body made the ticket").0;
    for (same_body, reply) in &replies {
        if *same_body == winner {
            assert_eq!(reply.status, 201, "{}", reply.body);
            assert_eq!(reply.json()["id"], created[0].1.json()["id"]);
            let number = reply.json()["number"].as_str().unwrap().to_owned();
            assert_eq!(number, created[0].1.json()["number"].as_str().unwrap());
            assert!(!number.starts_with("pending"), "{number}");
        } else {
            assert_eq!(reply.status, 422, "{}", reply.body);
        }
    }
    let all = app.get("/tickets?limit=200", &agent).json();
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        2,
        "one ticket per key"
    );
}

#[test]
fn pages_stay_stable_while_tickets_are_created() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    for i in 0..7 {
        app.open_ticket(
            &agent,
            json!({"subject": format!("t{i}"), "channel": "phone", "reported_at": format!("2016-01-0{}T09:00:00Z", i + 1)}),
        );
    }
    let first = app.get("/tickets?limit=3", &agent).json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // Created after the first page was read, before it in the order, and at the end.
    app.open_ticket(
        &agent,
        json!({"subject": "early", "channel": "phone", "reported_at": "2015-12-31T09:00:00Z"}),
    );
    app.open_ticket(
        &agent,
        json!({"subject": "late", "channel": "phone", "reported_at": "2016-01-09T09:00:00Z"}),
    );
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect();
    let mut next = Some(cursor);
    while let Some(cursor) = next {
        let page = app
            .get(&format!("/tickets?limit=3&cursor={cursor}"), &agent)
            .json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["subject"].as_str().unwrap().to_owned()),
        );
        next = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "late"]);

    let newest = app.get("/tickets?sort=-reported_at&limit=2", &agent).json();
    let subjects: Vec<_> = newest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["late", "t6"]);
    let wrong_order = app.get(
        &format!(
            "/tickets?limit=2&cursor={}",
            newest["next_cursor"].as_str().unwrap()
        ),
        &agent,
    );
    wrong_order.problem(400);
    assert_eq!(wrong_order.problem_fields(), ["cursor"]);
}

/// Runs `write(i)` from `n` threads released together; returns each status.
fn all_at_once(n: usize, write: impl Fn(usize) -> u16 + Send + Sync + 'static) -> Vec<u16> {
    let write = Arc::new(write);
    let barrier = Arc::new(Barrier::new(n));
    let writers: Vec<_> = (0..n)
        .map(|i| {
            let (write, barrier) = (write.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                write(i)
            })
        })
        .collect();
    writers.into_iter().map(|w| w.join().unwrap()).collect()
}

#[test]
fn forty_writers_on_one_ticket_queue_and_are_all_recorded() {
    let app = Arc::new(spawn_app());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "busy", "channel": "phone", "malfunction": true}),
    );
    let (writer, ticket, token) = (app.clone(), id.clone(), agent.clone());
    let comments = all_at_once(40, move |i| {
        writer
            .event(
                &token,
                &ticket,
                json!({"type": "comment", "message": format!("nota {i}")}),
            )
            .status
    });
    assert_eq!(comments, vec![201; 40]);
    let (writer, ticket, token) = (app.clone(), id.clone(), agent.clone());
    let patches = all_at_once(40, move |i| {
        writer
            .patch(
                &format!("/tickets/{ticket}"),
                &token,
                &json!({"cause": format!("causa {i}")}),
            )
            .status
    });
    assert_eq!(patches, vec![200; 40]);
    let history = app.get(&format!("/tickets/{id}/events"), &agent).json();
    let sequences: Vec<i64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (1..=81).collect::<Vec<_>>(),
        "one version per change"
    );
    assert_eq!(
        app.get(&format!("/tickets/{id}"), &agent).json()["version"],
        81
    );

    let agency = app.add_agency("FI");
    let (writer, admin) = (app.clone(), app.admin.clone());
    let renames = all_at_once(40, move |i| {
        writer
            .patch(
                &format!("/agencies/{agency}"),
                &admin,
                &json!({"name": format!("Comune {i}")}),
            )
            .status
    });
    assert_eq!(renames, vec![200; 40], "agencies queue too");
}

#[test]
fn an_idempotency_key_is_remembered_for_idempotency_key_hours_then_starts_afresh() {
    // On the test's clock from the start: the sweep at start, on the system clock, would
    // forget keys made in the test's past.
    let app = common::spawn_app_at("2026-03-02T09:00:00Z");
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let body = json!({"subject": "richiamata", "channel": "phone"}).to_string();
    let key = [("Idempotency-Key", "call-0042")];
    let first = app.send("POST", "/tickets", Some(&agent), &key, Some(&body));
    assert_eq!(first.status, 201, "{}", first.body);
    app.set_now("2026-03-03T08:59:59Z");
    let replay = app.send("POST", "/tickets", Some(&agent), &key, Some(&body));
    assert_eq!(
        replay.header("idempotency-replayed"),
        Some("true"),
        "{} {}",
        replay.status,
        replay.body
    );
    assert_eq!(replay.json()["id"], first.json()["id"]);
    // 24 hours on (idempotency_key_hours), the key is free: even another body is a new ticket.
    app.set_now("2026-03-03T09:00:01Z");
    let other = json!({"subject": "un'altra richiesta", "channel": "phone"}).to_string();
    let fresh = app.send("POST", "/tickets", Some(&agent), &key, Some(&other));
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert_eq!(fresh.header("idempotency-replayed"), None);
    assert_ne!(fresh.json()["id"], first.json()["id"]);

    // The sweep forgets what is older than the window, and only that.
    let mut conn = app.pool.get().unwrap();
    let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
    let sweep = helpdesk::db::tickets::sweep_idempotency_keys;
    assert_eq!(sweep(&mut conn, at("2026-03-03T09:00:01Z")).unwrap(), 0);
    assert_eq!(sweep(&mut conn, at("2026-03-03T09:00:02Z")).unwrap(), 1);
    drop(conn);
    let after = app.send("POST", "/tickets", Some(&agent), &key, Some(&other));
    assert_eq!(
        after.header("idempotency-replayed"),
        None,
        "swept: a new ticket"
    );
}

#[test]
fn the_same_keys_through_two_instances_at_once_give_only_201s_and_one_ticket_each() {
    let first = Arc::new(spawn_app());
    let second = Arc::new(first.another_instance(common::test_settings()));
    let (_, agent) = first.add_user(Role::Agent, Some(Level::First), None);
    for round in 0..3 {
        // 30 keys, each sent 4 times (twice to each instance), all at once.
        let barrier = Arc::new(Barrier::new(120));
        let senders: Vec<_> = (0..120)
            .map(|n| {
                let app = if n % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                let (agent, barrier) = (agent.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let key = format!("round-{round}-key-{}", n / 4);
                    let body = json!({"subject": key, "channel": "phone"}).to_string();
                    barrier.wait();
                    let reply = app.send(
                        "POST",
                        "/tickets",
                        Some(&agent),
                        &[("Idempotency-Key", &key)],
                        Some(&body),
                    );
                    (key, reply.status, reply.body)
                })
            })
            .collect();
        let mut ids: std::collections::HashMap<String, std::collections::HashSet<String>> =
            Default::default();
        for sender in senders {
            let (key, status, body) = sender.join().unwrap();
            assert_eq!(status, 201, "round {round}, {key}: {body}");
            let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned();
            ids.entry(key).or_default().insert(id);
        }
        assert_eq!(ids.len(), 30);
        assert!(
            ids.values().all(|ids| ids.len() == 1),
            "one ticket per key: {ids:?}"
        );
    }
    let listed = first.get("/tickets?limit=200", &agent).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 90);
}

#[test]
fn a_ticket_the_database_refuses_does_not_take_its_batch_with_it() {
    let app = Arc::new(spawn_app());
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    // A constraint no check in the service knows of: only the insert can fail, so the batch
    // it lands in has to be written again ticket by ticket.
    let refused_subject = "refused by the database";
    if app.database_url.starts_with("postgres") {
        app.execute_sql(&format!(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.subject = '{refused_subject}' THEN RAISE EXCEPTION 'refused by a test'; \
             END IF; RETURN NEW; END $$; \
             CREATE TRIGGER refuse_one BEFORE INSERT ON tickets FOR EACH ROW \
             EXECUTE FUNCTION refuse_one();"
        ));
    } else {
        app.execute_sql(&format!(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON tickets \
             WHEN NEW.subject = '{refused_subject}' \
             BEGIN SELECT RAISE(ABORT, 'refused by a test'); END;"
        ));
    }
    let mut numbers = BTreeSet::new();
    let (rounds, writers) = (5, 30);
    for round in 0..rounds {
        let barrier = Arc::new(Barrier::new(writers));
        let creators: Vec<_> = (0..writers)
            .map(|i| {
                let (app, agent, barrier) = (app.clone(), agent.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let subject = if i == 7 {
                        refused_subject.to_owned()
                    } else {
                        format!("round {round} ticket {i}")
                    };
                    let body = json!({"subject": subject, "channel": "portal",
                                      "reported_at": "2016-05-10T09:00:00Z"});
                    barrier.wait();
                    (i, app.post("/tickets", &agent, &body))
                })
            })
            .collect();
        for creator in creators {
            let (i, reply) = creator.join().unwrap();
            if i == 7 {
                assert!(reply.status >= 500, "{}: {}", reply.status, reply.body);
            } else {
                assert_eq!(reply.status, 201, "{}", reply.body);
                numbers.insert(reply.json()["number"].as_str().unwrap().to_owned());
            }
        }
    }
    // Every other ticket was created, and the refused ones left no gap in the numbers.
    let expected: BTreeSet<String> = (1..=rounds * (writers - 1))
        .map(|n| format!("2016-{n:06}"))
        .collect();
    assert_eq!(numbers, expected);
}
