//! Mail in through the gateway (SPEC §8): `POST /inbound/mail` stores the raw message and
//! ingests it — it opens a ticket of the sender's agency, reported when it arrived, with its
//! attachments and one acknowledgement; an answer continues its ticket (by its headers or the
//! `[number]` in the subject) as a `requester_message`; what cannot be understood waits in the
//! quarantine; the same message received twice changes nothing.

mod common;

use common::mail_in::message;
use common::smtp::{SmtpSink, parse};
use common::{TestApp, mail_settings, spawn_app_with, test_settings};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::time::Duration;

fn ticket(app: &TestApp, token: &str, id: &str) -> Value {
    let reply = app.get(&format!("/tickets/{id}"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn events(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    app.get(&format!("/tickets/{id}/events"), token).json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn ticket_count(app: &TestApp) -> usize {
    app.get("/tickets?limit=200", &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .len()
}

/// Posts `raw` and returns the answer, which must be a 202.
fn post(app: &TestApp, gate: &str, raw: &[u8]) -> Value {
    let reply = app.post_mail(gate, raw);
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.json()
}

/// A report from Mario Rossi of the Comune di Firenze, with a PDF attached.
fn report_with_attachment() -> Vec<u8> {
    b"From: =?utf-8?q?Mario_Ross=C3=AC?= <mario.rossi@Comune.FI.it>\r\n\
To: assistenza@cst.example.org\r\n\
Subject: =?iso-8859-1?q?Il_portale_non_funziona_pi=F9?=\r\n\
Date: Mon, 1 Jan 2001 08:00:00 +0100\r\n\
Message-ID: <report-1@comune.fi.it>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
Da stamattina il portale SUAP d\xc3\xa0 errore 500.\r\n\
--b1\r\nContent-Type: application/pdf; name=\"errore.pdf\"\r\n\
Content-Disposition: attachment; filename=\"errore.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\r\n\
--b1--\r\n"
        .to_vec()
}

#[test]
fn a_mailed_report_opens_a_ticket_of_the_senders_agency_with_its_attachment_and_one_acknowledgement()
 {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let gate = app.mailgate_token();
    let firenze = app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "FI", "name": "Comune di Firenze", "mail_domains": ["comune.fi.it"]}),
    );
    let firenze = firenze.json()["id"].as_str().unwrap().to_owned();
    app.set_now("2016-06-23T09:05:00Z");

    let answer = post(&app, &gate, &report_with_attachment());
    assert_eq!(answer["outcome"], "opened");
    assert_eq!(answer["status"], "ingested");
    assert_eq!(answer["message_id"], "<report-1@comune.fi.it>");
    let id = answer["ticket_id"].as_str().unwrap().to_owned();
    let opened = ticket(&app, &app.admin, &id);
    assert_eq!(opened["channel"], "email");
    assert_eq!(opened["subject"], "Il portale non funziona più");
    assert_eq!(
        opened["reported_at"], "2016-06-23T09:05:00Z",
        "when the message reached the helpdesk, never its Date header"
    );
    assert_eq!(
        opened["agency_id"],
        firenze.as_str(),
        "by the sender's domain"
    );
    assert_eq!(opened["requester"]["name"], "Mario Rossì");
    assert_eq!(opened["requester"]["email"], "mario.rossi@comune.fi.it");
    assert!(
        opened["description"]
            .as_str()
            .unwrap()
            .contains("errore 500"),
        "{opened}"
    );
    let number = opened["number"].as_str().unwrap().to_owned();

    let attachments = opened["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{opened}");
    assert_eq!(attachments[0]["filename"], "errore.pdf");
    assert_eq!(attachments[0]["content_type"], "application/pdf");
    let (status, content_type, body) = app.get_bytes(
        &format!(
            "/tickets/{id}/attachments/{}",
            attachments[0]["id"].as_str().unwrap()
        ),
        &app.admin,
    );
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    assert!(body.starts_with(b"%PDF-1.4"), "{body:?}");

    // One acknowledgement, in the sender's thread, with the number and the commitment.
    let mails = sink.wait_for(1);
    let acknowledgement = parse(&mails[0]);
    assert_eq!(acknowledgement.envelope_to, ["mario.rossi@comune.fi.it"]);
    assert_eq!(
        acknowledgement.subject,
        format!("[{number}] Il portale non funziona più")
    );
    assert_eq!(
        acknowledgement.in_reply_to.as_deref(),
        Some("<report-1@comune.fi.it>")
    );
    assert!(
        acknowledgement.text.contains(&number),
        "{}",
        acknowledgement.text
    );
    assert!(
        mails[0].contains("Auto-Submitted: auto-replied"),
        "{}",
        mails[0]
    );
    let messages = ticket(&app, &app.admin, &id)["messages"].clone();
    assert_eq!(messages[0]["kind"], "acknowledgement", "{messages}");

    // Posted again (the mail server retried the pipe): nothing changes.
    let again = post(&app, &gate, &report_with_attachment());
    assert_eq!(again["outcome"], "already");
    assert_eq!(again["id"], answer["id"]);
    assert_eq!(again["ticket_id"], id.as_str());
    assert_eq!(ticket_count(&app), 1);
    assert_eq!(
        ticket(&app, &app.admin, &id)["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    std::thread::sleep(Duration::from_millis(300)); // the worker would have sent a second
    assert_eq!(sink.messages().len(), 1);
}

#[test]
fn answers_continue_their_ticket_by_headers_or_number_and_resume_it_from_on_hold() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let gate = app.mailgate_token();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-23T09:00:00Z");
    let first = post(
        &app,
        &gate,
        &message(
            "Anna Verdi <anna@example.org>",
            "Password scaduta",
            &["Message-ID: <a1@example.org>"],
            "Non riesco a entrare.",
        ),
    );
    let id = first["ticket_id"].as_str().unwrap().to_owned();
    let number = ticket(&app, &agent, &id)["number"]
        .as_str()
        .unwrap()
        .to_owned();
    app.set_now("2016-06-23T09:30:00Z");
    app.event_ok(&agent, &id, json!({"type": "take_charge"}));
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "reply", "channel": "email", "message": "Ci manda il codice fiscale?"}),
    );
    let outbox_id = reply.json()["event"]["outbox_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let reply_id = app.get(&format!("/outbox/{outbox_id}"), &app.admin).json()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = sink.wait_for(2);
    let reply_mail = sent
        .iter()
        .map(|raw| parse(raw))
        .find(|m| format!("<{}>", m.message_id) == reply_id)
        .unwrap();
    assert_eq!(
        reply_mail.in_reply_to.as_deref(),
        Some("<a1@example.org>"),
        "the reply answers the requester's message"
    );
    app.event_ok(
        &agent,
        &id,
        json!({"type": "hold", "reason": "attesa utente"}),
    );

    // The answer: another subject, only In-Reply-To left.
    app.set_now("2016-06-23T10:00:00Z");
    let header = format!("In-Reply-To: {reply_id}");
    let answer = post(
        &app,
        &gate,
        &message(
            "anna@example.org",
            "codice",
            &["Message-ID: <a2@example.org>", &header],
            "RSSMRA80A01H501U",
        ),
    );
    assert_eq!(answer["outcome"], "continued", "{answer}");
    assert_eq!(answer["ticket_id"], id.as_str());
    let after = ticket(&app, &agent, &id);
    assert_eq!(after["status"], "open", "resumed from on_hold");
    let history = events(&app, &agent, &id);
    let last = history.last().unwrap();
    assert_eq!(last["type"], "requester_message");
    assert_eq!(last["message"], "RSSMRA80A01H501U");
    assert_eq!(last["id"], answer["event_id"]);

    // Only the number in brackets, no headers: the same ticket.
    let tagged = post(
        &app,
        &gate,
        &message(
            "anna@example.org",
            &format!("R: [{number}] un'altra cosa"),
            &[],
            "Dimenticavo.",
        ),
    );
    assert_eq!(tagged["outcome"], "continued", "{tagged}");
    assert_eq!(tagged["ticket_id"], id.as_str());
    assert_eq!(ticket_count(&app), 1);

    // The next reply answers the latest message and names the whole thread.
    let next = app.event(
        &agent,
        &id,
        json!({"type": "reply", "channel": "email", "message": "Fatto."}),
    );
    let next_outbox = next.json()["event"]["outbox_ids"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let next_id = app
        .get(&format!("/outbox/{next_outbox}"), &app.admin)
        .json()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let next_mail = sink
        .wait_for(3)
        .iter()
        .map(|raw| parse(raw))
        .find(|m| format!("<{}>", m.message_id) == next_id)
        .unwrap();
    assert_eq!(next_mail.in_reply_to.as_deref(), Some("<a2@example.org>"));
    assert_eq!(
        next_mail.references.first().map(String::as_str),
        Some("<a1@example.org>")
    );
    assert!(
        next_mail.references.contains(&reply_id),
        "{:?}",
        next_mail.references
    );
}

#[test]
fn a_resolved_ticket_reopens_within_the_window_and_later_a_new_ticket_names_it() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-01T09:00:00Z");
    let opened = post(
        &app,
        &gate,
        &message("anna@example.org", "Stampa", &[], "La stampante."),
    );
    let id = opened["ticket_id"].as_str().unwrap().to_owned();
    let number = ticket(&app, &agent, &id)["number"]
        .as_str()
        .unwrap()
        .to_owned();
    app.event_ok(&agent, &id, json!({"type": "take_charge"}));
    app.event_ok(
        &agent,
        &id,
        json!({"type": "resolve", "resolution": "Driver aggiornato"}),
    );

    app.set_now("2016-06-10T09:00:00Z");
    let within = format!("Re: [{number}] Stampa");
    let again = post(
        &app,
        &gate,
        &message("anna@example.org", &within, &[], "Di nuovo."),
    );
    assert_eq!(again["outcome"], "continued");
    assert_eq!(ticket(&app, &agent, &id)["status"], "open", "reopened");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "resolve", "resolution": "Cavo sostituito"}),
    );

    app.set_now("2016-06-30T09:00:00Z");
    let late = post(
        &app,
        &gate,
        &message("anna@example.org", &within, &[], "Ancora."),
    );
    assert_eq!(late["outcome"], "opened", "after 14 days: a new ticket");
    let new_id = late["ticket_id"].as_str().unwrap();
    assert_ne!(new_id, id);
    let new = ticket(&app, &agent, new_id);
    assert!(
        new["description"].as_str().unwrap().contains(&number),
        "the new ticket names the old one: {new}"
    );
    assert_eq!(ticket(&app, &agent, &id)["status"], "resolved");
}

