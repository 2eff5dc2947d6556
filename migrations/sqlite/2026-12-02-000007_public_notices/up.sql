-- Public notices (SPEC §10): what `notify_users` publishes on /public/notices, the Atom feed
-- and the status page. One published notice per ticket: the first `notify_users` creates it,
-- later ones update it, `interruption_end` marks it resolved, `withdraw_notice` takes it off
-- every public output (the row stays, withdrawn, for the audit; a later `notify_users` then
-- publishes a new notice with a new id). Only what the public may read is copied here, so the
-- public outputs never read a ticket: the ticket number is shown only when configured.
CREATE TABLE public_notices (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    ticket_number TEXT NOT NULL,
    services TEXT NOT NULL, -- JSON array, as of the latest notify_users
    text TEXT NOT NULL, -- the latest notify_users message
    interruption_started_at TIMESTAMP,
    interruption_ended_at TIMESTAMP, -- NULL: current
    published_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL, -- moves with every change (the feed's `updated`)
    withdrawn_at TIMESTAMP
);
-- A ticket has a notice per interruption it told the public of; `tickets.public_notice_id`
-- names the one its next `notify_users` updates.
CREATE INDEX public_notices_of_ticket ON public_notices (ticket_id);
CREATE INDEX public_notices_updated ON public_notices (updated_at);

-- Every text a notice has had, oldest first: the update history the feed and the page show.
-- `event_id` names the notify_users event without a foreign key, so that a later migration
-- can copy ticket_events into a new table on SQLite (as 000006 did).
CREATE TABLE public_notice_updates (
    notice_id TEXT NOT NULL REFERENCES public_notices (id),
    sequence INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    text TEXT NOT NULL,
    services TEXT NOT NULL,
    PRIMARY KEY (notice_id, sequence)
);

-- The ticket's published notice, so that its allowed actions know of `withdraw_notice`.
ALTER TABLE tickets ADD COLUMN public_notice_id TEXT;

-- A new event type, `withdraw_notice`: SQLite cannot change a CHECK, so the history is copied
-- into a table with the new one (as in 000006).
CREATE TABLE ticket_events_new (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    sequence BIGINT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('created', 'take_charge', 'reply', 'comment', 'assign', 'escalate', 'hold', 'resume', 'resolve', 'close_not_in_scope', 'reopen', 'interruption_start', 'interruption_end', 'start_intervention', 'notify_agency', 'notify_users', 'sla_at_risk', 'sla_breached', 'malfunction_updated', 'sla_outcome_changed', 'withdraw_notice')),
    at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id), -- NULL: recorded by the service itself
    status_after TEXT NOT NULL
        CHECK (status_after IN ('new', 'open', 'on_hold', 'resolved', 'closed_not_in_scope')),
    level_after INTEGER NOT NULL CHECK (level_after IN (1, 2)),
    assignee_after TEXT,
    details TEXT NOT NULL, -- JSON object: channel, message, reason, ...
    UNIQUE (ticket_id, sequence)
);
INSERT INTO ticket_events_new SELECT * FROM ticket_events;
DROP TABLE ticket_events;
ALTER TABLE ticket_events_new RENAME TO ticket_events;
-- The history is append-only: an audit must see every entry as it was recorded.
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only');
END;
