//! Opening an IMAP session with time limits. The imap crate's `ClientBuilder` connects
//! without a timeout and leaves the socket without one, so a server that accepts and then
//! stops answering would hold the poller for ever; here the socket is opened, and every read
//! and write on it limited, before the crate takes it over.

use super::imap_url::{ImapMailbox, ImapSecurity};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A logged-in session.
pub type Session = imap::Session<imap::Connection>;

/// Connects to `mailbox`'s server as its URL says (TLS, STARTTLS or plain) and logs in; each
/// connection attempt, read and write waits at most `timeout`.
pub fn open_session(mailbox: &ImapMailbox, timeout: Duration) -> anyhow::Result<Session> {
    let tcp = connect_tcp(&mailbox.host, mailbox.port, timeout)?;
    let stream: imap::Connection = match mailbox.security {
        ImapSecurity::Plain => Box::new(tcp),
        ImapSecurity::Tls => Box::new(tls(&mailbox.host, tcp)?),
        ImapSecurity::StartTls => Box::new(tls(&mailbox.host, start_tls(tcp)?)?),
    };
    let mut client = imap::Client::new(stream);
    match mailbox.security {
        // STARTTLS read the greeting before the handshake: none follows it.
        ImapSecurity::StartTls => client.greeting_read = true,
        _ => {
            client.read_greeting()?;
        }
    }
    client
        .login(&mailbox.user, &mailbox.password)
        .map_err(|(error, _)| anyhow::anyhow!("login as {}: {error}", mailbox.user))
}

fn connect_tcp(host: &str, port: u16, timeout: Duration) -> anyhow::Result<TcpStream> {
    let mut last_error = None;
    for address in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(timeout))?;
                tcp.set_write_timeout(Some(timeout))?;
                return Ok(tcp);
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(match last_error {
        Some(error) => anyhow::anyhow!("cannot connect to {host}:{port}: {error}"),
        None => anyhow::anyhow!("{host} has no address"),
    })
}

fn tls(host: &str, tcp: TcpStream) -> anyhow::Result<native_tls::TlsStream<TcpStream>> {
    let connector = native_tls::TlsConnector::new()?;
    connector
        .connect(host, tcp)
        .map_err(|error| anyhow::anyhow!("TLS with {host}: {error}"))
}

/// Reads the greeting and asks for STARTTLS (RFC 3501 §6.2.1) on the plain socket; returns it
/// ready for the TLS handshake. A server that refuses is an error: the URL asked for TLS.
fn start_tls(tcp: TcpStream) -> anyhow::Result<TcpStream> {
    const TAG: &str = "starttls1";
    // Byte by byte (no read-ahead past the server's answer), so that no TLS byte is taken.
    let mut reader = BufReader::with_capacity(1, tcp.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    anyhow::ensure!(
        line.starts_with("* OK"),
        "the server's greeting is not OK: {}",
        line.trim()
    );
    let mut writer = tcp.try_clone()?;
    writer.write_all(format!("{TAG} STARTTLS\r\n").as_bytes())?;
    loop {
        line.clear();
        anyhow::ensure!(
            reader.read_line(&mut line)? > 0,
            "the server closed the connection at STARTTLS"
        );
        if let Some(answer) = line.strip_prefix(TAG) {
            anyhow::ensure!(
                answer.trim_start().starts_with("OK"),
                "the server refused STARTTLS: {}",
                answer.trim()
            );
            return Ok(tcp);
        }
    }
}
