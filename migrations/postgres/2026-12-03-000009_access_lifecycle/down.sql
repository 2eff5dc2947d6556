-- Back to one token per user (the usable one used last; an expired or revoked token does not
-- come back to life), without lifecycle or audit.
DROP TABLE access_audit;
-- A `metrics` user (a role the older schema lacks) does not come back.
DELETE FROM api_tokens WHERE user_id IN (SELECT id FROM users WHERE role = 'metrics');
DELETE FROM users WHERE role = 'metrics';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'supervisor', 'agent', 'agency'));
ALTER TABLE users ADD COLUMN token_hash TEXT;
-- A user without a usable token gets an unusable hash (no token hashes to it).
UPDATE users u SET token_hash = COALESCE(
    (SELECT t.token_hash FROM api_tokens t
     WHERE t.user_id = u.id AND t.revoked_at IS NULL AND u.active
         AND (t.expires_at IS NULL OR t.expires_at > (now() AT TIME ZONE 'UTC'))
     ORDER BY t.last_used_at DESC NULLS LAST, t.created_at, t.id LIMIT 1), 'revoked:' || u.id);
ALTER TABLE users ALTER COLUMN token_hash SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_token_hash_key UNIQUE (token_hash);
ALTER TABLE users DROP COLUMN version;
ALTER TABLE users DROP COLUMN updated_at;
ALTER TABLE users DROP COLUMN role_from_groups;
ALTER TABLE users DROP COLUMN oidc_subject;
ALTER TABLE users DROP COLUMN active;
DROP TABLE api_tokens;
