//! `notify_users` publishes a public notice (SPEC §10): it appears in the JSON, the Atom feed
//! and the status page on a fresh install, a later `notify_users` updates it, the end of the
//! interruption resolves it, a supervisor withdraws it, and nothing private is ever shown.

mod common;

use common::smtp::{SmtpSink, parse, wait_until};
use common::{mail_settings, sla_clock, spawn_app, spawn_app_with, test_settings};
use helpdesk::domain::{Level, Role};
use serde_json::{Value, json};
use std::time::Duration;

fn feed_entry_times(app: &common::TestApp) -> (String, String, String) {
    let feed = app.public_feed();
    assert_eq!(feed.entries.len(), 1, "{feed:?}");
    let entry = &feed.entries[0];
    (
        entry.id.clone(),
        entry.updated.expect("an entry's updated").to_rfc3339(),
        entry.published.expect("an entry's published").to_rfc3339(),
    )
}

#[test]
fn notify_users_on_a_fresh_install_is_published_updated_and_resolved() {
    let app = spawn_app(); // no public-notice address
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.interrupted_malfunction(&agent, &["PagoPA"], json!({}));

    app.set_now("2016-06-23T08:40:00Z");
    let reply = app.event(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "I pagamenti online sono sospesi."}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let told = reply.json();
    assert_eq!(told["event"]["recipients"], Value::Null, "no e-mail");
    assert_eq!(
        sla_clock(&told["ticket"], "SLA.10").unwrap()["state"],
        "met"
    );
    let notice_id = told["ticket"]["public_notice_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let notices = app.public_notices();
    assert_eq!(notices["days"], 90);
    assert_eq!(notices["current"].as_array().unwrap().len(), 1, "{notices}");
    let current = &notices["current"][0];
    assert_eq!(current["service"], "PagoPA");
    assert_eq!(current["notice"]["id"], notice_id.as_str());
    assert_eq!(
        current["notice"]["text"],
        "I pagamenti online sono sospesi."
    );
    assert_eq!(current["notice"]["state"], "current");
    assert_eq!(
        current["notice"]["title"],
        "Interruzione del servizio PagoPA"
    );
    assert_eq!(
        current["notice"]["interruption_started_at"],
        "2016-06-23T08:00:00Z"
    );
    assert_eq!(current["notice"]["published_at"], "2016-06-23T08:40:00Z");
    assert_eq!(notices["items"].as_array().unwrap().len(), 1);

    let (entry_id, first_updated, published) = feed_entry_times(&app);
    assert_eq!(entry_id, format!("urn:uuid:{notice_id}"));
    assert_eq!(published, "2016-06-23T08:40:00+00:00");
    let feed = app.public_feed();
    let entry = &feed.entries[0];
    assert_eq!(feed.language.as_deref(), Some("it"));
    assert!(entry.title.as_ref().unwrap().content.contains("PagoPA"));
    let content = entry.content.as_ref().unwrap().body.as_deref().unwrap();
    assert!(
        content.contains("I pagamenti online sono sospesi."),
        "{content}"
    );
    assert!(content.contains("Stato: in corso"), "{content}");

    let page = app.status_page();
    assert!(page.contains("<html lang=\"it\">"));
    assert!(page.contains("I pagamenti online sono sospesi."), "{page}");
    assert!(page.contains("<time datetime=\"2016-06-23T08:00:00Z\">23 giugno 2016, 10:00</time>"));
    assert!(page.contains("In corso"));

    // A second notify_users updates the same notice: the feed's entry keeps its id, and its
    // `updated` moves.
    app.set_now("2016-06-23T09:15:00Z");
    let again = app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Ripristino previsto entro le 12."}),
    );
    assert_eq!(again["public_notice_id"], notice_id.as_str());
    let notices = app.public_notices();
    let item = &notices["items"][0];
    assert_eq!(item["id"], notice_id.as_str());
    assert_eq!(item["text"], "Ripristino previsto entro le 12.");
    assert_eq!(item["published_at"], "2016-06-23T08:40:00Z");
    assert_eq!(item["updated_at"], "2016-06-23T09:15:00Z");
    let texts: Vec<&str> = item["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "I pagamenti online sono sospesi.",
            "Ripristino previsto entro le 12."
        ]
    );
    let (same_id, second_updated, _) = feed_entry_times(&app);
    assert_eq!(same_id, entry_id, "the entry's id is stable");
    assert!(
        second_updated > first_updated,
        "{first_updated} → {second_updated}"
    );
    let page = app.status_page();
    assert!(page.contains("Ripristino previsto entro le 12."));
    assert!(page.contains("Aggiornamenti precedenti (1)"), "{page}");

    // The interruption's end resolves it.
    app.set_now("2016-06-23T10:30:00Z");
    app.event_ok(&agent, &id, json!({"type": "interruption_end"}));
    let notices = app.public_notices();
    assert_eq!(notices["current"], json!([]));
    assert_eq!(notices["items"][0]["state"], "resolved");
    assert_eq!(
        notices["items"][0]["interruption_ended_at"],
        "2016-06-23T10:30:00Z"
    );
    let feed = app.public_feed();
    assert_eq!(feed.entries[0].id, entry_id);
    assert!(
        feed.entries[0]
            .title
            .as_ref()
            .unwrap()
            .content
            .ends_with("(risolto)")
    );
    assert!(feed.entries[0].updated.unwrap().to_rfc3339() > second_updated);
    let page = app.status_page();
    assert!(page.contains("Al momento non ci sono interruzioni segnalate."));
    assert!(page.contains("Risolto"));

    // A new interruption on the same ticket leaves this notice resolved (the next
    // `notify_users` publishes one of its own: see below).
    app.set_now("2016-06-23T11:00:00Z");
    app.event_ok(&agent, &id, json!({"type": "interruption_start"}));
    let notices = app.public_notices();
    assert_eq!(notices["current"], json!([]));
    assert_eq!(notices["items"][0]["id"], notice_id.as_str());
    assert_eq!(notices["items"][0]["state"], "resolved");
    let outbox = app.get("/outbox", &app.admin).json();
    assert_eq!(outbox["items"], json!([]), "no address, no e-mail");
}

