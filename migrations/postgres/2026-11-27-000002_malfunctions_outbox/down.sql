DROP TABLE outbox;
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_type_check;
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_append_only;
DELETE FROM ticket_events WHERE type = 'malfunction_updated';
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_append_only;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_type_check
    CHECK (type IN ('created', 'take_charge', 'reply', 'comment', 'assign', 'escalate', 'hold', 'resume', 'resolve', 'close_not_in_scope', 'reopen', 'interruption_start', 'interruption_end', 'start_intervention', 'notify_agency', 'notify_users', 'sla_at_risk', 'sla_breached'));
DROP TABLE ticket_affected_agencies;
ALTER TABLE tickets DROP COLUMN interruption_started_at;
ALTER TABLE tickets DROP COLUMN actions_taken;
ALTER TABLE tickets DROP COLUMN cause;
ALTER TABLE tickets DROP COLUMN affected_agencies;
ALTER TABLE tickets DROP COLUMN affected_services;
