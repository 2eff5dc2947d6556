//! `/monitoring/…`: what monitors send (SPEC §9), for the `monitor` role (and admins) through
//! `MachineCaller`. Each endpoint reads its format into the monitor's history and stores it
//! through `monitoring::record`, the one path every entrance takes. A report sent twice stores
//! once; the order of arrival does not matter.

pub mod alertmanager;
pub mod checks;
pub mod downtimes;

use super::AppState;
use super::auth::MachineCaller;
use super::input::{JSON, read_json};
use super::problem::{ApiError, Problem};
use crate::db::monitoring::{NewState, StateSource};
use crate::domain::{FieldError, Invalid};
use crate::monitoring::formats::{
    STATE_WORDS, parse_monitor_time, parse_problem_id, parse_state, parse_state_type,
};
use crate::monitoring::record::{MonitorReport, Recorded, unknown_systems};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The longest `output` kept: a plugin's first lines are what an agent needs.
const MAX_OUTPUT_CHARS: usize = 1000;

/// Stores `report` after `check` (the systems it names exist) and follows the outages it may
/// begin or end, as `actor`: the one way every ingest endpoint stores what it read.
pub async fn store_report(
    state: &AppState,
    actor: crate::domain::Principal,
    report: MonitorReport,
    check: impl FnOnce(&mut crate::db::DbConnection) -> Result<(), crate::db::StoreError>
    + Send
    + 'static,
) -> Result<Recorded, ApiError> {
    let (now, engine, mail) = (state.now(), state.engine(), state.mail.clone());
    let (rules, notice_changes) = (state.settings.event_rules(), state.notice_changes.clone());
    let ticket_after = i64::from(state.settings.monitoring_ticket_after_seconds);
    let (recorded, actions) = state
        .run(move |conn| {
            check(conn)?;
            let context = crate::db::tickets::EventContext {
                engine: &engine,
                mail: &mail,
                actor: &actor,
                rules,
                now,
                notice_changes: &notice_changes,
            };
            crate::monitoring::outages::record_and_follow(conn, &context, ticket_after, &report)
        })
        .await?;
    if !actions.tickets_opened.is_empty() {
        state
            .metrics
            .tickets_created
            .inc_by(actions.tickets_opened.len() as u64);
        tracing::info!(tickets = ?actions.tickets_opened, "outages opened malfunction tickets");
    }
    Ok(recorded)
}

/// Refuses callers that may not report monitoring (403).
pub fn require_monitor(caller: &MachineCaller) -> Result<(), ApiError> {
    if caller.0.can_ingest_monitoring() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "the `{}` role may not report monitoring",
            caller.0.role
        )))
    }
}

/// A state change as a Nagios, Icinga 2, Checkmk or Zabbix notification command sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringEventRequest {
    /// The system's code (see `/systems`).
    #[schema(
        pattern = r"^[A-Za-z0-9._-]+$",
        required = true,
        nullable = false,
        max_length = 50,
        example = "CSDB1"
    )]
    pub system: Option<String>,
    /// In the monitor's words (`OK`, `WARNING`, `CRITICAL`, `UNKNOWN`, `UP`, `DOWN`,
    /// `UNREACHABLE`) or ours (`up`, `down`, `unknown`).
    #[schema(
        pattern = r"^(up|down|unknown|OK|WARNING|CRITICAL|UNKNOWN|UP|DOWN|UNREACHABLE)$",
        required = true,
        nullable = false,
        max_length = 20,
        example = "CRITICAL"
    )]
    pub state: Option<String>,
    /// `hard` (the default) or `soft`; soft states are kept but not measured.
    #[schema(pattern = r"^(hard|soft|HARD|SOFT)$", max_length = 4, example = "HARD")]
    pub state_type: Option<String>,
    /// When the state began, at the monitor: RFC 3339 or epoch seconds
    /// (`$LASTSERVICESTATECHANGE$`).
    #[schema(pattern = r"^(\d{1,11}|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))$", required = true, nullable = false, value_type = String, example = "1466695800")]
    pub at: Option<Value>,
    /// The monitor's problem id (`$SERVICEPROBLEMID$`), a string or a number.
    #[schema(value_type = Option<String>, max_length = 100, example = "4711")]
    pub problem_id: Option<Value>,
    /// The check's output (the first 1,000 characters are kept).
    #[schema(max_length = 100000)]
    pub output: Option<String>,
}

