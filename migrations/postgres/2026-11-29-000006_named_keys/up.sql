-- Several named keys per user, with access levels, expiry and rotation with a grace time.
-- API Access becomes a switch on the user (on since api_access_at); keys live under it.
-- Every existing key keeps working: it becomes `Default`, full access, no expiry.
ALTER TABLE users ADD COLUMN api_access_at TIMESTAMP;
-- Under the policy "only people an admin has allowed", who may turn API Access on.
ALTER TABLE users ADD COLUMN api_access_allowed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET api_access_at = k.created_at
    FROM api_keys k WHERE k.user_id = users.id AND k.revoked_at IS NULL;
-- API Management lists the people with API Access on, most recently turned on first.
CREATE INDEX users_api_access ON users (api_access_at, id) WHERE api_access_at IS NOT NULL;

ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT 'Default';
ALTER TABLE api_keys ALTER COLUMN name DROP DEFAULT;
-- 'full', 'read', or 'custom' with `scopes` ("contacts:write jobs:read").
ALTER TABLE api_keys ADD COLUMN access TEXT NOT NULL DEFAULT 'full'
    CHECK (access IN ('full', 'read', 'custom'));
ALTER TABLE api_keys ALTER COLUMN access DROP DEFAULT;
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
-- Regenerated with a grace time: the key works until then, and `replaces` on its successor
-- points back to it.
ALTER TABLE api_keys ADD COLUMN retires_at TIMESTAMP;
ALTER TABLE api_keys ADD COLUMN replaces BIGINT REFERENCES api_keys (id) ON DELETE SET NULL;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_revoked_reason_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_revoked_reason_check CHECK (revoked_reason IN
    ('regenerated', 'turned_off', 'cleared', 'retired', 'deleted', 'expired'));
DROP INDEX api_keys_one_active_per_user;
DROP INDEX api_keys_active_newest;
-- A name is unique among a user's live keys (a retiring key shares its successor's name).
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (user_id, name)
    WHERE revoked_at IS NULL AND retires_at IS NULL;
-- A key regenerated has exactly one successor, however many regenerate it at once.
CREATE UNIQUE INDEX api_keys_one_successor ON api_keys (replaces) WHERE replaces IS NOT NULL;

-- The admin's key policy: one row, absent until an admin first saves it.
CREATE TABLE key_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    max_lifetime_days INTEGER CHECK (max_lifetime_days BETWEEN 1 AND 3650),
    require_expiry BOOLEAN NOT NULL,
    max_keys_per_user INTEGER NOT NULL CHECK (max_keys_per_user BETWEEN 1 AND 100),
    allow_query_keys BOOLEAN NOT NULL,
    who_may_enable TEXT NOT NULL CHECK (who_may_enable IN ('everyone', 'allowed')),
    updated_at TIMESTAMP NOT NULL,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
