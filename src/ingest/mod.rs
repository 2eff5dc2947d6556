//! Mail in, one path for every entrance (the gateway's `POST /inbound/mail`, the mailbox
//! poller): a message is stored raw first, then ingested — it opens a ticket or continues one
//! through the same functions the REST API uses (`db::tickets::create_ticket`,
//! `db::tickets::record_event`), or goes to the quarantine with the reason. Received again, the
//! same message changes nothing. Blocking: the entrances call it off their executors.

mod text;

use crate::db::inbound::{self, InboundEntry, InboundStatus, NewInbound};
use crate::db::tickets::{EventContext, IdempotencyKey, create_ticket, find_ticket, record_event};
use crate::db::{DbConnection, StoreError, write_transaction};
use crate::domain::malfunction::MalfunctionDetails;
use crate::domain::ticket::{Channel, NewTicket, Requester, Ticket};
use crate::domain::{Action, EventCommand, Principal, Status, VersionCheck};
use crate::mail::inbound::{InboundMail, read_message, subject_ticket_number};
use crate::runtime::Runtime;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// What became of a received message.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// It opened this ticket.
    Opened { ticket_id: Uuid, number: String },
    /// It continued this ticket with a `requester_message` event.
    Continued { ticket_id: Uuid, event_id: Uuid },
    /// It went to the quarantine.
    Quarantined { reason: String },
    /// It was ingested before (received again): nothing changed.
    Already { ticket_id: Option<Uuid> },
    /// A bounce or PEC receipt: it updated the delivery state of this outbox message.
    Reported { outbox_id: Uuid },
}

/// Where a message came from and when it reached the helpdesk.
#[derive(Debug, Clone, Copy)]
pub struct Receipt<'a> {
    /// `gateway`, or `imap:<mailbox>`.
    pub source: &'a str,
    /// Receipt at the gateway, or the IMAP INTERNALDATE: the `reported_at` of a new ticket.
    pub received_at: DateTime<Utc>,
    /// The helpdesk's address it was delivered to (the mailbox's, or the envelope
    /// recipient the mail server names): the `Reply-To` of the ticket's replies.
    pub recipient: Option<&'a str>,
}

/// Stores `raw` (unless it was received before) and ingests it; `actor` is the channel's
/// principal (the gateway's `mailgate` user). Returns the stored entry and what became of it.
/// An error means the database failed: the message may be stored, not yet ingested, and
/// receiving it again finishes the work.
pub fn receive(
    conn: &mut DbConnection,
    runtime: &Runtime,
    actor: &Principal,
    raw: &[u8],
    receipt: Receipt,
) -> Result<(InboundEntry, Ingested), StoreError> {
    let message_id = crate::mail::inbound::message_id_of(raw);
    let new = NewInbound {
        raw,
        message_id: message_id.as_deref(),
        source: receipt.source,
        received_at: receipt.received_at,
        stored_by: Some(actor.user_id),
        recipient: receipt.recipient,
    };
    let (entry, _) = inbound::store_inbound(conn, new, runtime.now())?;
    let outcome = match entry.status {
        InboundStatus::Ingested => Ingested::Already {
            ticket_id: entry.ticket_id,
        },
        // Received again while in the quarantine: it stays there until an admin retries it.
        InboundStatus::Quarantined => Ingested::Quarantined {
            reason: entry.reason.clone().unwrap_or_default(),
        },
        // The bytes in hand are what was stored: parsed as they are, not read back.
        InboundStatus::Stored => inbound::with_ingest_lock(conn, entry.id, |conn| {
            ingest_alone(conn, runtime, actor, entry.id, Some(raw))
        })?,
    };
    let entry = inbound::find_inbound(conn, entry.id)?.unwrap_or(entry);
    Ok((entry, outcome))
}

