//! The ticket's state, level and channel vocabularies (SPEC §2), with their API names.

use super::malfunction::MalfunctionDetails;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Defines a string-valued enum with its API name for every variant, `as_str` and `FromStr`.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The API (and database) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown value `{}`, expected one of: {}",
                        text,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use api_enum;

api_enum! {
    /// Where a ticket stands (SPEC §2).
    Status {
        New => "new",
        Open => "open",
        OnHold => "on_hold",
        Resolved => "resolved",
        ClosedNotInScope => "closed_not_in_scope",
    }
}

api_enum! {
    /// How a report reached the helpdesk.
    Channel {
        Phone => "phone",
        Email => "email",
        Portal => "portal",
        Monitoring => "monitoring",
    }
}

api_enum! {
    /// How a reply reached the requester.
    ReplyChannel {
        Email => "email",
        Phone => "phone",
    }
}

/// First level (triage, answers) or second level (specialists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    First,
    Second,
}

impl Level {
    /// 1 or 2, as the API and the database write it.
    pub fn number(self) -> i32 {
        match self {
            Level::First => 1,
            Level::Second => 2,
        }
    }

    /// The level for 1 or 2, `None` for anything else.
    pub fn from_number(number: i64) -> Option<Level> {
        match number {
            1 => Some(Level::First),
            2 => Some(Level::Second),
            _ => None,
        }
    }
}

/// What the lifecycle rules need to know about a ticket to judge the next event.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketState {
    pub status: Status,
    pub level: Level,
    pub assignee_id: Option<Uuid>,
    pub malfunction: bool,
    pub reported_at: DateTime<Utc>,
    /// The `at` of the latest event: a new event may not be earlier.
    pub last_event_at: DateTime<Utc>,
    /// Whether an interruption has started and not yet ended.
    pub interruption_open: bool,
    /// When the current (or last) interruption started.
    pub interruption_started_at: Option<DateTime<Utc>>,
    /// When the last interruption ended (from the history): the next may not start earlier.
    pub last_interruption_end: Option<DateTime<Utc>>,
    /// Whether a public notice of the ticket is published (it can be withdrawn).
    pub public_notice: bool,
}

/// Who reported the problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 50)]
    pub phone: Option<String>,
}

/// A ticket as stored: its report and its current (projected) state.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: Uuid,
    pub number: String,
    pub subject: String,
    pub description: String,
    pub channel: Channel,
    pub status: Status,
    pub level: Level,
    pub assignee_id: Option<Uuid>,
    pub agency_id: Option<Uuid>,
    pub requester: Requester,
    pub malfunction: bool,
    pub interruption_open: bool,
    /// When the current (or last) interruption started.
    pub interruption_started_at: Option<DateTime<Utc>>,
    /// Affected services and agencies, cause and actions (malfunctions only).
    pub details: MalfunctionDetails,
    pub reported_at: DateTime<Utc>,
    pub last_event_at: DateTime<Utc>,
    /// The nearest deadline of a running SLA clock.
    pub next_deadline: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows by one with every change a person or a channel makes; the `ETag`. The
    /// service's own events (SLA crossings, outcomes a calendar change altered) leave it.
    pub version: i64,
    /// The `sequence` of the latest event in the history.
    pub last_sequence: i64,
    /// The public notice `notify_users` published, while it is not withdrawn.
    pub public_notice_id: Option<Uuid>,
}

impl Ticket {
    /// What the lifecycle rules judge the next event against.
    pub fn state(&self) -> TicketState {
        TicketState {
            status: self.status,
            level: self.level,
            assignee_id: self.assignee_id,
            malfunction: self.malfunction,
            reported_at: self.reported_at,
            last_event_at: self.last_event_at,
            interruption_open: self.interruption_open,
            interruption_started_at: self.interruption_started_at,
            last_interruption_end: None,
            public_notice: self.public_notice_id.is_some(),
        }
    }
}

/// A report to be opened as a ticket, already validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NewTicket {
    pub subject: String,
    pub description: String,
    pub channel: Channel,
    pub reported_at: Option<DateTime<Utc>>,
    pub agency_id: Option<Uuid>,
    pub requester: Requester,
    pub malfunction: bool,
    pub details: MalfunctionDetails,
}

/// One entry of a ticket's append-only history.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    pub id: Uuid,
    pub ticket_id: Uuid,
    /// 1 for `created`, then one more per event; equals the ticket's version after it.
    pub sequence: i64,
    pub action: super::Action,
    /// When it really happened (may be back-dated).
    pub at: DateTime<Utc>,
    /// When the server received it.
    pub recorded_at: DateTime<Utc>,
    /// `None` for what the service records itself (SLA crossings).
    pub actor_id: Option<Uuid>,
    pub status: Status,
    pub level: Level,
    pub assignee_id: Option<Uuid>,
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// An agency (ente) whose services the centre runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Agency {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub contacts: Vec<String>,
    /// The domains of its senders' addresses (lowercase): mail from them opens its tickets.
    pub mail_domains: Vec<String>,
    /// The calendar of the agency's office hours, if it has its own: the business-hour SLAs
    /// of its tickets count in it.
    pub calendar: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}
