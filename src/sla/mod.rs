//! The SLA engine: business calendars and exact deadline/elapsed arithmetic. Pure: no I/O,
//! no clock (`now` is always an argument), nothing from `db/`, `http/` or `jobs/`.

pub mod arithmetic;
pub mod calendar;
pub mod holidays;

pub use arithmetic::CountedSpan;
pub use calendar::{Calendar, CalendarError, Closure, DayInterval, WeeklySchedule};

#[cfg(test)]
mod arithmetic_tests;
#[cfg(test)]
mod properties;
