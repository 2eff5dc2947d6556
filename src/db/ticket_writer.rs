//! Group commit for ticket creation. Concurrent `POST /tickets` requests are queued to a few
//! writer threads, each of which creates a batch of tickets in one transaction: one commit
//! (one fsync), one hold of the year's counter lock and one insert per table for many
//! tickets. Every request is answered only after its batch committed, so a 2xx still means
//! the ticket is on disk. A request refused by its checks does not affect the others; when an
//! insert fails (a key another instance committed meanwhile), the batch runs again ticket by
//! ticket, each in its own savepoint, so each request gets its own outcome.

use super::tickets::numbers::number_tickets;
use super::tickets::{
    Created, FreshTicket, IdempotencyKey, Prepared, create_ticket, insert_fresh,
    insert_unnumbered_ticket, prepare_ticket,
};
use super::{DbConnection, Pool, StoreError, is_unique_violation, write_transaction};
use crate::domain::Principal;
use crate::domain::ticket::{NewTicket, Ticket};
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use diesel::Connection;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use uuid::Uuid;

/// Most tickets one transaction creates.
const MAX_BATCH: usize = 64;
/// Requests that may wait for a writer before callers are told to retry.
const QUEUE: usize = 4096;

/// A ticket to create and where to send the outcome.
struct Job {
    engine: Arc<SlaEngine>,
    new: NewTicket,
    actor: Principal,
    idempotency: Option<IdempotencyKey>,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<Created, StoreError>>,
}

/// The queue in front of the writer threads; they stop when it is dropped.
pub struct TicketWriter {
    jobs: SyncSender<Job>,
}

impl TicketWriter {
    /// Starts `threads` writers on `pool`.
    pub fn start(pool: Pool, threads: usize) -> TicketWriter {
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let (pool, queue) = (pool.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("ticket-writer-{index}"))
                .spawn(move || run_writer(&pool, &queue))
                .expect("spawn a ticket writer");
        }
        TicketWriter { jobs }
    }

    /// Creates a ticket in the next batch and waits for its commit.
    pub async fn create(
        &self,
        engine: Arc<SlaEngine>,
        new: NewTicket,
        actor: Principal,
        idempotency: Option<IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            engine,
            new,
            actor,
            idempotency,
            now,
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(StoreError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::Busy),
        }
        outcome.await.unwrap_or(Err(StoreError::Busy))
    }
}

/// The order a batch's tickets are written in: those with an `Idempotency-Key` first, by
/// (user, key), then the others as they came. A key's row is where two batches can wait on
/// each other (on two instances, the same keys in opposite orders would deadlock); taking
/// the keys in one order everywhere means one batch only ever waits for another to finish.
fn lock_order(batch: &[Job]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |job: &Job| {
            job.idempotency
                .as_ref()
                .map(|idempotency| (job.actor.user_id, idempotency.key.clone()))
        };
        match (key(&batch[a]), key(&batch[b])) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.cmp(&b),
        }
    });
    order
}

type Outcomes = Vec<Result<Created, StoreError>>;

/// Creates the batch's tickets within the caller's transaction in a few statements: each
/// ticket's checks and reads in `order`, then one insert per table for all. A failed
/// insert fails the whole transaction (the caller then uses `create_one_by_one`), and so does
/// a key whose expired row must go first (deleting it before the other keys' inserts would
/// take the keys out of their one order). Two requests of the batch with the same key are one
/// ticket, as they would be one after the other. The outcomes are in the batch's own order;
/// `None` when the batch must be written one by one.
fn create_together(
    conn: &mut DbConnection,
    batch: &[Job],
    order: &[usize],
) -> Result<Option<Outcomes>, StoreError> {
    let mut outcomes: Vec<Option<Result<Created, StoreError>>> =
        std::iter::repeat_with(|| None).take(batch.len()).collect();
    let mut fresh: Vec<(usize, Box<FreshTicket>)> = Vec::new();
    // A key's first request in this batch: its place in `fresh`, and its request's hash.
    let mut first_use: HashMap<(Uuid, &str), (usize, &str)> = HashMap::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for &index in order {
        let job = &batch[index];
        if let Some(idempotency) = &job.idempotency {
            let key = (job.actor.user_id, idempotency.key.as_str());
            if let Some(&(first, hash)) = first_use.get(&key) {
                if hash == idempotency.request_hash {
                    repeats.push((index, first));
                } else {
                    outcomes[index] = Some(Err(StoreError::IdempotencyMismatch));
                }
                continue;
            }
        }
        let prepared = prepare_ticket(
            conn,
            &job.engine,
            &job.new,
            &job.actor,
            job.idempotency.as_ref(),
            job.now,
        );
        match prepared {
            Ok(Prepared::Fresh(ticket)) if ticket.replaces_expired_key => return Ok(None),
            Ok(Prepared::Fresh(ticket)) => {
                if let Some(idempotency) = &job.idempotency {
                    let key = (job.actor.user_id, idempotency.key.as_str());
                    first_use.insert(key, (fresh.len(), idempotency.request_hash.as_str()));
                }
                fresh.push((index, ticket));
            }
            Ok(Prepared::Replayed(created)) => outcomes[index] = Some(Ok(*created)),
            // The database failed, not the request: the transaction may be lost.
            Err(StoreError::Db(e)) => return Err(StoreError::Db(e)),
            Err(refused) => outcomes[index] = Some(Err(refused)),
        }
    }
    let rows: Vec<(&SlaEngine, &FreshTicket)> = fresh
        .iter()
        .map(|(index, ticket)| (&*batch[*index].engine, &**ticket))
        .collect();
    insert_fresh(conn, &rows)?;
    if !fresh.is_empty() {
        let mut tickets: Vec<&mut Ticket> = fresh.iter_mut().map(|(_, f)| &mut f.ticket).collect();
        number_tickets(conn, &mut tickets)?;
    }
    for (index, first) in repeats {
        outcomes[index] = Some(Ok(fresh[first].1.clone_created()));
    }
    for (index, ticket) in fresh {
        outcomes[index] = Some(Ok(ticket.into_created()));
    }
    Ok(Some(
        outcomes
            .into_iter()
            .map(|o| o.expect("every index once"))
            .collect(),
    ))
}

