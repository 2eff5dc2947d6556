-- What the SLA compliance report reads, kept on each clock so that a year's report scans one
-- index per SLA instead of joining a million tickets: the ticket's report instant and
-- agency, and, once the clock has stopped, its outcome and the time it counted.
ALTER TABLE ticket_clocks ADD COLUMN reported_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE ticket_clocks ADD COLUMN agency_id TEXT;
ALTER TABLE ticket_clocks ADD COLUMN outcome TEXT CHECK (outcome IN ('met', 'breached'));
ALTER TABLE ticket_clocks ADD COLUMN elapsed_seconds BIGINT;
UPDATE ticket_clocks SET
    reported_at = (SELECT t.reported_at FROM tickets t WHERE t.id = ticket_clocks.ticket_id),
    agency_id = (SELECT t.agency_id FROM tickets t WHERE t.id = ticket_clocks.ticket_id);
CREATE INDEX ticket_clocks_report ON ticket_clocks (code, reported_at)
    INCLUDE (applies_from, outcome, elapsed_seconds);
CREATE INDEX ticket_clocks_agency_report ON ticket_clocks (agency_id, code, reported_at)
    INCLUDE (applies_from, outcome, elapsed_seconds);

-- Each interruption of a malfunction, from its `interruption_start` to its
-- `interruption_end` (NULL while it goes on): what the malfunction report lists.
CREATE TABLE ticket_interruptions (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    PRIMARY KEY (ticket_id, started_at)
);
CREATE INDEX ticket_interruptions_started ON ticket_interruptions (started_at);
INSERT INTO ticket_interruptions (ticket_id, started_at, ended_at)
SELECT s.ticket_id, s.at, (
    SELECT MIN(e.at) FROM ticket_events e
    WHERE e.ticket_id = s.ticket_id AND e.type = 'interruption_end' AND e.sequence > s.sequence
)
FROM ticket_events s WHERE s.type = 'interruption_start';

-- The malfunction reports (SLA.11) sent to each agency, one edition per (agency, period);
-- a deliberate resend is the next edition. The e-mail itself is in the outbox.
CREATE TABLE report_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    period TEXT NOT NULL, -- 2016-Q4, 2016-H2, 2016-11, 2016, or from/to
    period_from TIMESTAMP NOT NULL,
    period_to TIMESTAMP NOT NULL,
    edition INTEGER NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'request', 'cli')),
    requested_by TEXT REFERENCES users (id),
    interruptions INTEGER NOT NULL,
    outbox_id TEXT REFERENCES outbox (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (agency_id, period_from, period_to, edition)
);
CREATE INDEX report_deliveries_period ON report_deliveries (period_from, period_to);
