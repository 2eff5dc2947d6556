-- Each interruption has its own SLA.9 and SLA.10 (SPEC §10): a clock is one SLA of a ticket
-- and, for those, one interruption. `interruption` is its place among the ticket's
-- interruptions (1 for the first; 0 for the clocks of the whole ticket), part of the key.
-- SQLite cannot change a primary key: the table is rebuilt.
CREATE TABLE ticket_clocks_new (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    code TEXT NOT NULL,
    interruption BIGINT NOT NULL DEFAULT 0,
    interruption_started_at TIMESTAMP,
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
    PRIMARY KEY (ticket_id, code, interruption)
);
-- A ticket's stored SLA.9/SLA.10 become the clocks of the interruption they measured, as
-- they are: the latest interruption that had started by the instant the clock began to
-- apply (SLA.10: its 30th minute) or, for SLA.9, by its start; the first when none had.
INSERT INTO ticket_clocks_new
SELECT c.ticket_id, c.code,
    CASE WHEN c.code IN ('SLA.9', 'SLA.10') THEN MAX(1, (
        SELECT COUNT(*) FROM ticket_interruptions i WHERE i.ticket_id = c.ticket_id
           AND i.started_at <= CASE WHEN c.applies_from > '0001-01-02' THEN c.applies_from
                                    ELSE c.started_at END)) ELSE 0 END,
    NULL,
    c.target_seconds, c.calendar, c.started_at, c.applies_from, c.deadline, c.at_risk_at,
    c.stopped_at, c.segment_started_at, c.consumed_seconds, c.paused, c.risk_recorded,
    c.breach_recorded, c.reported_at, c.agency_id, c.outcome, c.elapsed_seconds,
    c.calendar_version, c.span_end
FROM ticket_clocks c;
UPDATE ticket_clocks_new SET interruption_started_at = (
    SELECT i.started_at FROM ticket_interruptions i WHERE i.ticket_id = ticket_clocks_new.ticket_id
       AND (SELECT COUNT(*) FROM ticket_interruptions j
            WHERE j.ticket_id = i.ticket_id AND j.started_at <= i.started_at)
           = ticket_clocks_new.interruption)
WHERE interruption > 0;
DROP TABLE ticket_clocks;
ALTER TABLE ticket_clocks_new RENAME TO ticket_clocks;

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
-- The clock watcher's third scan: running clocks that begin to apply after they start
-- (SLA.10 from its interruption's 30th minute) and must then join the ticket's next deadline.
CREATE INDEX ticket_clocks_late_applying ON ticket_clocks (applies_from)
    WHERE stopped_at IS NULL AND applies_from > started_at;

-- A ticket with several interruptions had one SLA.9 and one SLA.10 for all of them: its
-- clocks are computed again, per interruption, at the next start (and the row removed).
CREATE TABLE clock_recompute_queue (
    ticket_id TEXT PRIMARY KEY NOT NULL REFERENCES tickets (id)
);
INSERT INTO clock_recompute_queue (ticket_id)
SELECT ticket_id FROM ticket_interruptions GROUP BY ticket_id HAVING COUNT(*) > 1;
