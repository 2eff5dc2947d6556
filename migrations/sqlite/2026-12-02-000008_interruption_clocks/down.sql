DROP TABLE clock_recompute_queue;
-- Back to one clock per SLA and ticket: the first interruption's clocks stay.
CREATE TABLE ticket_clocks_old (
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
    risk_recorded BOOLEAN NOT NULL,
    breach_recorded BOOLEAN NOT NULL,
    reported_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00',
    agency_id TEXT,
    outcome TEXT CHECK (outcome IN ('met', 'breached')),
    elapsed_seconds BIGINT,
    calendar_version BIGINT NOT NULL DEFAULT 0,
    span_end TIMESTAMP NOT NULL DEFAULT '9999-12-31 23:59:59',
    PRIMARY KEY (ticket_id, code)
);
INSERT INTO ticket_clocks_old
SELECT ticket_id, code, target_seconds, calendar, started_at, applies_from, deadline,
    at_risk_at, stopped_at, segment_started_at, consumed_seconds, paused, risk_recorded,
    breach_recorded, reported_at, agency_id, outcome, elapsed_seconds, calendar_version,
    span_end
FROM ticket_clocks WHERE interruption <= 1;
DROP TABLE ticket_clocks;
ALTER TABLE ticket_clocks_old RENAME TO ticket_clocks;
CREATE INDEX ticket_clocks_report ON ticket_clocks
    (code, reported_at, applies_from, outcome, elapsed_seconds);
CREATE INDEX ticket_clocks_agency_report ON ticket_clocks
    (agency_id, code, reported_at, applies_from, outcome, elapsed_seconds);
CREATE INDEX ticket_clocks_open_report ON ticket_clocks
    (code, reported_at, applies_from, deadline) WHERE outcome IS NULL;
CREATE INDEX ticket_clocks_open_agency_report ON ticket_clocks
    (agency_id, code, reported_at, applies_from, deadline) WHERE outcome IS NULL;
CREATE INDEX ticket_clocks_breach_scan ON ticket_clocks (breach_recorded, deadline)
    WHERE outcome IS NULL OR outcome = 'breached';
CREATE INDEX ticket_clocks_risk_scan ON ticket_clocks (risk_recorded, at_risk_at)
    WHERE outcome IS NULL;
CREATE INDEX ticket_clocks_calendar_version
    ON ticket_clocks (calendar, calendar_version, ticket_id);
