//! `/agencies`: the agencies (enti) and their contact e-mail addresses.

use super::AppState;
use super::auth::Caller;
use super::input::{JSON, MERGE_PATCH, etag, if_match, parse_id, present, read_json};
use super::problem::{ApiError, Problem};
use crate::db;
use crate::domain::Role;
use crate::domain::ticket::Agency;
use crate::domain::validation::Checker;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const MAX_CONTACTS: usize = 50;
const MAX_MAIL_DOMAINS: usize = 20;

/// A new agency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgencyRequest {
    /// Short unique code, e.g. `FI` or `comune-fiesole`: letters, digits, `-`, `_`, `.`.
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 50,
        pattern = r"^[A-Za-z0-9._-]+$",
        example = "FI"
    )]
    pub code: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        max_length = 200,
        example = "Comune di Firenze"
    )]
    pub name: Option<String>,
    /// E-mail addresses of the offices to tell about malfunctions.
    #[schema(max_items = 50)]
    pub contacts: Option<Vec<String>>,
    /// The domains of the agency's senders (`comune.fi.it`): a mail from an address at one of
    /// them opens a ticket of this agency. A domain belongs to one agency at most.
    #[schema(max_items = 20, value_type = Option<Vec<String>>)]
    pub mail_domains: Option<Vec<String>>,
    /// The calendar of the agency's office hours, when the contract counts its business-hour
    /// SLAs in them (default: each SLA's own calendar). One of `GET /calendars`; admins only.
    #[schema(max_length = 50, pattern = r"^[A-Za-z0-9_-]+$", example = "default")]
    pub calendar: Option<String>,
}

/// Changes to an agency (JSON merge patch: absent fields stay as they are; `contacts: null`
/// clears the list; the name cannot be cleared).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgencyRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable = false, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, max_items = 50)]
    pub contacts: Option<Option<Vec<String>>>,
    /// The domains of the agency's senders; `null` clears the list.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, max_items = 20)]
    pub mail_domains: Option<Option<Vec<String>>>,
    /// The calendar of the agency's office hours (one of `GET /calendars`; admins only);
    /// `null` goes back to each SLA's own. Its tickets' clocks follow within seconds.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 50, pattern = r"^[A-Za-z0-9_-]+$")]
    pub calendar: Option<Option<String>>,
}

/// An agency as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgencyResponse {
    pub id: Uuid,
    #[schema(max_length = 50)]
    pub code: String,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_items = 50)]
    pub contacts: Vec<String>,
    /// The domains of the agency's senders, lowercase.
    #[schema(max_items = 20)]
    pub mail_domains: Vec<String>,
    /// The calendar of the agency's office hours; `null`: each SLA's own.
    #[schema(max_length = 50)]
    pub calendar: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(minimum = 1)]
    pub version: i64,
}

impl From<&Agency> for AgencyResponse {
    fn from(agency: &Agency) -> AgencyResponse {
        AgencyResponse {
            id: agency.id,
            code: agency.code.clone(),
            name: agency.name.clone(),
            contacts: agency.contacts.clone(),
            mail_domains: agency.mail_domains.clone(),
            calendar: agency.calendar.clone(),
            created_at: agency.created_at,
            updated_at: agency.updated_at,
            version: agency.version,
        }
    }
}

/// The agencies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AgencyList {
    #[schema(max_items = 10000)]
    pub items: Vec<AgencyResponse>,
}

/// A calendar an agency names must exist (and the clocks then count in it). Choosing it is an
/// administrator's, as calendars are: it decides how the agency's SLAs are measured.
fn check_calendar(
    checker: &mut Checker,
    state: &AppState,
    caller: &Caller,
    calendar: Option<&str>,
) -> Result<(), ApiError> {
    caller.require(caller.0.can_manage_users(), "choose an agency's calendar")?;
    if let Some(name) = calendar
        && state.engine().calendar(name).is_none()
    {
        checker.add(
            "calendar",
            format!("`{name}` is not a calendar (see GET /calendars)"),
        );
    }
    Ok(())
}

fn check_contacts(checker: &mut Checker, contacts: &[String]) {
    if contacts.len() > MAX_CONTACTS {
        checker.add(
            "contacts",
            format!("must list at most {MAX_CONTACTS} addresses"),
        );
    }
    for (i, contact) in contacts.iter().enumerate() {
        checker.email(&format!("contacts[{i}]"), contact);
    }
}

/// Mail domains, lowercased: host names of letters, digits and `-`, with a dot, each once.
fn check_mail_domains(checker: &mut Checker, domains: Option<Vec<String>>) -> Vec<String> {
    let domains: Vec<String> = domains
        .unwrap_or_default()
        .iter()
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if domains.len() > MAX_MAIL_DOMAINS {
        checker.add(
            "mail_domains",
            format!("must list at most {MAX_MAIL_DOMAINS} domains"),
        );
    }
    for (i, domain) in domains.iter().enumerate() {
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !labels_ok || !domain.contains('.') || domain.len() > 253 {
            checker.add(
                format!("mail_domains[{i}]"),
                "must be a domain name like comune.fi.it",
            );
        } else if domains[..i].contains(domain) {
            checker.add(format!("mail_domains[{i}]"), "is listed twice");
        }
    }
    domains
}

