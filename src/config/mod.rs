//! Typed settings: defaults < optional TOML file < `HELPDESK_*` environment variables
//! (plus the conventional `DATABASE_URL`). Owns no behaviour beyond loading and checking.

mod access;
mod monitored;
pub use access::GroupRole;
pub use monitored::{MonitoredKind, is_monitored_code, is_system_code, monitored_slas};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything the service can be configured with. Field names are the TOML keys and,
/// upper-cased with a `HELPDESK_` prefix, the environment variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://PATH` (embedded, the default) or `postgres://…`.
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub bind: String,
    /// Requests per second per token (`0` turns rate limiting off).
    pub rate_limit_per_second: u32,
    /// Requests a token may burst above its steady rate.
    pub rate_limit_burst: u32,
    /// Database connections kept in the pool (default: twice the CPU cores, 4 to 32).
    pub db_pool_size: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest body of the batch endpoints (`/calendars/{name}/deadlines` and `/elapsed`,
    /// up to 10,000 items), in bytes.
    pub max_batch_body_bytes: usize,
    /// Seconds a request body may take to arrive in full (a slow sender is answered 408).
    pub request_body_timeout_seconds: u64,
    /// How far before its ticket's `reported_at` an `interruption_start` may be placed, in days.
    pub max_backdate_days: u32,
    /// SQLite `synchronous` pragma: `full` (a 2xx survives power loss) or `normal`
    /// (survives a process crash; faster).
    pub sqlite_synchronous: String,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// HTTP worker threads (0 = one per core).
    pub workers: usize,
    /// Share of an SLA target after which a running clock is "at risk" (0 to 1).
    pub sla_at_risk_share: f64,
    /// How often the clock watcher looks for clocks that crossed a threshold, in seconds.
    pub sla_watch_interval_seconds: u64,
    /// Municipality whose patron saint's day closes the default calendar.
    pub patron_saint: String,
    /// The Alertmanager label whose value is the system's code.
    pub monitoring_alert_label: String,
    /// How long a system's hard `down` lasts before it opens (or joins) a malfunction
    /// ticket, in seconds (0: at once).
    pub monitoring_ticket_after_seconds: u32,
    /// Per-SLA overrides, e.g. `[sla."SLA.7"] target_seconds = 14400`.
    pub sla: BTreeMap<String, SlaOverride>,
    /// Business calendars besides `default` and `24x7` (or a new `default`), e.g.
    /// `[calendars.ufficio]`; a definition given through the API wins over one given here.
    pub calendars: BTreeMap<String, crate::sla::CalendarDefinition>,
    /// How often an instance looks for calendar changes made on another instance, in seconds.
    pub calendar_reload_seconds: u64,
    /// SMTP server in lettre's URL form (`smtp://host:25`, `smtp://host:587?tls=required`,
    /// `smtps://user:pass@host`); empty: messages become `.eml` files in `outbox_dir`.
    pub smtp_url: Secret,
    /// Seconds an SMTP connection, command or reply may take.
    pub smtp_timeout_seconds: u64,
    /// Where messages are written as `.eml` files when no SMTP server is configured.
    pub outbox_dir: String,
    /// The sender of every message, e.g. `Helpdesk CST <helpdesk@cst.example.org>`; its domain
    /// also ends every `Message-ID`.
    pub mail_from: String,
    /// The centre's name as the messages sign it.
    pub centre_name: String,
    /// Where `notify_users` also e-mails the notice to the public: addresses separated by
    /// commas (empty: the notice is published on the public outputs only).
    pub public_notice_addresses: String,
    /// Whether the public outputs show each notice's ticket number.
    pub public_notices_show_number: bool,
    /// How long the public outputs are served from memory, in seconds (also their
    /// `Cache-Control: max-age`); `0` reads the database on every request.
    pub public_cache_seconds: u64,
    /// Requests per second per client address to the public outputs (`0`: no limit).
    pub public_rate_limit_per_second: u32,
    /// Where the public outputs are published, e.g. `https://stato.cst.example.org` (the
    /// feed's id and links); empty: the request's `Host`.
    pub public_base_url: String,
    /// How often the outbox worker looks for messages that are due, in milliseconds (it is
    /// also woken at once when an event writes one).
    pub outbox_poll_interval_ms: u64,
    /// Attempts after which an undeliverable message is marked `failed`.
    pub outbox_max_attempts: u32,
    /// Mail in: a resolved ticket the requester writes to within this many days is reopened;
    /// later, the message opens a new ticket that names it.
    pub reopen_window_days: u32,
    /// Mail in: the largest attachment kept, in bytes; a larger part is left out with a note.
    pub max_attachment_bytes: usize,
    /// Mail in: the largest message `POST /inbound/mail` takes, in bytes.
    pub max_inbound_mail_bytes: usize,
    /// Mail in: whether the sender of a new ticket gets an acknowledgement with its number.
    pub mail_acknowledgement: bool,
    /// Mail in: the most acknowledgements one address gets in an hour (a loop with an
    /// auto-responder, or a flood, stops there).
    pub auto_reply_per_sender_per_hour: u32,
    /// Mail in: the mailboxes to poll, comma-separated: `imaps://user:password@host:993/INBOX`
    /// (TLS), `imap://…?tls=required` (STARTTLS), plain `imap://` for a server on the same
    /// host. Empty: no polling.
    pub imap_url: Secret,
    /// Mail in: seconds between two polls of a mailbox.
    pub imap_poll_interval_seconds: u64,
    /// Months per malfunction-report period (1, 3, 6 or 12), aligned to the calendar year.
    pub report_cadence_months: u32,
    /// How long after a period ends its reports are sent, in minutes (late records land).
    pub report_send_delay_minutes: u64,
    /// The time zone whose local midnights bound report periods.
    pub report_time_zone: String,
    /// How often the report scheduler checks for a closed period, in seconds; `0` turns the
    /// scheduler off (reports are then sent on request only).
    pub report_check_interval_seconds: u64,
    /// The first day (`YYYY-MM-DD`, local to `report_time_zone`) whose periods the scheduler
    /// catches up on: it delivers every closed period an agency lacks since the later of
    /// this and the agency's creation. Unset: since the agency's creation.
    pub report_catch_up_from: Option<String>,
    /// SLA.11 in the contract: a report every this many months (the compliance table's
    /// expected cadence).
    pub report_contract_months: u32,
    /// Share of each ticket SLA's clocks expected to be met (the compliance table's ATTESO).
    pub sla_expected_share: f64,
    /// How long an `Idempotency-Key` is remembered, in hours: the same key sent later opens
    /// a new ticket. Older keys are swept hourly.
    pub idempotency_key_hours: u32,
    /// Whether `GET /metrics` answers without a token to a caller on the same host (a
    /// Prometheus beside the service). Turn it off behind a reverse proxy on the same host,
    /// whose requests all come from loopback; a `metrics` role token always works.
    pub metrics_from_loopback: bool,
    /// How long an instance trusts a token it looked up, in seconds: a token revoked, expired
    /// or of a user deactivated on another instance is refused here within this time (on the
    /// instance that made the change, at once).
    pub token_cache_seconds: u64,
    /// The longest a new token may live, in days; a token asked for without an expiry gets
    /// this one. Unset: tokens live until revoked.
    pub token_max_days: Option<u32>,
    /// The OpenID Connect issuer whose JWTs are accepted as bearer tokens (its discovery
    /// document is `{issuer}/.well-known/openid-configuration`). Empty: sign-in by the
    /// helpdesk's own tokens only.
    pub oidc_issuer: String,
    /// The audience the JWTs must name (`aud`): the helpdesk's client id at the provider.
    pub oidc_audience: String,
    /// The claim that names the person, matched against a user's `oidc_subject`.
    pub oidc_identity_claim: String,
    /// The claim listing the person's groups, for `oidc_group_roles`. Empty: no groups.
    pub oidc_groups_claim: String,
    /// Groups that make a person a user without an admin linking them, e.g.
    /// `"helpdesk-l1" = { role = "agent", level = 1 }`.
    pub oidc_group_roles: BTreeMap<String, GroupRole>,
    /// The clock skew allowed on a JWT's `exp`, `nbf` and `iat`, in seconds.
    pub oidc_leeway_seconds: u64,
    /// A JWT naming a key the cached key set lacks makes the service fetch the provider's
    /// keys again, at most once per this many seconds (made-up keys cannot flood it).
    pub oidc_jwks_refetch_seconds: u64,
}

