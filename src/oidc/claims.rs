//! The pure half of verification: the token's shape and header (read before any key is
//! looked up, so that `alg: none` or HS256 never reach a key), and the claims once the
//! signature holds, checked against an injected `now`. No I/O, no clock.

use super::{OidcConfig, OidcError, VerifiedIdentity};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

/// Longer tokens are refused before any decoding.
pub(crate) const MAX_TOKEN_LENGTH: usize = 16 * 1024;

/// The claims of a token, as a JSON object.
pub(crate) type Claims = Map<String, Value>;

/// Whether `token` has the shape of a JWT: three base64url segments separated by dots, the
/// first decoding to a JSON object. Cheap (the payload and signature are not decoded); says
/// nothing about whether the token is acceptable.
pub fn looks_like_jwt(token: &str) -> bool {
    if token.len() > MAX_TOKEN_LENGTH {
        return false;
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return false;
    };
    // An unsigned token (`alg: none`) has an empty signature: still a JWT, to be rejected.
    !payload.is_empty()
        && [payload, signature].iter().all(|s| is_base64url(s))
        && decode_json_object(header).is_some()
}

fn is_base64url(segment: &str) -> bool {
    segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn decode_json_object(segment: &str) -> Option<Map<String, Value>> {
    if segment.is_empty() || !is_base64url(segment) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

/// What the verifier needs from a token's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenHeader {
    pub alg: Algorithm,
    pub kid: Option<String>,
}

/// Reads the header of a token without trusting it: only asymmetric algorithms pass.
pub(crate) fn read_header(token: &str) -> Result<TokenHeader, OidcError> {
    let rejected = |reason: &str| OidcError::Rejected(reason.to_owned());
    if token.len() > MAX_TOKEN_LENGTH {
        return Err(rejected("token is too long"));
    }
    if token.split('.').count() != 3 {
        return Err(rejected("token is not a JWT (three dot-separated parts)"));
    }
    let header = token.split('.').next().and_then(decode_json_object);
    let Some(header) = header else {
        return Err(rejected("token header is not base64url-encoded JSON"));
    };
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        _ => return Err(rejected("token header has no `alg`")),
    };
    let alg = match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ if alg.eq_ignore_ascii_case("none") => {
            return Err(rejected("unsigned tokens (alg none) are not accepted"));
        }
        "HS256" | "HS384" | "HS512" => {
            return Err(rejected(
                "tokens signed with a shared secret (HS256, HS384, HS512) are not accepted",
            ));
        }
        _ => return Err(rejected("token algorithm is not supported")),
    };
    let kid = match header.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(rejected("token header `kid` is not a string")),
    };
    Ok(TokenHeader { alg, kid })
}

/// Checks the claims of a token whose signature holds: issuer, audience, times against
/// `now` (with the configured leeway), then reads the identity and groups.
pub(crate) fn check_claims(
    claims: &Claims,
    issuer: &str,
    config: &OidcConfig,
    now: DateTime<Utc>,
) -> Result<VerifiedIdentity, OidcError> {
    let rejected = |reason: String| OidcError::Rejected(reason);
    match claims.get("iss") {
        Some(Value::String(iss)) if iss == issuer => {}
        None => return Err(rejected("token has no `iss` claim".into())),
        Some(_) => return Err(rejected("token `iss` is not the configured issuer".into())),
    }
    check_audience(claims.get("aud"), &config.audience)?;

    let leeway = TimeDelta::seconds(i64::try_from(config.leeway_seconds).unwrap_or(i64::MAX));
    let Some(expires_at) = numeric_date(claims, "exp")? else {
        return Err(rejected("token has no `exp` claim".into()));
    };
    if now >= expires_at + leeway {
        return Err(rejected("token has expired".into()));
    }
    if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
        return Err(rejected("token is not valid yet (`nbf`)".into()));
    }
    if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
        return Err(rejected("token is issued in the future (`iat`)".into()));
    }

    let claim = &config.identity_claim;
    let subject = match claims.get(claim) {
        Some(Value::String(value)) if !value.trim().is_empty() => value.clone(),
        _ => {
            return Err(rejected(format!(
                "token has no `{claim}` claim with a non-empty string"
            )));
        }
    };
    // An address the person may change is only an identity once the provider verified it.
    if claim == "email" && claims.get("email_verified") != Some(&Value::Bool(true)) {
        return Err(rejected(
            "token's `email` is not verified (`email_verified` is not true)".into(),
        ));
    }
    let groups = match &config.groups_claim {
        Some(claim) => read_groups(claims.get(claim), claim)?,
        None => Vec::new(),
    };
    Ok(VerifiedIdentity {
        subject,
        groups,
        expires_at,
    })
}

fn check_audience(aud: Option<&Value>, audience: &str) -> Result<(), OidcError> {
    let named = match aud {
        None => return Err(OidcError::Rejected("token has no `aud` claim".into())),
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) if auds.iter().all(Value::is_string) => {
            auds.iter().any(|aud| aud.as_str() == Some(audience))
        }
        Some(_) => {
            return Err(OidcError::Rejected(
                "token `aud` is neither a string nor an array of strings".into(),
            ));
        }
    };
    if named {
        Ok(())
    } else {
        Err(OidcError::Rejected(format!(
            "token audience does not include `{audience}`"
        )))
    }
}

/// A NumericDate claim (seconds since the epoch, possibly fractional, truncated to whole
/// seconds), if present.
fn numeric_date(claims: &Claims, name: &str) -> Result<Option<DateTime<Utc>>, OidcError> {
    let invalid = || OidcError::Rejected(format!("token `{name}` is not a valid time"));
    let seconds = match claims.get(name) {
        None => return Ok(None),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(seconds) => seconds,
            None => number
                .as_f64()
                .filter(|s| s.is_finite() && s.abs() < 1e15)
                .map(|s| s.floor() as i64)
                .ok_or_else(invalid)?,
        },
        Some(_) => return Err(invalid()),
    };
    DateTime::from_timestamp(seconds, 0)
        .map(Some)
        .ok_or_else(invalid)
}

fn read_groups(value: Option<&Value>, claim: &str) -> Result<Vec<String>, OidcError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(group)) => Ok(vec![group.clone()]),
        Some(Value::Array(groups)) => groups
            .iter()
            .map(|group| group.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                OidcError::Rejected(format!("token `{claim}` is not an array of strings"))
            }),
        Some(_) => Err(OidcError::Rejected(format!(
            "token `{claim}` is not an array of strings"
        ))),
    }
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