#[test]
fn a_message_to_a_ticket_closed_as_not_in_scope_is_only_recorded() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let opened = post(&app, &gate, &message("anna@example.org", "Altro", &[], "x"));
    let id = opened["ticket_id"].as_str().unwrap().to_owned();
    let number = ticket(&app, &agent, &id)["number"]
        .as_str()
        .unwrap()
        .to_owned();
    app.event_ok(
        &agent,
        &id,
        json!({"type": "close_not_in_scope", "reason": "non nostro"}),
    );
    let answer = post(
        &app,
        &gate,
        &message(
            "anna@example.org",
            &format!("[{number}] perché?"),
            &[],
            "Perché?",
        ),
    );
    assert_eq!(answer["outcome"], "continued");
    assert_eq!(ticket(&app, &agent, &id)["status"], "closed_not_in_scope");
    assert_eq!(
        events(&app, &agent, &id).last().unwrap()["type"],
        "requester_message"
    );
}

/// A multipart message whose only part is `part` (headers and body).
fn with_part(subject: &str, part: &str) -> Vec<u8> {
    format!(
        "From: anna@example.org\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nVedi allegato.\r\n--b\r\n{part}\r\n--b--\r\n"
    )
    .into_bytes()
}

#[test]
fn bad_mail_becomes_a_ticket_or_a_quarantine_entry_and_nothing_is_lost() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let forwarded = "Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n\
From: x@example.org\r\nSubject: inoltrato\r\n\r\ntesto inoltrato";
    let big: String = {
        use base64::Engine;
        let data = vec![7u8; 30 * 1024 * 1024];
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; \
filename=\"grande.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
            lines.join("\r\n")
        )
    };
    // (what, message, expected outcome, a check of the ticket)
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("no From", b"Subject: chi sono?\r\n\r\ntesto\r\n".to_vec(), "quarantined"),
        (
            "broken MIME boundaries",
            b"From: anna@example.org\r\nSubject: rotto\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\n\
testo senza confine\r\n"
                .to_vec(),
            "opened",
        ),
        (
            "an unknown charset",
            b"From: anna@example.org\r\nSubject: charset\r\nContent-Type: text/plain; charset=x-nessuno\r\n\r\n\
testo \xe8 strano\r\n"
                .to_vec(),
            "opened",
        ),
        (
            "a wrong charset",
            b"From: anna@example.org\r\nSubject: utf8?\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
citt\xe0\r\n"
                .to_vec(),
            "opened",
        ),
        (
            "raw 8-bit headers",
            b"From: Nicol\xc3\xb2 <nicolo@example.org>\r\nSubject: perch\xe9 non va\r\n\r\ntesto\r\n".to_vec(),
            "opened",
        ),
        ("an empty body", b"From: anna@example.org\r\nSubject: vuoto\r\n\r\n".to_vec(), "opened"),
        (
            "HTML only",
            b"From: anna@example.org\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Solo <b>HTML</b> qui</p></body></html>\r\n"
                .to_vec(),
            "opened",
        ),
        ("a forwarded message/rfc822", with_part("inoltro", forwarded), "opened"),
        ("a 30 MB attachment", with_part("allegato grande", &big), "opened"),
        ("a 0-byte message", Vec::new(), "quarantined"),
    ];
    let mut quarantined = Vec::new();
    for (what, raw, expected) in &cases {
        let answer = post(&app, &gate, raw);
        assert_eq!(answer["outcome"], *expected, "{what}: {answer}");
        if *expected == "quarantined" {
            assert!(answer["reason"].is_string(), "{what}: {answer}");
            quarantined.push(answer["id"].clone());
            continue;
        }
        let opened = ticket(&app, &app.admin, answer["ticket_id"].as_str().unwrap());
        let description = opened["description"].as_str().unwrap();
        match *what {
            "HTML only" => assert!(description.contains("Solo HTML qui"), "{description}"),
            "broken MIME boundaries" => assert!(description.contains("testo"), "{description}"),
            "raw 8-bit headers" => {
                assert_eq!(
                    opened["requester"]["email"], "nicolo@example.org",
                    "{opened}"
                )
            }
            "an empty body" => assert_eq!(opened["subject"], "vuoto"),
            "a forwarded message/rfc822" => {
                assert_eq!(
                    opened["attachments"].as_array().unwrap().len(),
                    1,
                    "{opened}"
                )
            }
            "a 30 MB attachment" => {
                assert_eq!(opened["attachments"], json!([]), "left out");
                assert!(
                    description.contains("grande.bin"),
                    "with a note: {description}"
                );
            }
            _ => {}
        }
    }
    let tickets = cases.iter().filter(|c| c.2 == "opened").count();
    assert_eq!(ticket_count(&app), tickets);
    let listed = app.get("/inbound/quarantine", &app.admin);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let items = listed.json()["items"].as_array().unwrap().clone();
    let mut ids: Vec<Value> = items.iter().map(|i| i["id"].clone()).collect();
    ids.sort_by_key(|v| v.to_string());
    quarantined.sort_by_key(|v| v.to_string());
    assert_eq!(ids, quarantined);
    assert!(
        items
            .iter()
            .all(|i| i["reason"].is_string() && i["size"].is_number())
    );
    // Retried, a message without sender stays in the quarantine.
    let retried = app.post(
        &format!(
            "/inbound/quarantine/{}/retry",
            quarantined[0].as_str().unwrap()
        ),
        &app.admin,
        &json!({}),
    );
    assert_eq!(retried.status, 202, "{}", retried.body);
    assert_eq!(retried.json()["outcome"], "quarantined");
}

