//! E-mail through a real SMTP server on 127.0.0.1 (`smtp-sink`, aiosmtpd): what
//! `notify_agency` and `notify_users` send, and that the outbox delivers every message
//! exactly once through outages, retries and two instances.

mod common;

use common::smtp::{SmtpSink, free_port, parse, wait_until};
use common::{TestApp, mail_settings, sla_clock, spawn_app_with};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

/// A malfunction of `agencies` reported by phone at 08:00, interrupted since 07:55, with
/// the intervention started at 08:30 (app time); returns (ticket id, number).
fn malfunction(app: &TestApp, agent: &str, agencies: &[&str]) -> (String, String) {
    app.set_now("2016-06-23T08:00:00Z");
    let ticket = app.open_ticket(
        agent,
        json!({"subject": "Pagamenti online non disponibili", "channel": "phone",
               "malfunction": true, "affected_agency_ids": agencies,
               "affected_services": ["PagoPA"]}),
    );
    let id = ticket["id"].as_str().unwrap().to_owned();
    app.event_ok(agent, &id, json!({"type": "take_charge"}));
    app.event_ok(
        agent,
        &id,
        json!({"type": "interruption_start", "at": "2016-06-23T07:55:00Z"}),
    );
    app.set_now("2016-06-23T08:30:00Z");
    app.event_ok(agent, &id, json!({"type": "start_intervention"}));
    (id, ticket["number"].as_str().unwrap().to_owned())
}

fn outbox(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/outbox{query}"), &app.admin);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["items"].as_array().unwrap().clone()
}

#[test]
fn notify_agency_reaches_every_contact_of_every_affected_agency() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency_with("FI", &["urp@comune.fi.it", "ced@comune.fi.it"]);
    let fiesole = app.add_agency_with("FS", &["protocollo@comune.fiesole.fi.it"]);
    let (id, number) = malfunction(&app, &agent, &[&firenze, &fiesole]);

    app.set_now("2016-06-23T08:50:00Z");
    let message = "Il servizio <PagoPA> è interrotto: stiamo intervenendo.";
    let after = app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_agency", "message": message}),
    );
    assert_eq!(sla_clock(&after, "SLA.9").unwrap()["state"], "met");

    let received: Vec<_> = sink.wait_for(2).iter().map(|raw| parse(raw)).collect();
    assert_eq!(received.len(), 2);
    let mut recipients: Vec<Vec<String>> = received.iter().map(|m| m.envelope_to.clone()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            vec!["protocollo@comune.fiesole.fi.it".to_owned()],
            vec!["urp@comune.fi.it".to_owned(), "ced@comune.fi.it".to_owned()],
        ]
    );
    for mail in &received {
        assert_eq!(
            mail.subject,
            format!("[{number}] Interruzione del servizio: PagoPA")
        );
        assert_eq!(
            mail.to, mail.envelope_to,
            "the To header names the same contacts"
        );
        assert!(mail.text.contains(message), "{}", mail.text);
        assert!(mail.text.contains("Gentile Comune F"), "{}", mail.text);
        assert!(
            mail.text
                .contains("Inizio dell'interruzione: 23/06/2016 09:55"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("in corso"), "{}", mail.text);
        assert!(
            mail.html
                .contains("Il servizio &lt;PagoPA&gt; è interrotto"),
            "{}",
            mail.html
        );
        assert!(mail.html.contains(&number), "{}", mail.html);
        assert!(
            mail.message_id.ends_with("@cst.example.org"),
            "{}",
            mail.message_id
        );
    }

    wait_until(Duration::from_secs(30), || {
        outbox(&app, "?status=sent").len() == 2
    });
    let rows = outbox(&app, "");
    for row in &rows {
        assert_eq!(row["status"], "sent");
        assert_eq!(row["attempts"], 1);
        assert_eq!(row["sent_at"], "2016-06-23T08:50:00Z");
        assert_eq!(row["ticket_id"], id);
        assert_eq!(row["kind"], "notify_agency");
    }
    let one = app
        .get(
            &format!("/outbox/{}", rows[0]["id"].as_str().unwrap()),
            &app.admin,
        )
        .json();
    assert!(one["message"].as_str().unwrap().contains("Message-ID:"));
}

