-- Calendars as data. Every calendar the service knows has a row: its definition when an
-- administrator gave it through the API (NULL: built in or from the configuration file), a
-- fingerprint of the definition in force (a changed configuration is noticed at start), and a
-- version that grows with every change of the definition or of its closures.
CREATE TABLE calendars (
    name TEXT PRIMARY KEY NOT NULL,
    definition TEXT,
    fingerprint TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT REFERENCES users (id)
);

-- One row per version of a calendar: what changed and which instants it can affect, so that
-- the clocks that count in them are recomputed and the others only marked current.
CREATE TABLE calendar_changes (
    calendar TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('created', 'configured', 'defined', 'removed',
                                       'closure_added', 'closure_removed')),
    affects_from TIMESTAMP NOT NULL,
    affects_to TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    recorded_by TEXT REFERENCES users (id),
    PRIMARY KEY (calendar, version)
);

-- Each clock keeps the version of its calendar it was computed with (0: never; running
-- clocks from before this change are recomputed at once), and the end of the span its
-- calendar can change: the stop (or the deadline when later), the deadline while running,
-- the end of time while paused.
ALTER TABLE ticket_clocks ADD COLUMN calendar_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_clocks ADD COLUMN span_end TIMESTAMP NOT NULL DEFAULT '9999-12-31 23:59:59';
UPDATE ticket_clocks SET calendar_version = 1 WHERE stopped_at IS NOT NULL;
UPDATE ticket_clocks SET span_end = CASE
    WHEN stopped_at IS NULL THEN COALESCE(deadline, '9999-12-31 23:59:59')
    WHEN deadline IS NULL OR stopped_at > deadline THEN stopped_at
    ELSE deadline END;
-- The follower walks one version of a calendar at a time, ticket by ticket (a keyset).
CREATE INDEX ticket_clocks_calendar_version
    ON ticket_clocks (calendar, calendar_version, ticket_id);
-- (An agency's clocks are found through ticket_clocks_agency_report, which starts with
-- agency_id: every index more is written again by each recomputed clock.)

-- An agency may name the calendar of its office hours (the business-hour SLAs count in it).
-- A change of it is queued here for the follower, which marks the agency's clocks stale in
-- batches (not in the request) and then computes them again.
ALTER TABLE agencies ADD COLUMN calendar TEXT;
CREATE TABLE agency_calendar_changes (
    agency_id TEXT PRIMARY KEY NOT NULL REFERENCES agencies (id),
    recorded_at TIMESTAMP NOT NULL
);

-- Events are numbered by their own counter: the service's own events (an SLA crossing, an
-- outcome a calendar change altered) do not move the ticket's version, its ETag.
ALTER TABLE tickets ADD COLUMN last_sequence BIGINT NOT NULL DEFAULT 0;
UPDATE tickets SET last_sequence = version;

-- Background work that one instance at a time should do, held until `expires_at`.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- A new event type, `sla_outcome_changed`: a calendar change altered a stopped clock's outcome.
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_type_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_type_check
    CHECK (type IN ('created', 'take_charge', 'reply', 'comment', 'assign', 'escalate', 'hold', 'resume', 'resolve', 'close_not_in_scope', 'reopen', 'interruption_start', 'interruption_end', 'start_intervention', 'notify_agency', 'notify_users', 'sla_at_risk', 'sla_breached', 'malfunction_updated', 'sla_outcome_changed'));
