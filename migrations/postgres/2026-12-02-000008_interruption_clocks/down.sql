DROP TABLE clock_recompute_queue;
-- Back to one clock per SLA and ticket: the first interruption's clocks stay.
DROP INDEX ticket_clocks_late_applying;
DELETE FROM ticket_clocks WHERE interruption > 1;
ALTER TABLE ticket_clocks DROP CONSTRAINT ticket_clocks_pkey;
ALTER TABLE ticket_clocks ADD PRIMARY KEY (ticket_id, code);
ALTER TABLE ticket_clocks DROP COLUMN interruption_started_at;
ALTER TABLE ticket_clocks DROP COLUMN interruption;
