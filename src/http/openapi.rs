//! The OpenAPI 3 document, generated from the handlers' annotations and completed here with
//! what every operation shares (errors as problem+json, rate-limit headers, security), so
//! that it passes the Italian public-administration guidelines (ModI) checker.

use super::problem::Problem;
use super::{agencies, calendars, outbox, public, reports, status, tickets, users};
use actix_web::HttpResponse;
use serde_json::json;
use std::sync::OnceLock;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "helpdesk",
        description = "Helpdesk tickets through first- and second-level states, with the SLA \
            clocks of a public-administration service centre. Authenticate with \
            `Authorization: Bearer <token>`.",
        contact(name = "Helpdesk service centre", email = "helpdesk@example.org", url = "https://example.org/helpdesk"),
        license(name = "EUPL-1.2", url = "https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12"),
        terms_of_service = "https://example.org/helpdesk/terms",
    ),
    paths(
        tickets::create_ticket,
        tickets::list::list_tickets,
        tickets::get_ticket,
        tickets::malfunction::update_ticket,
        tickets::create_ticket_event,
        tickets::list_ticket_events,
        agencies::create_agency,
        agencies::list_agencies,
        agencies::get_agency,
        agencies::update_agency,
        users::create_user,
        users::list_users,
        users::get_user,
        tickets::sla::explain_clock,
        calendars::list_calendars,
        calendars::get_calendar,
        calendars::get_holidays,
        calendars::definitions::put_calendar,
        calendars::definitions::delete_calendar,
        calendars::closures::create_closure,
        calendars::closures::delete_closure,
        calendars::batch::compute_deadlines,
        calendars::batch::compute_elapsed,
        reports::get_status_by_level,
        reports::sla::get_sla_report,
        reports::malfunctions::get_malfunction_report,
        reports::deliveries::create_deliveries,
        reports::deliveries::list_deliveries,
        outbox::list_outbox,
        outbox::get_outbox_entry,
        outbox::retry_outbox_entry,
        status::get_status,
        public::get_public_notices,
        public::get_public_feed,
        public::get_status_page,
    ),
    tags(
        (name = "tickets", description = "Tickets, their events and history."),
        (name = "agencies", description = "Agencies (enti) and their contacts."),
        (name = "users", description = "Helpdesk users, roles and tokens."),
        (name = "calendars", description = "Business calendars, holidays, closures, deadline arithmetic."),
        (name = "reports", description = "Summaries and reports."),
        (name = "outbox", description = "E-mails written by the helpdesk and their delivery."),
        (name = "status", description = "Service health."),
        (name = "public", description = "What the public reads without a token: the notices `notify_users` publishes."),
    ),
    modifiers(&Conventions),
)]
pub struct ApiDoc;

/// The document as served and committed (`docs/openapi.json`).
pub fn openapi_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // Through `Value`, whose maps are sorted: utoipa keeps extensions in a HashMap, and
        // the committed file must not change from one run to the next.
        let document = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
        serde_json::to_string_pretty(&document).expect("JSON serializes") + "\n"
    })
}

/// OpenAPI document
///
/// This API's OpenAPI 3 document. Needs no token.
pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(openapi_json())
}

/// What every operation shares, added after the annotations are read.
struct Conventions;

/// The shared error responses: (status, component name, description, applies to bodies only).
const ERRORS: &[(&str, &str, &str, bool)] = &[
    (
        "400",
        "Malformed",
        "The request is malformed; `errors` names the fields.",
        false,
    ),
    ("401", "Unauthorized", "No valid bearer token.", false),
    (
        "403",
        "Forbidden",
        "The caller's role may not do this.",
        false,
    ),
    (
        "404",
        "NotFound",
        "No such resource (or not visible to the caller).",
        false,
    ),
    (
        "408",
        "RequestTimeout",
        "The request body did not arrive within `request_body_timeout_seconds`.",
        true,
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is too large (also when `Content-Length` declares more).",
        true,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not declared as JSON in UTF-8; `errors` names `Content-Type`.",
        true,
    ),
    (
        "422",
        "InvalidInput",
        "A field is invalid; `errors` names the fields.",
        true,
    ),
    (
        "429",
        "TooManyRequests",
        "Rate limit exceeded; retry after `Retry-After` seconds.",
        false,
    ),
    (
        "500",
        "InternalError",
        "An unexpected error; the server log has the details.",
        false,
    ),
    (
        "503",
        "Unavailable",
        "The database is not answering; retry later.",
        false,
    ),
];

