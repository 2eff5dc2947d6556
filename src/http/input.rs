//! Reading request input so that every failure names its field: JSON bodies (their media
//! type, size and pace), query strings, path ids, `If-Match` and instants.

use super::problem::ApiError;
use crate::domain::VersionCheck;
use crate::domain::time::InstantError;
use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::time::Duration;
use uuid::Uuid;

/// The media type of a JSON body (`POST`).
pub const JSON: &[&str] = &["application/json"];
/// The media types of a JSON merge patch (`PATCH`; plain JSON is taken as one too).
pub const MERGE_PATCH: &[&str] = &["application/merge-patch+json", "application/json"];

/// How large a body may be and how long it may take to arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub timeout: Duration,
}

/// Reads and parses a JSON body sent as one of `accepted` (UTF-8), under `limits`.
pub async fn read_json<T: DeserializeOwned>(
    request: &HttpRequest,
    payload: Payload,
    accepted: &'static [&'static str],
    limits: BodyLimits,
) -> Result<T, ApiError> {
    check_media_type(request, accepted)?;
    let body = read_body(request, payload, limits).await?;
    // JSON is UTF-8: bytes that are not are another encoding, whatever the header said.
    if std::str::from_utf8(&body).is_err() {
        return Err(ApiError::UnsupportedMediaType { accepted });
    }
    parse_json(&body)
}

/// Refuses a body that is not declared as one of `accepted`, or not in UTF-8 (415).
pub fn check_media_type(
    request: &HttpRequest,
    accepted: &'static [&'static str],
) -> Result<(), ApiError> {
    let refuse = || ApiError::UnsupportedMediaType { accepted };
    let declared = request
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or_else(refuse)?
        .to_str()
        .map_err(|_| refuse())?;
    let mime: actix_web::mime::Mime = declared.parse().map_err(|_| refuse())?;
    if !accepted.contains(&mime.essence_str()) {
        return Err(refuse());
    }
    // JSON is UTF-8 (RFC 8259); a body declared in another charset would be misread.
    match mime.get_param(actix_web::mime::CHARSET) {
        Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => Err(refuse()),
        _ => Ok(()),
    }
}

/// Reads the whole body, refusing more than `limits.max_bytes` without buffering them (at
/// once when `Content-Length` declares more) and a body slower than `limits.timeout`.
pub async fn read_body(
    request: &HttpRequest,
    mut payload: Payload,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
    let limit = limits.max_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let read = async move {
        // Sized once from the declared length: a large body grown by doubling would be held
        // twice while it is copied.
        let mut body = BytesMut::with_capacity(declared.map_or(0, |length| length as usize));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| match e {
                actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge { limit },
                other => ApiError::malformed("body", other.to_string()),
            })?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    tokio::time::timeout(limits.timeout, read)
        .await
        .map_err(|_| ApiError::RequestTimeout {
            seconds: limits.timeout.as_secs(),
        })?
}

/// Parses a JSON body; a wrong type, an unknown value or field names the field it is in.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::malformed("body", "a JSON object is required"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // A truncated body, or broken syntax outside any field, is the body's fault; broken
        // syntax inside a field (`"channel": 3` for an enum reads as one) names the field.
        if e.inner().is_eof() || (e.inner().is_syntax() && e.path().iter().next().is_none()) {
            ApiError::malformed("body", format!("is not valid JSON: {}", e.inner()))
        } else {
            field_error(e.path().to_string(), e.inner().to_string(), "body")
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::malformed("body", e.to_string()))?;
    Ok(value)
}

/// Parses the query string into `T`, naming the offending parameter.
pub fn parse_query<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(request.query_string().as_bytes());
    let deserializer = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(deserializer)
        .map_err(|e| field_error(e.path().to_string(), e.inner().to_string(), "query"))
}

/// Builds the field error. For a missing field the path points at its parent and only
/// serde's message knows the field's name.
/// `whole` names the input itself (`body` or `query`) for an error outside any field.
fn field_error(path: String, message: String, whole: &str) -> ApiError {
    let quoted = message.split('`').nth(1).map(str::to_owned);
    // A missing or repeated field is reported at its parent; its name is in the message.
    let field = if message.starts_with("missing field") || message.starts_with("duplicate field") {
        let name = quoted.unwrap_or_default();
        if path == "." {
            name
        } else {
            format!("{path}.{name}")
        }
    } else if path == "." {
        whole.to_owned()
    } else {
        path
    };
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    // A well-formed value the helpdesk refuses (a leap second, year 0) is invalid, not
    // malformed.
    let refused = [InstantError::LeapSecond, InstantError::OutOfRange];
    if refused.iter().any(|error| message == error.to_string()) {
        return ApiError::Invalid(crate::domain::Invalid::one(field, message));
    }
    ApiError::malformed(field, message)
}

/// A merge-patch field that is present (even as `null`) becomes `Some`; use with
/// `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A caller's instant field (`at`, `reported_at`): RFC 3339, never a leap second (422).
pub fn instant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    crate::domain::time::parse_instant(&text).map_err(serde::de::Error::custom)
}

