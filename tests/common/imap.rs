//! A real IMAP server on 127.0.0.1 for the tests: `../shared/tools/imap-server` (a private
//! Dovecot, Maildir storage, one login), and a small client to put mail in as a sender's
//! server would (APPEND with an INTERNALDATE), re-create the mailbox, and read the flags.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Servers start one at a time (the first start may fix folder permissions).
static STARTING: Mutex<()> = Mutex::new(());

pub const USER: &str = "desk";
pub const PASSWORD: &str = "pw";

/// A running Dovecot; stopped when dropped.
pub struct ImapServer {
    pub port: u16,
    dir: tempfile::TempDir,
    pid: Option<u32>,
}

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/imap-server")
}

impl ImapServer {
    /// Starts a server on a free port; panics (failing the test) if it cannot.
    pub fn start() -> ImapServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = ImapServer {
            port: super::smtp::free_port(),
            dir,
            pid: None,
        };
        server.run();
        server
    }

    fn run(&mut self) {
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        let output = Command::new(script())
            .args(["-b", "-u", USER, "-w", PASSWORD, &self.port.to_string()])
            .arg(self.dir.path().join("imap"))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script().display()));
        assert!(
            output.status.success(),
            "imap-server did not start: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        self.pid = std::fs::read_to_string(self.dir.path().join("imap.pid"))
            .ok()
            .and_then(|pid| pid.trim().parse().ok());
    }

    /// Stops the server (the mail stays); `start_again` brings it back on the same port.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            super::smtp::wait_until(std::time::Duration::from_secs(10), || {
                std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
            });
        }
    }

    pub fn start_again(&mut self) {
        self.run();
    }

    /// `imap://desk:pw@127.0.0.1:PORT/MAILBOX` for `imap_url`.
    pub fn url(&self, mailbox: &str) -> String {
        format!("imap://{USER}:{PASSWORD}@127.0.0.1:{}/{mailbox}", self.port)
    }

    fn session(&self) -> imap::Session<imap::Connection> {
        imap::ClientBuilder::new("127.0.0.1", self.port)
            .mode(imap::ConnectionMode::Plaintext)
            .connect()
            .expect("connect to the IMAP server")
            .login(USER, PASSWORD)
            .map_err(|(e, _)| e)
            .expect("log in")
    }

    /// Appends `raw` to `mailbox` with INTERNALDATE `at` (RFC 3339).
    pub fn append(&self, mailbox: &str, raw: &[u8], at: &str) {
        let at = chrono::DateTime::parse_from_rfc3339(at).expect("an RFC 3339 instant");
        let mut session = self.session();
        session
            .append(mailbox, raw)
            .internal_date(at)
            .finish()
            .expect("APPEND");
        let _ = session.logout();
    }

    /// Creates `mailbox`.
    pub fn create(&self, mailbox: &str) {
        let mut session = self.session();
        session.create(mailbox).expect("CREATE");
        let _ = session.logout();
    }

    /// Deletes `name` and re-creates it with `messages`, as a server migration would: a new
    /// UIDVALIDITY, and no flags.
    pub fn recreate_mailbox(&self, name: &str, messages: &[(Vec<u8>, &str)]) {
        let mut session = self.session();
        session.delete(name).expect("DELETE");
        session.create(name).expect("CREATE");
        let _ = session.logout();
        for (raw, at) in messages {
            let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
            let mut session = self.session();
            session
                .append(name, raw)
                .internal_date(at)
                .finish()
                .unwrap();
        }
    }

    /// How many of `mailbox`'s messages the helpdesk flagged (`\Seen` and its keyword), and
    /// how many there are.
    pub fn flagged(&self, mailbox: &str) -> (usize, usize) {
        let mut session = self.session();
        let selected = session.select(mailbox).expect("SELECT");
        let flagged = session
            .uid_search("SEEN KEYWORD HelpdeskIngested")
            .expect("SEARCH")
            .len();
        let _ = session.logout();
        (flagged, selected.exists as usize)
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `helpdesk serve` as a process of its own, polling `imap_url` for the database at `url`,
/// with `env` besides; its log (warnings) goes to `dir/serve.log`.
pub fn serve_process(
    url: &str,
    imap_url: &str,
    dir: &Path,
    env: &[(&str, &str)],
) -> std::process::Child {
    let bind = format!("127.0.0.1:{}", super::smtp::free_port());
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .arg("serve")
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env_remove("HELPDESK_DATABASE_URL")
        .env_remove("HELPDESK_CONFIG")
        .env("HELPDESK_BIND", bind)
        .env("HELPDESK_OUTBOX_DIR", dir.join("outbox"))
        .env("HELPDESK_IMAP_URL", imap_url)
        .env("HELPDESK_IMAP_POLL_INTERVAL_SECONDS", "1")
        .env("HELPDESK_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the binary runs")
}
