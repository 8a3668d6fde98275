-- Several named keys per user, with access levels, expiry and rotation with a grace time.
-- API Access becomes a switch on the user (on since api_access_at); keys live under it.
-- Every existing key keeps working: it becomes `Default`, full access, no expiry.
-- SQLite cannot change a CHECK constraint, so api_keys is rebuilt.
ALTER TABLE users ADD COLUMN api_access_at TIMESTAMP;
-- Under the policy "only people an admin has allowed", who may turn API Access on.
ALTER TABLE users ADD COLUMN api_access_allowed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET api_access_at = (
    SELECT min(created_at) FROM api_keys WHERE api_keys.user_id = users.id AND revoked_at IS NULL
);
-- API Management lists the people with API Access on, most recently turned on first.
CREATE INDEX users_api_access ON users (api_access_at, id) WHERE api_access_at IS NOT NULL;

CREATE TABLE api_keys_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    -- 'full', 'read', or 'custom' with `scopes` ("contacts:write jobs:read").
    access TEXT NOT NULL CHECK (access IN ('full', 'read', 'custom')),
    scopes TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMP,
    -- Regenerated with a grace time: the key works until then, and `replaces` on its
    -- successor points back to it.
    retires_at TIMESTAMP,
    replaces BIGINT REFERENCES api_keys (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    last_used_ip TEXT,
    revoked_at TIMESTAMP,
    revoked_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    revoked_reason TEXT CHECK (revoked_reason IN
        ('regenerated', 'turned_off', 'cleared', 'retired', 'deleted', 'expired')),
    revoked_note TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
INSERT INTO api_keys_new (id, user_id, name, prefix, key_hash, access, created_at,
        last_used_at, last_used_ip, revoked_at, revoked_by, revoked_reason, revoked_note)
    SELECT id, user_id, 'Default', prefix, key_hash, 'full', created_at,
        last_used_at, last_used_ip, revoked_at, revoked_by, revoked_reason, revoked_note
    FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
-- A name is unique among a user's live keys (a retiring key shares its successor's name).
CREATE UNIQUE INDEX api_keys_live_name ON api_keys (user_id, name)
    WHERE revoked_at IS NULL AND retires_at IS NULL;
-- A key regenerated has exactly one successor, however many regenerate it at once.
CREATE UNIQUE INDEX api_keys_one_successor ON api_keys (replaces) WHERE replaces IS NOT NULL;
CREATE INDEX api_keys_user_history ON api_keys (user_id, id);

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
