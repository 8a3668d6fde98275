DROP TABLE key_policy;
CREATE TABLE api_keys_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    last_used_ip TEXT,
    revoked_at TIMESTAMP,
    revoked_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    revoked_reason TEXT CHECK (revoked_reason IN ('regenerated', 'turned_off', 'cleared')),
    revoked_note TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
-- Only one live key per user fits the old shape: the newest stays, the others are turned off.
INSERT INTO api_keys_old
    SELECT id, user_id, prefix, key_hash, created_at, last_used_at, last_used_ip,
        CASE WHEN revoked_at IS NULL AND id <> (SELECT max(id) FROM api_keys k
                 WHERE k.user_id = api_keys.user_id AND k.revoked_at IS NULL)
             THEN created_at ELSE revoked_at END,
        revoked_by,
        CASE WHEN revoked_at IS NULL AND id <> (SELECT max(id) FROM api_keys k
                 WHERE k.user_id = api_keys.user_id AND k.revoked_at IS NULL)
             THEN 'turned_off'
             WHEN revoked_reason IN ('retired', 'deleted', 'expired') THEN 'regenerated'
             ELSE revoked_reason END,
        revoked_note
    FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_old RENAME TO api_keys;
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE UNIQUE INDEX api_keys_one_active_per_user ON api_keys (user_id) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_active_newest ON api_keys (id) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_user_history ON api_keys (user_id, id);
DROP INDEX users_api_access;
ALTER TABLE users DROP COLUMN api_access_allowed;
ALTER TABLE users DROP COLUMN api_access_at;
