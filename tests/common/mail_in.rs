//! Mail in for the tests: posting raw messages to the gateway as a `mailgate` user, and
//! reading binary answers (attachments).

use super::{Reply, TestApp};
use helpdesk::domain::Role;

impl TestApp {
    /// A token of a new `mailgate` user.
    pub fn mailgate_token(&self) -> String {
        self.add_user(Role::Mailgate, None, None).1
    }

    /// Posts `raw` to `POST /inbound/mail` as `message/rfc822`.
    pub fn post_mail(&self, token: &str, raw: &[u8]) -> Reply {
        self.post_mail_with(token, "", raw)
    }

    /// Posts `raw` to `POST /inbound/mail?{query}` as `message/rfc822`.
    pub fn post_mail_with(&self, token: &str, query: &str, raw: &[u8]) -> Reply {
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let result = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .post(&format!("{}/inbound/mail{query}", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "message/rfc822")
            .send_bytes(raw);
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => panic!("POST /inbound/mail: {e}"),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .map(|name| {
                let value = response.header(&name).unwrap_or_default().to_owned();
                (name.to_ascii_lowercase(), value)
            })
            .collect();
        Reply {
            status,
            headers,
            body: response.into_string().expect("a text body"),
        }
    }

    /// GETs `path` and returns (status, content type, body bytes).
    pub fn get_bytes(&self, path: &str, token: &str) -> (u16, String, Vec<u8>) {
        let result = ureq::get(&format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .call();
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(e) => panic!("GET {path}: {e}"),
        };
        let status = response.status();
        let content_type = response
            .header("content-type")
            .unwrap_or_default()
            .to_owned();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut response.into_reader(), &mut body).unwrap();
        (status, content_type, body)
    }
}

/// A plain message from `from` with `subject` and `body`, and extra `headers` (lines).
pub fn message(from: &str, subject: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut text =
        format!("From: {from}\r\nTo: assistenza@cst.example.org\r\nSubject: {subject}\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    text.push_str(body);
    text.push_str("\r\n");
    text.into_bytes()
}
