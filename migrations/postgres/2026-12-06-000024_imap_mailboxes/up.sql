-- The mailboxes the poller reads (SPEC §8): per mailbox (`user@host:port/MAILBOX`, never the
-- password), the UIDVALIDITY it last saw and the highest UID it has stored and flagged. When
-- the server's UIDVALIDITY changes (the mailbox was re-created or migrated), the UIDs start
-- afresh and every message not yet flagged is fetched again; what was stored before is
-- recognised by its dedupe key and changes nothing.
CREATE TABLE imap_mailboxes (
    mailbox TEXT PRIMARY KEY NOT NULL,
    uid_validity BIGINT NOT NULL,
    last_uid BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
