//! What `notify_agency` and `notify_users` send: one message to each affected agency's
//! contacts, or one to the public-notice addresses (when configured), in Italian, with the
//! agent's message and the malfunction's facts. Pure: the caller loads the agencies and
//! stores the result.

use super::MailSettings;
use super::compose::{Content, OutgoingMail, compose};
use crate::domain::ticket::{Agency, Ticket, TicketEvent};
use crate::domain::{Action, FieldError, Invalid};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// The facts every notice repeats.
#[derive(Debug, Serialize)]
struct Facts<'a> {
    centre_name: &'a str,
    number: &'a str,
    subject: &'a str,
    services: &'a [String],
    message: &'a str,
    interruption_started: Option<String>,
    interruption_ended: Option<String>,
    intervention_started: Option<String>,
    time_zone: &'a str,
    title: String,
    agency_name: Option<&'a str>,
}

/// The messages `event` (a `notify_agency`) sends: one per affected agency, to its contacts.
/// `agencies` are the ticket's affected agencies; each must have a contact.
pub fn agency_notices(
    settings: &MailSettings,
    ticket: &Ticket,
    history: &[TicketEvent],
    event: &TicketEvent,
    agencies: &[Agency],
) -> Result<Vec<OutgoingMail>, Invalid> {
    if agencies.is_empty() {
        return Err(Invalid::one(
            "affected_agency_ids",
            "the ticket names no affected agency to notify: set `affected_agency_ids` with \
             PATCH /tickets/{id} first",
        ));
    }
    let silent: Vec<FieldError> = agencies
        .iter()
        .enumerate()
        .filter(|(_, agency)| agency.contacts.is_empty())
        .map(|(index, agency)| {
            FieldError::new(
                format!("affected_agency_ids[{index}]"),
                format!(
                    "agency {} has no contact address: add `contacts` with PATCH /agencies/{}",
                    agency.code, agency.id
                ),
            )
        })
        .collect();
    if !silent.is_empty() {
        return Err(Invalid(silent));
    }
    let mut mails = Vec::new();
    for agency in agencies {
        let mut facts = facts(settings, ticket, history, event);
        facts.agency_name = Some(&agency.name);
        facts.title = format!("Interruzione del servizio: {}", services_phrase(ticket));
        let subject = format!("[{}] {}", ticket.number, facts.title);
        mails.push(message(
            settings,
            "notify_agency",
            &facts,
            &subject,
            &agency.contacts,
            ticket,
            event,
            Some(agency.id),
        )?);
    }
    Ok(mails)
}

/// The message `event` (a `notify_users`) sends to the public-notice addresses; none when no
/// address is configured (the notice is published on the public outputs all the same).
pub fn public_notice(
    settings: &MailSettings,
    ticket: &Ticket,
    history: &[TicketEvent],
    event: &TicketEvent,
) -> Result<Vec<OutgoingMail>, Invalid> {
    if settings.public_notice_addresses.is_empty() {
        return Ok(Vec::new());
    }
    let mut facts = facts(settings, ticket, history, event);
    facts.title = format!(
        "Avviso all'utenza: interruzione di {}",
        services_phrase(ticket)
    );
    let subject = format!("[{}] {}", ticket.number, facts.title);
    Ok(vec![message(
        settings,
        "notify_users",
        &facts,
        &subject,
        &settings.public_notice_addresses,
        ticket,
        event,
        None,
    )?])
}

fn facts<'a>(
    settings: &'a MailSettings,
    ticket: &'a Ticket,
    history: &[TicketEvent],
    event: &'a TicketEvent,
) -> Facts<'a> {
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&settings.time_zone)
            .format("%d/%m/%Y %H:%M")
            .to_string()
    };
    let first = |action: Action| history.iter().find(|e| e.action == action).map(|e| e.at);
    let ended = history
        .iter()
        .rev()
        .find(|e| e.action == Action::InterruptionEnd)
        .map(|e| e.at)
        .filter(|_| !ticket.interruption_open);
    Facts {
        centre_name: &settings.centre_name,
        number: &ticket.number,
        subject: &ticket.subject,
        services: &ticket.details.affected_services,
        message: event
            .details
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or_default(),
        interruption_started: ticket.interruption_started_at.map(local),
        interruption_ended: ended.map(local),
        // The intervention on the interruption the notice is about (the latest one).
        intervention_started: crate::sla::interruption_windows(
            history.iter().map(|e| (e.action, e.at)),
        )
        .last()
        .and_then(|w| w.intervention_started_at)
        .or_else(|| first(Action::StartIntervention))
        .map(local),
        time_zone: settings.time_zone.name(),
        title: String::new(),
        agency_name: None,
    }
}

fn services_phrase(ticket: &Ticket) -> String {
    match ticket.details.affected_services.as_slice() {
        [] => ticket.subject.clone(),
        services => services.join(", "),
    }
}

#[expect(clippy::too_many_arguments, reason = "one message's parts, named")]
fn message(
    settings: &MailSettings,
    kind: &str,
    facts: &Facts,
    subject: &str,
    recipients: &[String],
    ticket: &Ticket,
    event: &TicketEvent,
    agency_id: Option<Uuid>,
) -> Result<OutgoingMail, Invalid> {
    let internal = |e: String| Invalid::one("type", format!("cannot compose the message: {e}"));
    let text = crate::templates::render(&format!("{kind}.txt"), facts).map_err(internal)?;
    let html = crate::templates::render(&format!("{kind}.html"), facts).map_err(internal)?;
    let id = Uuid::now_v7();
    let content = Content {
        recipients,
        subject,
        text: &text,
        html: &html,
        ..Content::default()
    };
    let (message_id, message) =
        compose(settings, id, &content, event.recorded_at).map_err(internal)?;
    Ok(OutgoingMail {
        id,
        kind: kind.to_owned(),
        ticket_id: Some(ticket.id),
        event_id: Some(event.id),
        agency_id,
        sender: settings.from.email.to_string(),
        recipients: recipients.to_vec(),
        subject: subject.to_owned(),
        message_id,
        message,
    })
}
