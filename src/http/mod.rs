//! The REST API under `/api/v1`: routes, one file per resource, auth, errors, rate limits.
//! Handlers parse input, check the caller's role, and run one repository call off the
//! async executor (`web::block`).

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod calendars;
pub mod inbound;
pub mod input;
pub mod metrics;
pub mod monitoring;
pub mod openapi;
pub mod outbox;
pub mod problem;
pub mod public;
pub mod ratelimit;
pub mod reports;
mod state;
pub mod status;
pub mod systems;
pub mod tickets;
pub mod tokens;
pub mod users;

pub use state::AppState;

use crate::mail::Mailer;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, web};
use problem::{ApiError, PROBLEM_JSON};
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::{RequestId, TracingLogger};

/// The routes, for the server and for tests that call the app in process.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/status", web::get().to(status::get_status))
        .route("/metrics", web::get().to(metrics::get_metrics))
        // The public outputs at the root (the addresses to publish) and in the API.
        .configure(public::configure)
        .service(
            web::scope("/api/v1")
                .route("/openapi.json", web::get().to(openapi::get_openapi))
                .route("/status", web::get().to(status::get_status))
                .configure(public::configure)
                .service(
                    web::resource("/tickets")
                        .get(tickets::list_tickets)
                        .post(tickets::create_ticket),
                )
                .service(
                    web::resource("/tickets/{id}")
                        .get(tickets::get_ticket)
                        .patch(tickets::update_ticket),
                )
                .service(
                    web::resource("/tickets/{id}/events")
                        .get(tickets::list_ticket_events)
                        .post(tickets::create_ticket_event),
                )
                .service(
                    web::resource("/agencies")
                        .get(agencies::list_agencies)
                        .post(agencies::create_agency),
                )
                .service(
                    web::resource("/agencies/{id}")
                        .get(agencies::get_agency)
                        .patch(agencies::update_agency),
                )
                .service(
                    web::resource("/users")
                        .get(users::list_users)
                        .post(users::create_user),
                )
                .service(
                    web::resource("/users/{id}")
                        .get(users::get_user)
                        .patch(users::update_user),
                )
                .service(
                    web::resource("/users/{id}/tokens")
                        .get(tokens::list_tokens)
                        .post(tokens::create_token),
                )
                .route(
                    "/users/{id}/tokens/{token_id}",
                    web::delete().to(tokens::revoke_token),
                )
                .route("/audit", web::get().to(audit::list_audit))
                .route(
                    "/tickets/{id}/sla/{code}/explanation",
                    web::get().to(tickets::sla::explain_clock),
                )
                .route("/calendars", web::get().to(calendars::list_calendars))
                .service(
                    web::resource("/calendars/{name}")
                        .get(calendars::get_calendar)
                        .put(calendars::put_calendar)
                        .delete(calendars::delete_calendar),
                )
                .route(
                    "/calendars/{name}/holidays",
                    web::get().to(calendars::get_holidays),
                )
                .route(
                    "/calendars/{name}/closures",
                    web::post().to(calendars::create_closure),
                )
                .route(
                    "/calendars/{name}/closures/{date}",
                    web::delete().to(calendars::delete_closure),
                )
                .route(
                    "/calendars/{name}/deadlines",
                    web::post().to(calendars::compute_deadlines),
                )
                .route(
                    "/calendars/{name}/elapsed",
                    web::post().to(calendars::compute_elapsed),
                )
                .route(
                    "/reports/status-by-level",
                    web::get().to(reports::get_status_by_level),
                )
                .route("/reports/sla", web::get().to(reports::sla::get_sla_report))
                .route(
                    "/reports/availability",
                    web::get().to(reports::availability::get_availability_report),
                )
                .route(
                    "/reports/malfunctions",
                    web::get().to(reports::malfunctions::get_malfunction_report),
                )
                .service(
                    web::resource("/reports/malfunctions/deliveries")
                        .get(reports::deliveries::list_deliveries)
                        .post(reports::deliveries::create_deliveries),
                )
                .route("/inbound/mail", web::post().to(inbound::post_inbound_mail))
                .route(
                    "/inbound/quarantine",
                    web::get().to(inbound::list_quarantine),
                )
                .route(
                    "/inbound/quarantine/{id}/retry",
                    web::post().to(inbound::retry_quarantined_mail),
                )
                .route(
                    "/tickets/{id}/attachments/{attachment_id}",
                    web::get().to(tickets::attachments::get_attachment),
                )
                .route("/systems", web::get().to(systems::list_systems))
                .service(
                    web::resource("/systems/{code}")
                        .get(systems::get_system)
                        .put(systems::put_system),
                )
                .route(
                    "/monitoring/events",
                    web::post().to(monitoring::report_event),
                )
                .route(
                    "/monitoring/alertmanager",
                    web::post().to(monitoring::alertmanager::receive_webhook),
                )
                .route(
                    "/monitoring/check-results",
                    web::post().to(monitoring::checks::report_check_results),
                )
                .service(
                    web::resource("/monitoring/downtimes")
                        .get(monitoring::downtimes::list_downtimes)
                        .post(monitoring::downtimes::create_downtime),
                )
                .route(
                    "/monitoring/downtimes/{id}",
                    web::delete().to(monitoring::downtimes::delete_downtime),
                )
                .route("/outbox", web::get().to(outbox::list_outbox))
                .route("/outbox/{id}", web::get().to(outbox::get_outbox_entry))
                .route(
                    "/outbox/{id}/retry",
                    web::post().to(outbox::retry_outbox_entry),
                ),
        )
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("resource"))
        }));
}