/// Ingests stored message `id` (again, for a quarantined one an admin retries), while no
/// other ingest of it runs.
pub fn ingest(
    conn: &mut DbConnection,
    runtime: &Runtime,
    actor: &Principal,
    id: Uuid,
) -> Result<Ingested, StoreError> {
    inbound::with_ingest_lock(conn, id, |conn| {
        ingest_alone(conn, runtime, actor, id, None)
    })
}

/// `raw`: the stored message's bytes when the caller holds them (`None`: read them back).
fn ingest_alone(
    conn: &mut DbConnection,
    runtime: &Runtime,
    actor: &Principal,
    id: Uuid,
    raw: Option<&[u8]>,
) -> Result<Ingested, StoreError> {
    let entry = inbound::find_inbound(conn, id)?.ok_or(StoreError::NotFound("message"))?;
    if entry.status == InboundStatus::Ingested {
        return Ok(Ingested::Already {
            ticket_id: entry.ticket_id,
        });
    }
    let read_back;
    let raw = match raw {
        Some(raw) => raw,
        None => {
            read_back = inbound::find_raw(conn, id)?.ok_or(StoreError::NotFound("message"))?;
            &read_back[..]
        }
    };
    let settings = &runtime.settings;
    let mut mail = match read_message(raw, settings.max_attachment_bytes) {
        Ok(mail) => mail,
        Err(not_understood) => return quarantine(conn, runtime, id, &not_understood.0),
    };
    // The helpdesk's own message come back is a machine's message: never answered.
    let own_address = runtime.mail.from.email.to_string();
    if mail.is_own(&runtime.mail.message_id_domain, &own_address) {
        mail.automatic = true;
    }
    if let Some(report) = &mail.report {
        return record_report(conn, runtime, id, report);
    }
    let outcome = match find_thread(conn, &mail)? {
        Some(ticket) => match reopen_window_end(conn, runtime, &ticket)? {
            // A machine's message never opens a ticket: it is recorded on the old one.
            Some(window_end) if entry.received_at > window_end && !mail.automatic => {
                open_ticket(conn, runtime, actor, &entry, &mail, Some(&ticket))
            }
            _ => continue_ticket(conn, runtime, actor, &entry, &mail, &ticket),
        },
        // A machine's message that names no ticket (an out-of-office answer to something
        // else, a newsletter) opens none: it is kept, for an admin to look at.
        None if mail.automatic => {
            return quarantine(
                conn,
                runtime,
                id,
                "an automatic message (auto-reply, list or bounce) that names no ticket",
            );
        }
        None => open_ticket(conn, runtime, actor, &entry, &mail, None),
    };
    match outcome {
        // Another delivery of the same message ingested it meanwhile.
        Err(StoreError::Conflict(_)) => Ok(Ingested::Already {
            ticket_id: inbound::find_inbound(conn, id)?.and_then(|e| e.ticket_id),
        }),
        // What the ticket rules refuse is a message the helpdesk cannot take as it is.
        Err(StoreError::Invalid(invalid)) => quarantine(conn, runtime, id, &invalid.to_string()),
        Err(StoreError::Lifecycle(refused)) => quarantine(conn, runtime, id, &refused.to_string()),
        other => other,
    }
}

/// A bounce or a receipt: the delivery state of the message it names, and no ticket.
fn record_report(
    conn: &mut DbConnection,
    runtime: &Runtime,
    id: Uuid,
    report: &crate::mail::reports::DeliveryReport,
) -> Result<Ingested, StoreError> {
    use crate::mail::OutboxStatus;
    use crate::mail::reports::ReportedDelivery;
    let status = match report.delivery {
        ReportedDelivery::Bounced => Some(OutboxStatus::Bounced),
        ReportedDelivery::Delivered => Some(OutboxStatus::Delivered),
        ReportedDelivery::OnItsWay => None,
    };
    let now = runtime.now();
    let recorded = write_transaction(conn, |conn| {
        for message_id in &report.refers_to {
            let found = crate::db::outbox::record_delivery_report(
                conn,
                message_id,
                status,
                &report.reason,
                now,
            )?;
            if let Some((outbox_id, ticket_id)) = found {
                inbound::mark_ingested(conn, id, ticket_id, None, now)?;
                return Ok(Some(outbox_id));
            }
        }
        Ok(None)
    });
    match recorded {
        Ok(Some(outbox_id)) => Ok(Ingested::Reported { outbox_id }),
        Ok(None) => quarantine(
            conn,
            runtime,
            id,
            "a delivery report (bounce or PEC receipt) that names no message of the helpdesk",
        ),
        Err(StoreError::Conflict(_)) => Ok(Ingested::Already { ticket_id: None }),
        Err(e) => Err(e),
    }
}

