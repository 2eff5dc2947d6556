//! The mail domains of agencies (SPEC §8): mail from an address at one of them opens a ticket
//! of that agency, so a domain belongs to one agency at most.

mod common;

use common::spawn_app;
use serde_json::json;

#[test]
fn an_agency_keeps_its_mail_domains_and_no_other_agency_may_take_one() {
    let app = spawn_app();
    let created = app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "FI", "name": "Comune di Firenze",
                "mail_domains": ["Comune.FI.it", "pec.comune.fi.it"]}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let firenze = created.json();
    assert_eq!(
        firenze["mail_domains"],
        json!(["comune.fi.it", "pec.comune.fi.it"])
    );
    let id = firenze["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/agencies/{id}"), &app.admin).json()["mail_domains"],
        firenze["mail_domains"]
    );

    let taken = app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "FS", "name": "Comune di Fiesole",
                "mail_domains": ["comune.fiesole.fi.it", "comune.fi.it"]}),
    );
    taken.problem(422);
    assert_eq!(
        taken.problem_fields(),
        ["mail_domains[1]"],
        "{}",
        taken.body
    );
    assert!(taken.body.contains("FI"), "{}", taken.body);
    let listed = app.get("/agencies", &app.admin).json();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "nothing stored"
    );

    let fiesole = app.post(
        "/agencies",
        &app.admin,
        &json!({"code": "FS", "name": "Comune di Fiesole", "mail_domains": ["comune.fiesole.fi.it"]}),
    );
    assert_eq!(fiesole.status, 201, "{}", fiesole.body);
    let fiesole_id = fiesole.json()["id"].as_str().unwrap().to_owned();
    // Firenze lets go of a domain; Fiesole may then take it.
    let changed = app.patch(
        &format!("/agencies/{id}"),
        &app.admin,
        &json!({"mail_domains": ["comune.fi.it"]}),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["version"], 2);
    let moved = app.patch(
        &format!("/agencies/{fiesole_id}"),
        &app.admin,
        &json!({"mail_domains": ["comune.fiesole.fi.it", "pec.comune.fi.it"]}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    let same = app.patch(
        &format!("/agencies/{fiesole_id}"),
        &app.admin,
        &json!({"mail_domains": ["pec.comune.fi.it", "comune.fiesole.fi.it"]}),
    );
    assert_eq!(
        same.json()["version"],
        2,
        "the same domains in another order change nothing"
    );
    let cleared = app.patch(
        &format!("/agencies/{id}"),
        &app.admin,
        &json!({"mail_domains": null}),
    );
    assert_eq!(cleared.json()["mail_domains"], json!([]));
}

#[test]
fn a_mail_domain_that_is_no_domain_is_refused_by_name() {
    let app = spawn_app();
    for (domains, field) in [
        (json!(["comune"]), "mail_domains[0]"),
        (json!(["ok.it", "@comune.fi.it"]), "mail_domains[1]"),
        (json!(["ok.it", "OK.it"]), "mail_domains[1]"),
        (json!(["-x.it"]), "mail_domains[0]"),
        (
            json!((0..21).map(|i| format!("c{i}.it")).collect::<Vec<_>>()),
            "mail_domains",
        ),
    ] {
        let reply = app.post(
            "/agencies",
            &app.admin,
            &json!({"code": "FI", "name": "Comune di Firenze", "mail_domains": domains}),
        );
        reply.problem(422);
        assert_eq!(reply.problem_fields(), [field], "{domains}: {}", reply.body);
    }
}