#[test]
fn with_public_notice_addresses_notify_users_also_sends_one_email() {
    let sink = SmtpSink::start();
    let app = spawn_app_with(mail_settings(&sink.url()));
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.interrupted_malfunction(&agent, &["PagoPA"], json!({}));
    app.set_now("2016-06-23T08:40:00Z");
    let told = app.event(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "I pagamenti online sono sospesi."}),
    );
    assert_eq!(told.status, 201, "{}", told.body);
    assert_eq!(
        told.json()["event"]["recipients"],
        json!(["avvisi@cst.example.org"])
    );
    let received = parse(&sink.wait_for(1)[0]);
    assert_eq!(received.envelope_to, ["avvisi@cst.example.org"]);
    assert!(received.text.contains("I pagamenti online sono sospesi."));
    wait_until(Duration::from_secs(30), || {
        app.get("/outbox?status=sent", &app.admin).json()["items"]
            .as_array()
            .is_some_and(|items| items.len() == 1)
    });
    assert_eq!(sink.messages().len(), 1, "exactly one e-mail");
    assert_eq!(
        app.public_notices()["current"][0]["notice"]["text"],
        "I pagamenti online sono sospesi."
    );
}

#[test]
fn a_supervisor_withdraws_a_notice_from_every_output_and_an_agent_may_not() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let (_, supervisor) = app.add_user(Role::Supervisor, None, None);
    let agency = app.add_agency("FI");
    let (_, agency_user) = app.add_user(Role::Agency, None, Some(&agency));
    let id = app.interrupted_malfunction(&agent, &["PagoPA"], json!({"agency_id": agency}));
    let withdraw = json!({"type": "withdraw_notice", "reason": "Avviso sul servizio sbagliato"});

    let nothing = app.event(&supervisor, &id, withdraw.clone());
    let problem = nothing.problem(409);
    assert_eq!(problem["current_status"], "open");
    app.set_now("2016-06-23T08:40:00Z");
    let message = "Avviso pubblicato per errore";
    let told = app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": message}),
    );
    assert!(
        told["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("withdraw_notice"))
    );
    let sla_before = sla_clock(&told, "SLA.10").unwrap().clone();

    app.event(&agent, &id, withdraw.clone()).problem(403);
    app.event(&agency_user, &id, withdraw.clone()).problem(403);
    app.set_now("2016-06-23T08:45:00Z");
    let withdrawn = app.event(&supervisor, &id, withdraw.clone());
    assert_eq!(withdrawn.status, 201, "{}", withdrawn.body);
    let withdrawn = withdrawn.json();
    assert_eq!(
        withdrawn["event"]["reason"],
        "Avviso sul servizio sbagliato"
    );
    assert_eq!(withdrawn["ticket"]["public_notice_id"], Value::Null);
    let sla_after = sla_clock(&withdrawn["ticket"], "SLA.10").unwrap();
    assert_eq!(
        (&sla_after["state"], &sla_after["stopped_at"]),
        (&sla_before["state"], &sla_before["stopped_at"]),
        "a withdrawal leaves the clocks alone"
    );

    let notices = app.public_notices();
    assert_eq!(notices, json!({"current": [], "items": [], "days": 90}));
    assert!(app.public_feed().entries.is_empty());
    assert!(!app.status_page().contains(message));
    app.event(&supervisor, &id, withdraw).problem(409);
    let history = app
        .get(&format!("/tickets/{id}/events"), &supervisor)
        .json();
    let kinds: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.ends_with(&["notify_users", "withdraw_notice"]),
        "{kinds:?}"
    );

    // A later notify_users publishes a new notice, without the withdrawn text.
    app.set_now("2016-06-23T08:50:00Z");
    let again = app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "I pagamenti online sono sospesi."}),
    );
    let notices = app.public_notices();
    assert_eq!(notices["items"].as_array().unwrap().len(), 1);
    assert_eq!(notices["items"][0]["id"], again["public_notice_id"]);
    assert_ne!(again["public_notice_id"], told["public_notice_id"]);
    assert_eq!(notices["items"][0]["updates"].as_array().unwrap().len(), 1);
}

