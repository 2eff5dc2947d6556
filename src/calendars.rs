//! Which calendars exist and what they say: the built-in `default` (with the configured
//! patron saint) and `24x7`, the `[calendars.NAME]` of the configuration file, and the
//! definitions administrators give through the API, which win. With the stored closures and
//! versions they make the SLA engine; every entrance builds it here.

use crate::config::Settings;
use crate::db::calendars::{StoredCalendars, load_calendars, sync_configured};
use crate::db::{DbConnection, StoreError};
use crate::sla::holidays::{italian_national_holidays, patron_saint};
use crate::sla::{Calendar, CalendarDefinition, SlaEngine, default_policies};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The calendar that counts every second; it cannot be redefined or closed.
pub const ALWAYS_OPEN: &str = "24x7";

/// A calendar's name: what may follow `/calendars/` and `[calendars.` .
pub fn is_calendar_name(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// The calendars the configuration defines, before the API's definitions: `default` (the
/// centre's office hours with `patron_saint`), `24x7`, and `[calendars.NAME]`.
pub fn configured_calendars(settings: &Settings) -> anyhow::Result<BTreeMap<String, Calendar>> {
    let mut calendars = BTreeMap::new();
    let mut default = Calendar::italian_default();
    let mut rules = italian_national_holidays();
    if !settings.patron_saint.is_empty() {
        rules.push(patron_saint(&settings.patron_saint).ok_or_else(|| {
            anyhow::anyhow!(
                "patron_saint `{}` is not in the table; known: {}",
                settings.patron_saint,
                crate::sla::holidays::PATRON_SAINTS
                    .iter()
                    .map(|(name, ..)| *name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?);
    }
    default.holidays.rules = rules;
    calendars.insert("default".to_owned(), default);
    calendars.insert(ALWAYS_OPEN.to_owned(), Calendar::always_open());
    for (name, definition) in &settings.calendars {
        anyhow::ensure!(
            is_calendar_name(name),
            "[calendars.{name}]: a calendar's name is 1 to 50 letters, digits, `-` or `_`"
        );
        anyhow::ensure!(
            name != ALWAYS_OPEN,
            "[calendars.{ALWAYS_OPEN}]: the 24x7 calendar is built in and cannot be redefined"
        );
        let calendar = definition.to_calendar(name).map_err(|invalid| {
            anyhow::anyhow!(
                "[calendars.{name}]: {}",
                invalid
                    .0
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
        calendars.insert(name.clone(), calendar);
    }
    Ok(calendars)
}

/// A stable digest of what a calendar says (its definition, and whether it never closes):
/// a stored fingerprint that differs means the configuration changed.
pub fn fingerprint(calendar: &Calendar) -> String {
    let definition = CalendarDefinition::of(calendar);
    let text =
        serde_json::to_string(&(definition, calendar.always_open)).expect("definitions serialize");
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SLA engine: the configured calendars, replaced by the stored definitions, with the
/// stored closures and versions; the policies with the configured overrides, each naming a
/// calendar that exists.
pub fn build_engine(settings: &Settings, stored: &StoredCalendars) -> anyhow::Result<SlaEngine> {
    let mut calendars = configured_calendars(settings)?;
    for row in &stored.calendars {
        if let Some(definition) = &row.definition {
            let calendar = definition.to_calendar(&row.name).map_err(|invalid| {
                anyhow::anyhow!("stored calendar `{}` is invalid: {invalid}", row.name)
            })?;
            calendars.insert(row.name.clone(), calendar);
        }
    }
    let mut policies = default_policies();
    for (code, change) in &settings.sla {
        if crate::config::is_monitored_code(code) {
            continue;
        }
        let policy = policies
            .iter_mut()
            .find(|p| &p.code == code)
            .ok_or_else(|| anyhow::anyhow!("[sla.\"{code}\"]: no such SLA (SLA.1 to SLA.10)"))?;
        if let Some(target) = change.target_seconds {
            anyhow::ensure!(
                target > 0,
                "[sla.\"{code}\"] target_seconds must be positive"
            );
            policy.target_seconds = target;
        }
        if let Some(calendar) = &change.calendar {
            policy.calendar = calendar.clone();
        }
        if let Some(pause) = change.pause_while_on_hold {
            policy.pause_while_on_hold = pause;
        }
    }
    let monitored = crate::config::monitored_slas(settings)?;
    let engine = SlaEngine::new(
        calendars.into_values().collect(),
        policies,
        settings.sla_at_risk_share,
    )
    .and_then(|engine| engine.with_monitored(monitored))
    .map_err(|e| anyhow::anyhow!("[sla]: {e}"))?;
    Ok(engine
        .with_closures(&stored.closures)?
        .with_versions(stored.versions()))
}

/// Records the configured calendars in the database (a new or edited one gets its next
/// version) and builds the engine from what is stored then.
pub fn engine_from_database(
    settings: &Settings,
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<SlaEngine> {
    let configured: Vec<(String, String)> = configured_calendars(settings)?
        .iter()
        .map(|(name, calendar)| (name.clone(), fingerprint(calendar)))
        .collect();
    let moved = sync_configured(conn, &configured, now).map_err(anyhow_store)?;
    if !moved.is_empty() {
        tracing::info!(calendars = ?moved, "calendars recorded with a new version");
    }
    let stored = load_calendars(conn).map_err(anyhow_store)?;
    build_engine(settings, &stored)
}

fn anyhow_store(error: StoreError) -> anyhow::Error {
    anyhow::anyhow!(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_calendar_is_checked_and_named_in_its_error() {
        let mut settings = Settings::default();
        let definition: CalendarDefinition = serde_json::from_value(serde_json::json!({
            "time_zone": "Europe/Rome",
            "week": [{"day": "monday", "hours": [{"open": "08:30", "close": "25:00"}]}],
        }))
        .unwrap();
        settings.calendars.insert("ufficio".into(), definition);
        let error = configured_calendars(&settings).unwrap_err().to_string();
        assert!(
            error.contains("[calendars.ufficio]: week[0].hours[0].close"),
            "{error}"
        );
    }

    #[test]
    fn a_policy_naming_an_unknown_calendar_is_refused_at_start() {
        let mut settings = Settings::default();
        settings.sla.insert(
            "SLA.7".into(),
            crate::config::SlaOverride {
                calendar: Some("nessuno".into()),
                ..Default::default()
            },
        );
        let error = build_engine(&settings, &StoredCalendars::default())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("SLA.7") && error.contains("nessuno"),
            "{error}"
        );
    }

    #[test]
    fn fingerprints_change_with_the_definition_only() {
        let default = Calendar::italian_default();
        assert_eq!(fingerprint(&default), fingerprint(&default.clone()));
        let mut other = default.clone();
        other.holidays.rules.pop();
        assert_ne!(fingerprint(&default), fingerprint(&other));
    }
}
