-- Users with a lifecycle, tokens as their own resource, and an audit of access changes
-- (SQLite). Every token a user had keeps working: it becomes that user's token "initial".
--
-- SQLite cannot drop a UNIQUE column, so `users` is built again, and that needs foreign keys
-- off (with them on, dropping `users` would count every row that references it as a
-- violation). They can only be switched outside a transaction: this migration runs outside
-- diesel's (metadata.toml) and holds its own. (diesel records the migration after this script
-- commits: a crash in between leaves it applied but unrecorded, and the next start stops at
-- "table api_tokens already exists" rather than applying it twice.)
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT, -- NULL for the tokens made before this migration: only their hash was kept
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at)
SELECT id, id, 'initial', token_hash, NULL, created_at FROM users;

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
INSERT INTO users_new (id, name, role, level, agency_id, active, oidc_subject,
    role_from_groups, created_at, updated_at, version)
SELECT id, name, role, level, agency_id, TRUE, NULL, FALSE, created_at, created_at, 1 FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TABLE access_audit (
    id TEXT PRIMARY KEY NOT NULL, -- UUIDv7: in the order recorded
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id), -- NULL: the CLI, the first start or the demo
    via TEXT NOT NULL CHECK (via IN ('api', 'cli', 'bootstrap', 'demo', 'oidc')),
    -- 'oidc': an OpenID Connect sign-in that made or changed a user from its groups
    action TEXT NOT NULL CHECK (action IN ('user_created', 'user_changed', 'user_deactivated',
        'user_activated', 'token_created', 'token_revoked')),
    user_id TEXT NOT NULL REFERENCES users (id),
    token_id TEXT REFERENCES api_tokens (id),
    changes TEXT NOT NULL -- JSON object: field -> {"from": …, "to": …}; never a token
);
CREATE INDEX access_audit_user ON access_audit (user_id, id);

COMMIT;
PRAGMA foreign_keys = ON;
