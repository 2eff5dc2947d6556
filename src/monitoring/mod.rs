//! Monitoring in (SPEC §9): the formats monitors send (generic events, Alertmanager's webhook,
//! check results with perfdata) read into the monitor's history, and `record`, the one way
//! every entrance (the HTTP endpoints, the CLI import, the demo) stores it. The formats are
//! pure; `record` stands on `db/`.

pub mod alertmanager;
pub mod formats;
pub mod nagios_import;
pub mod nagios_log;
pub mod outages;
pub mod record;
