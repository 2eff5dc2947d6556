-- Two machine roles for the channels (SPEC §8, §9): `mailgate`, a mail server piping messages
-- into POST /inbound/mail, and `monitor`, a monitoring system posting its states. Like
-- `metrics`, each may call only its own endpoints.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'supervisor', 'agent', 'agency', 'metrics', 'mailgate', 'monitor'));
