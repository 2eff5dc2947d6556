//! What the mailbox poller remembers of each mailbox: its UIDVALIDITY and the highest UID it
//! stored and flagged (`imap_mailboxes`).

use super::schema::imap_mailboxes;
use super::{DbConnection, StoreError, is_unique_violation, to_db_time, truncate_to_micros};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// (UIDVALIDITY, highest UID done) of mailbox `key`, if it was polled before.
pub fn mailbox_state(conn: &mut DbConnection, key: &str) -> Result<Option<(u32, u32)>, StoreError> {
    let row: Option<(i64, i64)> = imap_mailboxes::table
        .find(key)
        .select((imap_mailboxes::uid_validity, imap_mailboxes::last_uid))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(validity, last)| (validity as u32, last as u32)))
}

/// Remembers mailbox `key`'s state. The highest UID only grows within one UIDVALIDITY (two
/// instances may save out of order); a new UIDVALIDITY starts it afresh.
pub fn save_mailbox_state(
    conn: &mut DbConnection,
    key: &str,
    uid_validity: u32,
    last_uid: u32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = to_db_time(truncate_to_micros(now));
    let (validity, last) = (i64::from(uid_validity), i64::from(last_uid));
    let same = diesel::update(
        imap_mailboxes::table
            .find(key)
            .filter(imap_mailboxes::uid_validity.eq(validity))
            .filter(imap_mailboxes::last_uid.lt(last)),
    )
    .set((
        imap_mailboxes::last_uid.eq(last),
        imap_mailboxes::updated_at.eq(now),
    ))
    .execute(conn)?;
    if same > 0 {
        return Ok(());
    }
    let other = diesel::update(
        imap_mailboxes::table
            .find(key)
            .filter(imap_mailboxes::uid_validity.ne(validity)),
    )
    .set((
        imap_mailboxes::uid_validity.eq(validity),
        imap_mailboxes::last_uid.eq(last),
        imap_mailboxes::updated_at.eq(now),
    ))
    .execute(conn)?;
    if other > 0 {
        return Ok(());
    }
    match diesel::insert_into(imap_mailboxes::table)
        .values((
            imap_mailboxes::mailbox.eq(key),
            imap_mailboxes::uid_validity.eq(validity),
            imap_mailboxes::last_uid.eq(last),
            imap_mailboxes::updated_at.eq(now),
        ))
        .execute(conn)
    {
        // It exists with this UIDVALIDITY and a UID as high: nothing to do.
        Err(e) if is_unique_violation(&e) => Ok(()),
        other => other.map(|_| ()).map_err(Into::into),
    }
}
