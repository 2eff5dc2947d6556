//! The mailbox poller over TLS (`imaps://`) and STARTTLS (`imap://…?tls=required`), through a
//! TLS front on 127.0.0.1 before the test Dovecot, with a certificate the service is told to
//! trust (`SSL_CERT_FILE`); a certificate it does not trust is refused, and nothing is read.

mod common;

use common::imap::{ImapServer, PASSWORD, USER, serve_process};
use common::mail_in::message;
use common::smtp::wait_until;
use common::tls_front::{Mode, TlsFront};
use common::{spawn_app_with, test_settings};
use std::time::Duration;

fn url(mode: Mode, port: u16) -> String {
    match mode {
        Mode::Tls => format!("imaps://{USER}:{PASSWORD}@127.0.0.1:{port}/INBOX"),
        Mode::StartTls => format!("imap://{USER}:{PASSWORD}@127.0.0.1:{port}/INBOX?tls=required"),
    }
}

#[test]
fn the_poller_reads_a_mailbox_over_tls_and_over_starttls() {
    for mode in [Mode::Tls, Mode::StartTls] {
        let server = ImapServer::start();
        server.append(
            "INBOX",
            &message("a@example.org", &format!("{mode:?}"), &[], "cifrato"),
            "2016-06-23T09:00:00+02:00",
        );
        let front = TlsFront::start(server.port, mode);
        let app = spawn_app_with(test_settings());
        let dir = tempfile::tempdir().unwrap();
        let cert = front.cert.to_str().unwrap().to_owned();
        let mut service = serve_process(
            &app.database_url,
            &url(mode, front.port),
            dir.path(),
            &[("SSL_CERT_FILE", &cert)],
        );
        wait_until(Duration::from_secs(60), || {
            server.flagged("INBOX") == (1, 1)
        });
        service.kill().unwrap();
        service.wait().unwrap();
        let tickets = app.get("/tickets", &app.admin).json();
        assert_eq!(
            tickets["items"][0]["subject"],
            format!("{mode:?}"),
            "{mode:?}"
        );
    }
}

#[test]
fn a_certificate_the_service_does_not_trust_is_refused_and_nothing_is_read() {
    let server = ImapServer::start();
    server.append(
        "INBOX",
        &message("a@example.org", "non fidato", &[], "x"),
        "2016-06-23T09:00:00+02:00",
    );
    let front = TlsFront::start(server.port, Mode::Tls);
    let app = spawn_app_with(test_settings());
    let dir = tempfile::tempdir().unwrap();
    // An empty trust store: the front's certificate is unknown.
    let empty = dir.path().join("none.pem");
    std::fs::write(&empty, "").unwrap();
    let mut service = serve_process(
        &app.database_url,
        &url(Mode::Tls, front.port),
        dir.path(),
        &[("SSL_CERT_FILE", empty.to_str().unwrap())],
    );
    let log = dir.path().join("serve.log");
    wait_until(Duration::from_secs(60), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("mailbox poll failed"))
    });
    service.kill().unwrap();
    service.wait().unwrap();
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("TLS"), "{said}");
    assert!(
        !said.contains(PASSWORD),
        "the password stays out of the log"
    );
    assert_eq!(server.flagged("INBOX"), (0, 1), "nothing was read");
}
