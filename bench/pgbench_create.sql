-- pgbench: the bare transaction of a ticket's creation, one ticket row and its `created`
-- event, as bench/load.sh compares with POST /tickets. :uid is the bench user (-D uid=...).
\set r random(1, 9000000000000000000)
BEGIN;
INSERT INTO tickets (id, number, subject, description, channel, status, level,
    requester_name, requester_email, requester_phone, malfunction, interruption_open,
    reported_at, last_event_at, next_deadline, created_by, created_at, updated_at, version,
    affected_services, affected_agencies, last_sequence)
VALUES ('pgb-' || :client_id || '-' || :r, 'pgb-' || :client_id || '-' || :r,
    'Portale pagamenti non raggiungibile (pgbench)', 'Il portale risponde 502 da stamattina.',
    'phone', 'new', 1, 'Mario Rossi', 'mario.rossi@example.org', '+39 06 1234567', false, false,
    now(), now(), now() + interval '4 hours', :uid, now(), now(), 1, '[]', '[]', 1);
INSERT INTO ticket_events (id, ticket_id, sequence, type, at, recorded_at, actor_id,
    status_after, level_after, assignee_after, details)
VALUES ('pge-' || :client_id || '-' || :r, 'pgb-' || :client_id || '-' || :r, 1, 'created',
    now(), now(), :uid, 'new', 1, NULL, '{}');
END;
