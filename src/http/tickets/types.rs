//! Request and response bodies of `/tickets`, with their checks and OpenAPI schemas.

use crate::db::clocks::StoredClock;
use crate::domain::lifecycle::{MAX_CLOCK_SKEW, allowed_actions};
use crate::domain::malfunction::{MalfunctionDetails, MalfunctionPatch};
use crate::domain::ticket::{NewTicket, Requester, Ticket};
use crate::domain::validation::Checker;
use crate::domain::{Action, Channel, Invalid, Status};
use crate::sla::{ClockState, SlaEngine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub const MAX_SUBJECT: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;

/// A report to open as a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    /// One line saying what is wrong.
    #[schema(
        required = true,
        nullable = false,
        max_length = 200,
        example = "Il portale pagamenti non risponde"
    )]
    pub subject: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    #[schema(required = true, nullable = false)]
    pub channel: Option<Channel>,
    /// When the report arrived (default now); SLA clocks start here.
    #[serde(default, deserialize_with = "crate::http::input::optional_instant")]
    pub reported_at: Option<DateTime<Utc>>,
    /// The agency whose service is concerned.
    pub agency_id: Option<Uuid>,
    pub requester: Option<Requester>,
    /// Whether the report is of a malfunction interrupting a service.
    pub malfunction: Option<bool>,
    /// Malfunctions: the interrupted services.
    #[schema(max_items = 50, value_type = Option<Vec<String>>)]
    pub affected_services: Option<Vec<String>>,
    /// Malfunctions: the agencies whose services are interrupted (default: `agency_id`).
    /// `notify_agency` writes to their contacts.
    #[schema(max_items = 200)]
    pub affected_agency_ids: Option<Vec<Uuid>>,
    /// Malfunctions: the cause, where known.
    #[schema(max_length = 10000)]
    pub cause: Option<String>,
    /// Malfunctions: what was done.
    #[schema(max_length = 10000)]
    pub actions_taken: Option<String>,
}

impl CreateTicketRequest {
    /// Checks every field at once and returns the report to store.
    pub fn validate(self, now: DateTime<Utc>) -> Result<NewTicket, Invalid> {
        let mut checker = Checker::new();
        checker.required_line("subject", self.subject.as_deref(), MAX_SUBJECT);
        checker.optional_text("description", self.description.as_deref(), MAX_DESCRIPTION);
        if self.channel.is_none() {
            checker.add(
                "channel",
                "is required (phone, email, portal or monitoring)",
            );
        }
        if self.reported_at.is_some_and(|at| at > now + MAX_CLOCK_SKEW) {
            checker.add("reported_at", "must not be in the future");
        }
        if self.reported_at.is_some_and(|at| at.timestamp() < 0) {
            checker.add("reported_at", "must not be before 1970");
        }
        let requester = self.requester.unwrap_or_default();
        checker.optional_line("requester.name", requester.name.as_deref(), 200);
        checker.optional_line("requester.phone", requester.phone.as_deref(), 50);
        if let Some(email) = requester.email.as_deref() {
            checker.email("requester.email", email);
        }
        let malfunction = self.malfunction.unwrap_or(false);
        let agencies_given = self.affected_agency_ids.is_some();
        let patch = MalfunctionPatch {
            affected_services: self.affected_services,
            affected_agency_ids: self
                .affected_agency_ids
                .or(self.agency_id.map(|id| vec![id])),
            cause: self.cause.map(Some),
            actions_taken: self.actions_taken.map(Some),
        };
        if !malfunction {
            for (field, given) in [
                ("affected_services", patch.affected_services.is_some()),
                ("affected_agency_ids", agencies_given),
                ("cause", patch.cause.is_some()),
                ("actions_taken", patch.actions_taken.is_some()),
            ] {
                if given {
                    checker.add(field, "applies to malfunctions only (`malfunction: true`)");
                }
            }
        }
        patch.check(&mut checker);
        checker.finish()?;
        let details = if malfunction {
            patch.apply(&MalfunctionDetails::default())
        } else {
            MalfunctionDetails::default()
        };
        Ok(NewTicket {
            subject: self.subject.unwrap_or_default().trim().to_owned(),
            description: self.description.unwrap_or_default(),
            channel: self.channel.expect("checked above"),
            reported_at: self.reported_at,
            agency_id: self.agency_id,
            requester,
            malfunction,
            details,
        })
    }
}