/// Builds and starts the HTTP server on `listener` (graceful shutdown on SIGINT/SIGTERM), with
/// the background jobs: the clock watcher, the outbox worker (delivering through `mailer`)
/// and the closure reload.
pub fn start_server(
    state: AppState,
    mailer: Mailer,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let limiter = ratelimit::Limiter::new(
        state.settings.rate_limit_per_second,
        state.settings.rate_limit_burst,
    );
    // A burst of one second's worth: a page is one request (its styles are inline).
    let public_limiter = ratelimit::PublicLimiter(ratelimit::Limiter::new(
        state.settings.public_rate_limit_per_second,
        state.settings.public_rate_limit_per_second,
    ));
    let workers = state.settings.workers;
    let watch_interval = std::time::Duration::from_secs(state.settings.sla_watch_interval_seconds);
    let state = web::Data::new(state);
    let limiter = web::Data::new(limiter);
    let public_limiter = web::Data::new(public_limiter);
    spawn_limiter_cleanup(limiter.clone(), public_limiter.clone());
    actix_web::rt::spawn(crate::jobs::clock_watcher::watch(
        state.runtime.clone(),
        watch_interval,
    ));
    actix_web::rt::spawn(crate::jobs::outbox_worker::run(
        state.pool.clone(),
        Arc::new(mailer),
        crate::jobs::outbox_worker::Delivery::from_settings(&state.settings),
        state.clock.clone(),
        std::time::Duration::from_millis(state.settings.outbox_poll_interval_ms),
        state.outbox_wakeup.clone(),
        state.metrics.clone(),
    ));
    // Checked at start (`Settings::check`): a mailbox that does not parse stopped the start.
    let mailboxes = crate::mail::imap_url::parse_mailboxes(state.settings.imap_url.expose())
        .unwrap_or_default();
    let imap_interval = std::time::Duration::from_secs(state.settings.imap_poll_interval_seconds);
    for mailbox in mailboxes {
        tracing::info!(mailbox = %mailbox.key(), "polling the mailbox");
        actix_web::rt::spawn(crate::jobs::mailbox_poller::run(
            state.runtime.clone(),
            mailbox,
            imap_interval,
        ));
    }
    let schedule = crate::jobs::report_scheduler::Schedule::from_settings(&state.settings)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    if state.settings.report_check_interval_seconds > 0 {
        actix_web::rt::spawn(crate::jobs::report_scheduler::run(
            state.runtime.clone(),
            schedule,
            std::time::Duration::from_secs(state.settings.report_check_interval_seconds),
        ));
    }
    actix_web::rt::spawn(crate::jobs::idempotency_sweeper::run(state.runtime.clone()));
    if state.settings.monitoring_ticket_after_seconds > 0 {
        actix_web::rt::spawn(crate::jobs::outage_timer::run(state.runtime.clone()));
    }
    spawn_calendar_reload(state.clone());
    actix_web::rt::spawn(crate::jobs::calendar_follower::run(
        state.runtime.clone(),
        std::time::Duration::from_secs(state.settings.calendar_reload_seconds),
    ));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(limiter.clone())
            .app_data(public_limiter.clone())
            .configure(configure)
            .wrap(from_fn(answer_head_as_get))
            .wrap(from_fn(ratelimit::limit_rate))
            .wrap(ErrorHandlers::new().default_handler(problem_for_plain_errors))
            .wrap(from_fn(add_request_id_header))
            .wrap(from_fn(metrics::count_request))
            .wrap(TracingLogger::default())
    })
    .listen(listener)?
    .shutdown_timeout(20);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.run())
}

