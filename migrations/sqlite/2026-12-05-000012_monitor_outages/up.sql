-- Each outage monitoring reported, tied to the malfunction ticket it opened or joined
-- (SPEC §9): a later, repeated or late report of the same outage finds it here and never
-- opens a second ticket. `ended_at` is set once its `interruption_end` is recorded.
CREATE TABLE monitor_outages (
    system TEXT NOT NULL REFERENCES systems (code),
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (system, started_at)
);
CREATE INDEX monitor_outages_of_ticket ON monitor_outages (ticket_id);
