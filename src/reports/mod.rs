//! Reports built from stored data, rendered as JSON, CSV and text. No HTTP here.

pub mod status_by_level;
