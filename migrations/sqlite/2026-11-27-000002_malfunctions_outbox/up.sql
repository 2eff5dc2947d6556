-- Malfunction details on tickets: affected services and agencies, cause, actions taken, and
-- when the current (or last) interruption started.
ALTER TABLE tickets ADD COLUMN affected_services TEXT NOT NULL DEFAULT '[]'; -- JSON array
ALTER TABLE tickets ADD COLUMN affected_agencies TEXT NOT NULL DEFAULT '[]'; -- JSON array of ids
ALTER TABLE tickets ADD COLUMN cause TEXT;
ALTER TABLE tickets ADD COLUMN actions_taken TEXT;
ALTER TABLE tickets ADD COLUMN interruption_started_at TIMESTAMP;

-- The same affected agencies as rows, for per-agency questions (the malfunction report).
CREATE TABLE ticket_affected_agencies (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    PRIMARY KEY (ticket_id, agency_id)
);
CREATE INDEX ticket_affected_agencies_by_agency ON ticket_affected_agencies (agency_id, ticket_id);

-- A new event type, `malfunction_updated`: SQLite cannot change a CHECK, so the history is
-- copied into a table with the new one.
CREATE TABLE ticket_events_new (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    sequence BIGINT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('created', 'take_charge', 'reply', 'comment', 'assign', 'escalate', 'hold', 'resume', 'resolve', 'close_not_in_scope', 'reopen', 'interruption_start', 'interruption_end', 'start_intervention', 'notify_agency', 'notify_users', 'sla_at_risk', 'sla_breached', 'malfunction_updated')),
    at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id), -- NULL: recorded by the service itself
    status_after TEXT NOT NULL
        CHECK (status_after IN ('new', 'open', 'on_hold', 'resolved', 'closed_not_in_scope')),
    level_after INTEGER NOT NULL CHECK (level_after IN (1, 2)),
    assignee_after TEXT,
    details TEXT NOT NULL, -- JSON object: channel, message, reason, ...
    UNIQUE (ticket_id, sequence)
);
INSERT INTO ticket_events_new SELECT * FROM ticket_events;
DROP TABLE ticket_events;
ALTER TABLE ticket_events_new RENAME TO ticket_events;
-- The history is append-only: an audit must see every entry as it was recorded.
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;

-- E-mails waiting to be sent, written in the transaction of what caused them (an event, a
-- report delivery) and delivered by the outbox worker. `message` is the RFC 5322 text as it
-- will be sent, `Message-ID` included, so every attempt sends the very same message.
CREATE TABLE outbox (
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
-- The worker's scan: pending rows that are due.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_ticket ON outbox (ticket_id);
