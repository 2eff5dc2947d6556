//! Where the requester's answers go (SPEC §8, "Out"): a reply names, as `Reply-To`, the
//! mailbox the ticket came in through — the IMAP mailbox's address, or the recipient the mail
//! server's pipe names — under the centre's name; a ticket that came in any other way names
//! `mail_from`. Real SMTP and IMAP servers on 127.0.0.1.

mod common;

use common::imap::ImapServer;
use common::mail_in::message;
use common::smtp::{SmtpSink, parse, wait_until};
use common::{TestApp, mail_settings, spawn_app_with};
use helpdesk::config::{Secret, Settings};
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::time::Duration;

/// Takes ticket `id` in charge and replies by e-mail; returns the raw message the requester
/// received.
fn reply_received(app: &TestApp, sink: &SmtpSink, agent: &str, id: &str) -> String {
    app.event_ok(agent, id, json!({"type": "take_charge"}));
    let reply = app.event(
        agent,
        id,
        json!({"type": "reply", "channel": "email", "message": "Risolto."}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let outbox_id = reply.json()["event"]["outbox_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let message_id = app.get(&format!("/outbox/{outbox_id}"), &app.admin).json()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut found = None;
    wait_until(Duration::from_secs(60), || {
        found = sink
            .messages()
            .into_iter()
            .find(|raw| format!("<{}>", parse(raw).message_id) == message_id);
        found.is_some()
    });
    found.unwrap()
}

fn reply_to_header(raw: &str) -> String {
    raw.lines()
        .find(|line| line.to_ascii_lowercase().starts_with("reply-to:"))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_reply_names_the_recipient_the_pipe_gave_and_a_ticket_opened_by_hand_names_mail_from() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let gate = app.mailgate_token();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let raw = message(
        "Anna Verdi <anna@example.org>",
        "Password scaduta",
        &["Message-ID: <rt1@example.org>"],
        "Non riesco a entrare.",
    );
    let taken = app.post_mail_with(&gate, "recipient=Assistenza%40CST.Example.org", &raw);
    assert_eq!(taken.status, 202, "{}", taken.body);
    let taken = taken.json();
    assert_eq!(taken["recipient"], "Assistenza@cst.example.org");
    let id = taken["ticket_id"].as_str().unwrap().to_owned();
    let acknowledgement = parse(&sink.wait_for(1)[0]);
    assert_eq!(
        acknowledgement.in_reply_to.as_deref(),
        Some("<rt1@example.org>")
    );
    assert_eq!(
        acknowledgement.reply_to.as_deref(),
        Some("Assistenza@cst.example.org"),
        "the acknowledgement too"
    );
    let received = reply_received(&app, &sink, &agent, &id);
    assert_eq!(
        parse(&received).reply_to.as_deref(),
        Some("Assistenza@cst.example.org"),
        "answers go back to the address the requester wrote to"
    );
    assert!(
        reply_to_header(&received).contains("Helpdesk CST"),
        "under the centre's name: {}",
        reply_to_header(&received)
    );

    let by_hand = app.open_ticket(
        &agent,
        json!({"subject": "Al telefono", "channel": "phone", "description": "Chiama.",
               "requester": {"name": "Ugo", "email": "ugo@example.org"}}),
    );
    let received = reply_received(&app, &sink, &agent, by_hand["id"].as_str().unwrap());
    assert_eq!(
        parse(&received).reply_to.as_deref(),
        Some("helpdesk@cst.example.org")
    );
}

#[test]
fn a_recipient_that_is_not_an_address_is_refused_and_nothing_is_stored() {
    let app = spawn_app_with(common::test_settings());
    let gate = app.mailgate_token();
    let raw = message(
        "anna@example.org",
        "Prova",
        &["Message-ID: <rt2@x.org>"],
        "t",
    );
    for bad in [
        "recipient=nessuno",
        "recipient=a%40b%40c.org",
        "recipient=a%0D%0ABcc%3Ax%40y.org%40c.org",
        "recipient=",
    ] {
        let reply = app.post_mail_with(&gate, bad, &raw);
        let problem = reply.problem(422);
        assert!(
            problem.to_string().contains("recipient"),
            "{bad}: {problem}"
        );
    }
    app.post_mail_with(&gate, "unknown=1", &raw).problem(400);
    let tickets = app.get("/tickets", &app.admin).json();
    assert_eq!(tickets["items"], json!([]), "nothing was taken");
    assert_eq!(
        app.get("/inbound/quarantine", &app.admin).json()["items"],
        json!([])
    );
}

#[test]
fn a_reply_to_a_ticket_the_mailbox_brought_names_the_mailbox_address() {
    let sink = SmtpSink::start();
    let server = ImapServer::start();
    server.append(
        "INBOX",
        &message(
            "Mario Rossi <mario@example.org>",
            "Portale lento",
            &["Message-ID: <rt3@example.org>"],
            "Lentissimo.",
        ),
        "2016-06-23T09:00:00+02:00",
    );
    let settings = Settings {
        imap_url: Secret(format!(
            "{}?address=assistenza%40cst.example.org",
            server.url("INBOX")
        )),
        imap_poll_interval_seconds: 1,
        ..mail_settings(&sink.url())
    };
    let app = spawn_app_with(settings);
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    // Flagged once the whole ingest is done, the message marked as the ticket's.
    wait_until(Duration::from_secs(30), || {
        server.flagged("INBOX") == (1, 1)
    });
    let id = app.get("/tickets", &app.admin).json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let received = reply_received(&app, &sink, &agent, &id);
    assert_eq!(
        parse(&received).reply_to.as_deref(),
        Some("assistenza@cst.example.org")
    );
}
