//! HTTP as RFC 9110 says (issue 9): bodies only as JSON in UTF-8, `HEAD` as `GET`, the
//! bearer scheme in any case, `If-Match` with strong comparison and lists, `Accept` with
//! q-values, and bounded answers and bodies.

mod common;

use common::{Reply, phone_report, spawn_app, spawn_app_with, test_settings};
use helpdesk::config::Settings;
use helpdesk::domain::{Level, Role};
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[test]
fn a_body_not_declared_as_utf8_json_is_refused_with_415() {
    let app = spawn_app();
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let body = json!({"subject": "x", "channel": "phone"}).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/json; charset=latin1"),
        Some("application/json; charset=utf-16"),
        Some("application/jsonx"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|value| vec![("Content-Type", value)])
            .unwrap_or_default();
        // ureq sends no Content-Type for a body unless told; `send` adds JSON's unless given.
        let reply = match content_type {
            Some(_) => app.send("POST", "/tickets", Some(&agent), &headers, Some(&body)),
            None => raw_request(
                &app.base,
                &format!(
                    "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {agent}\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
            ),
        };
        let problem = reply.problem(415);
        assert_eq!(
            problem["errors"][0]["field"], "Content-Type",
            "{content_type:?}"
        );
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
    }
    // Declared UTF-8, sent in Latin-1 (`ù` as the single byte 0xF9): not JSON's encoding.
    let body_latin1: &[u8] = b"{\"subject\": \"gi\xf9\", \"channel\": \"phone\"}";
    let mut request = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {agent}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body_latin1.len()
    )
    .into_bytes();
    request.extend_from_slice(body_latin1);
    raw_bytes(&app.base, &request).problem(415);
    for accepted in ["application/json", "application/json; charset=UTF-8"] {
        let reply = app.send(
            "POST",
            "/tickets",
            Some(&agent),
            &[("Content-Type", accepted)],
            Some(&body),
        );
        assert_eq!(reply.status, 201, "{accepted}: {}", reply.body);
    }
    // PATCH takes a merge patch (or plain JSON) and says so when refused.
    let agency = app.add_agency("FI");
    let patched = app.send(
        "PATCH",
        &format!("/agencies/{agency}"),
        Some(&app.admin),
        &[("Content-Type", "application/merge-patch+json")],
        Some(r#"{"name": "Comune di Firenze"}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let refused = app.send(
        "PATCH",
        &format!("/agencies/{agency}"),
        Some(&app.admin),
        &[("Content-Type", "text/plain")],
        Some(r#"{"name": "x"}"#),
    );
    refused.problem(415);
    assert!(
        refused
            .header("accept-patch")
            .unwrap()
            .contains("application/merge-patch+json")
    );
    let listed = app.get("/tickets", &agent).json();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        2,
        "only the JSON ones"
    );
}

#[test]
fn head_answers_as_get_without_a_body() {
    let app = spawn_app();
    let id = app.open_ticket_id(&app.admin, phone_report("head"));
    for path in [
        format!("/tickets/{id}"),
        "/tickets".to_owned(),
        "/reports/status-by-level".to_owned(),
        "/status".to_owned(),
    ] {
        let get = app.get(&path, &app.admin);
        let head = app.send("HEAD", &path, Some(&app.admin), &[], None);
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(head.body, "", "{path}");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
    }
    let missing = app.send("HEAD", "/tickets/nope", Some(&app.admin), &[], None);
    assert_eq!(missing.status, 400, "as GET: the id is not a UUID");
    let refused = app.send("DELETE", "/tickets", Some(&app.admin), &[], None);
    refused.problem(405);
    assert_eq!(refused.header("allow"), Some("GET, POST, HEAD"));
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app();
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let authorization = format!("{scheme} {}", app.admin);
        let reply = app.send(
            "GET",
            "/tickets",
            None,
            &[("Authorization", &authorization)],
            None,
        );
        assert_eq!(reply.status, 200, "{scheme}");
    }
    let basic = format!("Basic {}", app.admin);
    let reply = app.send("GET", "/tickets", None, &[("Authorization", &basic)], None);
    reply.problem(401);
}

