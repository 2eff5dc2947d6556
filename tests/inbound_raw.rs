//! The raw messages live apart from their status rows (migration 000026): messages stored
//! before the move keep their bytes, and an admin's retry still reads them.

mod common;

use common::{spawn_app_with, test_settings};

#[test]
fn a_message_quarantined_before_the_raw_moved_apart_is_read_again_on_retry() {
    let app = spawn_app_with(test_settings());
    let gate = app.mailgate_token();
    let raw = b"Subject: senza mittente\r\nMessage-ID: <raw-1@x.org>\r\n\r\nchi sono?\r\n";
    let stored = app.post_mail(&gate, raw);
    assert_eq!(stored.status, 202, "{}", stored.body);
    let stored = stored.json();
    assert_eq!(stored["status"], "quarantined");
    let id = stored["id"].as_str().unwrap().to_owned();

    app.rerun_migrations(&["2026-12-07-000026_inbound_raw_apart"]);

    let retried = app.post(
        &format!("/inbound/quarantine/{id}/retry"),
        &app.admin,
        &serde_json::json!({}),
    );
    assert_eq!(retried.status, 202, "{}", retried.body);
    let retried = retried.json();
    assert_eq!(retried["size"], raw.len());
    assert!(
        retried["reason"].as_str().unwrap().contains("From"),
        "the bytes were read and judged again: {retried}"
    );
    // Received again after the move: recognised, nothing doubles.
    assert_eq!(app.post_mail(&gate, raw).json()["outcome"], "quarantined");
    let page = app.get("/inbound/quarantine", &app.admin).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}
