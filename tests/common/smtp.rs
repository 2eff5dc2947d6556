//! A real SMTP server on 127.0.0.1 for the tests: `../shared/tools/smtp-sink` (aiosmtpd),
//! which stores every message it accepts in a maildir, read back here.

use mail_parser::MimeHeaders;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Servers start one at a time: the first start may install aiosmtpd into a shared venv.
static STARTING: Mutex<()> = Mutex::new(());

/// A running SMTP capture server; stopped when dropped.
pub struct SmtpSink {
    pub port: u16,
    maildir: PathBuf,
    pid: Option<u32>,
    _dir: tempfile::TempDir,
}

/// A free port on 127.0.0.1 (nothing listens there once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn sink_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/smtp-sink")
}

impl SmtpSink {
    /// Starts a server on a free port.
    pub fn start() -> SmtpSink {
        SmtpSink::start_on(free_port())
    }

    /// Starts a server on `port`; panics (failing the test) if it cannot.
    pub fn start_on(port: u16) -> SmtpSink {
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("mail");
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        let output = Command::new(sink_script())
            .arg("-b")
            .arg(port.to_string())
            .arg(&maildir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", sink_script().display()));
        assert!(
            output.status.success(),
            "smtp-sink did not start: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let pid = std::fs::read_to_string(dir.path().join("mail.pid"))
            .ok()
            .and_then(|pid| pid.trim().parse().ok());
        SmtpSink {
            port,
            maildir,
            pid,
            _dir: dir,
        }
    }

    /// `smtp://127.0.0.1:PORT` for `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else {
                continue;
            };
            for entry in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    messages.push(text);
                }
            }
        }
        messages
    }

    /// Waits (up to a minute) until at least `count` messages arrived, then returns them all.
    pub fn wait_for(&self, count: usize) -> Vec<String> {
        wait_until(Duration::from_secs(60), || self.messages().len() >= count);
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// Polls `done` until it holds or `limit` passes (then panics). For waiting on another
/// process (the SMTP server, the app's worker thread), never for the app's own clock.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "gave up waiting after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A received message, parsed.
pub struct Received {
    pub subject: String,
    pub message_id: String,
    /// `X-RcptTo` as the server recorded the envelope.
    pub envelope_to: Vec<String>,
    pub to: Vec<String>,
    pub text: String,
    pub html: String,
    /// (file name, content) of each attachment.
    pub attachments: Vec<(String, Vec<u8>)>,
    /// The addresses of `Cc`.
    pub cc: Vec<String>,
    /// The address of `Reply-To`.
    pub reply_to: Option<String>,
    /// `In-Reply-To`, `<id@domain>`.
    pub in_reply_to: Option<String>,
    /// `References`, each `<id@domain>`, in order.
    pub references: Vec<String>,
    /// The content type of the top part (`multipart/alternative`, …).
    pub content_type: String,
}

pub fn parse(raw: &str) -> Received {
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a parsable message");
    let header_text = |name: &str| {
        message
            .header_raw(name)
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    let addresses = |list: Option<&mail_parser::Address>| -> Vec<String> {
        list.map(|addresses| {
            addresses
                .iter()
                .filter_map(|a| a.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    let to = addresses(message.to());
    let ids = |value: &mail_parser::HeaderValue| -> Vec<String> {
        value
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|id| format!("<{id}>"))
            .collect()
    };
    Received {
        subject: message.subject().unwrap_or_default().to_owned(),
        message_id: message.message_id().unwrap_or_default().to_owned(),
        envelope_to: header_text("X-RcptTo")
            .split(',')
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect(),
        to,
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        attachments: message
            .attachments()
            .map(|part| {
                (
                    part.attachment_name().unwrap_or_default().to_owned(),
                    part.contents().to_vec(),
                )
            })
            .collect(),
        cc: addresses(message.cc()),
        reply_to: addresses(message.reply_to()).into_iter().next(),
        in_reply_to: ids(message.in_reply_to()).into_iter().next(),
        references: ids(message.references()),
        content_type: message
            .content_type()
            .map(|ct| match &ct.c_subtype {
                Some(sub) => format!("{}/{sub}", ct.c_type),
                None => ct.c_type.to_string(),
            })
            .unwrap_or_default(),
    }
}
