-- Two machine roles for the channels (SPEC §8, §9): `mailgate`, a mail server piping messages
-- into POST /inbound/mail, and `monitor`, a monitoring system posting its states. Like
-- `metrics`, each may call only its own endpoints.
--
-- SQLite cannot change a CHECK, so `users` is built again with foreign keys off, outside
-- diesel's transaction (metadata.toml), as in 2026-12-03-000009_access_lifecycle.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE users_new (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'agency', 'metrics', 'mailgate', 'monitor')),
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
SELECT id, name, role, level, agency_id, active, oidc_subject, role_from_groups,
    created_at, updated_at, version FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