/// A setting that may hold a password: `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// Changes to one SLA: a ticket SLA (SLA.6–SLA.10: `target_seconds`, `calendar`,
/// `pause_while_on_hold`) or one measured by monitoring (SLA.1–SLA.5: `kind`, `systems`, and
/// the fields of its kind).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaOverride {
    pub target_seconds: Option<i64>,
    /// Any calendar: `default`, `24x7`, or one defined in the file or through the API.
    pub calendar: Option<String>,
    pub pause_while_on_hold: Option<bool>,
    /// SLA.1–SLA.5: `availability` or `response_time`.
    pub kind: Option<MonitoredKind>,
    /// SLA.1–SLA.5: the commitment as the table writes it.
    pub commitment: Option<String>,
    /// SLA.1–SLA.5: the codes of the systems measured.
    pub systems: Option<Vec<String>>,
    /// Availability: `all` or `any`.
    pub group: Option<crate::sla::availability::GroupRule>,
    /// Availability: the expected uptime in percent, e.g. `99.0`.
    pub target_percent: Option<f64>,
    /// Availability: a member's down stretch shorter than this counts as up.
    pub min_outage_seconds: Option<i64>,
    /// Availability: `exclude` or `up`.
    pub maintenance: Option<crate::sla::availability::MaintenanceRule>,
    /// Availability: `exclude` or `down`.
    pub unknown: Option<crate::sla::availability::UnknownRule>,
    /// Response time: the target in milliseconds.
    pub target_ms: Option<f64>,
    /// Response time: `max`, `p95`, `p99` or `mean`.
    pub statistic: Option<crate::sla::response_time::Statistic>,
}

