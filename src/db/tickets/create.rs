//! Creating tickets: the checks and reads of each new ticket (`prepare_ticket`), then its rows
//! (`insert_fresh`), one statement per table for however many tickets a group-committed batch
//! holds. A single creation is the batch of one.

use super::{clocks_of, find_ticket, malfunction, numbers, to_row};
use crate::db::clocks::{ClockOwner, StoredClock, fresh_clocks, insert_stored_clocks, load_clocks};
use crate::db::error::parse_stored;
use crate::db::events::insert_events;
use crate::db::schema::{idempotency_keys, tickets};
use crate::db::{
    DbConnection, StoreError, from_db_time, is_unique_violation, to_db_time, truncate_to_micros,
    write_transaction,
};
use crate::domain::ticket::{NewTicket, Ticket, TicketEvent};
use crate::domain::{Action, Invalid, Level, Principal};
use crate::sla::SlaEngine;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

/// The caller's `Idempotency-Key` and a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
    /// An earlier use of the key before this instant has expired (`idempotency_key_hours`):
    /// the key starts afresh.
    pub used_since: DateTime<Utc>,
}

/// The ticket with its clocks, and whether it was created now or by an earlier request with
/// the same key.
#[derive(Debug, Clone)]
pub struct Created {
    pub ticket: Ticket,
    pub clocks: Vec<StoredClock>,
    pub replayed: bool,
}

/// What a creation request comes to once checked: a new ticket to insert, or the ticket an
/// earlier request with the same key made.
pub(crate) enum Prepared {
    Replayed(Box<Created>),
    Fresh(Box<FreshTicket>),
}

/// A new ticket, its `created` event and its clocks, computed and not yet stored.
pub(crate) struct FreshTicket {
    pub ticket: Ticket,
    created: TicketEvent,
    clocks: Vec<StoredClock>,
    /// The caller's user id and key, stored with the ticket.
    idempotency: Option<(String, IdempotencyKey)>,
    /// The key's expired row is deleted before the key is stored again.
    pub replaces_expired_key: bool,
}

impl FreshTicket {
    /// The answer to a repeat of the request that made the ticket, in the same batch.
    pub fn clone_created(&self) -> Created {
        Created {
            ticket: self.ticket.clone(),
            clocks: self.clocks.clone(),
            replayed: true,
        }
    }

    /// The caller's answer once the ticket is stored and numbered.
    pub fn into_created(self) -> Created {
        Created {
            ticket: self.ticket,
            clocks: self.clocks,
            replayed: false,
        }
    }
}

