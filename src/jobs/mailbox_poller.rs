//! The mailbox poller (SPEC §8): reads each configured IMAP mailbox every
//! `imap_poll_interval_seconds`, by UID, and hands every message not yet flagged to the one
//! ingest (`crate::ingest`), which stores it raw before anything else. Only then is the
//! message flagged on the server (`\Seen` and the keyword `HelpdeskIngested`); the helpdesk
//! never deletes or moves mail. A message fetched again — after a crash between storing and
//! flagging, a new UIDVALIDITY, or by a second instance — is recognised when stored and
//! changes nothing. A server that does not answer is tried again with a growing pause, up to
//! five minutes; nothing is lost meanwhile, as the messages wait on the server.

use crate::domain::{Principal, Role};
use crate::ingest::{Ingested, Receipt};
use crate::mail::imap_session::open_session;
use crate::mail::imap_url::ImapMailbox;
use crate::runtime::Runtime;
use std::sync::Arc;
use std::time::Duration;

/// The keyword of the messages the helpdesk has stored.
pub const INGESTED_KEYWORD: &str = "HelpdeskIngested";
/// Messages fetched per round trip; the mailbox state is saved after each batch.
const BATCH: usize = 25;
/// The longest wait for the server to connect, answer or take what is sent: one that stops
/// answering fails the pass (tried again later) instead of holding the poller.
const IO_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest pause after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What one poll of a mailbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollPass {
    /// Messages stored and ingested now (opened, continued or quarantined).
    pub ingested: usize,
    /// Messages found stored before (fetched again), now flagged.
    pub already: usize,
}

/// The principal the poller ingests as: the active `mailgate` user named
/// `Mailbox poller`, created the first time.
pub fn poller_principal(runtime: &Runtime) -> Result<Principal, crate::db::StoreError> {
    crate::db::with_connection(&runtime.pool, |conn| {
        crate::db::users::machine_principal(conn, Role::Mailgate, "Mailbox poller", runtime.now())
    })
}

/// Polls `mailbox` once: every message above the remembered UID and not yet flagged is
/// stored, ingested and then flagged, in UID order.
pub fn poll_mailbox(
    runtime: &Runtime,
    actor: &Principal,
    mailbox: &ImapMailbox,
) -> anyhow::Result<PollPass> {
    let key = mailbox.key();
    let source = format!("imap:{key}");
    let mut session = open_session(mailbox, IO_TIMEOUT)?;
    let selected = session.select(&mailbox.mailbox)?;
    let uid_validity = selected
        .uid_validity
        .ok_or_else(|| anyhow::anyhow!("{key}: the server gave no UIDVALIDITY"))?;
    let remembered = crate::db::with_connection(&runtime.pool, |conn| {
        crate::db::mailboxes::mailbox_state(conn, &key)
    })?;
    // A new UIDVALIDITY: the old UIDs mean nothing now; start again from the first.
    let mut last_uid = match remembered {
        Some((validity, last)) if validity == uid_validity => last,
        Some(_) => {
            tracing::warn!(mailbox = %key, uid_validity, "UIDVALIDITY changed: reading the mailbox again");
            0
        }
        None => 0,
    };
    let query = format!("UID {}:* UNKEYWORD {INGESTED_KEYWORD}", last_uid + 1);
    let mut uids: Vec<u32> = session
        .uid_search(&query)?
        .into_iter()
        // `n:*` always names the highest UID, even below n.
        .filter(|&uid| uid > last_uid)
        .collect();
    uids.sort_unstable();
    let mut pass = PollPass::default();
    for batch in uids.chunks(BATCH) {
        let set: Vec<String> = batch.iter().map(u32::to_string).collect();
        let fetched = session.uid_fetch(set.join(","), "(UID INTERNALDATE BODY.PEEK[])")?;
        let mut messages: Vec<_> = fetched.iter().filter_map(|m| Some((m.uid?, m))).collect();
        messages.sort_by_key(|(uid, _)| *uid);
        for (uid, message) in messages {
            let raw = message.body().unwrap_or_default();
            let received_at = message
                .internal_date()
                .map(|at| at.with_timezone(&chrono::Utc))
                .unwrap_or_else(|| runtime.now());
            let receipt = Receipt {
                source: &source,
                received_at,
                recipient: mailbox.address.as_deref(),
            };
            let (_, outcome) = crate::db::with_connection(&runtime.pool, |conn| {
                crate::ingest::receive(conn, runtime, actor, raw, receipt)
            })?;
            match outcome {
                Ingested::Already { .. } => pass.already += 1,
                _ => pass.ingested += 1,
            }
            // Stored (and ingested, or quarantined): only now may the server forget it.
            session.uid_store(
                uid.to_string(),
                format!("+FLAGS (\\Seen {INGESTED_KEYWORD})"),
            )?;
            last_uid = last_uid.max(uid);
        }
        crate::db::with_connection(&runtime.pool, |conn| {
            crate::db::mailboxes::save_mailbox_state(
                conn,
                &key,
                uid_validity,
                last_uid,
                runtime.now(),
            )
        })?;
    }
    if remembered.is_none() {
        crate::db::with_connection(&runtime.pool, |conn| {
            crate::db::mailboxes::save_mailbox_state(
                conn,
                &key,
                uid_validity,
                last_uid,
                runtime.now(),
            )
        })?;
    }
    let _ = session.logout();
    Ok(pass)
}

/// Polls `mailbox` every `interval` until the server stops; after a failure, waits twice as
/// long each time (up to five minutes) before trying again.
pub async fn run(runtime: Arc<Runtime>, mailbox: ImapMailbox, interval: Duration) {
    let mut pause = interval;
    loop {
        let (job_runtime, job_mailbox) = (runtime.clone(), mailbox.clone());
        let pass = actix_web::web::block(move || {
            let actor = poller_principal(&job_runtime)?;
            poll_mailbox(&job_runtime, &actor, &job_mailbox)
        })
        .await;
        match pass {
            Ok(Ok(pass)) => {
                if pass.ingested + pass.already > 0 {
                    tracing::info!(mailbox = %mailbox.key(), ingested = pass.ingested,
                        already = pass.already, "mailbox polled");
                }
                pause = interval;
            }
            Ok(Err(error)) => {
                pause = (pause * 2).min(MAX_BACKOFF.max(interval));
                tracing::warn!(mailbox = %mailbox.key(), error = %format!("{error:#}"),
                    retry_in_seconds = pause.as_secs(), "mailbox poll failed; will retry");
            }
            Err(error) => tracing::warn!(error = %error, "mailbox poll task failed; will retry"),
        }
        tokio::time::sleep(pause).await;
    }
}