/// Twice the CPU cores, at least 4 and at most 32: more connections than that only make
/// PostgreSQL's backends, the service's own threads and the clients take turns on the cores,
/// and the slowest requests wait for them (on 2 cores, 16 connections gave `GET /tickets/{id}`
/// a p99 of 190–300 ms, 4 gave 9–13 ms at the same rate; docs/performance.md). The ceiling
/// keeps a large host well below PostgreSQL's default `max_connections` (100).
fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
    (cores * 2).clamp(4, 32) as u32
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://helpdesk.db".into(),
            bind: "127.0.0.1:8080".into(),
            rate_limit_per_second: 2000,
            rate_limit_burst: 4000,
            db_pool_size: default_pool_size(),
            max_body_bytes: 256 * 1024,
            max_batch_body_bytes: 4 * 1024 * 1024,
            request_body_timeout_seconds: 30,
            max_backdate_days: 30,
            sqlite_synchronous: "full".into(),
            log_format: "text".into(),
            workers: 0,
            sla_at_risk_share: 0.75,
            sla_watch_interval_seconds: 30,
            patron_saint: "firenze".into(),
            monitoring_alert_label: "system".into(),
            monitoring_ticket_after_seconds: 0,
            sla: BTreeMap::new(),
            calendars: BTreeMap::new(),
            calendar_reload_seconds: 60,
            smtp_url: Secret::default(),
            smtp_timeout_seconds: 30,
            outbox_dir: "outbox".into(),
            mail_from: "Helpdesk <helpdesk@localhost>".into(),
            centre_name: "Centro Servizi Territoriale".into(),
            public_notice_addresses: String::new(),
            public_notices_show_number: false,
            public_cache_seconds: 5,
            public_rate_limit_per_second: 100,
            public_base_url: String::new(),
            outbox_poll_interval_ms: 2000,
            outbox_max_attempts: 12,
            reopen_window_days: 14,
            max_attachment_bytes: 10 * 1024 * 1024,
            max_inbound_mail_bytes: 64 * 1024 * 1024,
            mail_acknowledgement: true,
            auto_reply_per_sender_per_hour: 5,
            imap_url: Secret::default(),
            imap_poll_interval_seconds: 30,
            report_cadence_months: 3,
            report_send_delay_minutes: 60,
            report_time_zone: "Europe/Rome".into(),
            report_check_interval_seconds: 300,
            report_catch_up_from: None,
            report_contract_months: 6,
            sla_expected_share: 1.0,
            idempotency_key_hours: 24,
            metrics_from_loopback: true,
            token_cache_seconds: 60,
            token_max_days: None,
            oidc_issuer: String::new(),
            oidc_audience: String::new(),
            oidc_identity_claim: "sub".into(),
            oidc_groups_claim: String::new(),
            oidc_group_roles: BTreeMap::new(),
            oidc_leeway_seconds: 60,
            oidc_jwks_refetch_seconds: 10,
        }
    }
}

