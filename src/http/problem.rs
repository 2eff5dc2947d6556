//! Every error the API returns, mapped once to RFC 9457 problem+json. A 500 tells the caller
//! nothing; the log gets the full cause chain.

use crate::db::StoreError;
use crate::domain::{Action, FieldError, Invalid, LifecycleError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document, with our extensions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[schema(max_length = 200)]
    #[serde(rename = "type")]
    pub problem_type: String,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(minimum = 100, maximum = 599)]
    pub status: u16,
    #[schema(max_length = 4000)]
    pub detail: String,
    /// The invalid fields, for 400 and 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 1000)]
    pub errors: Vec<FieldError>,
    /// For a refused transition (409): the ticket's state, level and what is allowed now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 40)]
    pub current_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 2)]
    pub current_level: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub allowed_actions: Option<Vec<Action>>,
    /// For a stale `If-Match` (412): the version the resource is at now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// A JWT the OpenID Connect verifier refused, and why (never quoting the token).
    #[error("the bearer token was refused: {0}")]
    TokenRejected(String),
    /// The OpenID Connect provider cannot be reached to check a JWT.
    #[error("the identity provider is not answering; retry")]
    ProviderUnavailable(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the request is malformed")]
    Malformed(Vec<FieldError>),
    #[error(transparent)]
    Invalid(Invalid),
    #[error(transparent)]
    Refused(LifecycleError),
    #[error("{0}")]
    Conflict(String),
    /// Writers kept changing the resource while this one retried (rare: writers of one
    /// ticket queue on its row); worth retrying at once.
    #[error("the resource kept changing while the change was judged; retry")]
    Contended,
    #[error("the resource is at version {current}, not the one in If-Match")]
    PreconditionFailed { current: i64 },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the body must be sent as {}", accepted.join(" or "))]
    UnsupportedMediaType { accepted: &'static [&'static str] },
    #[error("the request body did not arrive within {seconds} s")]
    RequestTimeout { seconds: u64 },
    #[error("this resource can be sent as {}", offered.join(", "))]
    NotAcceptable { offered: Vec<&'static str> },
    #[error("rate limit exceeded; retry in {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("the database is not answering")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Malformed(vec![FieldError::new(field, message)])
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized | ApiError::TokenRejected(_) => "unauthorized",
            ApiError::ProviderUnavailable(_) => "provider-unavailable",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Malformed(_) => "malformed-request",
            ApiError::Invalid(_) => "invalid-input",
            ApiError::Refused(LifecycleError::NotAllowed { .. }) => "transition-not-allowed",
            ApiError::Refused(LifecycleError::Forbidden(_)) => "forbidden",
            ApiError::Refused(LifecycleError::Invalid(_)) => "invalid-input",
            ApiError::Conflict(_) => "conflict",
            ApiError::Contended => "contended",
            ApiError::PreconditionFailed { .. } => "stale-version",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType { .. } => "unsupported-media-type",
            ApiError::RequestTimeout { .. } => "request-timeout",
            ApiError::NotAcceptable { .. } => "not-acceptable",
            ApiError::TooManyRequests { .. } => "rate-limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal-error",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let mut problem = Problem {
            problem_type: format!("urn:helpdesk:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors: Vec::new(),
            current_status: None,
            current_level: None,
            allowed_actions: None,
            current_version: None,
        };
        match self {
            ApiError::Malformed(errors)
            | ApiError::Invalid(Invalid(errors))
            | ApiError::Refused(LifecycleError::Invalid(Invalid(errors))) => {
                problem.errors = errors.clone();
                problem.detail = match errors.as_slice() {
                    [one] => format!("`{}` {}", one.field, one.message),
                    _ => format!("{} fields are invalid", errors.len()),
                };
            }
            ApiError::Refused(LifecycleError::NotAllowed {
                status,
                level,
                allowed,
                ..
            }) => {
                problem.current_status = Some(status.as_str().to_owned());
                problem.current_level = Some(level.number());
                problem.allowed_actions = Some(allowed.clone());
                problem.detail = format!(
                    "{}; allowed now: {}",
                    self,
                    allowed
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            ApiError::PreconditionFailed { current } => problem.current_version = Some(*current),
            ApiError::UnsupportedMediaType { .. } => {
                problem.errors = vec![FieldError::new("Content-Type", self.to_string())];
            }
            ApiError::Internal(_) => problem.detail = "internal error; see the server log".into(),
            _ => {}
        }
        bound_echoes(&mut problem);
        problem
    }
}

/// Longest `detail`, `errors[].field` and `errors[].message`, and most `errors`, as the
/// schema documents them: what a caller sent (an unknown key of 100,000 characters) is echoed
/// cut short.
const MAX_DETAIL: usize = 4000;
const MAX_FIELD: usize = 200;
const MAX_MESSAGE: usize = 1000;
const MAX_ERRORS: usize = 1000;

fn bound_echoes(problem: &mut Problem) {
    problem.errors.truncate(MAX_ERRORS);
    for error in &mut problem.errors {
        cut_short(&mut error.field, MAX_FIELD);
        cut_short(&mut error.message, MAX_MESSAGE);
    }
    cut_short(&mut problem.detail, MAX_DETAIL);
}

/// Cuts `text` to at most `max` characters, ending in `…` when something was cut.
fn cut_short(text: &mut String, max: usize) {
    if let Some((index, _)) = text.char_indices().nth(max) {
        let keep = text[..index]
            .char_indices()
            .nth(max - 1)
            .map_or(index, |(i, _)| i);
        text.truncate(keep);
        text.push('…');
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::TokenRejected(_) => StatusCode::UNAUTHORIZED,
            ApiError::ProviderUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Forbidden(_) | ApiError::Refused(LifecycleError::Forbidden(_)) => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) | ApiError::Refused(LifecycleError::Invalid(_)) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Refused(LifecycleError::NotAllowed { .. })
            | ApiError::Conflict(_)
            | ApiError::Contended => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "database unavailable"),
            ApiError::ProviderUnavailable(cause) => {
                tracing::warn!(cause = %cause, "OpenID provider unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            ApiError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::TokenRejected(_) => {
                // RFC 6750 §3: the token was there and is not acceptable.
                response
                    .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
            }
            ApiError::ProviderUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::TooManyRequests {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::Contended => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::UnsupportedMediaType { accepted }
                if accepted.contains(&"application/merge-patch+json") =>
            {
                response.insert_header(("Accept-Patch", accepted.join(", ")));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).expect("problems serialize"))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Lifecycle(refused) => ApiError::Refused(refused),
            StoreError::Invalid(invalid) => ApiError::Invalid(invalid),
            StoreError::StaleVersion { current } => ApiError::PreconditionFailed { current },
            StoreError::IdempotencyMismatch => ApiError::Invalid(Invalid::one(
                "Idempotency-Key",
                "was already used with a different request body",
            )),
            StoreError::Duplicate(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            StoreError::Contended => ApiError::Contended,
            StoreError::Pool(e) => ApiError::Unavailable(e.to_string()),
            StoreError::Busy => ApiError::Unavailable("too many requests are waiting".into()),
            StoreError::Unavailable(e) => ApiError::Unavailable(e),
            StoreError::Db(e) if is_unavailable(&e) => ApiError::Unavailable(e.to_string()),
            StoreError::Db(e) => ApiError::Internal(format!("{e:?}")),
            StoreError::Corrupt(what) => ApiError::Internal(what),
        }
    }
}

/// The database is away or busy beyond our patience: worth a retry, not a 500.
fn is_unavailable(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("database is locked")
                || message.contains("terminating connection")
                || message.contains("deadlock detected")
        }
        _ => false,
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> ApiError {
        ApiError::Invalid(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_input_is_cut_to_the_documented_lengths() {
        let long = "k".repeat(100_000);
        let problem =
            ApiError::malformed(long.clone(), format!("unknown field `{long}`")).problem();
        assert_eq!(problem.errors[0].field.chars().count(), MAX_FIELD);
        assert!(problem.errors[0].field.ends_with('…'));
        assert_eq!(problem.errors[0].message.chars().count(), MAX_MESSAGE);
        assert!(problem.detail.chars().count() <= MAX_DETAIL);
        let mut short = "è".repeat(5);
        cut_short(&mut short, 5);
        assert_eq!(short, "èèèèè", "nothing to cut");
        cut_short(&mut short, 3);
        assert_eq!(short, "èè…");
    }
}
