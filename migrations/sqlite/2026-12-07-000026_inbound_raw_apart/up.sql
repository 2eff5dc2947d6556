-- The raw message in a table of its own. SQLite rewrites a whole row on every UPDATE, so each
-- change of a received message's status (ingested, quarantined) read and wrote its raw bytes
-- again: a 25 MiB message held three copies at once. The status row stays small; the raw
-- bytes are written once, in the same transaction as their row.
CREATE TABLE inbound_raw (
    inbound_id TEXT PRIMARY KEY NOT NULL REFERENCES inbound_messages (id),
    raw BLOB NOT NULL
);
INSERT INTO inbound_raw (inbound_id, raw) SELECT id, raw FROM inbound_messages;
ALTER TABLE inbound_messages DROP COLUMN raw;
