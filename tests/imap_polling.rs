//! Mail in by IMAP polling (SPEC §8), against a real Dovecot on 127.0.0.1
//! (`../shared/tools/imap-server`): a message appended to the mailbox becomes a ticket reported
//! at its INTERNALDATE; each message is ingested exactly once through restarts, a message
//! appended twice, a new UIDVALIDITY, two instances polling one mailbox, the service killed
//! mid-batch and an outage of the server; every message is flagged on the server, never
//! deleted; a server that stops answering or offers no STARTTLS asked for is given up.

mod common;

use common::imap::{ImapServer, serve_process};
use common::mail_in::message;
use common::smtp::wait_until;
use common::{TestApp, spawn_app_with, test_settings};
use helpdesk::config::{Secret, Settings};
use serde_json::Value;
use std::time::Duration;

fn polling(url: &str) -> Settings {
    Settings {
        imap_url: Secret(url.to_owned()),
        imap_poll_interval_seconds: 1,
        ..test_settings()
    }
}

/// Every ticket (following the pages).
fn all_tickets(app: &TestApp) -> Vec<Value> {
    let mut tickets = Vec::new();
    let mut path = "/tickets?limit=200".to_owned();
    loop {
        let page = app.get(&path, &app.admin).json();
        tickets.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/tickets?limit=200&cursor={cursor}"),
            None => return tickets,
        }
    }
}

fn numbered(count: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            message(
                &format!("utente{i}@example.org"),
                &format!("{tag} {i}"),
                &[&format!("Message-ID: <{tag}-{i}@example.org>")],
                "testo",
            )
        })
        .collect()
}

/// How many different subjects `tickets` have: one per message ingested once.
fn distinct_subjects(tickets: &[Value]) -> usize {
    let mut subjects: Vec<&str> = tickets
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    subjects.sort_unstable();
    subjects.dedup();
    subjects.len()
}

fn wait_for_tickets(app: &TestApp, count: usize, seconds: u64) {
    wait_until(Duration::from_secs(seconds), || {
        all_tickets(app).len() >= count
    });
}

#[test]
fn a_message_appended_to_the_mailbox_becomes_a_ticket_reported_at_its_internaldate() {
    let server = ImapServer::start();
    let report = b"From: Mario Rossi <mario.rossi@comune.fi.it>\r\nSubject: Portale SUAP\r\n\
Message-ID: <imap-1@comune.fi.it>\r\nDate: Mon, 1 Jan 2001 08:00:00 +0100\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
Errore 500.\r\n--b\r\nContent-Type: text/csv; name=\"log.csv\"\r\nContent-Disposition: attachment; \
filename=\"log.csv\"\r\n\r\nora,errore\r\n09:00,500\r\n--b--\r\n";
    server.append("INBOX", report, "2016-06-23T09:05:00+02:00");
    let app = spawn_app_with(test_settings());
    app.post(
        "/agencies",
        &app.admin,
        &serde_json::json!({"code": "FI", "name": "Comune di Firenze", "mail_domains": ["comune.fi.it"]}),
    );
    let poller = app.another_instance_at(polling(&server.url("INBOX")), "2016-06-23T07:30:00Z");
    // Flagged once the whole ingest is done (the ticket, then its attachment and
    // acknowledgement, are separate writes).
    wait_until(Duration::from_secs(30), || {
        server.flagged("INBOX") == (1, 1)
    });
    let tickets = all_tickets(&app);
    assert_eq!(tickets.len(), 1);
    let ticket = app
        .get(
            &format!("/tickets/{}", tickets[0]["id"].as_str().unwrap()),
            &app.admin,
        )
        .json();
    assert_eq!(
        ticket["reported_at"], "2016-06-23T07:05:00Z",
        "the INTERNALDATE, not Date:"
    );
    assert_eq!(ticket["channel"], "email");
    assert_eq!(ticket["requester"]["email"], "mario.rossi@comune.fi.it");
    assert!(ticket["agency_id"].is_string(), "{ticket}");
    assert_eq!(ticket["attachments"][0]["filename"], "log.csv", "{ticket}");
    assert_eq!(ticket["messages"][0]["kind"], "acknowledgement");

    // The same message appended again: recognised, flagged, no second ticket.
    server.append("INBOX", report, "2016-06-23T09:06:00+02:00");
    wait_until(Duration::from_secs(30), || {
        server.flagged("INBOX") == (2, 2)
    });
    assert_eq!(all_tickets(&app).len(), 1);
    drop(poller);
}

#[test]
fn a_poller_stopped_while_it_reads_and_started_again_ingests_each_message_once() {
    let server = ImapServer::start();
    for raw in numbered(60, "riavvio") {
        server.append("INBOX", &raw, "2016-06-23T09:00:00+02:00");
    }
    let app = spawn_app_with(polling(&server.url("INBOX")));
    wait_for_tickets(&app, 1, 30);
    app.stop();
    let before = server.flagged("INBOX").0;
    let again = app.another_instance(polling(&server.url("INBOX")));
    wait_until(Duration::from_secs(60), || {
        server.flagged("INBOX") == (60, 60)
    });
    let tickets = all_tickets(&again);
    assert_eq!(tickets.len(), 60, "{before} were flagged at the stop");
    let subjects = distinct_subjects(&tickets);
    assert_eq!(subjects, 60, "each message once");
}