#[test]
fn nothing_private_appears_in_any_public_output() {
    let app = spawn_app_with(test_settings());
    let private = [
        ("requester name", "Annamaria Verdiprivata"),
        ("requester email", "anna.verdi@privato.example"),
        ("requester phone", "055 7654321"),
        ("comment", "Nota interna: password del gateway"),
        ("agency name", "Comune di Riservatopoli"),
        ("agency contact", "urp@riservatopoli.example"),
        ("assignee name", "Giulia Assegnatari"),
        ("description", "La signora ha chiamato dal numero di casa"),
        ("subject", "Oggetto riservato della segnalazione"),
        ("cause", "Causa interna riservata"),
        ("message to the agency", "Messaggio riservato agli uffici"),
    ];
    let agency = app
        .post(
            "/agencies",
            &app.admin,
            &json!({"code": "RS", "name": private[4].1, "contacts": [private[5].1]}),
        )
        .json()["id"]
        .clone();
    let assignee = app.post(
        "/users",
        &app.admin,
        &json!({"name": private[6].1, "role": "agent", "level": 1}),
    );
    let agent = assignee.json()["token"].as_str().unwrap().to_owned();
    let id = app.interrupted_malfunction(
        &agent,
        &["PagoPA"],
        json!({"subject": private[8].1, "description": private[7].1, "agency_id": agency,
               "affected_agency_ids": [agency],
               "requester": {"name": private[0].1, "email": private[1].1, "phone": private[2].1}}),
    );
    let number = app.get(&format!("/tickets/{id}"), &agent).json()["number"]
        .as_str()
        .unwrap()
        .to_owned();
    app.set_now("2016-06-23T08:20:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "comment", "message": private[3].1}),
    );
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_agency", "message": private[10].1}),
    );
    let cause = json!({"cause": private[9].1});
    assert_eq!(
        app.patch(&format!("/tickets/{id}"), &agent, &cause).status,
        200
    );
    app.set_now("2016-06-23T08:40:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Pagamenti sospesi."}),
    );

    let outputs = [
        ("JSON", app.public("/public/notices", &[]).body),
        ("feed", app.public("/public/notices.atom", &[]).body),
        ("page", app.status_page()),
    ];
    for (output, body) in &outputs {
        assert!(body.contains("Pagamenti sospesi."), "{output}: {body}");
        for (field, value) in private.iter().chain([&("ticket number", number.as_str())]) {
            assert!(!body.contains(value), "{output} shows the {field}: {body}");
        }
        assert!(!body.contains(&id), "{output} shows the ticket id");
    }

    // The number shows where the centre chooses to.
    let numbered = app.another_instance(helpdesk::config::Settings {
        public_notices_show_number: true,
        ..test_settings()
    });
    numbered.set_now("2016-06-23T08:41:00Z");
    assert_eq!(
        numbered.public_notices()["items"][0]["number"],
        number.as_str()
    );
    assert!(numbered.status_page().contains(&number));
}

