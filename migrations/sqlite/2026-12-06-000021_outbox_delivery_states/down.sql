-- Back to three delivery states: a bounced or delivered message was sent, and stays `sent`.
-- Foreign keys off while `outbox` is built again, as in up.sql.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE outbox_old (
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
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
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
INSERT INTO outbox_old SELECT id, message_id, kind, ticket_id, event_id, agency_id, sender,
    recipients, subject, message,
    CASE WHEN status IN ('bounced', 'delivered') THEN 'sent' ELSE status END,
    attempts, next_attempt_at, claimed_by, claimed_until,
    last_error, created_at, updated_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_old RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_ticket ON outbox (ticket_id);
COMMIT;
PRAGMA foreign_keys = ON;
