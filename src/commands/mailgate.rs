//! `helpdesk mailgate`: hands one message from standard input to `POST /inbound/mail`, for a
//! mail server that pipes what it receives (Postfix's `pipe`, like Request Tracker's
//! rt-mailgate). Its exit status tells the mail server what to do: 0 taken, 75 (EX_TEMPFAIL)
//! keep it and try again later, 69 (EX_UNAVAILABLE) refuse it for good (it bounces).

use std::time::Duration;

/// The message was taken.
pub const EX_OK: u8 = 0;
/// The message cannot be taken for good (too large): the mail server bounces it.
pub const EX_UNAVAILABLE: u8 = 69;
/// The service cannot take it now: the mail server keeps it and tries again.
pub const EX_TEMPFAIL: u8 = 75;

/// Where the gateway posts: `base` (the service, `http://host:port`, or the endpoint itself).
pub fn endpoint(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/inbound/mail") {
        base.to_owned()
    } else if base.ends_with("/api/v1") {
        format!("{base}/inbound/mail")
    } else {
        format!("{base}/api/v1/inbound/mail")
    }
}

/// Where and how the gateway posts.
#[derive(Debug, Clone, Copy)]
pub struct Gateway<'a> {
    /// The service, `http://host:port` (or the endpoint itself).
    pub base: &'a str,
    pub token: &'a str,
    /// The helpdesk's address the message was delivered to, if the mail server says.
    pub recipient: Option<&'a str>,
    pub timeout: Duration,
}

/// Posts `raw` through `gateway`; returns the exit status and what to tell the mail
/// server's log.
pub fn post_mail(gateway: &Gateway, raw: &[u8]) -> (u8, String) {
    let url = endpoint(gateway.base);
    let agent = ureq::AgentBuilder::new().timeout(gateway.timeout).build();
    let mut request = agent
        .post(&url)
        .set("Authorization", &format!("Bearer {}", gateway.token))
        .set("Content-Type", "message/rfc822");
    if let Some(recipient) = gateway.recipient {
        request = request.query("recipient", recipient);
    }
    let answer = request.send_bytes(raw);
    match answer {
        Ok(response) if response.status() == 202 => {
            let body = response.into_string().unwrap_or_default();
            (EX_OK, format!("taken: {}", body.trim()))
        }
        Ok(response) => (
            EX_TEMPFAIL,
            format!("unexpected answer {} from {url}", response.status()),
        ),
        // Too large will never be taken: the sender should learn it from a bounce.
        Err(ureq::Error::Status(413, response)) => (
            EX_UNAVAILABLE,
            format!(
                "the message is too large for the helpdesk: {}",
                response.into_string().unwrap_or_default().trim()
            ),
        ),
        // Anything else (the service down or busy, a token or URL to fix) may pass: the mail
        // server keeps the message meanwhile rather than bounce it.
        Err(ureq::Error::Status(status, response)) => (
            EX_TEMPFAIL,
            format!(
                "the helpdesk answered {status}: {}",
                response.into_string().unwrap_or_default().trim()
            ),
        ),
        Err(ureq::Error::Transport(error)) => (
            EX_TEMPFAIL,
            format!("the helpdesk at {url} cannot be reached: {error}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_endpoint_is_found_from_the_service_address() {
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/api/v1",
            "http://127.0.0.1:8080/api/v1/inbound/mail",
        ] {
            assert_eq!(
                super::endpoint(base),
                "http://127.0.0.1:8080/api/v1/inbound/mail"
            );
        }
    }
}