/// Creates the batch's tickets in `order` within the caller's transaction, each in its own
/// savepoint; the outcomes are in the batch's own order.
fn create_one_by_one(
    conn: &mut DbConnection,
    batch: &[Job],
    order: &[usize],
) -> Result<Outcomes, StoreError> {
    let mut outcomes: Vec<Option<Result<Created, StoreError>>> =
        std::iter::repeat_with(|| None).take(batch.len()).collect();
    for &index in order {
        let job = &batch[index];
        // A savepoint per ticket: a refusal undoes that ticket only.
        let outcome = conn.transaction(|conn: &mut DbConnection| {
            insert_unnumbered_ticket(
                conn,
                &job.engine,
                &job.new,
                &job.actor,
                job.idempotency.as_ref(),
                job.now,
            )
        });
        match outcome {
            // A deadlock or serialization failure ends the whole transaction: run it again.
            Err(StoreError::Db(e)) if super::is_retryable(&e) => return Err(StoreError::Db(e)),
            outcome => outcomes[index] = Some(outcome),
        }
    }
    let mut outcomes: Vec<Result<Created, StoreError>> = outcomes
        .into_iter()
        .map(|o| o.expect("every index once"))
        .collect();
    // Number the new tickets together, last: the counter lock is held only from here to the
    // commit.
    let mut fresh: Vec<&mut crate::domain::ticket::Ticket> = outcomes
        .iter_mut()
        .filter_map(|outcome| match outcome {
            Ok(created) if !created.replayed => Some(&mut created.ticket),
            _ => None,
        })
        .collect();
    if !fresh.is_empty() {
        number_tickets(conn, &mut fresh)?;
    }
    // A retry in the same batch as its original saw the placeholder: give it the number.
    let numbers: std::collections::HashMap<uuid::Uuid, String> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().filter(|c| !c.replayed))
        .map(|c| (c.ticket.id, c.ticket.number.clone()))
        .collect();
    for created in outcomes.iter_mut().flatten() {
        if let Some(number) = numbers.get(&created.ticket.id) {
            created.ticket.number.clone_from(number);
        }
    }
    Ok(outcomes)
}

fn run_writer(pool: &Pool, queue: &Mutex<Receiver<Job>>) {
    loop {
        let batch = {
            let Ok(queue) = queue.lock() else { return };
            let Ok(first) = queue.recv() else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        // A panic in one batch must not end the writer: its requests' reply channels close
        // (they answer 503) and the connection is discarded as broken.
        let _ =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| create_batch(pool, batch)));
    }
}

/// How many times a batch PostgreSQL gave up on (deadlock, serialization failure) is run
/// again before its callers are told the database is unavailable.
const BATCH_ATTEMPTS: usize = 4;

/// Runs `work` in a write transaction, again while PostgreSQL gives up on it because of
/// another transaction (at most `BATCH_ATTEMPTS` times).
fn with_retries<T>(
    conn: &mut DbConnection,
    work: impl Fn(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut attempt = 1;
    loop {
        match write_transaction(conn, &work) {
            Err(StoreError::Db(ref e)) if super::is_retryable(e) && attempt < BATCH_ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "ticket batch run again");
                attempt += 1;
            }
            done => return done,
        }
    }
}

fn create_batch(pool: &Pool, batch: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            let message = e.to_string();
            for job in batch {
                let _ = job
                    .reply
                    .send(Err(StoreError::Unavailable(message.clone())));
            }
            return;
        }
    };
    let order = lock_order(&batch);
    let one_by_one = |conn: &mut DbConnection| create_one_by_one(conn, &batch, &order);
    let committed = match with_retries(&mut conn, |conn| create_together(conn, &batch, &order)) {
        Ok(Some(outcomes)) => Ok(outcomes),
        // A key must be freed first: the keys' one order needs the batch one ticket at a time.
        Ok(None) => with_retries(&mut conn, one_by_one),
        // An insert failed: each ticket in its own savepoint tells whose it was. Only a lost
        // connection is everyone's.
        Err(error) if !super::is_connection_lost(&error) => {
            tracing::debug!(%error, "ticket batch run again one by one");
            with_retries(&mut conn, one_by_one)
        }
        Err(error) => Err(error),
    };
    match committed {
        Ok(outcomes) => {
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let outcome = match outcome {
                    // Another instance committed the same Idempotency-Key meanwhile: the
                    // single-request path finds its ticket.
                    Err(StoreError::Db(ref e))
                        if job.idempotency.is_some() && is_unique_violation(e) =>
                    {
                        create_ticket(
                            &mut conn,
                            &job.engine,
                            &job.new,
                            &job.actor,
                            job.idempotency.as_ref(),
                            job.now,
                        )
                    }
                    other => other,
                };
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            super::discard_if_lost(&mut conn, &e);
            let message = e.to_string();
            for job in batch {
                let _ = job
                    .reply
                    .send(Err(StoreError::Unavailable(message.clone())));
            }
        }
    }
}
