-- Users with a lifecycle, tokens as their own resource, and an audit of access changes
-- (PostgreSQL). Every token a user had keeps working: it becomes that user's token "initial".

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

ALTER TABLE users DROP COLUMN token_hash;
-- A role that reads the Prometheus metrics and nothing else.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'supervisor', 'agent', 'agency', 'metrics'));
ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN oidc_subject TEXT UNIQUE;
-- Made at an OpenID Connect sign-in from `oidc_group_roles`: its role follows its groups until
-- an admin sets one.
ALTER TABLE users ADD COLUMN role_from_groups BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;
UPDATE users SET updated_at = created_at;
ALTER TABLE users ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ALTER COLUMN version DROP DEFAULT;

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