#[test]
fn notify_users_reaches_the_public_notice_addresses() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let (id, number) = malfunction(&app, &agent, &[&firenze]);
    app.set_now("2016-06-23T09:20:00Z");
    let after = app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "I pagamenti online sono sospesi."}),
    );
    assert_eq!(sla_clock(&after, "SLA.10").unwrap()["state"], "met");
    let received = parse(&sink.wait_for(1)[0]);
    assert_eq!(received.envelope_to, ["avvisi@cst.example.org"]);
    assert_eq!(
        received.subject,
        format!("[{number}] Avviso all'utenza: interruzione di PagoPA")
    );
    assert!(received.text.contains("I pagamenti online sono sospesi."));
    assert!(received.html.contains("Avviso all'utenza"));
}

#[test]
fn an_email_waits_while_the_server_is_down_and_arrives_once_when_it_is_back() {
    let port = free_port(); // nothing listens here yet
    let app = spawn_app_with(mail_settings(&format!("smtp://127.0.0.1:{port}")));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let firenze = app.add_agency("FI");
    let (id, _) = malfunction(&app, &agent, &[&firenze]);

    app.set_now("2016-06-23T08:50:00Z");
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "notify_agency", "message": "Interruzione."}),
    );
    assert_eq!(
        reply.status, 201,
        "the event does not wait for the mail server: {}",
        reply.body
    );
    assert_eq!(
        sla_clock(&reply.json()["ticket"], "SLA.9").unwrap()["state"],
        "met"
    );

    wait_until(Duration::from_secs(30), || {
        outbox(&app, "")
            .first()
            .is_some_and(|row| row["attempts"] == 1)
    });
    let waiting = &outbox(&app, "")[0];
    assert_eq!(waiting["status"], "pending");
    assert_eq!(
        waiting["next_attempt_at"], "2016-06-23T08:50:30Z",
        "retried after 30 s"
    );
    assert!(
        waiting["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{waiting}"
    );

    let sink = SmtpSink::start_on(port);
    app.set_now("2016-06-23T08:50:31Z");
    let received = sink.wait_for(1);
    wait_until(Duration::from_secs(30), || {
        outbox(&app, "?status=sent").len() == 1
    });
    let sent = &outbox(&app, "")[0];
    assert_eq!(sent["attempts"], 2);
    assert_eq!(sent["sent_at"], "2016-06-23T08:50:31Z");

    // Later passes (and a retry request) never send it again.
    app.set_now("2016-06-23T12:00:00Z");
    let id = sent["id"].as_str().unwrap();
    let retry = app.post(&format!("/outbox/{id}/retry"), &app.admin, &json!({}));
    retry.problem(409);
    std::thread::sleep(Duration::from_millis(300)); // several worker passes (every 50 ms)
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(parse(&received[0]).envelope_to, ["urp@fi.example.org"]);
}

#[test]
fn an_undeliverable_email_fails_after_its_attempts_and_an_admin_can_retry_it() {
    let port = free_port();
    let settings = helpdesk::config::Settings {
        outbox_max_attempts: 2,
        ..mail_settings(&format!("smtp://127.0.0.1:{port}"))
    };
    let app = spawn_app_with(settings);
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, supervisor) = app.add_user(Role::Supervisor, None, None);
    let firenze = app.add_agency("FI");
    let (id, _) = malfunction(&app, &agent, &[&firenze]);
    app.set_now("2016-06-23T08:50:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_agency", "message": "Interruzione."}),
    );
    wait_until(Duration::from_secs(30), || {
        outbox(&app, "")[0]["attempts"] == 1
    });
    app.set_now("2016-06-23T08:51:00Z");
    wait_until(Duration::from_secs(30), || {
        outbox(&app, "?status=failed").len() == 1
    });
    let failed = &outbox(&app, "")[0];
    assert_eq!(failed["attempts"], 2);

    let row = failed["id"].as_str().unwrap();
    let listed = app.get("/outbox?status=failed", &supervisor);
    assert_eq!(listed.status, 200, "a supervisor reads the outbox");
    app.post(&format!("/outbox/{row}/retry"), &supervisor, &json!({}))
        .problem(403);
    let sink = SmtpSink::start_on(port);
    let retried = app.post(&format!("/outbox/{row}/retry"), &app.admin, &json!({}));
    assert_eq!(retried.status, 202, "{}", retried.body);
    assert_eq!(retried.json()["status"], "pending");
    assert_eq!(sink.wait_for(1).len(), 1);
    wait_until(Duration::from_secs(30), || {
        outbox(&app, "?status=sent").len() == 1
    });
}

