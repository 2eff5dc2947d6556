-- Two more delivery states for the outbox (SPEC §8): `bounced`, a message the receiving side
-- returned (a DSN, a PEC `errore-consegna`), and `delivered`, a certified message its PEC
-- provider confirmed (`avvenuta-consegna`). Both follow `sent`; neither is sent again.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'bounced', 'delivered'));
