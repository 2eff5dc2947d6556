//! The SLAs measured by monitoring (SLA.1–SLA.5) as data: which systems, which rule, which
//! target. The defaults describe the 2016 contract of SPEC §9.

use super::availability::{AvailabilityRules, GroupRule};
use super::response_time::Statistic;

/// What an SLA measured by monitoring compares with its target.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitoredMeasure {
    /// Uptime of a group of systems, in percent of the counted time.
    Availability {
        rules: AvailabilityRules,
        target_percent: f64,
    },
    /// A statistic of the response times of the systems' checks, in milliseconds.
    ResponseTime {
        target_ms: f64,
        statistic: Statistic,
    },
}

/// One SLA measured by monitoring.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoredSla {
    /// `SLA.1` … `SLA.5`.
    pub code: String,
    /// The commitment in the contract's words.
    pub commitment: String,
    /// The codes of the systems it watches.
    pub systems: Vec<String>,
    /// The calendar that counts availability (`24x7` unless configured).
    pub calendar: String,
    pub measure: MonitoredMeasure,
}

/// The codes of the SLAs measured by monitoring, in the order of the annual table.
pub const MONITORED_CODES: [&str; 5] = ["SLA.1", "SLA.2", "SLA.3", "SLA.4", "SLA.5"];

fn availability(code: &str, commitment: &str, systems: &[&str], target: f64) -> MonitoredSla {
    MonitoredSla {
        code: code.into(),
        commitment: commitment.into(),
        systems: systems.iter().map(|s| (*s).to_owned()).collect(),
        calendar: "24x7".into(),
        measure: MonitoredMeasure::Availability {
            rules: AvailabilityRules {
                group: GroupRule::All,
                ..AvailabilityRules::default()
            },
            target_percent: target,
        },
    }
}

/// SLA.1–SLA.5 as the 2016 contract states them (SPEC §9), on the systems `CSDB1`,
/// `CSDB2` (the database hosts), `ICMSCMF` (ICMS), `PORTALE` (the services portal, whose
/// unauthenticated page the Nagios wget check times) and `ACCESSO` (the public entrance).
pub fn default_monitored_slas() -> Vec<MonitoredSla> {
    vec![
        availability(
            "SLA.1",
            "Uptime dei sistemi di database (CSDB1 e CSDB2)",
            &["CSDB1", "CSDB2"],
            99.0,
        ),
        availability(
            "SLA.2",
            "Uptime del sistema ICMS (ICMSCMF)",
            &["ICMSCMF"],
            98.5,
        ),
        MonitoredSla {
            code: "SLA.3".into(),
            commitment: "Tempo massimo di risposta interno di un servizio campione senza \
                         autenticazione (Nagios wget)"
                .into(),
            systems: vec!["PORTALE".into()],
            calendar: "24x7".into(),
            measure: MonitoredMeasure::ResponseTime {
                target_ms: 7.0,
                statistic: Statistic::Max,
            },
        },
        availability(
            "SLA.4",
            "Uptime del portale dei servizi",
            &["PORTALE"],
            98.5,
        ),
        availability(
            "SLA.5",
            "Accessibilità complessiva del sistema",
            &["ACCESSO"],
            98.0,
        ),
    ]
}
