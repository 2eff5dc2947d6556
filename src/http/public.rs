//! The public outputs of the notices `notify_users` publishes, without a token:
//! `/public/notices` (JSON), `/public/notices.atom` (Atom) and `/status-page` (HTML), at the
//! root and under `/api/v1`. Served from the runtime's cache with a strong `ETag` from the
//! content (`If-None-Match` answers 304) and `Cache-Control: public, max-age`, under their
//! own rate limit per client address (`ratelimit`).

use super::AppState;
use super::input::parse_query;
use super::problem::ApiError;
use crate::domain::Invalid;
use crate::public::cache::{Output, OutputKey, Rendered};
use crate::public::{
    DEFAULT_DAYS, MAX_DAYS, Presentation, PublicNotices, atom, page, public_notices,
};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;

/// The paths of the public outputs, which the public rate limit counts instead of the API's.
const PUBLIC_PATHS: &[&str] = &[
    "/public/notices",
    "/public/notices.atom",
    "/status-page",
    "/api/v1/public/notices",
    "/api/v1/public/notices.atom",
    "/api/v1/status-page",
];

/// Whether `path` is one of the public outputs.
pub fn is_public_path(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path)
}

/// The routes, for the root and for `/api/v1`.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/public/notices").get(get_public_notices))
        .service(web::resource("/public/notices.atom").get(get_public_feed))
        .service(web::resource("/status-page").get(get_status_page));
}

/// The query of every public output. Other parameters are ignored, so a link with tracking
/// parameters still works and a made-up one cannot bypass the cache.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// Days of notices to list besides the current ones: 1 to 365 (default 90).
    #[param(minimum = 1, maximum = 365, example = 90)]
    pub days: Option<u32>,
}

fn days_of(request: &HttpRequest) -> Result<u32, ApiError> {
    let days = parse_query::<PublicQuery>(request)?
        .days
        .unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Invalid::one("days", format!("must be 1 to {MAX_DAYS}")).into());
    }
    Ok(days)
}

/// Public notices
///
/// The services with a current interruption, each with its latest notice, and the notices of
/// the last `days` days (default 90): only their text, services and times. Needs no token;
/// served from a cache that an event on this instance refreshes at once (others within
/// `public_cache_seconds`).
#[utoipa::path(
    get, path = "/public/notices", tag = "public", operation_id = "list_public_notices",
    params(PublicQuery, ("If-None-Match" = Option<String>, Header, description = "An ETag read before: 304 while it still matches.", max_length = 200)),
    responses(
        (status = 200, description = "The current interruptions and the recent notices.", body = PublicNotices,
            headers(("ETag" = String, description = "A strong tag of the content."),
                ("Cache-Control" = String, description = "`public, max-age=N`: N is `public_cache_seconds`."))),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`.",
            headers(("ETag" = String, description = "A strong tag of the content."),
                ("Cache-Control" = String, description = "`public, max-age=N`."))),
    ),
    security(())
)]
pub async fn get_public_notices(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    serve(state, request, Output::Json).await
}

/// Public notices as an Atom feed
///
/// The notices of `get /public/notices` as an Atom feed (RFC 4287) in Italian: one entry per
/// notice, its id `urn:uuid:` the notice's for its whole life, its `updated` moved by every
/// change. Needs no token.
#[utoipa::path(
    get, path = "/public/notices.atom", tag = "public", operation_id = "read_public_notices_feed",
    params(PublicQuery, ("If-None-Match" = Option<String>, Header, description = "An ETag read before: 304 while it still matches.", max_length = 200)),
    responses(
        (status = 200, description = "The feed.", body = String, content_type = "application/atom+xml",
            headers(("ETag" = String, description = "A strong tag of the content."),
                ("Cache-Control" = String, description = "`public, max-age=N`: N is `public_cache_seconds`."))),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`.",
            headers(("ETag" = String, description = "A strong tag of the content."),
                ("Cache-Control" = String, description = "`public, max-age=N`."))),
    ),
    security(())
)]
pub async fn get_public_feed(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    serve(state, request, Output::Atom).await
}

/// Status page
///
/// The notices of `get /public/notices` as an HTML page in Italian, readable without
/// JavaScript (WCAG 2.1 AA). Needs no token.
#[utoipa::path(
    get, path = "/status-page", tag = "public", operation_id = "read_status_page",
    params(PublicQuery, ("If-None-Match" = Option<String>, Header, description = "An ETag read before: 304 while it still matches.", max_length = 200)),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html",
            headers(("ETag" = String, description = "A strong tag of the content."),
                ("Cache-Control" = String, description = "`public, max-age=N`: N is `public_cache_seconds`."))),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`.",
            headers(("ETag" = String, description = "A strong tag of the content."),
                ("Cache-Control" = String, description = "`public, max-age=N`."))),
    ),
    security(())
)]
pub async fn get_status_page(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    serve(state, request, Output::Page).await
}

async fn serve(
    state: web::Data<AppState>,
    request: HttpRequest,
    output: Output,
) -> Result<HttpResponse, ApiError> {
    let days = days_of(&request)?;
    // Only the feed writes absolute links; the page's are relative.
    let base_url = match output {
        Output::Atom => base_url(&state, &request),
        Output::Json | Output::Page => String::new(),
    };
    let key = OutputKey {
        output,
        days,
        base_url: base_url.clone(),
    };
    let presentation = Presentation {
        show_number: state.settings.public_notices_show_number,
        centre_name: state.settings.centre_name.clone(),
        base_url,
    };
    let now = state.now();
    let loader = state.clone();
    let rendered = state
        .public_cache
        .output(
            &state.notice_changes,
            key,
            || async move {
                // One reading serves every `days`: the longest.
                let since = now - Duration::days(i64::from(MAX_DAYS));
                loader
                    .run(move |conn| crate::db::notices::published_notices(conn, since))
                    .await
            },
            |published| {
                let board = public_notices(&published.notices, days, now, &presentation);
                let failed = |e: String| ApiError::Internal(e);
                Ok(match output {
                    Output::Json => Rendered::new(
                        serde_json::to_string(&board).map_err(|e| failed(e.to_string()))?,
                        "application/json",
                    ),
                    Output::Atom => Rendered::new(
                        atom::render_feed(&board, published.last_change, &presentation)
                            .map_err(failed)?,
                        "application/atom+xml; charset=utf-8",
                    ),
                    Output::Page => Rendered::new(
                        page::render_page(&board, &presentation).map_err(failed)?,
                        "text/html; charset=utf-8",
                    ),
                })
            },
        )
        .await?;
    Ok(respond(
        &request,
        &rendered,
        state.public_cache.ttl_seconds(),
    ))
}

/// 200 with the output, or 304 when `If-None-Match` names its tag (weak comparison, RFC 9110
/// §13.1.2: a `W/` tag of the same value matches too).
fn respond(request: &HttpRequest, rendered: &Rendered, max_age: u64) -> HttpResponse {
    let cache_control = format!("public, max-age={max_age}");
    let matches = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == rendered.etag);
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, rendered.etag.clone()))
        .insert_header((header::CACHE_CONTROL, cache_control));
    if matches {
        return response.finish();
    }
    response
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        ))
        .body(rendered.body.clone())
}

/// `public_base_url`, or else `http://` and the request's `Host` (never `X-Forwarded-Host`,
/// which a cache in front may not key on), or else the bound address.
fn base_url(state: &AppState, request: &HttpRequest) -> String {
    if !state.settings.public_base_url.is_empty() {
        return state.settings.public_base_url.clone();
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host.len() <= 255
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or(&state.settings.bind);
    format!("http://{host}")
}