#[test]
fn a_quarantined_message_is_ingested_when_an_admin_retries_it_after_a_fix() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    // An out-of-office answer that names no ticket: kept, no ticket, no answer.
    let automatic = message(
        "anna@example.org",
        "Fuori ufficio",
        &["Auto-Submitted: auto-replied"],
        "Sono in ferie.",
    );
    let kept = post(&app, &gate, &automatic);
    assert_eq!(kept["outcome"], "quarantined");
    assert_eq!(ticket_count(&app), 0);
    // The same answer to a ticket's acknowledgement is recorded on it, and answered by nobody.
    let opened = post(
        &app,
        &gate,
        &message(
            "anna@example.org",
            "Rete",
            &["Message-ID: <r@x.org>"],
            "giù",
        ),
    );
    let id = opened["ticket_id"].as_str().unwrap().to_owned();
    let acknowledgement = ticket(&app, &app.admin, &id)["messages"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = format!("In-Reply-To: {acknowledgement}");
    let answer = post(
        &app,
        &gate,
        &message(
            "anna@example.org",
            "Fuori ufficio",
            &["Auto-Submitted: auto-replied", &header],
            "Sono in ferie.",
        ),
    );
    assert_eq!(answer["outcome"], "continued");
    assert_eq!(
        ticket(&app, &app.admin, &id)["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(ticket_count(&app), 1);

    let retry = format!("/inbound/quarantine/{}/retry", kept["id"].as_str().unwrap());
    assert_eq!(
        app.post(&retry, &app.admin, &json!({})).json()["outcome"],
        "quarantined"
    );
    let ingested = format!(
        "/inbound/quarantine/{}/retry",
        answer["id"].as_str().unwrap()
    );
    app.post(&ingested, &app.admin, &json!({})).problem(409);
}

#[test]
fn only_the_mail_gateway_posts_mail_and_only_admins_see_the_quarantine() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let raw = message("anna@example.org", "x", &[], "x");
    app.post_mail(&agent, &raw).problem(403);
    assert_eq!(
        app.get("/tickets", &gate).status,
        403,
        "a mailgate reads no ticket"
    );
    app.get("/inbound/quarantine", &agent).problem(403);
    app.get("/inbound/quarantine", &gate).problem(403);
    let wrong_type = app.send(
        "POST",
        "/inbound/mail",
        Some(&gate),
        &[("Content-Type", "text/plain")],
        Some("From: a@example.org\r\n\r\nx"),
    );
    wrong_type.problem(415);
    // Nobody records a requester's message through the API, not even an admin.
    let mailed = post(&app, &gate, &raw);
    let mailed = mailed["ticket_id"].as_str().unwrap();
    let posed = app.event(&app.admin, mailed, json!({"type": "requester_message"}));
    posed.problem(422);
    assert_eq!(posed.problem_fields(), ["type"]);
    // An unknown attachment is a 404.
    let id = mailed;
    let (status, _, _) = app.get_bytes(
        &format!("/tickets/{id}/attachments/{}", uuid::Uuid::now_v7()),
        &agent,
    );
    assert_eq!(status, 404);
}

#[test]
fn the_mailgate_command_posts_standard_input_and_exits_75_when_the_service_is_away() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let run = |url: &str, raw: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
            .args([
                "mailgate",
                "--url",
                url,
                "--token",
                &gate,
                "--timeout",
                "10",
            ])
            .env_remove("HELPDESK_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(raw).unwrap();
        child.wait_with_output().unwrap()
    };
    let raw = message(
        "anna@example.org",
        "Via pipe",
        &["Message-ID: <p1@x.org>"],
        "testo",
    );
    let service = app.base.trim_end_matches("/api/v1");
    let taken = run(service, &raw);
    assert_eq!(
        taken.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    assert_eq!(ticket_count(&app), 1);
    let retried = run(service, &raw);
    assert_eq!(
        retried.status.code(),
        Some(0),
        "a retried pipe is taken, and changes nothing"
    );
    assert_eq!(ticket_count(&app), 1);
    let away = format!("http://127.0.0.1:{}", common::smtp::free_port());
    let refused = run(&away, &raw);
    assert_eq!(
        refused.status.code(),
        Some(75),
        "EX_TEMPFAIL: the mail server keeps it"
    );
}
