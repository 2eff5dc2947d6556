DROP TABLE idempotency_keys;
DROP TRIGGER ticket_events_no_delete;
DROP TRIGGER ticket_events_no_update;
DROP TABLE ticket_events;
DROP TABLE tickets;
DROP TABLE ticket_counters;
DROP TABLE users;
DROP TABLE agencies;
