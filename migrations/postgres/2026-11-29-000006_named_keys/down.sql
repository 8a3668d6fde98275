DROP TABLE key_policy;
-- Only one live key per user fits the old shape: the newest stays, the others are turned off.
UPDATE api_keys SET revoked_at = created_at, revoked_reason = 'turned_off'
    WHERE revoked_at IS NULL AND id <> (SELECT max(id) FROM api_keys k
        WHERE k.user_id = api_keys.user_id AND k.revoked_at IS NULL);
UPDATE api_keys SET revoked_reason = 'regenerated'
    WHERE revoked_reason IN ('retired', 'deleted', 'expired');
DROP INDEX api_keys_one_successor;
DROP INDEX api_keys_live_name;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_revoked_reason_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_revoked_reason_check
    CHECK (revoked_reason IN ('regenerated', 'turned_off', 'cleared'));
ALTER TABLE api_keys DROP COLUMN replaces;
ALTER TABLE api_keys DROP COLUMN retires_at;
ALTER TABLE api_keys DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN scopes;
ALTER TABLE api_keys DROP COLUMN access;
ALTER TABLE api_keys DROP COLUMN name;
CREATE UNIQUE INDEX api_keys_one_active_per_user ON api_keys (user_id) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_active_newest ON api_keys (id) WHERE revoked_at IS NULL;
DROP INDEX users_api_access;
ALTER TABLE users DROP COLUMN api_access_allowed;
ALTER TABLE users DROP COLUMN api_access_at;
