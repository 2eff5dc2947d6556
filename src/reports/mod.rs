//! Reports built from stored data, rendered as JSON, CSV, HTML and text. No HTTP here.

pub mod availability;
pub mod delivery;
pub mod load;
pub mod load_monitored;
pub mod malfunctions;
pub mod monitored;
pub mod period;
pub mod sla_compliance;
pub mod spreadsheet;
pub mod status_by_level;
pub mod words;
