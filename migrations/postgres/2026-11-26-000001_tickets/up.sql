-- Tickets, their append-only history, agencies, users and per-year numbering (PostgreSQL).
-- Timestamps are UTC, written by the application; enums are TEXT with a CHECK.

CREATE TABLE agencies (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    contacts TEXT NOT NULL, -- JSON array of e-mail addresses
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'agency')),
    level INTEGER CHECK (level IN (1, 2)),
    agency_id TEXT REFERENCES agencies (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    CHECK ((role = 'agent') = (level IS NOT NULL)),
    CHECK ((role = 'agency') = (agency_id IS NOT NULL))
);

CREATE TABLE ticket_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_number BIGINT NOT NULL
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('phone', 'email', 'portal', 'monitoring')),
    status TEXT NOT NULL
        CHECK (status IN ('new', 'open', 'on_hold', 'resolved', 'closed_not_in_scope')),
    level INTEGER NOT NULL CHECK (level IN (1, 2)),
    assignee_id TEXT REFERENCES users (id),
    agency_id TEXT REFERENCES agencies (id),
    requester_name TEXT,
    requester_email TEXT,
    requester_phone TEXT,
    malfunction BOOLEAN NOT NULL,
    interruption_open BOOLEAN NOT NULL,
    reported_at TIMESTAMP NOT NULL,
    last_event_at TIMESTAMP NOT NULL,
    -- The nearest deadline of a running SLA clock; 9999-12-31 when none runs.
    next_deadline TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

-- The status-by-level summary: one GROUP BY over the period, as a (parallel) index-only
-- scan of this index. (SQLite, which would sort the period, counts per status and level.)
CREATE INDEX tickets_reported_status_level ON tickets (reported_at, status, level);
CREATE INDEX tickets_agency_reported ON tickets (agency_id, reported_at, status, level);
-- Keyset pages of the ticket list, by filter column then (reported_at, id).
CREATE INDEX tickets_reported_id ON tickets (reported_at, id);
CREATE INDEX tickets_status_reported ON tickets (status, reported_at, id);
CREATE INDEX tickets_assignee_reported ON tickets (assignee_id, reported_at, id);
-- Agents' queues: nearest running deadline first.
CREATE INDEX tickets_next_deadline ON tickets (next_deadline, id);

CREATE TABLE ticket_events (
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

-- The history is append-only: an audit must see every entry as it was recorded.
CREATE FUNCTION ticket_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ticket_events_append_only BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Each ticket's SLA clocks as last computed from its history (what does not depend on now).
CREATE TABLE ticket_clocks (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    code TEXT NOT NULL,
    target_seconds BIGINT NOT NULL,
    calendar TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    applies_from TIMESTAMP NOT NULL,
    deadline TIMESTAMP,
    at_risk_at TIMESTAMP,
    stopped_at TIMESTAMP,
    segment_started_at TIMESTAMP NOT NULL,
    consumed_seconds BIGINT NOT NULL,
    paused BOOLEAN NOT NULL,
    -- Set once the clock watcher has recorded the crossing as a ticket event.
    risk_recorded BOOLEAN NOT NULL,
    breach_recorded BOOLEAN NOT NULL,
    PRIMARY KEY (ticket_id, code)
);
-- The watcher's scans: unrecorded crossings in deadline order.
CREATE INDEX ticket_clocks_breach_scan ON ticket_clocks (breach_recorded, deadline);
CREATE INDEX ticket_clocks_risk_scan ON ticket_clocks (risk_recorded, at_risk_at);

-- One-off closures of a calendar (whole local days, inclusive), added by administrators.
CREATE TABLE calendar_closures (
    id TEXT PRIMARY KEY NOT NULL,
    calendar TEXT NOT NULL,
    first_day TEXT NOT NULL, -- YYYY-MM-DD
    last_day TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (first_day <= last_day)
);
