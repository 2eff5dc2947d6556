-- The raw message in a table of its own, as on SQLite (where every UPDATE of a row rewrites
-- its raw bytes): the status row stays small; the raw bytes are written once, in the same
-- transaction as their row.
CREATE TABLE inbound_raw (
    inbound_id TEXT PRIMARY KEY NOT NULL REFERENCES inbound_messages (id),
    raw BYTEA NOT NULL
);
INSERT INTO inbound_raw (inbound_id, raw) SELECT id, raw FROM inbound_messages;
ALTER TABLE inbound_messages DROP COLUMN raw;
