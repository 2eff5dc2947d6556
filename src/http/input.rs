//! Reading request input so that every failure names its field: JSON bodies (with a size
//! limit), query strings, path ids and the `If-Match` header.

use super::problem::ApiError;
use actix_web::HttpRequest;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// Reads the whole body, refusing more than `limit` bytes without buffering them.
pub async fn read_body(mut payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
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
            field_error(e.path().to_string(), e.inner().to_string())
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
        .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))
}

/// Builds the field error. For a missing field the path points at its parent and only
/// serde's message knows the field's name.
fn field_error(path: String, message: String) -> ApiError {
    let quoted = message.split('`').nth(1).map(str::to_owned);
    let field = if message.starts_with("missing field") {
        let name = quoted.unwrap_or_default();
        if path == "." {
            name
        } else {
            format!("{path}.{name}")
        }
    } else if path == "." {
        "body".to_owned()
    } else {
        path
    };
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_owned();
    ApiError::malformed(field, message)
}

/// A path segment that must be a UUID.
pub fn parse_id(field: &str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::malformed(field, "must be a UUID"))
}

/// The version in `If-Match` (`"3"` or `W/"3"`), if the caller sent one.
pub fn if_match_version(request: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = request.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None); // any current version
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::malformed("If-Match", "must be an ETag this API returned, like \"3\"")
        })
}

/// The `ETag` for a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// An RFC 3339 instant, or a date meaning local midnight in Europe/Rome (SPEC §6).
pub fn parse_instant_or_date(
    field: &str,
    text: &str,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    crate::reports::period::parse_instant_or_date(text)
        .map_err(|message| ApiError::malformed(field, message))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
