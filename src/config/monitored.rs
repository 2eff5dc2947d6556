//! The `[sla."SLA.1"]` … `[sla."SLA.5"]` sections: the 2016 defaults changed by the
//! configuration, and checked (a field of the other kind, or of the ticket SLAs, is an error
//! naming it).

use super::{Settings, SlaOverride};
use crate::sla::availability::AvailabilityRules;
use crate::sla::monitored::{
    MONITORED_CODES, MonitoredMeasure, MonitoredSla, default_monitored_slas,
};
use serde::{Deserialize, Serialize};

/// The kind of an SLA measured by monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitoredKind {
    Availability,
    ResponseTime,
}

/// A system's code: 1 to 50 letters, digits, `-`, `_` or `.` (what `/systems` accepts).
pub fn is_system_code(code: &str) -> bool {
    (1..=50).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// SLA.1–SLA.5 as configured: the defaults of SPEC §9 with each section's changes.
pub fn monitored_slas(settings: &Settings) -> anyhow::Result<Vec<MonitoredSla>> {
    let mut slas = default_monitored_slas();
    for (code, change) in &settings.sla {
        let monitoring_field = [
            (change.kind.is_some(), "kind"),
            (change.commitment.is_some(), "commitment"),
            (change.systems.is_some(), "systems"),
            (change.group.is_some(), "group"),
            (change.target_percent.is_some(), "target_percent"),
            (change.min_outage_seconds.is_some(), "min_outage_seconds"),
            (change.maintenance.is_some(), "maintenance"),
            (change.unknown.is_some(), "unknown"),
            (change.target_ms.is_some(), "target_ms"),
            (change.statistic.is_some(), "statistic"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name));
        let Some(sla) = slas.iter_mut().find(|sla| &sla.code == code) else {
            if let Some(field) = monitoring_field {
                anyhow::bail!(
                    "[sla.\"{code}\"] {field}: only SLA.1 to SLA.5 are measured by monitoring"
                );
            }
            continue;
        };
        apply(sla, change).map_err(|e| anyhow::anyhow!("[sla.\"{code}\"] {e}"))?;
    }
    Ok(slas)
}

fn apply(sla: &mut MonitoredSla, change: &SlaOverride) -> anyhow::Result<()> {
    if change.target_seconds.is_some() {
        anyhow::bail!("target_seconds: SLA.1 to SLA.5 take target_percent or target_ms");
    }
    if change.pause_while_on_hold.is_some() {
        anyhow::bail!("pause_while_on_hold: applies to ticket SLAs only");
    }
    let current = match sla.measure {
        MonitoredMeasure::Availability { .. } => MonitoredKind::Availability,
        MonitoredMeasure::ResponseTime { .. } => MonitoredKind::ResponseTime,
    };
    let kind = change.kind.unwrap_or(current);
    if kind != current {
        // A change of kind starts from that kind's defaults: its target must be given.
        sla.measure = match kind {
            MonitoredKind::Availability => MonitoredMeasure::Availability {
                rules: AvailabilityRules::default(),
                target_percent: change.target_percent.ok_or_else(|| {
                    anyhow::anyhow!("target_percent: needed by an availability SLA")
                })?,
            },
            MonitoredKind::ResponseTime => MonitoredMeasure::ResponseTime {
                target_ms: change
                    .target_ms
                    .ok_or_else(|| anyhow::anyhow!("target_ms: needed by a response_time SLA"))?,
                statistic: Default::default(),
            },
        };
    }
    if let Some(commitment) = &change.commitment {
        anyhow::ensure!(
            (1..=300).contains(&commitment.chars().count()),
            "commitment: 1 to 300 characters"
        );
        sla.commitment = commitment.clone();
    }
    if let Some(systems) = &change.systems {
        anyhow::ensure!(!systems.is_empty(), "systems: at least one system");
        if let Some(bad) = systems.iter().find(|s| !is_system_code(s)) {
            anyhow::bail!("systems: `{bad}` is not a system code (letters, digits, - _ .)");
        }
        sla.systems = systems.clone();
    }
    if let Some(calendar) = &change.calendar {
        sla.calendar = calendar.clone();
    }
    match &mut sla.measure {
        MonitoredMeasure::Availability {
            rules,
            target_percent,
        } => {
            if let Some(field) = [
                (change.target_ms.is_some(), "target_ms"),
                (change.statistic.is_some(), "statistic"),
            ]
            .into_iter()
            .find_map(|(set, name)| set.then_some(name))
            {
                anyhow::bail!("{field}: applies to a response_time SLA, not availability");
            }
            if let Some(target) = change.target_percent {
                anyhow::ensure!(
                    target > 0.0 && target <= 100.0,
                    "target_percent: more than 0 and at most 100"
                );
                *target_percent = target;
            }
            if let Some(seconds) = change.min_outage_seconds {
                anyhow::ensure!(seconds >= 0, "min_outage_seconds: 0 or more");
                rules.min_outage_seconds = seconds;
            }
            rules.group = change.group.unwrap_or(rules.group);
            rules.maintenance = change.maintenance.unwrap_or(rules.maintenance);
            rules.unknown = change.unknown.unwrap_or(rules.unknown);
        }
        MonitoredMeasure::ResponseTime {
            target_ms,
            statistic,
        } => {
            if let Some(field) = [
                (change.target_percent.is_some(), "target_percent"),
                (change.group.is_some(), "group"),
                (change.min_outage_seconds.is_some(), "min_outage_seconds"),
                (change.maintenance.is_some(), "maintenance"),
                (change.unknown.is_some(), "unknown"),
            ]
            .into_iter()
            .find_map(|(set, name)| set.then_some(name))
            {
                anyhow::bail!("{field}: applies to an availability SLA, not response_time");
            }
            if let Some(target) = change.target_ms {
                anyhow::ensure!(target > 0.0 && target.is_finite(), "target_ms: more than 0");
                *target_ms = target;
            }
            *statistic = change.statistic.unwrap_or(*statistic);
        }
    }
    Ok(())
}

/// Whether `code` is one of the SLAs measured by monitoring.
pub fn is_monitored_code(code: &str) -> bool {
    MONITORED_CODES.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::availability::{GroupRule, MaintenanceRule};
    use crate::sla::response_time::Statistic;

    fn with(code: &str, toml: &str) -> Settings {
        let change: SlaOverride = toml_from(toml);
        let mut settings = Settings::default();
        settings.sla.insert(code.into(), change);
        settings
    }

    fn toml_from(text: &str) -> SlaOverride {
        use figment::providers::{Format, Toml};
        figment::Figment::from(Toml::string(text))
            .extract()
            .expect("a valid section")
    }

    #[test]
    fn the_defaults_are_the_2016_contract() {
        let slas = monitored_slas(&Settings::default()).unwrap();
        let codes: Vec<&str> = slas.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, MONITORED_CODES);
        assert_eq!(slas[0].systems, ["CSDB1", "CSDB2"]);
        let targets: Vec<String> = slas
            .iter()
            .map(|sla| match &sla.measure {
                MonitoredMeasure::Availability { target_percent, .. } => {
                    format!("{target_percent} %")
                }
                MonitoredMeasure::ResponseTime { target_ms, .. } => format!("{target_ms} ms"),
            })
            .collect();
        assert_eq!(targets, ["99 %", "98.5 %", "7 ms", "98.5 %", "98 %"]);
    }

    #[test]
    fn a_section_changes_its_sla() {
        let settings = with(
            "SLA.1",
            "kind = \"availability\"\nsystems = [\"DB1\", \"DB2\"]\ngroup = \"any\"\n\
             target_percent = 99.5\ncalendar = \"default\"\nmin_outage_seconds = 120\n\
             maintenance = \"up\"\nunknown = \"down\"\n",
        );
        let sla = &monitored_slas(&settings).unwrap()[0];
        assert_eq!(sla.systems, ["DB1", "DB2"]);
        assert_eq!(sla.calendar, "default");
        let MonitoredMeasure::Availability {
            rules,
            target_percent,
        } = &sla.measure
        else {
            panic!("availability expected");
        };
        assert_eq!(*target_percent, 99.5);
        assert_eq!(rules.group, GroupRule::Any);
        assert_eq!(rules.maintenance, MaintenanceRule::Up);
        assert_eq!(rules.min_outage_seconds, 120);
        let settings = with("SLA.3", "target_ms = 10\nstatistic = \"p95\"\n");
        assert_eq!(
            monitored_slas(&settings).unwrap()[2].measure,
            MonitoredMeasure::ResponseTime {
                target_ms: 10.0,
                statistic: Statistic::P95
            }
        );
    }

    #[test]
    fn a_field_of_the_wrong_kind_is_named() {
        for (code, toml, named) in [
            ("SLA.3", "target_percent = 99.0", "target_percent"),
            ("SLA.1", "statistic = \"max\"", "statistic"),
            ("SLA.1", "target_seconds = 60", "target_seconds"),
            ("SLA.7", "systems = [\"X\"]", "systems"),
            ("SLA.2", "target_percent = 101.0", "target_percent"),
            ("SLA.2", "systems = [\"a b\"]", "systems"),
            ("SLA.4", "kind = \"response_time\"", "target_ms"),
        ] {
            let error = monitored_slas(&with(code, toml)).unwrap_err().to_string();
            assert!(
                error.contains(code) && error.contains(named),
                "{code} {toml}: {error}"
            );
        }
    }
}
