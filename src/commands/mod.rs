//! What the `helpdesk report …` commands do, for operators and cron: the reports in any
//! format, and sending a period's malfunction reports. The binary parses and prints; this
//! does the work (and is what the tests call). `users` does the same for users and tokens;
//! `mailgate` hands a piped message to the service.

pub mod mailgate;
pub mod users;

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::domain::ticket::Agency;
use crate::reports::delivery::{Deliverer, Outcome, Request, Trigger};
use crate::reports::period::parse_period;
use chrono::{DateTime, Utc};

/// The formats a report can be printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Html,
    Text,
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportKind {
    Sla,
    Availability,
    Malfunctions,
    StatusByLevel,
}

pub use crate::reports::period::parse_instant_or_date;

/// A report to print.
#[derive(Debug, Clone, Copy)]
pub struct ReportRequest<'a> {
    pub kind: ReportKind,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub agency: Option<&'a Agency>,
    pub format: Format,
}

/// An agency by id or by code.
pub fn find_agency(pool: &Pool, key: &str) -> anyhow::Result<Agency> {
    let mut conn = pool.get()?;
    let agencies = db::agencies::list_agencies(&mut conn)?;
    agencies
        .into_iter()
        .find(|a| a.id.to_string() == key || a.code.eq_ignore_ascii_case(key))
        .ok_or_else(|| anyhow::anyhow!("no agency with id or code `{key}`"))
}

/// The report for `[from, to)` (of `agency`) at `now`, rendered.
pub fn report(
    settings: &Settings,
    pool: &Pool,
    request: ReportRequest,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let ReportRequest {
        kind,
        from,
        to,
        agency,
        format,
    } = request;
    anyhow::ensure!(from <= to, "--to must not be before --from");
    let engine = engine(settings, pool)?;
    let mut conn = pool.get()?;
    let centre = &settings.centre_name;
    let text = match kind {
        ReportKind::Sla => {
            let report = crate::reports::load::sla_compliance(
                &mut conn,
                &engine,
                settings.expectations(),
                from,
                to,
                agency.map(|a| a.id),
                now,
            )?;
            match format {
                Format::Json => serde_json::to_string_pretty(&report)?,
                Format::Csv => report.to_csv(),
                Format::Html => report
                    .to_html(centre, agency.map(|a| a.name.as_str()))
                    .map_err(anyhow::Error::msg)?,
                Format::Text => report.to_text(),
            }
        }
        ReportKind::Malfunctions => {
            let report =
                crate::reports::load::malfunctions(&mut conn, &engine, agency, from, to, now)?;
            match format {
                Format::Json => serde_json::to_string_pretty(&report)?,
                Format::Csv => report.to_csv(),
                Format::Html => report.to_html(centre).map_err(anyhow::Error::msg)?,
                Format::Text => report.to_text(centre).map_err(anyhow::Error::msg)?,
            }
        }
        ReportKind::Availability => {
            // Systems belong to no single agency: an agency's report lists those of its
            // services.
            let systems: Vec<_> = db::systems::list_systems(&mut conn)?
                .into_iter()
                .filter(|s| agency.is_none_or(|a| s.agency_ids.contains(&a.id)))
                .collect();
            let report = crate::reports::availability::availability_report(
                &mut conn, &engine, &systems, from, to, now,
            )?;
            match format {
                Format::Json => serde_json::to_string_pretty(&report)?,
                Format::Csv => report.to_csv(),
                Format::Html => report.to_html(centre).map_err(anyhow::Error::msg)?,
                Format::Text => report.to_text(),
            }
        }
        ReportKind::StatusByLevel => {
            let counts =
                db::summary::count_by_status_and_level(&mut conn, from, to, agency.map(|a| a.id))?;
            let summary = crate::reports::status_by_level::StatusByLevel::from_counts(&counts)
                .map_err(anyhow::Error::msg)?;
            match format {
                Format::Json => serde_json::to_string_pretty(&summary)?,
                Format::Csv => summary.to_csv(),
                Format::Html | Format::Text => summary.to_text(),
            }
        }
    };
    Ok(if text.ends_with('\n') {
        text
    } else {
        text + "\n"
    })
}

/// Sends `period`'s malfunction reports (to `agencies`, default all) through the outbox;
/// returns one line per agency saying what happened. The running service's outbox worker
/// (or the next `serve`) delivers them.
pub fn send(
    settings: &Settings,
    pool: &Pool,
    period: &str,
    agencies: &[Agency],
    resend: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let period = parse_period(settings.report_zone()?, period).map_err(anyhow::Error::msg)?;
    let engine = engine(settings, pool)?;
    let mail = crate::mail::MailSettings::from_settings(settings)?;
    let deliverer = Deliverer {
        engine: &engine,
        mail: &mail,
    };
    let mut conn = pool.get()?;
    let agencies = if agencies.is_empty() {
        db::agencies::list_agencies(&mut conn)?
    } else {
        agencies.to_vec()
    };
    let request = Request {
        trigger: Trigger::Cli,
        requested_by: None,
        resend,
    };
    let mut lines = String::new();
    for agency in agencies {
        let line = match deliverer.deliver(&mut conn, &agency, &period, request, now)? {
            Outcome::Delivered(d) => format!(
                "{}\tdelivered\tedition {}, {} interruption(s), outbox {}",
                agency.code,
                d.edition,
                d.interruptions,
                d.outbox_id.map(|id| id.to_string()).unwrap_or_default()
            ),
            Outcome::AlreadyDelivered(d) => format!(
                "{}\talready delivered\tedition {} on {} (--resend to send again)",
                agency.code,
                d.edition,
                d.created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Outcome::NoContacts => format!(
                "{}\tnot sent\tthe agency has no contact address",
                agency.code
            ),
        };
        lines.push_str(&line);
        lines.push('\n');
    }
    Ok(lines)
}

/// The engine as the calendars are stored. A report only reads: it does not record this
/// command's configuration as the calendars' (that is `serve`'s to do).
fn engine(settings: &Settings, pool: &Pool) -> Result<crate::sla::SlaEngine, anyhow::Error> {
    let stored = db::calendars::load_calendars(&mut *pool.get()?)
        .map_err(|e: db::StoreError| anyhow::anyhow!(e))?;
    crate::calendars::build_engine(settings, &stored)
}
