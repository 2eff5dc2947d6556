//! Loops and noise (SPEC §8): a machine's message is recorded, never answered, and changes
//! nothing; one address gets at most `auto_reply_per_sender_per_hour` acknowledgements; the
//! helpdesk's own message come back opens nothing.

mod common;

use common::mail_in::message;
use common::{TestApp, spawn_app_with, test_settings};
use serde_json::{Value, json};

fn post(app: &TestApp, gate: &str, raw: &[u8]) -> Value {
    let reply = app.post_mail(gate, raw);
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.json()
}

fn acknowledgements(app: &TestApp) -> usize {
    app.get("/outbox?limit=200", &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "acknowledgement")
        .count()
}

#[test]
fn fifty_messages_in_a_minute_from_one_sender_get_at_most_five_acknowledgements() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    app.set_now("2016-06-23T09:00:00Z");
    for i in 0..50 {
        let raw = message(
            "flood@example.org",
            &format!("Segnalazione {i}"),
            &[],
            "testo",
        );
        assert_eq!(post(&app, &gate, &raw)["outcome"], "opened");
    }
    assert_eq!(acknowledgements(&app), 5, "auto_reply_per_sender_per_hour");
    // An hour later the sender is answered again; another sender meanwhile at once.
    assert_eq!(
        post(&app, &gate, &message("altro@example.org", "x", &[], "x"))["outcome"],
        "opened"
    );
    assert_eq!(acknowledgements(&app), 6);
    app.set_now("2016-06-23T10:00:01Z");
    post(&app, &gate, &message("flood@example.org", "dopo", &[], "x"));
    assert_eq!(acknowledgements(&app), 7);
}

#[test]
fn one_sender_flooding_two_instances_at_once_gets_at_most_five_acknowledgements() {
    let app = spawn_app_with(test_settings());
    let other = app.another_instance(test_settings());
    let gate = app.mailgate_token();
    std::thread::scope(|scope| {
        for writer in 0..8 {
            let (instance, gate) = (if writer % 2 == 0 { &app } else { &other }, &gate);
            scope.spawn(move || {
                for i in 0..5 {
                    let raw = message(
                        "flood@example.org",
                        &format!("Segnalazione {writer}-{i}"),
                        &[],
                        "testo",
                    );
                    assert_eq!(post(instance, gate, &raw)["outcome"], "opened");
                }
            });
        }
    });
    assert_eq!(
        acknowledgements(&app),
        5,
        "the limit holds across instances writing at once"
    );
}

#[test]
fn an_out_of_office_answer_to_an_acknowledgement_is_recorded_and_changes_nothing() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let opened = post(
        &app,
        &gate,
        &message("anna@example.org", "Rete", &[], "giù"),
    );
    let id = opened["ticket_id"].as_str().unwrap().to_owned();
    app.event_ok(&app.admin, &id, json!({"type": "take_charge"}));
    app.event_ok(&app.admin, &id, json!({"type": "hold", "reason": "attesa"}));
    let ticket = app.get(&format!("/tickets/{id}"), &app.admin).json();
    let acknowledgement = ticket["messages"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = format!("In-Reply-To: {acknowledgement}");
    let answer = post(
        &app,
        &gate,
        &message(
            "anna@example.org",
            "Risposta automatica: fuori ufficio",
            &["Auto-Submitted: auto-replied", &header],
            "Sono in ferie fino al 30.",
        ),
    );
    assert_eq!(answer["outcome"], "continued");
    let after = app.get(&format!("/tickets/{id}"), &app.admin).json();
    assert_eq!(
        after["status"], "on_hold",
        "a machine's answer resumes nothing"
    );
    assert_eq!(
        after["messages"].as_array().unwrap().len(),
        1,
        "and gets no answer"
    );
    let events = app.get(&format!("/tickets/{id}/events"), &app.admin).json();
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "requester_message");
    assert_eq!(last["automatic"], true);
    assert_eq!(last["from"], "anna@example.org");
    assert_eq!(
        app.get("/tickets", &app.admin).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn the_helpdesks_own_message_come_back_opens_nothing_and_is_not_answered() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    // The test's mail_from is helpdesk@localhost: its loop header names `localhost`.
    for raw in [
        message(
            "someone@example.org",
            "inoltro",
            &["X-Helpdesk-Loop: localhost"],
            "x",
        ),
        message("helpdesk@localhost", "eco", &[], "x"),
        message(
            "x@example.org",
            "id",
            &["Message-ID: <0190-abc@localhost>"],
            "x",
        ),
    ] {
        assert_eq!(post(&app, &gate, &raw)["outcome"], "quarantined");
    }
    assert_eq!(acknowledgements(&app), 0);
    assert!(
        app.get("/tickets", &app.admin).json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