/// Opens a ticket with the next number of its year and its `created` event.
pub fn create_ticket(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    new: &NewTicket,
    actor: &Principal,
    idempotency: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Created, StoreError> {
    let attempt = |conn: &mut DbConnection| {
        write_transaction(conn, |conn| {
            let mut created = insert_unnumbered_ticket(conn, engine, new, actor, idempotency, now)?;
            if !created.replayed {
                numbers::number_tickets(conn, &mut [&mut created.ticket])?;
            }
            Ok(created)
        })
    };
    match attempt(conn) {
        // A concurrent request with the same key committed first: answer with its ticket.
        Err(StoreError::Db(e)) if idempotency.is_some() && is_unique_violation(&e) => attempt(conn),
        other => other,
    }
}

/// Inserts a ticket with a placeholder number (or finds the one an earlier request with the
/// same key created); the caller numbers it before commit with `numbers::number_tickets`.
pub(crate) fn insert_unnumbered_ticket(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    new: &NewTicket,
    actor: &Principal,
    idempotency: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Created, StoreError> {
    match prepare_ticket(conn, engine, new, actor, idempotency, now)? {
        Prepared::Replayed(created) => Ok(*created),
        Prepared::Fresh(fresh) => {
            insert_fresh(conn, &[(engine, &fresh)])?;
            Ok(fresh.into_created())
        }
    }
}

/// Checks a creation request against the database (its key's earlier use, its agencies) and
/// computes the ticket and its clocks. It only reads; a refusal is an error other than
/// `StoreError::Db`.
pub(crate) fn prepare_ticket(
    conn: &mut DbConnection,
    engine: &SlaEngine,
    new: &NewTicket,
    actor: &Principal,
    idempotency: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Prepared, StoreError> {
    let user_id = actor.user_id.to_string();
    let mut replaces_expired_key = false;
    if let Some(idempotency) = idempotency {
        match earlier_use(conn, &user_id, idempotency)? {
            EarlierUse::Unused => {}
            EarlierUse::Expired => replaces_expired_key = true,
            EarlierUse::Replay(created) => return Ok(Prepared::Replayed(created)),
        }
    }
    // One read checks the agency and gives the calendar its clocks count in.
    let agency_calendar = match new.agency_id {
        Some(agency_id) => crate::db::agencies::existing_agency_calendar(conn, agency_id)?
            .ok_or_else(|| StoreError::from(Invalid::one("agency_id", "is not a known agency")))?,
        None => None,
    };
    malfunction::check_agencies_exist(conn, &new.details.affected_agency_ids)?;

    let reported_at = truncate_to_micros(new.reported_at.unwrap_or(now));
    let now = truncate_to_micros(now);
    let id = Uuid::now_v7();
    let mut ticket = Ticket {
        id,
        number: numbers::placeholder_number(id),
        subject: new.subject.clone(),
        description: new.description.clone(),
        channel: new.channel,
        status: crate::domain::Status::New,
        level: Level::First,
        assignee_id: None,
        agency_id: new.agency_id,
        requester: new.requester.clone(),
        malfunction: new.malfunction,
        interruption_open: false,
        interruption_started_at: None,
        details: new.details.clone(),
        reported_at,
        last_event_at: reported_at,
        next_deadline: None,
        created_by: actor.user_id,
        created_at: now,
        updated_at: now,
        version: 1,
        last_sequence: 1,
        public_notice_id: None,
    };
    let created = TicketEvent {
        id: Uuid::now_v7(),
        ticket_id: ticket.id,
        sequence: 1,
        action: Action::Created,
        at: reported_at,
        recorded_at: now,
        actor_id: Some(actor.user_id),
        status: ticket.status,
        level: ticket.level,
        assignee_id: None,
        details: serde_json::Map::new(),
    };
    let clocks = clocks_of(
        engine,
        &ticket,
        std::slice::from_ref(&created),
        agency_calendar.as_deref(),
    )?;
    ticket.next_deadline = SlaEngine::next_deadline(&clocks, now);
    let clocks = fresh_clocks(&owner_of(&ticket, engine), &clocks);
    Ok(Prepared::Fresh(Box::new(FreshTicket {
        ticket,
        created,
        clocks,
        idempotency: idempotency.map(|key| (user_id, key.clone())),
        replaces_expired_key,
    })))
}

/// What an earlier use of a request's key comes to.
enum EarlierUse {
    Unused,
    /// Used before `used_since` and not yet swept: the key is free again, once its old row
    /// is gone.
    Expired,
    Replay(Box<Created>),
}

/// The ticket an earlier request with the same key created, if the key was used and has not
/// expired; a key used for a different request is refused.
fn earlier_use(
    conn: &mut DbConnection,
    user_id: &str,
    idempotency: &IdempotencyKey,
) -> Result<EarlierUse, StoreError> {
    let earlier: Option<(String, String, NaiveDateTime)> = idempotency_keys::table
        .find((user_id, &idempotency.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::ticket_id,
            idempotency_keys::created_at,
        ))
        .get_result(conn)
        .optional()?;
    let Some((request_hash, ticket_id, used_at)) = earlier else {
        return Ok(EarlierUse::Unused);
    };
    if from_db_time(used_at) < idempotency.used_since {
        return Ok(EarlierUse::Expired);
    }
    if request_hash != idempotency.request_hash {
        return Err(StoreError::IdempotencyMismatch);
    }
    let ticket_id = parse_stored("idempotency_keys.ticket_id", &ticket_id)?;
    let ticket = find_ticket(conn, ticket_id)?.ok_or(StoreError::NotFound("ticket"))?;
    let clocks = load_clocks(conn, &[ticket_id])?
        .remove(&ticket_id)
        .unwrap_or_default();
    Ok(EarlierUse::Replay(Box::new(Created {
        ticket,
        clocks,
        replayed: true,
    })))
}

fn owner_of<'a>(ticket: &Ticket, engine: &'a SlaEngine) -> ClockOwner<'a> {
    ClockOwner {
        ticket_id: ticket.id,
        reported_at: ticket.reported_at,
        agency_id: ticket.agency_id,
        engine,
    }
}

/// Stores prepared tickets with their events, clocks, affected agencies and keys: one
/// statement per table, whatever their number. The keys go in the order given, which the
/// batch writer makes the same everywhere, so two transactions never wait on each other's.
pub(crate) fn insert_fresh(
    conn: &mut DbConnection,
    fresh: &[(&SlaEngine, &FreshTicket)],
) -> Result<(), StoreError> {
    let ticket_rows: Vec<_> = fresh.iter().map(|(_, f)| to_row(&f.ticket)).collect();
    crate::db::insert_rows!(conn, tickets::table, &ticket_rows)?;
    let events: Vec<TicketEvent> = fresh.iter().map(|(_, f)| f.created.clone()).collect();
    insert_events(conn, &events)?;
    let clocks: Vec<(ClockOwner, &[StoredClock])> = fresh
        .iter()
        .map(|(engine, f)| (owner_of(&f.ticket, engine), f.clocks.as_slice()))
        .collect();
    insert_stored_clocks(conn, &clocks)?;
    let affected: Vec<(Uuid, &[Uuid])> = fresh
        .iter()
        .map(|(_, f)| (f.ticket.id, f.ticket.details.affected_agency_ids.as_slice()))
        .collect();
    malfunction::insert_affected_agencies_of(conn, &affected)?;
    for (_, f) in fresh {
        if let (true, Some((user_id, key))) = (f.replaces_expired_key, &f.idempotency) {
            diesel::delete(idempotency_keys::table.find((user_id, &key.key))).execute(conn)?;
        }
    }
    let keys: Vec<_> = fresh
        .iter()
        .filter_map(|(_, f)| {
            let (user_id, key) = f.idempotency.as_ref()?;
            Some((
                idempotency_keys::user_id.eq(user_id.clone()),
                idempotency_keys::key.eq(key.key.clone()),
                idempotency_keys::request_hash.eq(key.request_hash.clone()),
                idempotency_keys::ticket_id.eq(f.ticket.id.to_string()),
                idempotency_keys::created_at.eq(to_db_time(f.ticket.created_at)),
            ))
        })
        .collect();
    crate::db::insert_rows!(conn, idempotency_keys::table, &keys)?;
    Ok(())
}
