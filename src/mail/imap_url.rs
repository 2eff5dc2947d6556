//! The mailboxes to poll, from `imap_url` (the convention of `smtp_url`):
//! `imaps://user:password@host:993/INBOX` TLS from the first byte, `imap://…?tls=required`
//! STARTTLS, plain `imap://` only for a server on the same host. Pure.

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapSecurity {
    Tls,
    StartTls,
    /// Plain text: accepted only for a loopback host.
    Plain,
}

/// One mailbox to poll.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapMailbox {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub mailbox: String,
    pub security: ImapSecurity,
    /// The address mail to this mailbox is sent to (`?address=`, or the user when it is an
    /// address): the `Reply-To` of replies to the tickets it brings.
    pub address: Option<String>,
}

impl std::fmt::Debug for ImapMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

impl ImapMailbox {
    /// `user@host:port/MAILBOX`: how the poller's state and the messages' `source` name it
    /// (never with the password).
    pub fn key(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.mailbox)
    }
}

/// Every mailbox of `urls` (comma-separated); empty for none.
pub fn parse_mailboxes(urls: &str) -> anyhow::Result<Vec<ImapMailbox>> {
    urls.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .enumerate()
        .map(|(index, text)| {
            parse_mailbox(text).map_err(|e| anyhow::anyhow!("imap_url, mailbox {}: {e}", index + 1))
        })
        .collect()
}

fn parse_mailbox(text: &str) -> anyhow::Result<ImapMailbox> {
    // The URL's own error may quote it, password included: say what is wrong instead.
    let url = url::Url::parse(text).map_err(|_| anyhow::anyhow!("not a URL"))?;
    let tls_required = url
        .query_pairs()
        .any(|(key, value)| key == "tls" && value == "required");
    let given_address = url
        .query_pairs()
        .find(|(key, _)| key == "address")
        .map(|(_, value)| value.trim().to_owned());
    let security = match (url.scheme(), tls_required) {
        ("imaps", _) => ImapSecurity::Tls,
        ("imap", true) => ImapSecurity::StartTls,
        ("imap", false) => ImapSecurity::Plain,
        (other, _) => anyhow::bail!("must start with imap:// or imaps://, not {other}://"),
    };
    let host = url
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("names no host"))?
        .trim_matches(['[', ']'])
        .to_owned();
    if security == ImapSecurity::Plain && !is_loopback(&host) {
        anyhow::bail!(
            "plain imap:// sends the password in clear: use imaps:// or ?tls=required for {host}"
        );
    }
    let decode = |s: &str| {
        percent_decode(s).map_err(|_| anyhow::anyhow!("the user or password is badly encoded"))
    };
    let user = decode(url.username())?;
    anyhow::ensure!(!user.is_empty(), "names no user");
    let password = decode(url.password().unwrap_or_default())?;
    let mailbox = decode(url.path().trim_start_matches('/'))?;
    let address = match given_address {
        Some(given) => Some(
            mail_address(&given)
                .ok_or_else(|| anyhow::anyhow!("?address= is not an e-mail address: {given}"))?,
        ),
        None => mail_address(&user),
    };
    Ok(ImapMailbox {
        address,
        port: url.port().unwrap_or(match security {
            ImapSecurity::Tls => 993,
            _ => 143,
        }),
        host,
        user,
        password,
        mailbox: if mailbox.is_empty() {
            "INBOX".into()
        } else {
            mailbox
        },
        security,
    })
}

/// `text` as an address with its domain in lowercase, if it is one.
fn mail_address(text: &str) -> Option<String> {
    let address: lettre::Address = text.parse().ok()?;
    Some(format!(
        "{}@{}",
        address.user(),
        address.domain().to_ascii_lowercase()
    ))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn percent_decode(text: &str) -> Result<String, ()> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_of_the_url_names_its_security_and_mailbox() {
        let boxes = parse_mailboxes(
            "imaps://desk%40cst:p%2Fw@mail.example.org/INBOX, \
             imap://u:p@mail.example.org:143/Assistenza?tls=required, imap://u:p@127.0.0.1:10143",
        )
        .unwrap();
        assert_eq!(boxes[0].security, ImapSecurity::Tls);
        assert_eq!(boxes[0].port, 993);
        assert_eq!(boxes[0].user, "desk@cst");
        assert_eq!(boxes[0].password, "p/w");
        assert_eq!(boxes[1].security, ImapSecurity::StartTls);
        assert_eq!(boxes[1].mailbox, "Assistenza");
        assert_eq!(boxes[2].security, ImapSecurity::Plain);
        assert_eq!(boxes[2].mailbox, "INBOX");
        assert_eq!(boxes[2].key(), "u@127.0.0.1:10143/INBOX");
        assert!(!format!("{:?}", boxes[0]).contains("p/w"));
    }

    #[test]
    fn the_mailbox_address_is_given_or_the_user_when_it_is_one() {
        let boxes = parse_mailboxes(
            "imaps://desk%40CST.Example.org:p@mail.example.org/INBOX, \
             imaps://u:p@mail.example.org/INBOX?address=Assistenza%40Example.ORG, \
             imaps://u:p@mail.example.org/INBOX",
        )
        .unwrap();
        assert_eq!(boxes[0].address.as_deref(), Some("desk@cst.example.org"));
        assert_eq!(boxes[1].address.as_deref(), Some("Assistenza@example.org"));
        assert_eq!(boxes[2].address, None);
        let error =
            parse_mailboxes("imaps://u:s3cret@h.example.org/INBOX?address=nobody").unwrap_err();
        assert!(error.to_string().contains("address"), "{error}");
        assert!(!error.to_string().contains("s3cret"));
    }

    #[test]
    fn plain_text_to_another_host_is_refused_without_echoing_the_password() {
        let error = parse_mailboxes("imap://u:s3cret@mail.example.org/INBOX").unwrap_err();
        assert!(error.to_string().contains("imaps://"), "{error}");
        assert!(!error.to_string().contains("s3cret"));
        assert!(parse_mailboxes("pop3://u:p@h/x").is_err());
        assert!(parse_mailboxes("").unwrap().is_empty());
    }
}
