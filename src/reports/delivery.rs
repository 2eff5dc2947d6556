//! Delivering a malfunction report (SLA.11) to an agency: the report, as Italian text, HTML
//! and a CSV attachment, written to the outbox with its delivery row in one transaction.
//! Each (agency, period) goes out once; a deliberate resend is the next edition.

use super::load;
use super::period::ReportPeriod;
use crate::db::deliveries::{Delivery, NewDelivery, insert_delivery, latest_edition};
use crate::db::outbox::enqueue;
use crate::db::{DbConnection, StoreError, is_unique_violation, write_transaction};
use crate::domain::ticket::Agency;
use crate::mail::compose::Content;
use crate::mail::{Attachment, MailSettings, OutgoingMail, compose};
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Who asked for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    Request,
    Cli,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Request => "request",
            Trigger::Cli => "cli",
        }
    }
}

/// What happened to one agency's report.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Written to the outbox now.
    Delivered(Delivery),
    /// Delivered before (and no resend was asked for): nothing is sent.
    AlreadyDelivered(Delivery),
    /// The agency has no contact address: nothing can be sent.
    NoContacts,
}

/// Who asks, and whether a report delivered before should go out again.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub trigger: Trigger,
    pub requested_by: Option<Uuid>,
    pub resend: bool,
}

/// The configuration a delivery needs.
#[derive(Debug, Clone, Copy)]
pub struct Deliverer<'a> {
    pub engine: &'a SlaEngine,
    pub mail: &'a MailSettings,
}

impl Deliverer<'_> {
    /// Delivers `agency`'s report for `period`, unless it was delivered before and the
    /// request is not a resend.
    pub fn deliver(
        &self,
        conn: &mut DbConnection,
        agency: &Agency,
        period: &ReportPeriod,
        request: Request,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let Request {
            trigger,
            requested_by,
            resend,
        } = request;
        let attempt = write_transaction(conn, |conn| {
            let latest = latest_edition(conn, agency.id, period.from, period.to)?;
            if let Some(latest) = latest.clone().filter(|_| !resend) {
                return Ok(Outcome::AlreadyDelivered(latest));
            }
            if agency.contacts.is_empty() {
                return Ok(Outcome::NoContacts);
            }
            let report =
                load::malfunctions(conn, self.engine, Some(agency), period.from, period.to, now)?;
            let mail = self.compose(agency, period, &report, now)?;
            let delivery = NewDelivery {
                id: Uuid::now_v7(),
                agency_id: agency.id,
                period: period.label.clone(),
                period_from: period.from,
                period_to: period.to,
                edition: latest.map_or(1, |d| d.edition + 1),
                trigger: trigger.as_str(),
                requested_by,
                interruptions: i32::try_from(report.rows.len()).unwrap_or(i32::MAX),
                outbox_id: mail.id,
            };
            enqueue(conn, std::slice::from_ref(&mail), now)?;
            insert_delivery(conn, &delivery, now)?;
            let stored = latest_edition(conn, agency.id, period.from, period.to)?
                .ok_or(StoreError::NotFound("delivery"))?;
            Ok(Outcome::Delivered(stored))
        });
        match attempt {
            // Another instance (or request) delivered the same edition first.
            Err(StoreError::Db(ref e)) if is_unique_violation(e) => {
                match latest_edition(conn, agency.id, period.from, period.to)? {
                    Some(delivery) => Ok(Outcome::AlreadyDelivered(delivery)),
                    None => attempt,
                }
            }
            other => other,
        }
    }

    fn compose(
        &self,
        agency: &Agency,
        period: &ReportPeriod,
        report: &super::malfunctions::MalfunctionReport,
        now: DateTime<Utc>,
    ) -> Result<OutgoingMail, StoreError> {
        let failed = |e: String| StoreError::Corrupt(format!("composing the report: {e}"));
        let centre = &self.mail.centre_name;
        let text = report.to_text(centre).map_err(failed)?;
        let html = report.to_html(centre).map_err(failed)?;
        let subject = format!(
            "Report malfunzionamenti {} - {} ({} {})",
            period.label,
            agency.name,
            report.totals.interruptions,
            if report.totals.interruptions == 1 {
                "interruzione"
            } else {
                "interruzioni"
            }
        );
        let attachment = Attachment {
            filename: format!("malfunzionamenti-{}-{}.csv", agency.code, period.label)
                .replace(['/', ' '], "_"),
            content_type: "text/csv; charset=utf-8".into(),
            body: report.to_csv().into_bytes(),
        };
        let id = Uuid::now_v7();
        let content = Content {
            recipients: &agency.contacts,
            subject: &subject,
            text: &text,
            html: &html,
            attachments: std::slice::from_ref(&attachment),
            ..Content::default()
        };
        let (message_id, message) = compose(self.mail, id, &content, now).map_err(failed)?;
        Ok(OutgoingMail {
            id,
            kind: "malfunction_report".into(),
            ticket_id: None,
            event_id: None,
            agency_id: Some(agency.id),
            sender: self.mail.from.email.to_string(),
            recipients: agency.contacts.clone(),
            subject,
            message_id,
            message,
        })
    }
}
