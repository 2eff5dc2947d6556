//! Nagios and Icinga archive logs (`nagios.log`, `icinga.log`, the rotated
//! `archives/nagios-MM-DD-YYYY-HH.log`) read into the monitor's history: `HOST ALERT`,
//! `SERVICE ALERT`, `CURRENT HOST STATE` / `CURRENT SERVICE STATE` (written at every
//! rotation, so a file read alone knows the states in force) and `HOST DOWNTIME ALERT` /
//! `SERVICE DOWNTIME ALERT` (`STARTED`, then `STOPPED` or `CANCELLED`). A mapping names the
//! system of a host (`csdb1`) or of a service (`portale;HTTP`); other lines are skipped.
//! Pure: lines in, states and windows out.

use super::formats::parse_state;
use crate::sla::availability::HealthState;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// One state a log line reports.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedState {
    pub system: String,
    pub at: DateTime<Utc>,
    pub state: HealthState,
    pub hard: bool,
    pub output: Option<String>,
}

/// One maintenance window the log's downtime alerts bound.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedDowntime {
    pub system: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the lines fed so far gave.
#[derive(Debug, Default)]
pub struct NagiosLog {
    /// `host` or `host;service` → system code.
    mapping: BTreeMap<String, String>,
    pub states: Vec<LoggedState>,
    pub downtimes: Vec<LoggedDowntime>,
    /// Downtimes started and not yet stopped, by system.
    open_downtimes: BTreeMap<String, DateTime<Utc>>,
    pub lines: u64,
    /// Lines of a known kind whose host or service no mapping names.
    pub unmapped: u64,
    /// Lines that are not alerts, states or downtimes (notifications, external commands…).
    pub skipped: u64,
    /// Lines that look like entries of a known kind but cannot be read.
    pub malformed: u64,
}

/// Parses `host=SYSTEM` or `host;service=SYSTEM`.
pub fn parse_mapping(text: &str) -> Option<(String, String)> {
    let (key, system) = text.rsplit_once('=')?;
    let (key, system) = (key.trim(), system.trim());
    (!key.is_empty() && crate::config::is_system_code(system))
        .then(|| (key.to_owned(), system.to_owned()))
}

impl NagiosLog {
    pub fn new(mapping: BTreeMap<String, String>) -> NagiosLog {
        NagiosLog {
            mapping,
            ..NagiosLog::default()
        }
    }

    /// Reads one line.
    pub fn feed(&mut self, line: &str) {
        self.lines += 1;
        let Some((at, entry)) = split_entry(line) else {
            self.skipped += 1;
            return;
        };
        let Some((kind, fields)) = entry.split_once(": ") else {
            self.skipped += 1;
            return;
        };
        // (key fields, state index, type index, output index): the output, last, may hold
        // semicolons of its own.
        let (keys, state_at, type_at, output_at) = match kind {
            "HOST ALERT" | "CURRENT HOST STATE" => (1, 1, 2, 4),
            "SERVICE ALERT" | "CURRENT SERVICE STATE" => (2, 2, 3, 5),
            "HOST DOWNTIME ALERT" | "SERVICE DOWNTIME ALERT" => {
                let keys = if kind.starts_with("HOST") { 1 } else { 2 };
                let fields: Vec<&str> = fields.splitn(keys + 2, ';').collect();
                return self.downtime(at, &fields, keys);
            }
            _ => {
                self.skipped += 1;
                return;
            }
        };
        let fields: Vec<&str> = fields.splitn(output_at + 1, ';').collect();
        if fields.len() <= type_at {
            self.malformed += 1;
            return;
        }
        let Some(system) = self.system_of(&fields[..keys]) else {
            self.unmapped += 1;
            return;
        };
        let (Some(state), Some(hard)) = (
            parse_state(fields[state_at]),
            super::formats::parse_state_type(fields[type_at]),
        ) else {
            self.malformed += 1;
            return;
        };
        self.states.push(LoggedState {
            system,
            at,
            state,
            hard,
            output: fields
                .get(output_at)
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty()),
        });
    }

    fn system_of(&self, keys: &[&str]) -> Option<String> {
        self.mapping.get(&keys.join(";")).cloned()
    }

    fn downtime(&mut self, at: DateTime<Utc>, fields: &[&str], keys: usize) {
        if fields.len() <= keys {
            self.malformed += 1;
            return;
        }
        let Some(system) = self.system_of(&fields[..keys]) else {
            self.unmapped += 1;
            return;
        };
        match fields[keys].trim() {
            "STARTED" => {
                self.open_downtimes.entry(system).or_insert(at);
            }
            "STOPPED" | "CANCELLED" => {
                if let Some(start) = self.open_downtimes.remove(&system)
                    && start < at
                {
                    self.downtimes.push(LoggedDowntime {
                        system,
                        start,
                        end: at,
                    });
                }
            }
            _ => self.malformed += 1,
        }
    }

    /// Downtimes still open when the log ends (kept open: their end is in a later file).
    pub fn open_downtimes(&self) -> usize {
        self.open_downtimes.len()
    }
}

