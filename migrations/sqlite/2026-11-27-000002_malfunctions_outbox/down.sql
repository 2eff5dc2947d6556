DROP TABLE outbox;
DROP TABLE ticket_affected_agencies;
ALTER TABLE tickets DROP COLUMN interruption_started_at;
ALTER TABLE tickets DROP COLUMN actions_taken;
ALTER TABLE tickets DROP COLUMN cause;
ALTER TABLE tickets DROP COLUMN affected_agencies;
ALTER TABLE tickets DROP COLUMN affected_services;
CREATE TABLE ticket_events_new (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    sequence BIGINT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('created', 'take_charge', 'reply', 'comment', 'assign', 'escalate', 'hold', 'resume', 'resolve', 'close_not_in_scope', 'reopen', 'interruption_start', 'interruption_end', 'start_intervention', 'notify_agency', 'notify_users', 'sla_at_risk', 'sla_breached')),
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
INSERT INTO ticket_events_new SELECT * FROM ticket_events WHERE type <> 'malfunction_updated';
DROP TABLE ticket_events;
ALTER TABLE ticket_events_new RENAME TO ticket_events;
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