/// What an event became.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MonitoringEventResponse {
    #[schema(max_length = 50)]
    pub system: String,
    /// `up`, `down` or `unknown`.
    #[schema(max_length = 10)]
    pub state: String,
    pub hard: bool,
    pub at: DateTime<Utc>,
    /// `false` when the same state at the same instant was stored already.
    pub stored: bool,
}

/// The output as kept: at most `MAX_OUTPUT_CHARS` characters.
pub fn kept_output(output: Option<String>) -> Option<String> {
    output
        .map(|text| text.chars().take(MAX_OUTPUT_CHARS).collect::<String>())
        .filter(|text| !text.trim().is_empty())
}

/// Reads one state report's fields, naming bad ones under `prefix` (`""` or `items[3].`).
pub fn read_state(
    errors: &mut Vec<FieldError>,
    prefix: &str,
    state: Option<&str>,
    state_type: Option<&str>,
    at: Option<&Value>,
) -> Option<(crate::sla::availability::HealthState, bool, DateTime<Utc>)> {
    let field = |name: &str| format!("{prefix}{name}");
    let state = match state.map(parse_state) {
        Some(Some(state)) => Some(state),
        Some(None) => {
            errors.push(FieldError::new(
                field("state"),
                format!("must be {STATE_WORDS}"),
            ));
            None
        }
        None => {
            errors.push(FieldError::new(field("state"), "is required"));
            None
        }
    };
    let hard = match state_type.map(parse_state_type) {
        None => Some(true),
        Some(Some(hard)) => Some(hard),
        Some(None) => {
            errors.push(FieldError::new(field("state_type"), "must be hard or soft"));
            None
        }
    };
    let at = match at.map(parse_monitor_time) {
        Some(Ok(at)) => Some(at),
        Some(Err(message)) => {
            errors.push(FieldError::new(field("at"), message));
            None
        }
        None => {
            errors.push(FieldError::new(field("at"), "is required"));
            None
        }
    };
    Some((state?, hard?, at?))
}

/// Report a state
///
/// One state of one system at the monitor's time (role `monitor`). The same report again
/// changes nothing. A hard `down` opens (or joins) the system's malfunction ticket with
/// `interruption_start` at the monitor's time, and the `up` records `interruption_end`.
#[utoipa::path(
    post, path = "/monitoring/events", tag = "monitoring", operation_id = "report_monitoring_event",
    request_body = MonitoringEventRequest,
    responses((status = 200, description = "The state as stored (or as it was stored before).", body = MonitoringEventResponse),
        (status = 422, description = "A field is invalid, or the system is unknown.", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
pub async fn report_event(
    state: web::Data<AppState>,
    caller: MachineCaller,
    http_request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_monitor(&caller)?;
    let request: MonitoringEventRequest =
        read_json(&http_request, payload, JSON, state.body_limits()).await?;
    let mut errors = Vec::new();
    let system = match request.system.as_deref().map(str::trim) {
        Some(code) if crate::config::is_system_code(code) => Some(code.to_owned()),
        _ => {
            errors.push(FieldError::new("system", "must be a system's code"));
            None
        }
    };
    let read = read_state(
        &mut errors,
        "",
        request.state.as_deref(),
        request.state_type.as_deref(),
        request.at.as_ref(),
    );
    let problem_id = match request.problem_id.as_ref().map(parse_problem_id) {
        None => None,
        Some(Ok(id)) => id,
        Some(Err(message)) => {
            errors.push(FieldError::new("problem_id", message));
            None
        }
    };
    let (Some(system), Some((health, hard, at)), true) = (system, read, errors.is_empty()) else {
        return Err(ApiError::Invalid(Invalid(errors)));
    };
    let new = NewState {
        system: system.clone(),
        at,
        state: health,
        hard,
        source: StateSource::Event,
        problem_id,
        output: kept_output(request.output),
    };
    let code = new.system.clone();
    let report = MonitorReport {
        states: vec![new],
        ..Default::default()
    };
    let recorded = store_report(&state, caller.0, report, move |conn| {
        if unknown_systems(conn, &[code.as_str()])?.is_empty() {
            Ok(())
        } else {
            Err(crate::db::StoreError::Invalid(Invalid::one(
                "system",
                format!("`{code}` is not a system (see GET /systems)"),
            )))
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(MonitoringEventResponse {
        system,
        state: health.as_str().to_owned(),
        hard,
        at: crate::db::truncate_to_micros(at),
        stored: recorded.states > 0,
    }))
}