#[test]
fn if_match_compares_strongly_and_takes_a_list() {
    let app = spawn_app();
    let id = app.open_ticket_id(&app.admin, phone_report("if-match"));
    let comment = json!({"type": "comment", "message": "nota"}).to_string();
    let post = |if_match: &str| {
        app.send(
            "POST",
            &format!("/tickets/{id}/events"),
            Some(&app.admin),
            &[("If-Match", if_match)],
            Some(&comment),
        )
    };
    let weak = post("W/\"1\"");
    assert_eq!(
        weak.problem(412)["current_version"],
        1,
        "a weak tag never matches"
    );
    assert_eq!(
        post("\"7\", \"1\"").status,
        201,
        "a list matches any of its tags"
    );
    assert_eq!(post("W/\"2\", \"2\"").status, 201);
    post("\"xyz\"").problem(412);
    for malformed in ["2", "\"2", "\"2\" \"3\""] {
        post(malformed).problem(400);
    }
    assert_eq!(post("*").status, 201);
    let current = app.get(&format!("/tickets/{id}"), &app.admin).json()["version"].clone();
    post(&format!("\"0{current}\"")).problem(412);
    post(&format!("\"+{current}\"")).problem(412);
}

#[test]
fn accept_is_negotiated_by_its_q_values() {
    let app = spawn_app();
    let report = |accept: &str| {
        app.send(
            "GET",
            "/reports/sla",
            Some(&app.admin),
            &[("Accept", accept)],
            None,
        )
    };
    let kind = |reply: &Reply| {
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.header("content-type").unwrap().to_owned()
    };
    for (accept, expected) in [
        ("text/csv;q=0.1, application/json;q=0.9", "application/json"),
        ("application/json;q=0.2, text/csv", "text/csv"),
        ("text/*;q=0.5, text/html", "text/html"),
        ("*/*", "application/json"),
        ("text/plain, text/csv;q=0", "text/plain"),
        ("application/xml, */*;q=0.1", "application/json"),
    ] {
        assert!(kind(&report(accept)).starts_with(expected), "{accept}");
    }
    report("image/png").problem(406);
    report("text/csv;q=0, application/json;q=0").problem(406);
}

#[test]
fn echoed_input_and_bodies_are_bounded() {
    let settings = Settings {
        request_body_timeout_seconds: 1,
        max_body_bytes: 128 * 1024,
        max_batch_body_bytes: 256 * 1024,
        ..test_settings()
    };
    let app = spawn_app_with(settings);
    let (_, agent) = app.add_user(Role::Agent, Some(Level::First), None);
    let key = "k".repeat(100_000);
    let reply = app.send(
        "POST",
        "/tickets",
        Some(&agent),
        &[],
        Some(&format!(
            r#"{{"subject": "x", "channel": "phone", "{key}": 1}}"#
        )),
    );
    let problem = reply.problem(400);
    assert!(reply.body.len() < 6_000, "{} bytes", reply.body.len());
    assert!(
        problem["errors"][0]["field"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 200
    );
    assert!(problem["detail"].as_str().unwrap().chars().count() <= 4000);

    // The batch endpoints have their own limit, max_batch_body_bytes.
    let item = json!({"start": "2016-06-23T15:30:00Z", "seconds": 3600});
    let items = |n: usize| json!({"items": vec![item.clone(); n]});
    let fits = app.post("/calendars/default/deadlines", &agent, &items(5_000));
    assert_eq!(fits.status, 200, "~245 KB fit in 256 KiB");
    app.post("/calendars/default/deadlines", &agent, &items(10_000))
        .problem(413);

    // A declared length over the limit is refused at once, without waiting for the bytes.
    let started = Instant::now();
    let reply = raw_request(
        &app.base,
        &format!(
            "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {agent}\r\n\
             Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{{"
        ),
    );
    reply.problem(413);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // A body that stops arriving is answered 408 after request_body_timeout_seconds.
    let reply = raw_request(
        &app.base,
        &format!(
            "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {agent}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"subject\""
        ),
    );
    reply.problem(408);
    assert_eq!(app.get("/tickets", &agent).json()["items"], json!([]));
}

/// Writes `request` as it is to the app's port and reads the answer (status, headers, body),
/// for requests no HTTP client would send.
fn raw_request(base: &str, request: &str) -> Reply {
    raw_bytes(base, request.as_bytes())
}

fn raw_bytes(base: &str, request: &[u8]) -> Reply {
    let address = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("host:port");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    // Read until the headers and the declared body are in (the server may keep the socket).
    loop {
        let n = stream.read(&mut buffer).unwrap_or(0);
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}
