//! Request and response bodies of a ticket's events (`/tickets/{id}/events`).

use super::TicketResponse;
use crate::domain::lifecycle::{event_fields, is_recorded_by_service};
use crate::domain::ticket::TicketEvent;
use crate::domain::{Action, EventCommand, ReplyChannel, Status};
use crate::http::problem::ApiError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An event to record on a ticket. Which fields are required depends on `type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventRequest {
    #[serde(rename = "type")]
    #[schema(required = true)]
    pub event_type: Option<Action>,
    /// When it really happened (default now).
    #[serde(default, deserialize_with = "crate::http::input::optional_instant")]
    pub at: Option<DateTime<Utc>>,
    /// For `reply`: `email` or `phone`.
    pub channel: Option<ReplyChannel>,
    /// For `reply`, `comment`, `notify_agency`, `notify_users`.
    #[schema(max_length = 10000)]
    pub message: Option<String>,
    /// For `resolve`.
    #[schema(max_length = 10000)]
    pub resolution: Option<String>,
    /// For `close_not_in_scope` (required), `escalate`, `hold`, `reopen`, `withdraw_notice`
    /// (optional).
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
    /// For `assign` (required) and `take_charge` (default: the caller).
    pub assignee_id: Option<Uuid>,
    /// For malfunction events: the affected service.
    #[schema(max_length = 200)]
    pub service: Option<String>,
    /// For a `reply` with `channel: email`: who else receives the message (besides the
    /// requester).
    #[schema(max_items = 20)]
    pub cc: Option<Vec<String>>,
}

impl CreateEventRequest {
    /// The command, once every field given belongs to the event's `type` (400 naming the
    /// first that does not: a `resolution` on a `reply` would be stored and never read).
    pub fn into_command(self) -> Result<EventCommand, ApiError> {
        // Only the mail ingest records what a requester wrote (an admin may call both).
        if self.event_type == Some(Action::RequesterMessage) {
            return Err(ApiError::Invalid(crate::domain::Invalid::one(
                "type",
                "`requester_message` is recorded by the mail channel, not posted",
            )));
        }
        if let Some(action) = self.event_type.filter(|a| !is_recorded_by_service(*a)) {
            let given = [
                ("channel", self.channel.is_some()),
                ("message", self.message.is_some()),
                ("resolution", self.resolution.is_some()),
                ("reason", self.reason.is_some()),
                ("assignee_id", self.assignee_id.is_some()),
                ("service", self.service.is_some()),
                ("cc", self.cc.is_some()),
            ];
            let accepted = event_fields(action);
            if let Some((field, _)) = given
                .iter()
                .find(|(field, given)| *given && !accepted.contains(field))
            {
                return Err(ApiError::malformed(
                    *field,
                    format!(
                        "is not a field of a `{action}` event (its fields: {})",
                        std::iter::once("at")
                            .chain(accepted.iter().copied())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(EventCommand {
            action: self.event_type,
            at: self.at,
            channel: self.channel,
            message: self.message,
            resolution: self.resolution,
            reason: self.reason,
            assignee_id: self.assignee_id,
            service: self.service,
            cc: self.cc,
            channel_details: None,
            inbound_id: None,
        })
    }
}

/// One entry of a ticket's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventResponse {
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// 1 for `created`, then one more per event.
    #[schema(minimum = 1)]
    pub sequence: i64,
    #[serde(rename = "type")]
    pub event_type: Action,
    /// When it really happened.
    pub at: DateTime<Utc>,
    /// When the server received it.
    pub recorded_at: DateTime<Utc>,
    /// `null` for what the service records itself (`sla_at_risk`, `sla_breached`).
    pub actor_id: Option<Uuid>,
    /// The ticket's state, level and assignee after the event.
    pub status: Status,
    #[schema(minimum = 1, maximum = 2)]
    pub level: i32,
    pub assignee_id: Option<Uuid>,
    pub channel: Option<ReplyChannel>,
    #[schema(max_length = 10000)]
    pub message: Option<String>,
    #[schema(max_length = 10000)]
    pub resolution: Option<String>,
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
    #[schema(max_length = 200)]
    pub service: Option<String>,
    /// For `sla_at_risk` and `sla_breached`: the SLA.
    #[schema(max_length = 10)]
    pub code: Option<String>,
    /// For the events of a clock that measures one interruption (SLA.9, SLA.10): which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<crate::sla::InterruptionRef>,
    /// For `notify_agency`, `notify_users` and an e-mail `reply`: the addresses the
    /// messages went to.
    #[schema(max_items = 1000)]
    pub recipients: Option<Vec<String>>,
    /// For an e-mail `reply`: the addresses copied.
    #[schema(max_items = 20)]
    pub cc: Option<Vec<String>>,
    /// For `requester_message`: the sender's address, the message's subject and
    /// `Message-ID`, and the files it brought (`GET /tickets/{id}/attachments/{id}`).
    #[schema(max_length = 254)]
    pub from: Option<String>,
    #[schema(max_length = 1000)]
    pub subject: Option<String>,
    #[schema(max_length = 1000)]
    pub message_id: Option<String>,
    #[schema(max_items = 1000)]
    pub attachments: Option<Vec<super::attachments::AttachmentResponse>>,
    /// For `requester_message`: written by a machine (an out-of-office answer): recorded,
    /// not answered, and it changed nothing.
    pub automatic: Option<bool>,
    /// For the events that write e-mail (`notify_agency`, `notify_users`, an e-mail
    /// `reply`): the messages in the outbox (`GET /outbox/{id}`; `GET /tickets/{id}` shows
    /// their delivery state).
    #[schema(max_items = 1000)]
    pub outbox_ids: Option<Vec<Uuid>>,
    /// For `malfunction_updated`: the fields that changed.
    #[schema(max_items = 10)]
    pub changed: Option<Vec<String>>,
    /// For `sla_at_risk`, `sla_breached` and `sla_outcome_changed`: the clock's deadline
    /// (after the change, for the last).
    pub deadline: Option<DateTime<Utc>>,
    /// For `sla_outcome_changed`: the calendar that changed, the clock's deadline and outcome
    /// (`met`, `breached`) before the change, and its outcome after.
    #[schema(max_length = 50)]
    pub calendar: Option<String>,
    pub deadline_before: Option<DateTime<Utc>>,
    #[schema(max_length = 10)]
    pub outcome_before: Option<String>,
    #[schema(max_length = 10)]
    pub outcome: Option<String>,
}

impl From<&TicketEvent> for EventResponse {
    fn from(event: &TicketEvent) -> EventResponse {
        let text = |key: &str| {
            event
                .details
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let list = |key: &str| {
            event
                .details
                .get(key)
                .and_then(|v| v.as_array())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item.as_str().map(str::to_owned))
                        .collect()
                })
        };
        EventResponse {
            id: event.id,
            ticket_id: event.ticket_id,
            sequence: event.sequence,
            event_type: event.action,
            at: event.at,
            recorded_at: event.recorded_at,
            actor_id: event.actor_id,
            status: event.status,
            level: event.level.number(),
            assignee_id: event.assignee_id,
            channel: text("channel").and_then(|c| c.parse().ok()),
            message: text("message"),
            resolution: text("resolution"),
            reason: text("reason"),
            service: text("service"),
            code: text("code"),
            interruption: event
                .details
                .get("interruption")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            recipients: list("recipients"),
            cc: list("cc"),
            from: text("from"),
            subject: text("subject"),
            message_id: text("message_id"),
            attachments: event
                .details
                .get("attachments")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            automatic: event.details.get("automatic").and_then(|v| v.as_bool()),
            outbox_ids: list("outbox_ids")
                .map(|ids: Vec<String>| ids.iter().filter_map(|id| id.parse().ok()).collect()),
            changed: list("changed"),
            deadline: text("deadline").and_then(|t| t.parse().ok()),
            calendar: text("calendar"),
            deadline_before: text("deadline_before").and_then(|t| t.parse().ok()),
            outcome_before: text("outcome_before"),
            outcome: text("outcome"),
        }
    }
}

/// The recorded event and the ticket after it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventCreatedResponse {
    pub event: EventResponse,
    pub ticket: TicketResponse,
}

/// A ticket's history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    #[schema(max_items = 100000)]
    pub items: Vec<EventResponse>,
}
