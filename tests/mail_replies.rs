//! Replies to the requester by e-mail (SPEC §8, "Out"), through a real SMTP server on
//! 127.0.0.1: what an e-mail `reply` sends, how its messages thread, and what the ticket
//! shows of them; what is refused, and that a phone reply sends nothing.

mod common;

use common::smtp::{Received, SmtpSink, parse, wait_until};
use common::{TestApp, mail_settings, sla_clock, spawn_app_with};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::time::Duration;

/// A ticket reported by Mario Rossi by e-mail at 09:00, taken in charge at 09:10 (app time);
/// returns (ticket id, number).
fn mailed_ticket(app: &TestApp, agent: &str, requester: Value) -> (String, String) {
    app.set_now("2016-06-23T09:00:00Z");
    let ticket = app.open_ticket(
        agent,
        json!({"subject": "Accesso al portale SUAP", "channel": "email",
               "description": "Non riesco ad accedere.", "requester": requester}),
    );
    let id = ticket["id"].as_str().unwrap().to_owned();
    app.set_now("2016-06-23T09:10:00Z");
    app.event_ok(agent, &id, json!({"type": "take_charge"}));
    (id, ticket["number"].as_str().unwrap().to_owned())
}

fn mario() -> Value {
    json!({"name": "Mario Rossi", "email": "mario.rossi@example.org"})
}

fn messages(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let reply = app.get(&format!("/tickets/{id}"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["messages"].as_array().unwrap().clone()
}

fn events(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let reply = app.get(&format!("/tickets/{id}/events"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["items"].as_array().unwrap().clone()
}

/// The received message whose `Message-ID` is `message_id`.
fn received(sink: &SmtpSink, count: usize, message_id: &str) -> Received {
    sink.wait_for(count)
        .iter()
        .map(|raw| parse(raw))
        .find(|m| format!("<{}>", m.message_id) == message_id)
        .unwrap_or_else(|| panic!("no message {message_id} arrived"))
}

#[test]
fn an_email_reply_reaches_the_requester_with_its_copy_and_the_ticket_shows_it_sent() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, number) = mailed_ticket(&app, &agent, mario());

    app.set_now("2016-06-23T10:00:00Z");
    let text = "Gentile utente, abbiamo ripristinato l'accesso: riprovi pure.";
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "reply", "channel": "email", "message": text,
               "cc": ["suap@comune.fi.it"]}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let created = reply.json();
    let event = &created["event"];
    assert_eq!(
        event["recipients"],
        json!(["mario.rossi@example.org", "suap@comune.fi.it"])
    );
    assert_eq!(event["cc"], json!(["suap@comune.fi.it"]));
    let outbox_ids = event["outbox_ids"].as_array().unwrap();
    assert_eq!(outbox_ids.len(), 1, "{event}");
    assert_eq!(
        sla_clock(&created["ticket"], "SLA.7").unwrap()["state"],
        "met",
        "the reply by e-mail is the answer SLA.7 counts"
    );

    // The message as composed when the event was recorded, then as the server received it.
    let outbox_id = outbox_ids[0].as_str().unwrap();
    let stored = app.get(&format!("/outbox/{outbox_id}"), &app.admin).json();
    let message_id = stored["message_id"].as_str().unwrap().to_owned();
    assert_eq!(stored["kind"], "reply");
    assert_eq!(stored["event_id"], event["id"]);
    let mail = received(&sink, 1, &message_id);
    assert_eq!(mail.subject, format!("[{number}] Accesso al portale SUAP"));
    assert_eq!(mail.to, ["mario.rossi@example.org"]);
    assert_eq!(mail.cc, ["suap@comune.fi.it"]);
    assert_eq!(
        mail.envelope_to,
        ["mario.rossi@example.org", "suap@comune.fi.it"]
    );
    assert_eq!(
        mail.reply_to.as_deref(),
        Some("helpdesk@cst.example.org"),
        "answers come back to the helpdesk's mailbox (mail_from, as no mailbox is configured)"
    );
    assert_eq!(
        mail.in_reply_to, None,
        "the requester has sent no message yet"
    );
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(mail.text.contains(text), "{}", mail.text);
    assert!(mail.text.contains("Gentile Mario Rossi"), "{}", mail.text);
    assert!(
        mail.html.contains("abbiamo ripristinato l&#x27;accesso"),
        "{}",
        mail.html
    );
    assert!(mail.html.contains(&number), "{}", mail.html);

    // The ticket shows the message, and its delivery once the worker has sent it.
    wait_until(Duration::from_secs(30), || {
        messages(&app, &agent, &id)
            .first()
            .is_some_and(|m| m["status"] == "sent")
    });
    let shown = messages(&app, &agent, &id);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["id"], outbox_id);
    assert_eq!(shown[0]["message_id"], message_id.as_str());
    assert_eq!(shown[0]["kind"], "reply");
    assert_eq!(shown[0]["subject"], mail.subject.as_str());
    assert!(shown[0]["sent_at"].is_string());
    // The history names the message too.
    let history = events(&app, &agent, &id);
    let replies: Vec<&Value> = history.iter().filter(|e| e["type"] == "reply").collect();
    assert_eq!(replies[0]["outbox_ids"], json!([outbox_id]));
}