/// An optional instant field (`null` or absent is `None`).
pub fn optional_instant<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => crate::domain::time::parse_instant(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// An instant error on `field`: 422 for a value refused (a leap second), 400 otherwise.
pub fn instant_error(field: impl Into<String>, error: InstantError) -> ApiError {
    if error.is_invalid_value() {
        ApiError::Invalid(crate::domain::Invalid::one(field, error.to_string()))
    } else {
        ApiError::malformed(field, error.to_string())
    }
}

/// A path segment that must be a UUID.
pub fn parse_id(field: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::malformed(field, "must be a UUID"))
}

/// What `If-Match` asks (RFC 9110 §13.1.1): `*` or no header admits any version; a list of
/// entity tags admits the versions of its strong tags. A weak tag never matches, and neither
/// does a tag this API did not issue; a header that is not a list of tags is a 400.
pub fn if_match(request: &HttpRequest) -> Result<VersionCheck, ApiError> {
    let values: Vec<_> = request.headers().get_all(header::IF_MATCH).collect();
    if values.is_empty() {
        return Ok(VersionCheck::Any);
    }
    let malformed =
        || ApiError::malformed("If-Match", "must be `*` or entity tags like \"3\", \"4\"");
    let mut text = String::new();
    for value in values {
        text.push_str(value.to_str().map_err(|_| malformed())?);
        text.push(',');
    }
    if text.trim_end_matches(',').trim() == "*" {
        return Ok(VersionCheck::Any);
    }
    let mut versions = Vec::new();
    let mut rest = text.as_str();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, tag) = match rest.strip_prefix("W/") {
            Some(tag) => (true, tag),
            None => (false, rest),
        };
        let tag = tag.strip_prefix('"').ok_or_else(malformed)?;
        let end = tag.find('"').ok_or_else(malformed)?;
        let opaque = &tag[..end];
        if opaque.bytes().any(|b| b < 0x21 || b == 0x7f) {
            return Err(malformed());
        }
        // Strong comparison is of the exact text: `"03"` and `"+3"` are not `"3"`.
        if !weak
            && let Ok(version) = opaque.parse::<i64>()
            && version.to_string() == opaque
        {
            versions.push(version);
        }
        rest = &tag[end + 1..];
        let next = rest.trim_start_matches([' ', '\t']);
        if !(next.is_empty() || next.starts_with(',')) {
            return Err(malformed());
        }
        rest = next;
    }
    if versions.is_empty() && !text.contains('"') {
        return Err(malformed());
    }
    Ok(VersionCheck::OneOf(versions))
}

/// The `ETag` for a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// An RFC 3339 instant, or a date meaning local midnight in Europe/Rome (SPEC §6).
pub fn parse_instant_or_date(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    crate::domain::time::parse_instant_or_date(text).map_err(|e| instant_error(field, e))
}

/// A page size from `?limit=`: `default` when absent, else 1 to `max` (400 naming `limit`).
pub fn page_limit(requested: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = requested.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::malformed(
            "limit",
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(limit)
}

/// Ends a page read with one row more than `limit` (`limit + 1`): keeps `limit` rows and
/// returns the cursor of the next page (the last row kept), or `None` when this is the last.
pub fn end_page<T>(
    rows: &mut Vec<T>,
    limit: u32,
    id_of: impl Fn(&T) -> uuid::Uuid,
) -> Option<uuid::Uuid> {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(id_of)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_read_one_row_long_names_the_next_and_a_short_one_none() {
        let ids: Vec<uuid::Uuid> = (0..4).map(|_| uuid::Uuid::now_v7()).collect();
        let mut rows = ids.clone();
        assert_eq!(end_page(&mut rows, 3, |id| *id), Some(ids[2]));
        assert_eq!(rows, ids[..3]);
        let mut rows = ids[..3].to_vec();
        assert_eq!(end_page(&mut rows, 3, |id| *id), None);
        assert_eq!(rows.len(), 3);
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only the parse errors are under test")]
    struct Sample {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(dead_code, reason = "only the parse errors are under test")]
    struct Inner {
        count: u32,
    }

    fn field_of(body: &str) -> String {
        match parse_json::<Sample>(body.as_bytes()) {
            Err(ApiError::Malformed(errors)) => errors[0].field.clone(),
            other => panic!("expected a malformed request, got {other:?}"),
        }
    }

    #[test]
    fn parse_errors_name_the_field() {
        assert_eq!(field_of(r#"{}"#), "name");
        assert_eq!(field_of(r#"{"name": 5}"#), "name");
        assert_eq!(field_of(r#"{"name": "a", "nmae": "b"}"#), "nmae");
        assert_eq!(
            field_of(r#"{"name": "a", "inner": {"count": "x"}}"#),
            "inner.count"
        );
        assert_eq!(field_of(r#"{"name": "a", "inner": {}}"#), "inner.count");
        assert_eq!(field_of(r#"[1]"#), "body");
        assert_eq!(field_of(r#"{"name": "a"} trailing"#), "body");
        assert_eq!(field_of(r#"{"name": "a", "name": "b"}"#), "name");
        assert_eq!(
            field_of(r#"{"name": "a", "inner": {"count": 1, "count": 2}}"#),
            "inner.count"
        );
    }
}
