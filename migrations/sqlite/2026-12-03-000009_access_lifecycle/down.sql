-- Back to one token per user (the usable one used last; an expired or revoked token does not
-- come back to life), without lifecycle or audit. Foreign
-- keys off while `users` is built again, as in up.sql.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE access_audit;
CREATE TABLE users_old (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'agency')),
    level INTEGER CHECK (level IN (1, 2)),
    agency_id TEXT REFERENCES agencies (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    CHECK ((role = 'agent') = (level IS NOT NULL)),
    CHECK ((role = 'agency') = (agency_id IS NOT NULL))
);
-- A user without a usable token gets an unusable hash (no token hashes to it). A `metrics` user
-- (a role the older schema lacks) does not come back.
INSERT INTO users_old (id, name, role, level, agency_id, token_hash, created_at)
SELECT u.id, u.name, u.role, u.level, u.agency_id,
    COALESCE((SELECT t.token_hash FROM api_tokens t
              WHERE t.user_id = u.id AND t.revoked_at IS NULL AND u.active
                  AND (t.expires_at IS NULL OR t.expires_at > CURRENT_TIMESTAMP)
              ORDER BY t.last_used_at DESC NULLS LAST, t.created_at, t.id LIMIT 1),
             'revoked:' || u.id),
    u.created_at
FROM users u
WHERE u.role <> 'metrics';
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
DROP TABLE api_tokens;

COMMIT;
PRAGMA foreign_keys = ON;