/// `[1466695800] HOST ALERT: …` → (the instant, `HOST ALERT: …`).
fn split_entry(line: &str) -> Option<(DateTime<Utc>, &str)> {
    let rest = line.strip_prefix('[')?;
    let (epoch, entry) = rest.split_once("] ")?;
    let at = DateTime::from_timestamp(epoch.parse().ok()?, 0)?;
    Some((at, entry.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> NagiosLog {
        NagiosLog::new(
            [
                ("csdb1".to_owned(), "CSDB1".to_owned()),
                ("portale;HTTP".to_owned(), "PORTALE".to_owned()),
            ]
            .into_iter()
            .collect(),
        )
    }

    #[test]
    fn alerts_states_and_downtimes_are_read() {
        let mut log = log();
        for line in [
            "[1451606400] CURRENT HOST STATE: csdb1;UP;HARD;1;PING OK - Packet loss = 0%",
            "[1451606400] CURRENT SERVICE STATE: portale;HTTP;OK;HARD;1;HTTP OK: 200",
            "[1451646000] HOST ALERT: csdb1;DOWN;SOFT;1;PING CRITICAL - Packet loss = 100%",
            "[1451646060] HOST ALERT: csdb1;DOWN;HARD;3;PING CRITICAL - Packet loss = 100%",
            "[1451649600] HOST ALERT: csdb1;UP;HARD;1;PING OK - Packet loss = 0%",
            "[1451653200] SERVICE ALERT: portale;HTTP;CRITICAL;HARD;3;CRITICAL - Socket timeout",
            "[1451654000] SERVICE ALERT: portale;HTTP;OK;HARD;1;HTTP OK; 200; 0.007 s",
            "[1451656800] HOST DOWNTIME ALERT: csdb1;STARTED; Host has entered a period of scheduled downtime",
            "[1451660400] HOST DOWNTIME ALERT: csdb1;STOPPED; Host has exited from a period of scheduled downtime",
            "[1451660400] SERVICE ALERT: other;HTTP;CRITICAL;HARD;3;CRITICAL",
            "[1451660401] HOST NOTIFICATION: admin;csdb1;DOWN;notify-host-by-email;PING CRITICAL",
            "[1451660402] HOST ALERT: csdb1;SIDEWAYS;HARD;1;?",
        ] {
            log.feed(line);
        }
        assert_eq!(log.states.len(), 7);
        assert_eq!(log.states[2].state, HealthState::Down);
        assert!(!log.states[2].hard);
        assert_eq!(log.states[5].system, "PORTALE");
        assert_eq!(
            log.states[6].output.as_deref(),
            Some("HTTP OK; 200; 0.007 s")
        );
        assert_eq!(log.downtimes.len(), 1);
        assert_eq!(log.downtimes[0].end.timestamp(), 1451660400);
        assert_eq!((log.unmapped, log.skipped, log.malformed), (1, 1, 1));
        assert_eq!(
            parse_mapping("portale;HTTP=PORTALE").unwrap().0,
            "portale;HTTP"
        );
        assert!(parse_mapping("csdb1=").is_none());
    }
}
