//! How a composed message leaves: an SMTP server (`smtp_url`), or, without one, an `.eml`
//! file per message in `outbox_dir`, so that nothing is lost and a newcomer sees what would
//! be sent.

use crate::config::Settings;
use lettre::address::Envelope;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, SmtpTransport, Transport};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a delivery failed; a permanent failure (the server refused the message or a
/// recipient for good) is not retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

impl SendError {
    fn transient(message: impl Into<String>) -> SendError {
        SendError {
            message: message.into(),
            permanent: false,
        }
    }
}

/// Where messages go.
pub enum Mailer {
    Smtp {
        transport: SmtpTransport,
        /// Host, port and security, never the password: for logs.
        description: String,
    },
    Folder(PathBuf),
}

impl Mailer {
    /// SMTP when `smtp_url` is set, otherwise the outbox folder.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let url = settings.smtp_url.expose().trim();
        if url.is_empty() {
            return Ok(Mailer::Folder(PathBuf::from(&settings.outbox_dir)));
        }
        let description = describe_url(url)?;
        let domain = settings
            .mail_from
            .parse::<lettre::message::Mailbox>()
            .map(|m| m.email.domain().to_owned())
            .unwrap_or_else(|_| "localhost".into());
        let transport = SmtpTransport::from_url(url)
            // lettre's error may quote the URL, password included: say what is wrong instead.
            .map_err(|_| anyhow::anyhow!("smtp_url is not an SMTP URL ({description})"))?
            .timeout(Some(Duration::from_secs(settings.smtp_timeout_seconds)))
            .hello_name(ClientId::Domain(domain))
            .build();
        Ok(Mailer::Smtp {
            transport,
            description,
        })
    }

    /// Where messages go, for logs (no secrets).
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { description, .. } => description.clone(),
            Mailer::Folder(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Delivers one message. Sending the same `outbox_id` again to the folder replaces the
    /// file; through SMTP the receiver sees the same `Message-ID`.
    pub fn send(
        &self,
        outbox_id: &str,
        sender: &str,
        recipients: &[String],
        message: &str,
    ) -> Result<(), SendError> {
        match self {
            Mailer::Smtp { transport, .. } => {
                let envelope = envelope(sender, recipients)?;
                transport
                    .send_raw(&envelope, message.as_bytes())
                    .map(|_| ())
                    .map_err(|e| SendError {
                        message: e.to_string(),
                        permanent: e.is_permanent(),
                    })
            }
            Mailer::Folder(dir) => write_eml(dir, outbox_id, message)
                .map_err(|e| SendError::transient(format!("{}: {e}", dir.display()))),
        }
    }
}

fn envelope(sender: &str, recipients: &[String]) -> Result<Envelope, SendError> {
    let permanent = |message: String| SendError {
        message,
        permanent: true,
    };
    let from: Address = sender
        .parse()
        .map_err(|e| permanent(format!("sender `{sender}`: {e}")))?;
    let to = recipients
        .iter()
        .map(|r| {
            r.parse::<Address>()
                .map_err(|e| permanent(format!("recipient `{r}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(from), to).map_err(|e| permanent(e.to_string()))
}

/// Writes `<id>.eml` whole or not at all (a temporary file renamed into place), synced.
fn write_eml(dir: &Path, outbox_id: &str, message: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{outbox_id}.eml.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(message.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(format!("{outbox_id}.eml")))
}

/// `smtp://host:port (STARTTLS)`, without user or password.
fn describe_url(url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("smtp_url must start with smtp:// or smtps://"))?;
    anyhow::ensure!(
        matches!(scheme, "smtp" | "smtps"),
        "smtp_url must start with smtp:// or smtps://, not {scheme}://"
    );
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host.trim_end_matches('/');
    let security = if scheme == "smtps" {
        "TLS"
    } else if query.contains("tls=required") {
        "STARTTLS"
    } else if query.contains("tls=opportunistic") {
        "STARTTLS when offered"
    } else {
        "plain"
    };
    let login = if authority.contains('@') {
        ", with login"
    } else {
        ""
    };
    Ok(format!("SMTP {scheme}://{host} ({security}{login})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_never_shows_the_password() {
        let described = describe_url("smtps://helpdesk:s3cret@mail.example.org:465").unwrap();
        assert_eq!(
            described,
            "SMTP smtps://mail.example.org:465 (TLS, with login)"
        );
        assert!(!described.contains("s3cret"));
        assert_eq!(
            describe_url("smtp://127.0.0.1:2525?tls=required").unwrap(),
            "SMTP smtp://127.0.0.1:2525 (STARTTLS)"
        );
        assert!(describe_url("http://example.org").is_err());
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let settings = Settings {
            smtp_url: crate::config::Secret("smtp://user:pw@".into()),
            ..Settings::default()
        };
        if let Err(error) = Mailer::from_settings(&settings) {
            assert!(!error.to_string().contains("pw"), "{error}");
        }
    }

    #[test]
    fn the_folder_gets_one_file_per_message_replaced_on_a_retry() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::Folder(dir.path().to_owned());
        let recipients = vec!["a@example.org".to_owned()];
        mailer
            .send("one", "h@example.org", &recipients, "first")
            .unwrap();
        mailer
            .send("one", "h@example.org", &recipients, "again")
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("one.eml")).unwrap(),
            "again"
        );
    }
}