#[test]
fn a_second_interruption_gets_its_own_notice_and_the_first_stays_resolved() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let id = app.interrupted_malfunction(&agent, &["PagoPA"], json!({}));
    app.set_now("2016-06-23T08:40:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Pagamenti sospesi."}),
    );
    app.set_now("2016-06-23T09:00:00Z");
    app.event_ok(&agent, &id, json!({"type": "interruption_end"}));
    app.set_now("2016-06-23T09:05:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Servizio ripristinato."}),
    );

    app.set_now("2016-06-23T14:00:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "interruption_start", "service": "PagoPA"}),
    );
    let notices = app.public_notices();
    assert!(
        notices["current"].as_array().unwrap().is_empty(),
        "nobody told the public of the new one yet: {notices}"
    );
    assert!(
        !app.status_page().contains("In corso dal"),
        "no stale text shown as current"
    );

    app.set_now("2016-06-23T14:20:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Di nuovo sospesi."}),
    );
    let notices = app.public_notices();
    let items = notices["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{notices}");
    assert_eq!(notices["current"].as_array().unwrap().len(), 1);
    assert_eq!(notices["current"][0]["notice"]["text"], "Di nuovo sospesi.");
    let old = items
        .iter()
        .find(|n| n["text"] == "Servizio ripristinato.")
        .expect("the first notice, still listed");
    assert_eq!(old["state"], "resolved", "{old}");
    assert_eq!(app.public_feed().entries.len(), 2);
}

#[test]
fn a_notice_without_a_recorded_interruption_is_resolved_with_the_ticket() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    app.set_now("2016-06-23T08:00:00Z");
    let id = app.open_ticket_id(
        &agent,
        json!({"subject": "Lentezze", "channel": "phone", "malfunction": true}),
    );
    app.event_ok(&agent, &id, json!({"type": "take_charge"}));
    app.set_now("2016-06-23T08:10:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "notify_users", "message": "Servizio lento."}),
    );
    assert_eq!(app.public_notices()["current"].as_array().unwrap().len(), 1);
    app.set_now("2016-06-23T09:00:00Z");
    app.event_ok(
        &agent,
        &id,
        json!({"type": "resolve", "resolution": "Risolto."}),
    );
    let notices = app.public_notices();
    assert!(
        notices["current"].as_array().unwrap().is_empty(),
        "{notices}"
    );
    assert_eq!(notices["items"][0]["state"], "resolved");
}