#[test]
fn two_instances_deliver_each_of_200_pending_emails_exactly_once() {
    let port = free_port();
    let settings = mail_settings(&format!("smtp://127.0.0.1:{port}"));
    let first = spawn_app_with(settings.clone());
    let second = first.another_instance(settings);
    second.set_now("2016-06-23T08:00:00Z");
    let (_, agent) = first.add_user(Role::Agent, Some(Level::First), None);
    let agencies: Vec<String> = (0..4).map(|i| first.add_agency(&format!("E{i}"))).collect();
    let agency_refs: Vec<&str> = agencies.iter().map(String::as_str).collect();
    let (id, _) = malfunction(&first, &agent, &agency_refs);
    // 50 notifications to 4 agencies, while the server is down: 200 e-mails wait.
    for minute in 0..50 {
        first.set_now(&format!("2016-06-23T09:{minute:02}:00Z"));
        first.event_ok(
            &agent,
            &id,
            json!({"type": "notify_agency", "message": format!("Aggiornamento {minute}")}),
        );
    }
    let pending = |app: &TestApp| {
        let mut count = 0;
        let mut cursor = String::new();
        loop {
            let page = app
                .get(
                    &format!("/outbox?status=pending&limit=200{cursor}"),
                    &app.admin,
                )
                .json();
            count += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return count,
            }
        }
    };
    assert_eq!(pending(&first), 200);

    // Both clocks move on before the server comes back: a claim made at the old time would
    // look expired to the other instance (a clock jump of hours is beyond any lease).
    first.set_now("2016-06-23T12:00:00Z");
    second.set_now("2016-06-23T12:00:00Z");
    std::thread::sleep(Duration::from_millis(200)); // passes begun before the jump end
    let sink = SmtpSink::start_on(port);
    // Those attempted at 12:00 while the server was down are due again 30 s later (a move of
    // minutes, well within a claim's lease).
    first.set_now("2016-06-23T12:05:00Z");
    second.set_now("2016-06-23T12:05:00Z");
    let received = sink.wait_for(200);
    wait_until(Duration::from_secs(60), || pending(&first) == 0);
    std::thread::sleep(Duration::from_millis(300)); // more passes of both workers
    let received = if sink.messages().len() > received.len() {
        sink.messages()
    } else {
        received
    };
    let ids: HashSet<String> = received.iter().map(|raw| parse(raw).message_id).collect();
    assert_eq!(received.len(), 200, "each e-mail arrives once");
    assert_eq!(ids.len(), 200, "200 distinct messages");
}

#[test]
fn an_email_written_before_a_restart_is_delivered_once_after_it() {
    let port = free_port();
    let settings = mail_settings(&format!("smtp://127.0.0.1:{port}"));
    let before = spawn_app_with(settings.clone());
    let (_, agent) = before.add_user(Role::Agent, Some(Level::First), None);
    let firenze = before.add_agency("FI");
    let (id, _) = malfunction(&before, &agent, &[&firenze]);
    before.set_now("2016-06-23T08:50:00Z");
    before.event_ok(
        &agent,
        &id,
        json!({"type": "notify_agency", "message": "Interruzione."}),
    );
    wait_until(Duration::from_secs(30), || {
        outbox(&before, "")[0]["attempts"] == 1
    });
    before.stop();

    let sink = SmtpSink::start_on(port);
    let after = before.another_instance(settings);
    after.set_now("2016-06-23T09:00:00Z");
    assert_eq!(sink.wait_for(1).len(), 1);
    wait_until(Duration::from_secs(30), || {
        outbox(&after, "?status=sent").len() == 1
    });
    std::thread::sleep(Duration::from_millis(300)); // more passes
    assert_eq!(sink.messages().len(), 1, "delivered once");
}