/// A ticket as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketResponse {
    pub id: Uuid,
    /// Per-year number, e.g. `2016-000042`.
    #[schema(max_length = 20, example = "2016-000042")]
    pub number: String,
    #[schema(max_length = 200)]
    pub subject: String,
    #[schema(max_length = 20000)]
    pub description: String,
    pub channel: Channel,
    pub status: Status,
    /// 1 (first level) or 2 (second level).
    #[schema(minimum = 1, maximum = 2)]
    pub level: i32,
    pub assignee_id: Option<Uuid>,
    pub agency_id: Option<Uuid>,
    pub requester: Requester,
    pub malfunction: bool,
    /// Whether an interruption has started and not yet ended.
    pub interruption_open: bool,
    /// When the current (or last) interruption started.
    pub interruption_started_at: Option<DateTime<Utc>>,
    /// Malfunctions: the interrupted services.
    #[schema(max_items = 50)]
    pub affected_services: Vec<String>,
    /// Malfunctions: the agencies whose services are interrupted.
    #[schema(max_items = 200)]
    pub affected_agency_ids: Vec<Uuid>,
    #[schema(max_length = 10000)]
    pub cause: Option<String>,
    #[schema(max_length = 10000)]
    pub actions_taken: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Uuid,
    /// Grows by one with every event; also the `ETag`.
    #[schema(minimum = 1)]
    pub version: i64,
    /// The event types the ticket's state allows now.
    #[schema(max_items = 20)]
    pub allowed_actions: Vec<Action>,
    /// The nearest deadline of a running SLA clock (the queue's order).
    pub next_deadline: Option<DateTime<Utc>>,
    /// The SLA clocks that apply to the ticket, as of now.
    #[schema(max_items = 10)]
    pub sla: Vec<SlaClockResponse>,
    /// The public notice `notify_users` published (on `/public/notices`), until withdrawn.
    pub public_notice_id: Option<Uuid>,
    /// On `GET /tickets/{id}`: every e-mail the ticket sent (replies to the requester,
    /// notices), oldest first, with its delivery state (`pending`, `sent`, `failed`,
    /// `bounced`, `delivered`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 10000)]
    pub messages: Option<Vec<crate::http::outbox::OutboxEntryResponse>>,
    /// On `GET /tickets/{id}`: the files that came with the ticket's mail, oldest first
    /// (`GET /tickets/{id}/attachments/{attachment_id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 10000)]
    pub attachments: Option<Vec<super::attachments::AttachmentResponse>>,
}

/// One SLA clock of a ticket (SPEC §3).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SlaClockResponse {
    /// `SLA.6` … `SLA.10`.
    #[schema(max_length = 10, example = "SLA.6")]
    pub code: String,
    /// The interruption the clock measures (SLA.9 and SLA.10 run once per interruption);
    /// absent on the clocks of the whole ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<crate::sla::InterruptionRef>,
    #[schema(max_length = 300)]
    pub commitment: String,
    #[schema(minimum = 0)]
    pub target_seconds: i64,
    /// The calendar that counts the time (`default`, `24x7`).
    #[schema(max_length = 50)]
    pub calendar: String,
    pub started_at: DateTime<Utc>,
    /// `null` while paused with time left.
    pub deadline: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub state: ClockState,
    /// Business seconds counted so far (up to the stop).
    pub elapsed_seconds: i64,
    /// Target minus elapsed; negative once breached.
    pub remaining_seconds: i64,
    /// Running with at least the configured share of the target used.
    pub at_risk: bool,
}

impl TicketResponse {
    /// What `caller` may not see of it: an agency reading another's malfunction (one that
    /// affects it) sees neither its requester nor the requester's description.
    pub fn redact_for(&mut self, caller: &crate::domain::user::Principal, ticket: &Ticket) {
        if caller.reads_as_affected_agency(ticket.agency_id) {
            self.requester = Requester::default();
            // The requester's own words: another agency's business.
            self.description = String::new();
            // The correspondence with that requester, and other agencies' contacts.
            self.messages = None;
            self.attachments = None;
        }
    }

    /// The ticket with its clocks as seen at `now`.
    pub fn new(
        ticket: &Ticket,
        clocks: &[StoredClock],
        engine: &SlaEngine,
        now: DateTime<Utc>,
    ) -> TicketResponse {
        let sla = clocks
            .iter()
            .filter_map(|stored| {
                let clock = &stored.clock;
                let calendar = engine.calendar(&clock.calendar)?;
                let view = clock.view(calendar, now).ok()??;
                Some(SlaClockResponse {
                    code: clock.code.clone(),
                    interruption: clock.interruption,
                    commitment: engine
                        .policy(&clock.code)
                        .map(|p| p.commitment.clone())
                        .unwrap_or_default(),
                    target_seconds: clock.target_seconds,
                    calendar: clock.calendar.clone(),
                    started_at: clock.started_at,
                    deadline: clock.deadline,
                    stopped_at: clock.stopped_at,
                    state: view.state,
                    elapsed_seconds: view.elapsed_seconds,
                    remaining_seconds: view.remaining_seconds,
                    at_risk: view.at_risk,
                })
            })
            .collect();
        TicketResponse {
            id: ticket.id,
            number: ticket.number.clone(),
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            channel: ticket.channel,
            status: ticket.status,
            level: ticket.level.number(),
            assignee_id: ticket.assignee_id,
            agency_id: ticket.agency_id,
            requester: ticket.requester.clone(),
            malfunction: ticket.malfunction,
            interruption_open: ticket.interruption_open,
            interruption_started_at: ticket.interruption_started_at,
            affected_services: ticket.details.affected_services.clone(),
            affected_agency_ids: ticket.details.affected_agency_ids.clone(),
            cause: ticket.details.cause.clone(),
            actions_taken: ticket.details.actions_taken.clone(),
            reported_at: ticket.reported_at,
            created_at: ticket.created_at,
            updated_at: ticket.updated_at,
            created_by: ticket.created_by,
            version: ticket.version,
            allowed_actions: allowed_actions(&ticket.state()),
            next_deadline: ticket.next_deadline,
            sla,
            public_notice_id: ticket.public_notice_id,
            messages: None,
            attachments: None,
        }
    }
}

/// A page of tickets; pass `next_cursor` as `cursor` for the next one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketList {
    #[schema(max_items = 200)]
    pub items: Vec<TicketResponse>,
    /// `null` on the last page.
    #[schema(max_length = 200)]
    pub next_cursor: Option<String>,
}
