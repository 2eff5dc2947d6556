-- Mail in (SPEC §8): every message that reaches the helpdesk, raw, stored before it is
-- acknowledged to its source (the gateway's 202, the IMAP flag). `dedupe_key` is the
-- Message-ID with the SHA-256 of the raw bytes (the hash alone without a Message-ID): the same
-- message received again finds its row and changes nothing. `status`: `stored` (not yet
-- ingested, e.g. the database failed midway), `ingested` (it opened or continued
-- `ticket_id`, as `event_id` for a continuation), `quarantined` (not understood: `reason`;
-- an admin may ingest it again).
CREATE TABLE inbound_messages (
    id TEXT PRIMARY KEY NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    message_id TEXT, -- <id@domain>, as the sender wrote it
    source TEXT NOT NULL, -- gateway, or imap:<mailbox>
    received_at TIMESTAMP NOT NULL, -- receipt at the gateway, or INTERNALDATE
    stored_by TEXT REFERENCES users (id),
    raw BYTEA NOT NULL,
    size BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('stored', 'ingested', 'quarantined')),
    reason TEXT,
    ticket_id TEXT REFERENCES tickets (id),
    event_id TEXT, -- no foreign key, so that ticket_events can be copied on SQLite
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Threading: a reply names the Message-IDs of the ticket's messages.
CREATE INDEX inbound_messages_by_message_id ON inbound_messages (message_id);
CREATE INDEX inbound_messages_by_ticket ON inbound_messages (ticket_id);
CREATE INDEX inbound_messages_by_status ON inbound_messages (status, id);

-- The attachments of the messages a ticket received, up to max_attachment_bytes each.
-- `part` is the attachment's place in its message: an ingest run again finds those it kept.
CREATE TABLE ticket_attachments (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    inbound_id TEXT NOT NULL REFERENCES inbound_messages (id),
    part INTEGER NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    body BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (inbound_id, part)
);
CREATE INDEX ticket_attachments_of_ticket ON ticket_attachments (ticket_id);

-- A new event type, `requester_message`: the requester wrote again.
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_type_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_type_check
    CHECK (type IN ('created', 'take_charge', 'reply', 'comment', 'assign', 'escalate', 'hold', 'resume', 'resolve', 'close_not_in_scope', 'reopen', 'interruption_start', 'interruption_end', 'start_intervention', 'notify_agency', 'notify_users', 'sla_at_risk', 'sla_breached', 'malfunction_updated', 'sla_outcome_changed', 'withdraw_notice', 'requester_message'));