fn spawn_limiter_cleanup(
    limiter: web::Data<ratelimit::Limiter>,
    public: web::Data<ratelimit::PublicLimiter>,
) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.forget_idle();
            public.0.forget_idle();
        }
    });
}

/// Reloads the calendars now and then: another instance may have changed one.
fn spawn_calendar_reload(state: web::Data<AppState>) {
    let every = std::time::Duration::from_secs(state.settings.calendar_reload_seconds);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let runtime = state.runtime.clone();
            match state.run(move |conn| runtime.reload_calendars(conn)).await {
                Ok(true) => state.calendar_wakeup.notify_one(),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "reloading the calendars failed"),
            }
        }
    });
}

/// `HEAD` is `GET` without the body (RFC 9110 §9.3.2): routed as `GET`; the HTTP layer, which
/// still knows the request was a `HEAD`, sends the headers alone.
async fn answer_head_as_get(
    mut request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if request.method() == actix_web::http::Method::HEAD {
        request.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(request).await
}

/// Echoes the request id that tracing gave the request, so a caller can quote it, and keeps
/// caches from storing answers meant for one caller.
async fn add_request_id_header(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = request.extensions().get::<RequestId>().copied();
    let mut response = next.call(request).await?;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(value) = request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// Turns the framework's own error responses (unknown method, bad path, …) into problem+json.
fn problem_for_plain_errors<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let kept_headers: Vec<_> = response
        .headers()
        .iter()
        .filter(|(name, _)| *name != header::CONTENT_TYPE && *name != header::CONTENT_LENGTH)
        .map(|(name, value)| match value.to_str() {
            // `answer_head_as_get` serves HEAD wherever GET is routed; say so in a 405.
            Ok(allowed) if *name == header::ALLOW && allowed.contains("GET") => (
                name.clone(),
                HeaderValue::from_str(&format!("{allowed}, HEAD")).unwrap_or(value.clone()),
            ),
            _ => (name.clone(), value.clone()),
        })
        .collect();
    let problem = problem::Problem {
        problem_type: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: status.canonical_reason().unwrap_or("Error").into(),
        errors: Vec::new(),
        current_status: None,
        current_level: None,
        allowed_actions: None,
        current_version: None,
    };
    let (request, _) = response.into_parts();
    let mut rebuilt = HttpResponse::build(status);
    rebuilt.content_type(PROBLEM_JSON);
    for header in kept_headers {
        rebuilt.insert_header(header);
    }
    let rebuilt = rebuilt.body(serde_json::to_string(&problem).expect("problems serialize"));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, rebuilt).map_into_right_body(),
    ))
}
