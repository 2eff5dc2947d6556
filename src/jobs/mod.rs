//! Background loops inside `serve`, each with an injected clock and its own cadence (never
//! driven by traffic). They claim their work through `db/` so that several instances never
//! do the same thing twice.

pub mod calendar_follower;
pub mod clock_watcher;
pub mod idempotency_sweeper;
pub mod mailbox_poller;
pub mod outage_timer;
pub mod outbox_worker;
pub mod report_scheduler;