/// Add an agency
///
/// Creates an agency with a unique `code` (admin or supervisor).
#[utoipa::path(
    post, path = "/agencies", tag = "agencies", operation_id = "create_agency",
    request_body = CreateAgencyRequest,
    responses((status = 201, description = "The new agency.", body = AgencyResponse,
        headers(("Location" = String, description = "The agency's URL."), ("ETag" = String, description = "The agency's version."))),
        (status = 409, description = "An agency with this `code` exists already.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn create_agency(
    state: web::Data<AppState>,
    caller: Caller,
    http_request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_agencies(), "add agencies")?;
    let request: CreateAgencyRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let mut checker = Checker::new();
    checker.required_line("code", request.code.as_deref(), 50);
    // The code names files (the report's CSV attachment) and is typed on the command line.
    if let Some(code) = request.code.as_deref().map(str::trim)
        && !code.is_empty()
        && !code.chars().any(char::is_control)
        && !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        checker.add(
            "code",
            "may hold only letters, digits, `-`, `_` and `.` (like FI or comune-fiesole)",
        );
    }
    checker.required_line("name", request.name.as_deref(), 200);
    let contacts = request.contacts.unwrap_or_default();
    check_contacts(&mut checker, &contacts);
    let mail_domains = check_mail_domains(&mut checker, request.mail_domains);
    if request.calendar.is_some() {
        check_calendar(&mut checker, &state, &caller, request.calendar.as_deref())?;
    }
    checker.finish().map_err(ApiError::Invalid)?;
    let new = db::agencies::NewAgency {
        code: request.code.unwrap_or_default().trim().to_owned(),
        name: request.name.unwrap_or_default().trim().to_owned(),
        contacts,
        mail_domains,
        calendar: request.calendar,
    };
    let now = state.now();
    let agency = state
        .run(move |conn| db::agencies::insert_agency(conn, new, now))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/agencies/{}", agency.id)))
        .insert_header((header::ETAG, etag(agency.version)))
        .json(AgencyResponse::from(&agency)))
}

/// List agencies
///
/// Every agency, by code. An agency user sees only its own.
#[utoipa::path(
    get, path = "/agencies", tag = "agencies", operation_id = "list_agencies",
    responses((status = 200, description = "The agencies.", body = AgencyList)),
    security(("bearer" = []))
)]
pub async fn list_agencies(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let own = (caller.0.role == Role::Agency).then_some(caller.0.agency_id);
    let agencies = state.run(db::agencies::list_agencies).await?;
    let items = agencies
        .iter()
        .filter(|agency| own.is_none_or(|own| own == Some(agency.id)))
        .map(AgencyResponse::from)
        .collect();
    Ok(HttpResponse::Ok().json(AgencyList { items }))
}

/// Read an agency
///
/// One agency with its contacts.
#[utoipa::path(
    get, path = "/agencies/{id}", tag = "agencies", operation_id = "read_agency",
    params(("id" = Uuid, Path, description = "The agency's id.")),
    responses((status = 200, description = "The agency.", body = AgencyResponse,
        headers(("ETag" = String, description = "The agency's version.")))),
    security(("bearer" = []))
)]
pub async fn get_agency(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id("id", &id)?;
    if caller.0.role == Role::Agency && caller.0.agency_id != Some(id) {
        return Err(ApiError::NotFound("agency"));
    }
    let agency = state
        .run(move |conn| db::agencies::find_agency(conn, id))
        .await?
        .ok_or(ApiError::NotFound("agency"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(agency.version)))
        .json(AgencyResponse::from(&agency)))
}

/// Change an agency
///
/// Changes the name, the contacts, the mail domains or the calendar (admin or supervisor). `If-Match` guards against
/// overwriting a change made since you read it.
#[utoipa::path(
    patch, path = "/agencies/{id}", tag = "agencies", operation_id = "update_agency",
    params(("id" = Uuid, Path, description = "The agency's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the agency changed since.", max_length = 30)),
    request_body(content = UpdateAgencyRequest, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The agency after the change.", body = AgencyResponse,
        headers(("ETag" = String, description = "The agency's new version.")))),
    security(("bearer" = []))
)]
pub async fn update_agency(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(caller.0.can_manage_agencies(), "change agencies")?;
    let id = parse_id("id", &id)?;
    let expected = if_match(&request)?;
    let update: UpdateAgencyRequest =
        read_json(&request, payload, MERGE_PATCH, state.body_limits()).await?;
    let mut checker = Checker::new();
    if let Some(name) = &update.name {
        checker.required_line("name", name.as_deref(), 200);
    }
    let contacts = update.contacts.map(Option::unwrap_or_default);
    if let Some(contacts) = &contacts {
        check_contacts(&mut checker, contacts);
    }
    if let Some(calendar) = &update.calendar {
        check_calendar(&mut checker, &state, &caller, calendar.as_deref())?;
    }
    let mail_domains = update
        .mail_domains
        .map(|domains| check_mail_domains(&mut checker, domains));
    checker.finish().map_err(ApiError::Invalid)?;
    let now = state.now();
    let patch = db::agencies::AgencyPatch {
        name: update.name.flatten().map(|n| n.trim().to_owned()),
        contacts,
        mail_domains,
        calendar: update.calendar,
    };
    let agency = state
        .run(move |conn| db::agencies::update_agency(conn, id, patch, &expected, now))
        .await?;
    // A new calendar leaves the agency's clocks stale: the follower computes them again.
    state.calendar_wakeup.notify_one();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(agency.version)))
        .json(AgencyResponse::from(&agency)))
}
