ALTER TABLE inbound_messages ADD COLUMN raw BYTEA NOT NULL DEFAULT '\x';
UPDATE inbound_messages
SET raw = inbound_raw.raw FROM inbound_raw WHERE inbound_raw.inbound_id = inbound_messages.id;
ALTER TABLE inbound_messages ALTER COLUMN raw DROP DEFAULT;
DROP TABLE inbound_raw;