impl Modify for Conventions {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        api.info.version = "1.0.0".into();
        api.info.extensions = Some(
            ExtensionsBuilder::new()
                .add(
                    "x-summary",
                    json!("Helpdesk tickets and SLA clocks for a PA service centre"),
                )
                .add("x-api-id", json!("a6f0c9e2-5d0b-4e1f-9b7a-2c4d8e6f1a30"))
                .build(),
        );
        api.servers = Some(vec![
            ServerBuilder::new()
                .url("https://helpdesk.example.org/api/v1")
                .description(Some("Production (replace with your host)"))
                .build(),
            {
                let mut local = ServerBuilder::new()
                    .url("http://127.0.0.1:8080/api/v1")
                    .description(Some("A local `helpdesk serve`"))
                    .build();
                local.extensions = Some(
                    ExtensionsBuilder::new()
                        .add("x-sandbox", json!(true))
                        .build(),
                );
                local
            },
        ]);
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `helpdesk user add` or `POST /users`"))
                    .build(),
            ),
        );
        components
            .schemas
            .insert("Problem".into(), Problem::schema());
        for &(code, name, description, _) in ERRORS {
            components
                .responses
                .insert(name.into(), RefOr::T(problem_response(code, description)));
        }
        for (path, item) in api.paths.paths.iter_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.patch, true),
                (&mut item.put, true),
                (&mut item.delete, false),
            ];
            let audience = match path.as_str() {
                "/status" => Audience::Health,
                path if super::public::is_public_path(path) => Audience::Public,
                _ => Audience::Callers,
            };
            for (operation, has_body) in operations {
                if let Some(operation) = operation {
                    complete_operation(operation, has_body, audience);
                }
            }
        }
    }
}

/// Who calls an operation, for the errors it can answer.
#[derive(Clone, Copy)]
enum Audience {
    /// `GET /status`: only busy or down.
    Health,
    /// The public outputs: no token, only a bad `days` besides busy or down.
    Public,
    /// Everything else: a bearer token.
    Callers,
}

fn complete_operation(operation: &mut Operation, has_body: bool, audience: Audience) {
    for (code, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            add_rate_limit_headers(response);
            if code.starts_with('2') {
                response
                    .headers
                    .entry("Cache-Control".into())
                    .or_insert_with(|| {
                        HeaderBuilder::new()
                            .schema(ObjectBuilder::new().schema_type(Type::String))
                            .description(Some(
                                "`no-store`: responses carry data for the caller only.",
                            ))
                            .build()
                    });
            }
        }
    }
    for &(code, name, _, body_only) in ERRORS {
        let applies = match audience {
            Audience::Health => matches!(code, "429" | "503"),
            Audience::Public => matches!(code, "400" | "422" | "429" | "500" | "503"),
            Audience::Callers => !body_only || has_body,
        };
        if applies {
            operation
                .responses
                .responses
                .entry(code.into())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}

fn integer_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32))),
        )
        .description(Some(description))
        .build()
}

fn add_rate_limit_headers(response: &mut Response) {
    let headers = [
        (
            "X-RateLimit-Limit",
            "Requests the caller may make in a burst.",
        ),
        ("X-RateLimit-Remaining", "Requests left before the limit."),
        (
            "X-RateLimit-Reset",
            "Seconds until the full budget is back.",
        ),
    ];
    for (name, description) in headers {
        response
            .headers
            .entry(name.into())
            .or_insert_with(|| integer_header(description));
    }
}

fn problem_response(code: &str, description: &str) -> Response {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    if code == "429" || code == "503" {
        response.headers.insert(
            "Retry-After".into(),
            integer_header("Seconds to wait before retrying."),
        );
    }
    if code != "503" {
        add_rate_limit_headers(&mut response);
    }
    response
}