#[test]
fn a_second_reply_names_the_first_so_the_requester_sees_one_thread() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, number) = mailed_ticket(&app, &agent, mario());
    let reply_ids: Vec<String> = ["Stiamo verificando.", "Risolto: riprovi."]
        .iter()
        .map(|text| {
            let reply = app.event(
                &agent,
                &id,
                json!({"type": "reply", "channel": "email", "message": text}),
            );
            assert_eq!(reply.status, 201, "{}", reply.body);
            let outbox_id = reply.json()["event"]["outbox_ids"][0]
                .as_str()
                .unwrap()
                .to_owned();
            app.get(&format!("/outbox/{outbox_id}"), &app.admin).json()["message_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let first = received(&sink, 2, &reply_ids[0]);
    let second = received(&sink, 2, &reply_ids[1]);
    assert!(first.references.is_empty());
    assert_eq!(second.references, [reply_ids[0].clone()]);
    assert_eq!(first.subject, second.subject);
    assert_eq!(first.subject, format!("[{number}] Accesso al portale SUAP"));
    wait_until(Duration::from_secs(30), || {
        messages(&app, &agent, &id)
            .iter()
            .all(|m| m["status"] == "sent")
    });
    let shown: Vec<Value> = messages(&app, &agent, &id)
        .iter()
        .map(|m| m["message_id"].clone())
        .collect();
    assert_eq!(
        shown,
        [json!(reply_ids[0]), json!(reply_ids[1])],
        "oldest first"
    );
}

#[test]
fn an_email_reply_to_a_requester_without_address_is_refused_and_nothing_is_recorded() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, _) = mailed_ticket(&app, &agent, json!({"name": "Mario Rossi"}));
    let before = events(&app, &agent, &id).len();
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "reply", "channel": "email", "message": "Risolto."}),
    );
    reply.problem(422);
    assert_eq!(
        reply.problem_fields(),
        ["requester.email"],
        "{}",
        reply.body
    );
    assert_eq!(events(&app, &agent, &id).len(), before);
    assert!(messages(&app, &agent, &id).is_empty());
    let ticket = app.get(&format!("/tickets/{id}"), &agent).json();
    assert_eq!(ticket["version"], 2, "the ticket did not change");
    // By phone the same answer is recorded.
    app.event_ok(
        &agent,
        &id,
        json!({"type": "reply", "channel": "phone", "message": "Risolto."}),
    );
}

#[test]
fn a_phone_reply_sends_nothing() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, _) = mailed_ticket(&app, &agent, mario());
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "reply", "channel": "phone", "message": "L'ho richiamata."}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let event = &reply.json()["event"];
    assert!(event["outbox_ids"].is_null() && event["recipients"].is_null());
    assert!(messages(&app, &agent, &id).is_empty());
    let outbox = app
        .get(&format!("/outbox?ticket_id={id}"), &app.admin)
        .json();
    assert_eq!(outbox["items"], json!([]));
    assert!(sink.messages().is_empty());
}

#[test]
fn copies_are_checked_by_name_before_anything_is_recorded() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, _) = mailed_ticket(&app, &agent, mario());
    let many: Vec<String> = (0..21).map(|i| format!("u{i}@example.org")).collect();
    for (body, field) in [
        (
            json!({"type": "reply", "channel": "email", "message": "x",
                   "cc": ["ok@example.org", "not an address"]}),
            "cc[1]",
        ),
        (
            json!({"type": "reply", "channel": "phone", "message": "x",
                   "cc": ["ok@example.org"]}),
            "cc",
        ),
        (
            json!({"type": "reply", "channel": "email", "message": "x", "cc": many}),
            "cc",
        ),
    ] {
        let reply = app.event(&agent, &id, body.clone());
        reply.problem(422);
        assert_eq!(reply.problem_fields(), [field], "{body}: {}", reply.body);
    }
    let comment = app.event(
        &agent,
        &id,
        json!({"type": "comment", "message": "x", "cc": ["ok@example.org"]}),
    );
    comment.problem(400);
    assert_eq!(comment.problem_fields(), ["cc"], "{}", comment.body);
    assert!(messages(&app, &agent, &id).is_empty());
}

#[test]
fn an_agency_reading_a_malfunction_that_affects_it_sees_no_messages() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let fiesole = app.add_agency("FS");
    let (_, reader) = app.add_user(Role::Agency, None, Some(&fiesole));
    app.set_now("2016-06-23T09:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Portale giù", "channel": "email", "malfunction": true,
               "agency_id": firenze, "affected_agency_ids": [firenze, fiesole],
               "requester": mario()}),
    );
    app.event_ok(&agent, &id, json!({"type": "take_charge"}));
    app.event_ok(
        &agent,
        &id,
        json!({"type": "reply", "channel": "email", "message": "Ci lavoriamo."}),
    );
    assert_eq!(messages(&app, &agent, &id).len(), 1);
    let seen = app.get(&format!("/tickets/{id}"), &reader);
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.json().get("messages").is_none(), "{}", seen.body);
}

#[test]
fn the_delivery_states_migration_keeps_every_message_and_allows_bounced_and_delivered() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (id, _) = mailed_ticket(&app, &agent, mario());
    app.event_ok(
        &agent,
        &id,
        json!({"type": "reply", "channel": "email", "message": "Risolto."}),
    );
    wait_until(Duration::from_secs(30), || {
        messages(&app, &agent, &id)
            .first()
            .is_some_and(|m| m["status"] == "sent")
    });
    app.rerun_migrations(&["2026-12-06-000021_outbox_delivery_states"]);
    let kept = messages(&app, &agent, &id);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["status"], "sent");
    for state in ["bounced", "delivered"] {
        app.execute_sql(&format!("UPDATE outbox SET status = '{state}'"));
        assert_eq!(messages(&app, &agent, &id)[0]["status"], state);
        let retry = app.post(
            &format!("/outbox/{}/retry", kept[0]["id"].as_str().unwrap()),
            &app.admin,
            &json!({}),
        );
        retry.problem(409);
    }
}
