-- Each interruption has its own SLA.9 and SLA.10 (SPEC §10): a clock is one SLA of a ticket
-- and, for those, one interruption. `interruption` is its place among the ticket's
-- interruptions (1 for the first; 0 for the clocks of the whole ticket), part of the key.
ALTER TABLE ticket_clocks ADD COLUMN interruption BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_clocks ADD COLUMN interruption_started_at TIMESTAMP;
-- A ticket's stored SLA.9/SLA.10 become the clocks of the interruption they measured, as
-- they are: the latest interruption that had started by the instant the clock began to
-- apply (SLA.10: its 30th minute) or, for SLA.9, by its start; the first when none had.
UPDATE ticket_clocks c SET interruption = GREATEST(1, (
    SELECT COUNT(*) FROM ticket_interruptions i WHERE i.ticket_id = c.ticket_id
       AND i.started_at <= CASE WHEN c.applies_from > '0001-01-02' THEN c.applies_from
                                ELSE c.started_at END))
WHERE c.code IN ('SLA.9', 'SLA.10');
UPDATE ticket_clocks c SET interruption_started_at = (
    SELECT i.started_at FROM ticket_interruptions i WHERE i.ticket_id = c.ticket_id
       AND (SELECT COUNT(*) FROM ticket_interruptions j
            WHERE j.ticket_id = i.ticket_id AND j.started_at <= i.started_at) = c.interruption)
WHERE c.interruption > 0;
ALTER TABLE ticket_clocks DROP CONSTRAINT ticket_clocks_pkey;
ALTER TABLE ticket_clocks ADD PRIMARY KEY (ticket_id, code, interruption);
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
