//! A real OpenID provider on 127.0.0.1 for the tests: `tests/oidc/provider.mjs`
//! (oauth2-mock-server under Node.js), driven by one JSON command per line on its stdin.
//! The first start installs its npm packages (`npm ci`); without Node.js or npm the tests
//! fail, they are never skipped.

use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The first start installs the npm packages: one install per test binary at a time (and a
/// lock on package.json between binaries).
static INSTALLING: Mutex<()> = Mutex::new(());

const READY_TIMEOUT: Duration = Duration::from_secs(20);
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running provider; stopped when dropped.
pub struct OidcProvider {
    issuer: String,
    port: u16,
    child: Child,
    channel: Mutex<(ChildStdin, Receiver<String>)>,
    stderr: Arc<Mutex<String>>,
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

enum StartError {
    PortTaken,
}

impl OidcProvider {
    /// Starts a provider on a free port (another one if that is taken before it binds).
    pub fn start() -> OidcProvider {
        for _ in 0..5 {
            match OidcProvider::try_start(super::smtp::free_port()) {
                Ok(provider) => return provider,
                Err(StartError::PortTaken) => continue,
            }
        }
        panic!("the OpenID provider found no free port in five tries");
    }

    /// Starts a provider on `port` (e.g. again on a stopped one's port).
    pub fn start_on(port: u16) -> OidcProvider {
        match OidcProvider::try_start(port) {
            Ok(provider) => provider,
            Err(StartError::PortTaken) => panic!("port {port} is taken"),
        }
    }

    fn try_start(port: u16) -> Result<OidcProvider, StartError> {
        ensure_node_modules();
        let dir = provider_dir();
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(port.to_string())
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node (Node.js >= 20.19 is needed): {e}"));
        let stdin = child.stdin.take().expect("piped stdin");
        let (lines, replies) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let collected = stderr.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]);
                collected.lock().unwrap().push_str(&text);
            }
        });
        let first = replies.recv_timeout(READY_TIMEOUT);
        let issuer = match first.as_deref().map(|line| line.split_once(' ')) {
            Ok(Some(("READY", issuer))) => issuer.to_owned(),
            Ok(Some(("ERROR", reason))) if reason.starts_with("EADDRINUSE") => {
                let _ = child.wait();
                return Err(StartError::PortTaken);
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the OpenID provider did not start ({first:?}); stderr: {}",
                    stderr.lock().unwrap()
                );
            }
        };
        Ok(OidcProvider {
            issuer,
            port,
            child,
            channel: Mutex::new((stdin, replies)),
            stderr,
        })
    }

    /// `http://127.0.0.1:PORT`, as its discovery document names it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends one command (see provider.mjs) and returns its answer; panics on an error.
    pub fn command(&self, command: Value) -> Value {
        let mut channel = self.channel.lock().unwrap_or_else(|p| p.into_inner());
        let (stdin, replies) = &mut *channel;
        writeln!(stdin, "{command}").expect("the provider reads its commands");
        stdin.flush().expect("the provider reads its commands");
        let reply = match replies.recv_timeout(REPLY_TIMEOUT) {
            Ok(reply) => reply,
            Err(RecvTimeoutError::Timeout) => panic!("the provider did not answer {command}"),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "the provider stopped; stderr: {}",
                self.stderr.lock().unwrap()
            ),
        };
        let reply: Value = serde_json::from_str(&reply)
            .unwrap_or_else(|e| panic!("the provider answered no JSON ({e}): {reply}"));
        if let Some(error) = reply.get("error") {
            panic!("the provider refused {command}: {error}");
        }
        reply
    }

    /// A token signed by the current key: `claims` over the defaults (iss, aud "helpdesk",
    /// sub "alice", iat, nbf, exp = now + `expires_in`); a null claim is removed.
    pub fn token(&self, claims: Value, expires_in: i64) -> String {
        self.token_with(json!({"claims": claims, "expires_in": expires_in}))
    }

    /// A token signed by key `kid` (published or not).
    pub fn token_signed_by(&self, kid: &str, claims: Value, expires_in: i64) -> String {
        self.token_with(json!({"kid": kid, "claims": claims, "expires_in": expires_in}))
    }

    /// A token from a `token` command with any options (`kid`, `header`, …).
    pub fn token_with(&self, mut options: Value) -> String {
        options["cmd"] = json!("token");
        string_field(&self.command(options), "token")
    }

    /// A token signed by a new key the provider holds but does not publish; (token, kid).
    pub fn token_with_unpublished_key(&self, claims: Value, expires_in: i64) -> (String, String) {
        let reply = self.command(json!({
            "cmd": "token_with_unpublished_key", "claims": claims, "expires_in": expires_in,
        }));
        (string_field(&reply, "token"), string_field(&reply, "kid"))
    }

    /// A new key (RS256, ES256, EdDSA, …), held but not published; its kid.
    pub fn new_key(&self, alg: &str) -> String {
        string_field(&self.command(json!({"cmd": "new_key", "alg": alg})), "kid")
    }

    /// Publishes a new RS256 key and signs with it from now on; with `drop_old` the other
    /// keys leave the key set. Returns the new kid.
    pub fn rotate(&self, drop_old: bool) -> String {
        string_field(
            &self.command(json!({"cmd": "rotate", "drop_old": drop_old})),
            "kid",
        )
    }

    /// Like `rotate`, to key `kid` (from `new_key` or `token_with_unpublished_key`).
    pub fn rotate_to(&self, kid: &str, drop_old: bool) -> String {
        string_field(
            &self.command(json!({"cmd": "rotate", "kid": kid, "drop_old": drop_old})),
            "kid",
        )
    }

    /// The published key set.
    pub fn jwks(&self) -> Value {
        self.command(json!({"cmd": "jwks"}))
    }

    /// How many times the key set was fetched over HTTP.
    pub fn jwks_requests(&self) -> u64 {
        self.command(json!({"cmd": "stats"}))["jwks_requests"]
            .as_u64()
            .expect("a count")
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn string_field(reply: &Value, name: &str) -> String {
    reply[name]
        .as_str()
        .unwrap_or_else(|| panic!("no `{name}` in {reply}"))
        .to_owned()
}

/// Installs the provider's npm packages unless `node_modules` is current with
/// package-lock.json; panics (failing the test) without Node.js or npm.
fn ensure_node_modules() {
    let _one_install = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    let dir = provider_dir();
    let lock = File::open(dir.join("package.json")).expect("tests/oidc/package.json");
    lock.lock().expect("a lock on tests/oidc/package.json");
    if node_modules_current(&dir) {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm (Node.js and npm are needed): {e}"));
    assert!(
        output.status.success(),
        "npm ci in tests/oidc failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// npm records each install in node_modules/.package-lock.json.
fn node_modules_current(dir: &Path) -> bool {
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (
        modified(dir.join("node_modules/.package-lock.json")),
        modified(dir.join("package-lock.json")),
    ) {
        (Some(installed), Some(locked)) => installed >= locked,
        _ => false,
    }
}
