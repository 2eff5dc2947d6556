DROP TABLE idempotency_keys;
DROP TRIGGER ticket_events_append_only ON ticket_events;
DROP FUNCTION ticket_events_append_only();
DROP TABLE ticket_events;
DROP TABLE tickets;
DROP TABLE ticket_counters;
DROP TABLE users;
DROP TABLE agencies;
