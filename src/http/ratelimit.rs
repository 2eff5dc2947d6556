//! Rate limiting per token (or per client address without one), with `X-RateLimit-*` headers
//! on every response and 429 + `Retry-After` past the limit. The limiter is `governor`'s GCRA.
//! The public outputs (`http::public`) have their own limiter, by client address only.

use super::AppState;
use super::auth::{authenticate, bearer_token, hash_token};
use super::problem::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The shared limiter; `None` when limiting is off.
#[derive(Clone)]
pub struct Limiter {
    inner: Option<Arc<KeyedLimiter>>,
    burst: u32,
}

impl Limiter {
    pub fn new(per_second: u32, burst: u32) -> Limiter {
        let inner = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            Arc::new(
                RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
                    .with_middleware::<StateInformationMiddleware>(),
            )
        });
        Limiter {
            inner,
            burst: burst.max(per_second),
        }
    }

    /// Forgets callers that have been idle long enough to be back at full capacity.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The public outputs' limiter (`public_rate_limit_per_second`), kept apart from the API's
/// so a crowd on the status page never spends an agent's budget, nor the other way round.
#[derive(Clone)]
pub struct PublicLimiter(pub Limiter);

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The middleware: checks the caller's budget before the handler runs.
pub async fn limit_rate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The path as the router matches it (`%73` is `s`), so that no spelling of a public
    // path escapes the public limiter.
    let public = super::public::is_public_path(request.match_info().as_str());
    let chosen = match public {
        true => request
            .app_data::<web::Data<PublicLimiter>>()
            .map(|l| l.0.clone()),
        false => request
            .app_data::<web::Data<Limiter>>()
            .map(|l| l.get_ref().clone()),
    };
    let Some((limiter, burst)) = chosen.and_then(|l| l.inner.clone().map(|inner| (inner, l.burst)))
    else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let client = request
        .peer_addr()
        .map(|addr| format!("ip:{}", addr.ip()))
        .unwrap_or_default();
    // A valid token has its own budget; anything else (no token, or an invalid one) shares
    // its client address's, so made-up tokens cannot mint fresh budgets. The lookup is the one
    // authentication needs anyway, and is cached. The public outputs need no token and count
    // by address alone.
    let mut known_token = None;
    if !public
        && let (Some(token), Some(state)) = (
            bearer_token(request.request()),
            request.app_data::<web::Data<AppState>>().cloned(),
        )
        && authenticate(&state, token).await.is_ok()
    {
        known_token = Some(hash_token(token));
    }
    let key = known_token.unwrap_or(client);
    let headers = match limiter.check_key(&key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let interval = snapshot.quota().replenish_interval();
            let reset = (interval * (burst - remaining)).as_secs_f64().ceil() as u64;
            (remaining, reset)
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let retry_after_seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let response = ApiError::TooManyRequests {
                retry_after_seconds,
            }
            .error_response();
            let mut response = request.into_response(response);
            set_headers(response.headers_mut(), burst, 0, retry_after_seconds);
            return Ok(response);
        }
    };
    let mut response = next.call(request).await?.map_into_boxed_body();
    set_headers(response.headers_mut(), burst, headers.0, headers.1);
    Ok(response)
}

fn set_headers(
    headers: &mut actix_web::http::header::HeaderMap,
    limit: u32,
    remaining: u32,
    reset_seconds: u64,
) {
    headers.insert(LIMIT, HeaderValue::from(limit));
    headers.insert(REMAINING, HeaderValue::from(remaining));
    headers.insert(RESET, HeaderValue::from(reset_seconds));
}
