//! Tickets, their events, states and levels, agencies and roles: types and rules.
//! No I/O and no clock: callers pass `now`.

pub mod lifecycle;
pub mod malfunction;
pub mod notice;
pub mod numbering;
pub mod ticket;
pub mod time;
pub mod user;
pub mod validation;
pub mod version;

pub use lifecycle::{Action, EventCommand, LifecycleError, Transition};
pub use ticket::{Channel, Level, ReplyChannel, Status, TicketState};
pub use user::{AccessAction, AccessVia, Principal, Role};
pub use validation::{FieldError, Invalid};
pub use version::VersionCheck;