#[test]
fn a_mailbox_recreated_with_a_new_uidvalidity_is_read_again_and_nothing_doubles() {
    let server = ImapServer::start();
    server.create("Assistenza");
    let messages: Vec<(Vec<u8>, &str)> = numbered(3, "migrazione")
        .into_iter()
        .map(|raw| (raw, "2016-06-23T09:00:00+02:00"))
        .collect();
    for (raw, at) in &messages {
        server.append("Assistenza", raw, at);
    }
    let app = spawn_app_with(polling(&server.url("Assistenza")));
    wait_until(Duration::from_secs(30), || {
        server.flagged("Assistenza") == (3, 3)
    });
    assert_eq!(all_tickets(&app).len(), 3);
    server.recreate_mailbox("Assistenza", &messages);
    assert_eq!(
        server.flagged("Assistenza"),
        (0, 3),
        "a new mailbox, unflagged"
    );
    wait_until(Duration::from_secs(30), || {
        server.flagged("Assistenza") == (3, 3)
    });
    assert_eq!(
        all_tickets(&app).len(),
        3,
        "fetched again, recognised, not doubled"
    );
}

#[test]
fn two_instances_polling_one_mailbox_of_200_messages_open_200_tickets() {
    let server = ImapServer::start();
    for raw in numbered(200, "doppio") {
        server.append("INBOX", &raw, "2016-06-23T09:00:00+02:00");
    }
    let first = spawn_app_with(polling(&server.url("INBOX")));
    let second = first.another_instance(polling(&server.url("INBOX")));
    wait_until(Duration::from_secs(120), || {
        server.flagged("INBOX") == (200, 200)
    });
    let tickets = all_tickets(&first);
    assert_eq!(tickets.len(), 200);
    let mut numbers: Vec<&str> = tickets
        .iter()
        .map(|t| t["number"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 200);
    drop(second);
}

#[test]
fn with_the_server_down_the_poller_backs_off_and_loses_nothing() {
    let mut server = ImapServer::start();
    for raw in numbered(5, "guasto") {
        server.append("INBOX", &raw, "2016-06-23T09:00:00+02:00");
    }
    server.stop();
    let app = spawn_app_with(polling(&server.url("INBOX")));
    std::thread::sleep(Duration::from_secs(3)); // the poller fails and waits longer each time
    assert!(all_tickets(&app).is_empty());
    server.start_again();
    wait_until(Duration::from_secs(60), || {
        server.flagged("INBOX") == (5, 5)
    });
    assert_eq!(all_tickets(&app).len(), 5);
}

#[test]
fn a_mailbox_that_asks_for_starttls_is_never_read_in_clear() {
    let server = ImapServer::start();
    server.append(
        "INBOX",
        &message("a@example.org", "x", &[], "y"),
        "2016-06-23T09:00:00+02:00",
    );
    let url = format!("{}?tls=required", server.url("INBOX"));
    let mailbox = helpdesk::mail::imap_url::parse_mailboxes(&url)
        .unwrap()
        .remove(0);
    // This Dovecot offers no STARTTLS: the session stops there, before the password is sent.
    let Err(error) = helpdesk::mail::imap_session::open_session(&mailbox, Duration::from_secs(10))
    else {
        panic!("no session without TLS");
    };
    assert!(error.to_string().contains("STARTTLS"), "{error:#}");
    assert_eq!(server.flagged("INBOX"), (0, 1), "nothing was read");
}

#[test]
fn a_server_that_stops_answering_fails_the_pass_instead_of_holding_the_poller() {
    // Accepts the connection and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || silent.accept().map(|(stream, _)| stream));
    let url = format!("imap://u:p@127.0.0.1:{port}/INBOX");
    let mailbox = helpdesk::mail::imap_url::parse_mailboxes(&url)
        .unwrap()
        .remove(0);
    let started = std::time::Instant::now();
    let Err(error) =
        helpdesk::mail::imap_session::open_session(&mailbox, Duration::from_millis(300))
    else {
        panic!("no session with a silent server");
    };
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "gave up after {:?}: {error:#}",
        started.elapsed()
    );
    drop(held.join());
}

#[test]
fn a_poller_killed_mid_batch_and_restarted_ingests_each_message_once() {
    const COUNT: usize = 300;
    let server = ImapServer::start();
    for raw in numbered(COUNT, "ucciso") {
        server.append("INBOX", &raw, "2016-06-23T09:00:00+02:00");
    }
    // The test's own instance reads the database; the poller is the real binary, killed
    // with SIGKILL while it works through the mailbox.
    let app = spawn_app_with(test_settings());
    let dir = tempfile::tempdir().unwrap();
    let mut first = serve_process(&app.database_url, &server.url("INBOX"), dir.path(), &[]);
    wait_until(Duration::from_secs(60), || !all_tickets(&app).is_empty());
    first.kill().unwrap();
    first.wait().unwrap();
    let (flagged_at_kill, _) = server.flagged("INBOX");
    let stored_at_kill = all_tickets(&app).len();
    assert!(
        stored_at_kill >= flagged_at_kill,
        "a message is stored before it is flagged"
    );

    let mut again = serve_process(&app.database_url, &server.url("INBOX"), dir.path(), &[]);
    wait_until(Duration::from_secs(120), || {
        server.flagged("INBOX") == (COUNT, COUNT)
    });
    again.kill().unwrap();
    again.wait().unwrap();
    let tickets = all_tickets(&app);
    let subjects = distinct_subjects(&tickets);
    assert_eq!(
        (tickets.len(), subjects),
        (COUNT, COUNT),
        "each message once ({stored_at_kill} stored, {flagged_at_kill} flagged at the kill)"
    );
}
