//! The OpenAPI 3 document, generated from the handlers' annotations and completed here with
//! what every operation shares (errors as problem+json, rate-limit headers, security), so
//! that it passes the Italian public-administration guidelines (ModI) checker.

mod links;
mod requests;

use super::problem::Problem;
use super::{
    agencies, audit, calendars, inbound, monitoring, outbox, public, reports, status, systems,
    tickets, tokens, users,
};
use actix_web::HttpResponse;
use serde_json::json;
use std::sync::OnceLock;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
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
        users::update_user,
        tokens::list_tokens,
        tokens::create_token,
        tokens::revoke_token,
        audit::list_audit,
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
        reports::availability::get_availability_report,
        reports::malfunctions::get_malfunction_report,
        reports::deliveries::create_deliveries,
        reports::deliveries::list_deliveries,
        tickets::attachments::get_attachment,
        inbound::post_inbound_mail,
        inbound::list_quarantine,
        inbound::retry_quarantined_mail,
        outbox::list_outbox,
        outbox::get_outbox_entry,
        outbox::retry_outbox_entry,
        status::get_status,
        public::get_public_notices,
        public::get_public_feed,
        public::get_status_page,
        systems::put_system,
        systems::list_systems,
        systems::get_system,
        monitoring::report_event,
        monitoring::alertmanager::receive_webhook,
        monitoring::checks::report_check_results,
        monitoring::downtimes::create_downtime,
        monitoring::downtimes::list_downtimes,
        monitoring::downtimes::delete_downtime,
    ),
    tags(
        (name = "tickets", description = "Tickets, their events and history."),
        (name = "agencies", description = "Agencies (enti) and their contacts."),
        (name = "users", description = "Helpdesk users, roles and tokens."),
        (name = "calendars", description = "Business calendars, holidays, closures, deadline arithmetic."),
        (name = "reports", description = "Summaries and reports."),
        (name = "outbox", description = "E-mails written by the helpdesk and their delivery."),
        (name = "inbound", description = "Mail received: the mail gateway's entrance and the quarantine."),
        (name = "status", description = "Service health."),
        (name = "monitoring", description = "The systems monitoring watches and what monitors report of them (SLA.1–SLA.5)."),
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

/// Which operations answer a shared error.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Applies {
    /// Every operation of its audience.
    Always,
    /// Operations that read a request body.
    WithBody,
    /// Operations that honour `If-Match`.
    WithIfMatch,
}

/// The shared error responses: (status, component name, description, which operations).
/// What only some operations answer (a 409 and why) is on their handlers.
const ERRORS: &[(&str, &str, &str, Applies)] = &[
    (
        "400",
        "Malformed",
        "The request is malformed; `errors` names the fields.",
        Applies::Always,
    ),
    (
        "401",
        "Unauthorized",
        "No valid bearer token.",
        Applies::Always,
    ),
    (
        "403",
        "Forbidden",
        "The caller's role may not do this.",
        Applies::Always,
    ),
    (
        "404",
        "NotFound",
        "No such resource (or not visible to the caller).",
        Applies::Always,
    ),
    (
        "408",
        "RequestTimeout",
        "The request body did not arrive within `request_body_timeout_seconds`.",
        Applies::WithBody,
    ),
    (
        "412",
        "PreconditionFailed",
        "The resource changed since the `If-Match` version; `current_version` is where it is now.",
        Applies::WithIfMatch,
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is too large (also when `Content-Length` declares more).",
        Applies::WithBody,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not declared as JSON in UTF-8; `errors` names `Content-Type`.",
        Applies::WithBody,
    ),
    (
        "422",
        "InvalidInput",
        "A field is invalid; `errors` names the fields.",
        Applies::WithBody,
    ),
    (
        "429",
        "TooManyRequests",
        "Rate limit exceeded; retry after `Retry-After` seconds.",
        Applies::Always,
    ),
    (
        "500",
        "InternalError",
        "An unexpected error; the server log has the details.",
        Applies::Always,
    ),
    (
        "503",
        "Unavailable",
        "The database (or the OpenID provider) is not answering; retry after `Retry-After` seconds.",
        Applies::Always,
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
        requests::constrain_requests(components);
        for &(code, name, description, _) in ERRORS {
            components
                .responses
                .insert(name.into(), RefOr::T(problem_response(code, description)));
        }
        for (path, item) in api.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            let audience = match path.as_str() {
                "/status" => Audience::Health,
                path if super::public::is_public_path(path) => Audience::Public,
                _ => Audience::Callers,
            };
            for operation in operations.into_iter().flatten() {
                complete_operation(operation, audience);
            }
        }
        links::add_links(api);
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

/// What `If-Match` takes: `*`, or the strong tags this API issues (`"4"`, or a list of them).
/// Another tag is well-formed too, but never matches (412).
const IF_MATCH: &str = r#"^(\*|"[0-9]{1,19}"( *, *"[0-9]{1,19}")*)$"#;

fn complete_operation(operation: &mut Operation, audience: Audience) {
    let has_body = operation.request_body.is_some();
    let mut honours_if_match = false;
    for parameter in operation.parameters.iter_mut().flatten() {
        // A parameter is sent or left out; none is ever `null` (an `Option` field says it
        // may be left out, which `required: false` says already).
        if let Some(schema) = parameter.schema.take() {
            parameter.schema = Some(requests::non_null(schema));
        }
        if parameter.parameter_in == ParameterIn::Header && parameter.name == "If-Match" {
            honours_if_match = true;
            if let Some(RefOr::T(Schema::Object(header))) = &mut parameter.schema {
                header.pattern = Some(IF_MATCH.into());
            }
        }
    }
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
    for &(code, name, _, which) in ERRORS {
        let applies = match audience {
            Audience::Health => matches!(code, "429" | "503"),
            Audience::Public => matches!(code, "400" | "422" | "429" | "500" | "503"),
            Audience::Callers => match which {
                Applies::Always => true,
                Applies::WithBody => has_body,
                Applies::WithIfMatch => honours_if_match,
            },
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
