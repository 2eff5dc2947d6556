-- Two more delivery states for the outbox (SPEC §8): `bounced`, a message the receiving side
-- returned (a DSN, a PEC `errore-consegna`), and `delivered`, a certified message its PEC
-- provider confirmed (`avvenuta-consegna`). Both follow `sent`; neither is sent again.
--
-- SQLite cannot change a CHECK, so `outbox` is built again; `report_deliveries` refers to it,
-- so foreign keys are off meanwhile, outside diesel's transaction (metadata.toml), as in
-- 2026-12-04-000010_channel_roles.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE outbox_new (
    id TEXT PRIMARY KEY NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    ticket_id TEXT REFERENCES tickets (id),
    event_id TEXT,
    agency_id TEXT REFERENCES agencies (id),
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL, -- JSON array of e-mail addresses
    subject TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'bounced', 'delivered')),
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- The worker pass that is sending the row, and until when its claim holds.
    claimed_by TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
INSERT INTO outbox_new SELECT id, message_id, kind, ticket_id, event_id, agency_id, sender,
    recipients, subject, message, status, attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, updated_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
-- The worker's scan: pending rows that are due.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_ticket ON outbox (ticket_id);
COMMIT;
PRAGMA foreign_keys = ON;
