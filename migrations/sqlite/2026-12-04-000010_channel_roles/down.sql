-- The older schema lacks the channel roles. Their users may be the actors of tickets and events,
-- so they are kept, as inactive level-1 agents: nothing they did is lost, and they can do nothing.
-- Foreign keys off while `users` is built again, as in up.sql.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'agency', 'metrics')),
    level INTEGER CHECK (level IN (1, 2)),
    agency_id TEXT REFERENCES agencies (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    oidc_subject TEXT UNIQUE,
    -- Made at an OpenID Connect sign-in from `oidc_group_roles`: its role follows its groups
    -- until an admin sets one.
    role_from_groups BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((role = 'agent') = (level IS NOT NULL)),
    CHECK ((role = 'agency') = (agency_id IS NOT NULL))
);
INSERT INTO users_new (id, name, role, level, agency_id, active, oidc_subject, role_from_groups,
    created_at, updated_at, version)
SELECT id, name,
    CASE WHEN role IN ('mailgate', 'monitor') THEN 'agent' ELSE role END,
    CASE WHEN role IN ('mailgate', 'monitor') THEN 1 ELSE level END,
    CASE WHEN role IN ('mailgate', 'monitor') THEN NULL ELSE agency_id END,
    CASE WHEN role IN ('mailgate', 'monitor') THEN FALSE ELSE active END,
    oidc_subject, role_from_groups, created_at, updated_at, version FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
