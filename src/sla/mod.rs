//! The SLA engine: business calendars and exact deadline/elapsed arithmetic. Pure: no I/O,
//! no clock (`now` is always an argument), nothing from `db/`, `http/` or `jobs/`.

pub mod arithmetic;
pub mod availability;
pub mod availability_outages;
pub mod calendar;
pub mod clock;
pub mod definition;
pub mod engine;
pub mod holidays;
pub mod interruptions;
pub mod monitored;
pub mod policy;
pub mod response_time;

pub use arithmetic::CountedSpan;
pub use calendar::{Calendar, CalendarError, Closure, DayInterval, WeeklySchedule};
pub use clock::{Clock, ClockEvent, ClockState, ClockView, TicketFacts};
pub use definition::CalendarDefinition;
pub use engine::SlaEngine;
pub use interruptions::{InterruptionRef, InterruptionWindow, interruption_windows};
pub use policy::{SlaPolicy, default_policies};

#[cfg(test)]
mod arithmetic_tests;
#[cfg(test)]
mod availability_properties;
#[cfg(test)]
mod availability_tests;
#[cfg(test)]
mod properties;