impl Settings {
    /// Loads settings from the defaults, the TOML file if it exists, and the environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
        let file = match config_file {
            Some(path) => {
                anyhow::ensure!(path.is_file(), "no settings file at {}", path.display());
                path
            }
            None => Path::new("helpdesk.toml"),
        };
        if file.is_file() {
            check_known_keys(file)?;
        }
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("HELPDESK_").ignore(&["CONFIG"]))
            .extract()?;
        settings.check()?;
        Ok(settings)
    }

    /// The settings' names, as the TOML file writes them.
    fn known_keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            matches!(self.sqlite_synchronous.as_str(), "full" | "normal"),
            "sqlite_synchronous must be `full` or `normal`, not `{}`",
            self.sqlite_synchronous
        );
        anyhow::ensure!(
            matches!(self.log_format.as_str(), "text" | "json"),
            "log_format must be `text` or `json`, not `{}`",
            self.log_format
        );
        anyhow::ensure!(self.db_pool_size > 0, "db_pool_size must be at least 1");
        anyhow::ensure!(
            (1..=8760).contains(&self.idempotency_key_hours),
            "idempotency_key_hours must be between 1 and 8760 (a year)"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.sla_at_risk_share),
            "sla_at_risk_share must be between 0 and 1"
        );
        anyhow::ensure!(
            self.sla_watch_interval_seconds > 0,
            "sla_watch_interval_seconds must be at least 1"
        );
        anyhow::ensure!(
            self.max_body_bytes >= 1024,
            "max_body_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.max_batch_body_bytes >= self.max_body_bytes,
            "max_batch_body_bytes must be at least max_body_bytes"
        );
        anyhow::ensure!(
            self.max_backdate_days <= 3650,
            "max_backdate_days must be at most 3650 (ten years)"
        );
        anyhow::ensure!(
            self.calendar_reload_seconds >= 1,
            "calendar_reload_seconds must be at least 1"
        );
        crate::calendars::configured_calendars(self)?;
        monitored_slas(self)?;
        anyhow::ensure!(
            self.request_body_timeout_seconds >= 1,
            "request_body_timeout_seconds must be at least 1"
        );
        anyhow::ensure!(
            self.outbox_poll_interval_ms >= 10,
            "outbox_poll_interval_ms must be at least 10"
        );
        anyhow::ensure!(
            self.max_inbound_mail_bytes >= 1024,
            "max_inbound_mail_bytes must be at least 1024"
        );
        anyhow::ensure!(
            self.imap_poll_interval_seconds >= 1,
            "imap_poll_interval_seconds must be at least 1"
        );
        crate::mail::imap_url::parse_mailboxes(self.imap_url.expose())?;
        anyhow::ensure!(
            self.reopen_window_days <= 3650,
            "reopen_window_days must be at most 3650 (ten years)"
        );
        anyhow::ensure!(
            self.outbox_max_attempts >= 1,
            "outbox_max_attempts must be at least 1"
        );
        anyhow::ensure!(
            self.smtp_timeout_seconds >= 1,
            "smtp_timeout_seconds must be at least 1"
        );
        anyhow::ensure!(
            crate::reports::period::CADENCES.contains(&self.report_cadence_months),
            "report_cadence_months must be 1, 3, 6 or 12"
        );
        anyhow::ensure!(
            self.report_contract_months >= 1,
            "report_contract_months must be at least 1"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&self.sla_expected_share),
            "sla_expected_share must be between 0 and 1"
        );
        anyhow::ensure!(
            self.public_cache_seconds <= 3600,
            "public_cache_seconds must be at most 3600"
        );
        anyhow::ensure!(
            self.public_base_url.is_empty()
                || ((self.public_base_url.starts_with("https://")
                    || self.public_base_url.starts_with("http://"))
                    && !self.public_base_url.ends_with('/')
                    && !self.public_base_url.contains(char::is_whitespace)),
            "public_base_url must be an http:// or https:// URL without a trailing slash, \
             like https://stato.example.org"
        );
        self.check_access()?;
        self.report_zone()?;
        self.report_catch_up_instant()?;
        Ok(())
    }
}

