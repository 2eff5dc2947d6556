//! Mail about mail (SPEC §8): a bounce of a reply marks it `bounced`, PEC receipts mark it
//! `delivered` or `bounced`, and neither opens a ticket; a PEC envelope's `postacert.eml` is the
//! message ingested.

mod common;

use common::mail_in::message;
use common::smtp::wait_until;
use common::{TestApp, spawn_app_with, test_settings};
use serde_json::{Value, json};
use std::time::Duration;

fn post(app: &TestApp, gate: &str, raw: &[u8]) -> Value {
    let reply = app.post_mail(gate, raw);
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.json()
}

fn messages(app: &TestApp, id: &str) -> Vec<Value> {
    app.get(&format!("/tickets/{id}"), &app.admin).json()["messages"]
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

/// A ticket mailed in by anna@example.org, taken in charge and answered by e-mail once the
/// answer is sent; returns (ticket id, the reply's Message-ID).
fn answered_ticket(app: &TestApp, gate: &str) -> (String, String) {
    let opened = post(app, gate, &message("anna@example.org", "Rete", &[], "giù"));
    let id = opened["ticket_id"].as_str().unwrap().to_owned();
    app.event_ok(&app.admin, &id, json!({"type": "take_charge"}));
    let reply = app.event(
        &app.admin,
        &id,
        json!({"type": "reply", "channel": "email", "message": "Risolto?"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    wait_until(Duration::from_secs(30), || {
        messages(app, &id).iter().all(|m| m["status"] == "sent")
    });
    let reply_id = messages(app, &id)
        .iter()
        .find(|m| m["kind"] == "reply")
        .unwrap()["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, reply_id)
}

fn reply_state(app: &TestApp, id: &str) -> Value {
    messages(app, id)
        .into_iter()
        .find(|m| m["kind"] == "reply")
        .unwrap()
}

#[test]
fn a_bounce_of_a_reply_marks_it_bounced_with_the_reason_and_opens_no_ticket() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let (id, reply_id) = answered_ticket(&app, &gate);
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\nTo: helpdesk@localhost\r\n\
Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nIl messaggio non è stato consegnato.\r\n\
--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
Final-Recipient: rfc822; anna@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <anna@example.org>: user unknown\r\n\
--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {reply_id}\r\nSubject: [x] Rete\r\n\
--r--\r\n"
    );
    let answer = post(&app, &gate, bounce.as_bytes());
    assert_eq!(answer["outcome"], "delivery_report", "{answer}");
    let state = reply_state(&app, &id);
    assert_eq!(state["status"], "bounced");
    assert!(
        state["last_error"]
            .as_str()
            .unwrap()
            .contains("user unknown"),
        "{state}"
    );
    assert_eq!(ticket_count(&app), 1, "a bounce opens no ticket");
    let last = app.get(&format!("/tickets/{id}/events"), &app.admin).json()["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["type"], "reply",
        "nor is it recorded as the requester's message"
    );
}

#[test]
fn pec_receipts_mark_the_reply_delivered_or_bounced_and_open_no_ticket() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let (id, reply_id) = answered_ticket(&app, &gate);
    let receipt = |kind: &str, n: u32| {
        format!(
            "From: posta-certificata@pec.example.it\r\nTo: helpdesk@localhost\r\n\
Subject: {kind}: [x] Rete\r\nMessage-ID: <ricevuta-{n}@pec.example.it>\r\nX-Ricevuta: {kind}\r\n\
X-Riferimento-Message-ID: {reply_id}\r\nX-Trasporto: posta-certificata\r\n\r\nRicevuta.\r\n"
        )
        .into_bytes()
    };
    let accepted = post(&app, &gate, &receipt("accettazione", 1));
    assert_eq!(accepted["outcome"], "delivery_report");
    assert_eq!(
        reply_state(&app, &id)["status"],
        "sent",
        "on its way: no change"
    );
    let delivered = post(&app, &gate, &receipt("avvenuta-consegna", 2));
    assert_eq!(delivered["outcome"], "delivery_report");
    assert_eq!(reply_state(&app, &id)["status"], "delivered");
    let failed = post(&app, &gate, &receipt("errore-consegna", 3));
    assert_eq!(failed["outcome"], "delivery_report");
    assert_eq!(reply_state(&app, &id)["status"], "bounced");
    assert_eq!(ticket_count(&app), 1);
    // A receipt about nothing the helpdesk sent waits in the quarantine.
    let stray = "From: posta-certificata@pec.example.it\r\nX-Ricevuta: avvenuta-consegna\r\n\
X-Riferimento-Message-ID: <altro@example.org>\r\nSubject: x\r\n\r\nx\r\n";
    assert_eq!(
        post(&app, &gate, stray.as_bytes())["outcome"],
        "quarantined"
    );
}

#[test]
fn a_pec_envelope_ingests_the_message_in_its_postacert_eml() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let envelope = b"From: \"Per conto di: protocollo@pec.comune.fi.it\" <posta-certificata@pec.example.it>\r\n\
To: helpdesk@pec.cst.example.org\r\nSubject: POSTA CERTIFICATA: Richiesta di intervento\r\n\
Message-ID: <busta-1@pec.example.it>\r\nX-Trasporto: posta-certificata\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"busta\"\r\n\r\n\
--busta\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMessaggio di posta certificata.\r\n\
--busta\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\n\
Content-Disposition: attachment; filename=\"daticert.xml\"\r\n\r\n<postacert tipo=\"posta-certificata\"/>\r\n\
--busta\r\nContent-Type: message/rfc822; name=\"postacert.eml\"\r\n\
Content-Disposition: attachment; filename=\"postacert.eml\"\r\n\r\n\
From: Protocollo <protocollo@pec.comune.fi.it>\r\nSubject: Richiesta di intervento\r\n\
Message-ID: <interna-1@pec.comune.fi.it>\r\n\r\nIl servizio anagrafe non risponde.\r\n\
--busta--\r\n";
    let answer = post(&app, &gate, envelope);
    assert_eq!(answer["outcome"], "opened", "{answer}");
    let ticket = app
        .get(
            &format!("/tickets/{}", answer["ticket_id"].as_str().unwrap()),
            &app.admin,
        )
        .json();
    assert_eq!(ticket["subject"], "Richiesta di intervento");
    assert_eq!(ticket["requester"]["email"], "protocollo@pec.comune.fi.it");
    assert_eq!(ticket["requester"]["name"], "Protocollo");
    assert!(
        ticket["description"]
            .as_str()
            .unwrap()
            .contains("anagrafe non risponde"),
        "{ticket}"
    );
    // The acknowledgement answers the inner message.
    let acknowledgement = &ticket["messages"][0];
    assert_eq!(
        acknowledgement["recipients"],
        json!(["protocollo@pec.comune.fi.it"])
    );
}
