-- The older schema lacks the channel roles. Their users may be the actors of tickets and events,
-- so they are kept, as inactive level-1 agents: nothing they did is lost, and they can do nothing.
UPDATE users SET role = 'agent', level = 1, agency_id = NULL, active = FALSE
WHERE role IN ('mailgate', 'monitor');
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'supervisor', 'agent', 'agency', 'metrics'));
