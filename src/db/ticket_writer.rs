//! Group commit for ticket creation. Concurrent `POST /tickets` requests are queued to a few
//! writer threads, each of which creates a batch of tickets in one transaction: one commit
//! (one fsync) and one hold of the year's counter lock for many tickets. Every request is
//! answered only after its batch committed, so a 2xx still means the ticket is on disk; each
//! ticket runs in its own savepoint, so one refused request does not affect the others.

use super::tickets::numbers::number_tickets;
use super::tickets::{Created, IdempotencyKey, create_ticket, insert_unnumbered_ticket};
use super::{DbConnection, Pool, StoreError, is_unique_violation, write_transaction};
use crate::domain::Principal;
use crate::domain::ticket::NewTicket;
use crate::sla::SlaEngine;
use chrono::{DateTime, Utc};
use diesel::Connection;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

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
    let committed = write_transaction(&mut conn, |conn| {
        let mut outcomes: Vec<Result<Created, StoreError>> = batch
            .iter()
            .map(|job| {
                // A savepoint per ticket: a refusal undoes that ticket only.
                conn.transaction(|conn: &mut DbConnection| {
                    insert_unnumbered_ticket(
                        conn,
                        &job.engine,
                        &job.new,
                        &job.actor,
                        job.idempotency.as_ref(),
                        job.now,
                    )
                })
            })
            .collect();
        // Number the new tickets together, last: the counter lock is held only from here
        // to the commit.
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
        Ok::<_, StoreError>(outcomes)
    });
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
