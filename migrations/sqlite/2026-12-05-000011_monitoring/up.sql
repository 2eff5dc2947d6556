-- Monitoring (SPEC §9): the systems monitoring watches, and the monitor's own history of each
-- one, placed at the monitor's times. Every table is a set: a report sent twice (a retry, an
-- Alertmanager HA pair) hits its primary key and stores nothing new, so the order and the
-- repetition of reports change nothing.
CREATE TABLE systems (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    services TEXT NOT NULL, -- JSON array of the services it runs
    agency_ids TEXT NOT NULL, -- JSON array of the agencies whose services they are
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);

-- Reported states (generic events, check results, Nagios logs). Soft states are kept for the
-- record; the arithmetic reads hard ones only.
CREATE TABLE monitor_states (
    system TEXT NOT NULL REFERENCES systems (code),
    at TIMESTAMP NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up', 'down', 'unknown')),
    hard BOOLEAN NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('event', 'check', 'nagios')),
    problem_id TEXT,
    output TEXT,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (system, at, state, hard)
);

-- Alertmanager's alerts, by their identity (fingerprint, startsAt): down from starts_at, up
-- from ends_at once resolved.
CREATE TABLE monitor_alerts (
    fingerprint TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    system TEXT NOT NULL REFERENCES systems (code),
    ends_at TIMESTAMP,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (fingerprint, starts_at)
);
CREATE INDEX monitor_alerts_of_system ON monitor_alerts (system, starts_at);
-- The instants at which a system's hard state changed: of `monitor_states` folded to the
-- worst state of each instant, those whose state differs from the instant before. Kept in
-- the transaction of every insertion (the range it touched is computed again from the
-- stored states, so the result never depends on arrival order); a period is read from here,
-- not from the minutes of an unchanging state.
CREATE TABLE monitor_state_changes (
    system TEXT NOT NULL REFERENCES systems (code),
    at TIMESTAMP NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up', 'down', 'unknown')),
    PRIMARY KEY (system, at)
);

-- Response times of check results (SLA.3): one per system and instant.
CREATE TABLE check_results (
    system TEXT NOT NULL REFERENCES systems (code),
    at TIMESTAMP NOT NULL,
    response_ms REAL NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (system, at)
);

-- Maintenance windows [start_at, end_at).
CREATE TABLE monitor_downtimes (
    id TEXT PRIMARY KEY NOT NULL,
    system TEXT NOT NULL REFERENCES systems (code),
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL CHECK (end_at > start_at),
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (system, start_at, end_at)
);
