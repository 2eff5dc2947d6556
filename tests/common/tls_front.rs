//! A TLS front for the test Dovecot (which speaks plain IMAP only): a certificate made with
//! the `openssl` command for 127.0.0.1, and a listener that either speaks TLS from the first
//! byte (`imaps://`) or answers the greeting and STARTTLS itself (`?tls=required`) before the
//! handshake, then relays the bytes to Dovecot. A process that trusts the certificate
//! (`SSL_CERT_FILE`) reads the mailbox through it exactly as through a real TLS server.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the front begins a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Tls,
    StartTls,
}

/// A running front; its certificate is `cert`.
pub struct TlsFront {
    pub port: u16,
    pub cert: PathBuf,
    _dir: tempfile::TempDir,
}

/// A self-signed certificate for 127.0.0.1 in `dir`: (certificate, key), PEM.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    (cert, key)
}

impl TlsFront {
    /// Listens on a free port in front of the plain IMAP server on `backend_port`.
    pub fn start(backend_port: u16, mode: Mode) -> TlsFront {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = certificate(dir.path());
        let identity = native_tls::Identity::from_pkcs8(
            &std::fs::read(&cert).unwrap(),
            &std::fs::read(&key).unwrap(),
        )
        .expect("the test certificate");
        let acceptor = native_tls::TlsAcceptor::new(identity).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let acceptor = acceptor.clone();
                std::thread::spawn(move || relay(client, backend_port, mode, &acceptor));
            }
        });
        TlsFront {
            port,
            cert,
            _dir: dir,
        }
    }
}

fn relay(client: TcpStream, backend_port: u16, mode: Mode, acceptor: &native_tls::TlsAcceptor) {
    let Ok(backend) = TcpStream::connect(("127.0.0.1", backend_port)) else {
        return;
    };
    let mut backend_reader = BufReader::new(backend.try_clone().unwrap());
    let mut client = client;
    if mode == Mode::StartTls {
        // Dovecot's greeting goes to the client in clear; the client's STARTTLS is answered
        // here (Dovecot offers none), and Dovecot never sees it.
        let mut greeting = String::new();
        backend_reader.read_line(&mut greeting).unwrap();
        client.write_all(greeting.as_bytes()).unwrap();
        let mut asked = String::new();
        BufReader::with_capacity(1, client.try_clone().unwrap())
            .read_line(&mut asked)
            .unwrap();
        let tag = asked.split_whitespace().next().unwrap_or("*").to_owned();
        client
            .write_all(format!("{tag} OK Begin TLS negotiation now\r\n").as_bytes())
            .unwrap();
    }
    let Ok(mut tls) = acceptor.accept(client) else {
        return;
    };
    let step = Some(Duration::from_millis(5));
    tls.get_ref().set_read_timeout(step).unwrap();
    backend.set_read_timeout(step).unwrap();
    let mut backend = backend_reader;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match tls.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                if backend.get_mut().write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
        match backend.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => {
                if tls.write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}
