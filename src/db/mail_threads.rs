//! The e-mail thread of a ticket: which messages a reply answers and names, and where the
//! requester's answers should go. Reads only; the reply itself is composed in `mail::replies`.

use super::inbound::{latest_requester_message, received_message_ids, ticket_mailbox_address};
use super::outbox::requester_message_ids;
use super::{DbConnection, StoreError};
use crate::domain::ticket::Ticket;
use crate::mail::replies::ReplyThread;

/// The thread the next e-mail to `ticket`'s requester continues: it answers the requester's
/// latest message, and names every message of the correspondence (received and sent, oldest
/// first) as its `References`, so that the requester's mail client shows one conversation;
/// answers go to the mailbox the ticket came in through.
pub fn reply_thread(conn: &mut DbConnection, ticket: &Ticket) -> Result<ReplyThread, StoreError> {
    let mut messages = received_message_ids(conn, ticket.id)?;
    messages.extend(requester_message_ids(conn, ticket.id)?);
    // Both ids are UUIDv7: their text sorts as the messages were stored.
    messages.sort();
    Ok(ReplyThread {
        in_reply_to: latest_requester_message(conn, ticket.id)?,
        references: messages.into_iter().map(|(_, id)| id).collect(),
        reply_to: ticket_mailbox_address(conn, ticket.id)?,
    })
}
