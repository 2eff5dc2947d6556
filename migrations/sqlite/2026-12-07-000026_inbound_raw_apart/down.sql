ALTER TABLE inbound_messages ADD COLUMN raw BLOB NOT NULL DEFAULT x'';
UPDATE inbound_messages
SET raw = (SELECT raw FROM inbound_raw WHERE inbound_raw.inbound_id = inbound_messages.id);
DROP TABLE inbound_raw;