fn quarantine(
    conn: &mut DbConnection,
    runtime: &Runtime,
    id: Uuid,
    reason: &str,
) -> Result<Ingested, StoreError> {
    tracing::warn!(inbound_id = %id, reason, "received message quarantined");
    inbound::quarantine(conn, id, reason, runtime.now())?;
    Ok(Ingested::Quarantined {
        reason: reason.to_owned(),
    })
}

/// The ticket the message continues: one whose messages it answers (`In-Reply-To`, then
/// `References`), or else the one whose number its subject carries in brackets.
fn find_thread(conn: &mut DbConnection, mail: &InboundMail) -> Result<Option<Ticket>, StoreError> {
    let by_headers = inbound::ticket_of_messages(conn, &mail.answers)?;
    let by_number = match by_headers {
        Some(_) => None,
        None => match subject_ticket_number(&mail.subject) {
            Some(number) => inbound::ticket_numbered(conn, &number)?,
            None => None,
        },
    };
    match by_headers.or(by_number) {
        Some(id) => find_ticket(conn, id),
        None => Ok(None),
    }
}

/// For a resolved ticket: the end of its reopen window (its resolution plus
/// `reopen_window_days`). After it, a message opens a new ticket.
fn reopen_window_end(
    conn: &mut DbConnection,
    runtime: &Runtime,
    ticket: &Ticket,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    if ticket.status != Status::Resolved {
        return Ok(None);
    }
    let resolved_at = crate::db::events::list_events(conn, ticket.id)?
        .iter()
        .rev()
        .find(|e| e.action == Action::Resolve)
        .map_or(ticket.last_event_at, |e| e.at);
    Ok(Some(
        resolved_at + Duration::days(i64::from(runtime.settings.reopen_window_days)),
    ))
}

fn event_context<'a>(
    runtime: &'a Runtime,
    engine: &'a crate::sla::SlaEngine,
    actor: &'a Principal,
) -> EventContext<'a> {
    EventContext {
        engine,
        mail: &runtime.mail,
        actor,
        rules: runtime.settings.event_rules(),
        now: runtime.now(),
        notice_changes: &runtime.notice_changes,
    }
}

fn continue_ticket(
    conn: &mut DbConnection,
    runtime: &Runtime,
    actor: &Principal,
    entry: &InboundEntry,
    mail: &InboundMail,
    ticket: &Ticket,
) -> Result<Ingested, StoreError> {
    let now = runtime.now();
    let kept = crate::db::attachments::keep_attachments(
        conn,
        entry.id,
        ticket.id,
        &mail.attachments,
        now,
    )?;
    let mut details = Map::new();
    details.insert("from".into(), json!(mail.from_address));
    details.insert("subject".into(), json!(mail.subject));
    if let Some(message_id) = &mail.message_id {
        details.insert("message_id".into(), json!(message_id));
    }
    details.insert(
        "attachments".into(),
        Value::from(kept.iter().map(attachment_json).collect::<Vec<_>>()),
    );
    if mail.automatic {
        details.insert("automatic".into(), json!(true));
    }
    let command = EventCommand {
        action: Some(Action::RequesterMessage),
        message: Some(text::event_message(mail)),
        channel_details: Some(details),
        inbound_id: Some(entry.id),
        ..EventCommand::default()
    };
    let engine = runtime.engine();
    let context = event_context(runtime, &engine, actor);
    let (event, _, _) = record_event(conn, &context, ticket.id, &command, &VersionCheck::Any)?;
    Ok(Ingested::Continued {
        ticket_id: ticket.id,
        event_id: event.id,
    })
}

