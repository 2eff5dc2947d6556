//! helpdesk: tickets through first- and second-level states, with the SLA clocks of a
//! public-administration service centre. `http/` and the CLI stand on top; `db/`, `mail/` and
//! `jobs/` below; `domain/` and `sla/` at the bottom, free of I/O.

pub mod access;
pub mod app;
pub mod calendars;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod http;
pub mod ingest;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod monitoring;
pub mod oidc;
pub mod public;
pub mod reports;
pub mod runtime;
pub mod sla;
pub mod templates;