impl Settings {
    /// `report_time_zone` as a zone.
    pub fn report_zone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.report_time_zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "report_time_zone `{}` is not a time zone like Europe/Rome",
                self.report_time_zone
            )
        })
    }

    /// `report_catch_up_from` as the instant its local day begins.
    pub fn report_catch_up_instant(&self) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
        let Some(text) = self.report_catch_up_from.as_deref() else {
            return Ok(None);
        };
        let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|day| (1970..=9998).contains(&chrono::Datelike::year(day)))
            .ok_or_else(|| {
                anyhow::anyhow!("report_catch_up_from `{text}` is not a date like 2016-07-01")
            })?;
        crate::domain::time::local_midnight(self.report_zone()?, day)
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("report_catch_up_from `{text}` has no local midnight"))
    }

    /// What events may claim.
    pub fn event_rules(&self) -> crate::domain::lifecycle::EventRules {
        crate::domain::lifecycle::EventRules {
            max_backdate: chrono::Duration::days(i64::from(self.max_backdate_days)),
        }
    }

    /// What the SLA compliance table compares against.
    pub fn expectations(&self) -> crate::reports::load::Expectations {
        crate::reports::load::Expectations {
            share: self.sla_expected_share,
            report_months: i64::from(self.report_contract_months),
        }
    }
}

/// A misspelt key in the file would otherwise be ignored silently.
fn check_known_keys(file: &Path) -> anyhow::Result<()> {
    let keys: figment::value::Dict = Figment::from(Toml::file(file)).extract()?;
    let known = Settings::known_keys();
    let unknown: Vec<&String> = keys.keys().filter(|key| !known.contains(key)).collect();
    anyhow::ensure!(
        unknown.is_empty(),
        "{}: unknown setting(s) {:?}; known: {}",
        file.display(),
        unknown,
        known.join(", ")
    );
    Ok(())
}

#[cfg(test)]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closures must return figment::Error"
)]
mod tests {
    use super::*;

    #[test]
    fn environment_beats_file_which_beats_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "helpdesk.toml",
                "bind = \"0.0.0.0:9000\"\nrate_limit_per_second = 5\n",
            )?;
            jail.set_env("HELPDESK_RATE_LIMIT_PER_SECOND", "7");
            jail.set_env("DATABASE_URL", "postgres://db.example/helpdesk");
            let settings = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(settings.bind, "0.0.0.0:9000");
            assert_eq!(settings.rate_limit_per_second, 7);
            assert_eq!(settings.database_url, "postgres://db.example/helpdesk");
            assert_eq!(settings.db_pool_size, Settings::default().db_pool_size);
            Ok(())
        });
    }

    #[test]
    fn a_misspelt_key_or_a_missing_file_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("helpdesk.toml", "bnd = \"0.0.0.0:1\"\n")?;
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("bnd"), "{error}");
            assert!(Settings::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("HELPDESK_SQLITE_SYNCHRONOUS", "sometimes");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("sqlite_synchronous"), "{error}");
            jail.set_env("HELPDESK_SQLITE_SYNCHRONOUS", "full");
            jail.set_env("HELPDESK_RATE_LIMIT_PER_SECOND", "lots");
            let error = format!("{:#}", Settings::load(None).unwrap_err());
            assert!(
                error.to_lowercase().contains("rate_limit_per_second"),
                "{error}"
            );
            Ok(())
        });
    }
}