fn attachment_json(attachment: &crate::db::attachments::StoredAttachment) -> Value {
    json!({"id": attachment.id, "filename": attachment.filename,
           "content_type": attachment.content_type, "size": attachment.size})
}

fn open_ticket(
    conn: &mut DbConnection,
    runtime: &Runtime,
    actor: &Principal,
    entry: &InboundEntry,
    mail: &InboundMail,
    follows: Option<&Ticket>,
) -> Result<Ingested, StoreError> {
    let now = runtime.now();
    let domain = mail.from_address.rsplit('@').next().unwrap_or_default();
    let new = NewTicket {
        subject: text::ticket_subject(&mail.subject),
        description: text::ticket_description(mail, follows),
        channel: Channel::Email,
        reported_at: Some(entry.received_at),
        agency_id: crate::db::agencies::agency_of_mail_domain(conn, domain)?,
        requester: Requester {
            name: mail.from_name.as_deref().map(text::requester_name),
            email: Some(mail.from_address.clone()),
            phone: None,
        },
        malfunction: false,
        details: MalfunctionDetails::default(),
    };
    // The message's id as the key: an ingest run again after a failure finds the ticket it
    // opened instead of opening a second one.
    let remembered = Duration::hours(i64::from(runtime.settings.idempotency_key_hours));
    let key = IdempotencyKey {
        key: format!("inbound-mail:{}", entry.id),
        request_hash: entry.id.to_string(),
        used_since: now - remembered,
    };
    let engine = runtime.engine();
    let created = create_ticket(conn, &engine, &new, actor, Some(&key), now)?;
    let ticket = created.ticket;
    crate::db::attachments::keep_attachments(conn, entry.id, ticket.id, &mail.attachments, now)?;
    let acknowledgement = match runtime.settings.mail_acknowledgement && !mail.automatic {
        true => {
            let commitment = engine
                .policy("SLA.6")
                .map(|p| p.commitment.clone())
                .unwrap_or_default();
            let sender = crate::mail::acknowledgements::Sender {
                address: &mail.from_address,
                message_id: mail.message_id.as_deref(),
                wrote_to: entry.recipient.as_deref(),
            };
            crate::mail::acknowledgements::acknowledgement(
                &runtime.mail,
                &ticket,
                sender,
                &commitment,
                now,
            )
            .map_err(|e| tracing::warn!(error = %e, "no acknowledgement"))
            .ok()
        }
        false => None,
    };
    // Marked ingested with its acknowledgement, once: a second run finds it marked. At most
    // `auto_reply_per_sender_per_hour` to one address: a flood (or a loop with a machine
    // that no header gives away) gets no more.
    let limit = i64::from(runtime.settings.auto_reply_per_sender_per_hour);
    let sent = write_transaction(conn, |conn| {
        inbound::mark_ingested(conn, entry.id, Some(ticket.id), None, now)?;
        crate::db::outbox::lock_acknowledgements_to(conn, &mail.from_address)?;
        let recent = crate::db::outbox::acknowledgements_to(
            conn,
            &mail.from_address,
            now - Duration::hours(1),
        )?;
        let acknowledgement = acknowledgement.filter(|_| recent < limit);
        crate::db::outbox::enqueue(conn, acknowledgement.as_slice(), now)?;
        Ok::<_, StoreError>(acknowledgement.is_some())
    })?;
    if sent {
        runtime.outbox_wakeup.notify_one();
    }
    Ok(Ingested::Opened {
        ticket_id: ticket.id,
        number: ticket.number,
    })
}
