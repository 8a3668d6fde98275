-- Webhooks part 3. A webhook's health, kept by the database as it changes, so that lists of
-- every webhook can be filtered and ordered by it through an index:
--   trouble 0 failing (On, sending, failing_since set), 1 turned off by keyport (Off with a
--   reason), 2 paused (On, but the owner's API Access is off or their account disabled),
--   3 healthy, 4 off (turned off by a person).
ALTER TABLE webhooks ADD COLUMN paused BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN trouble SMALLINT NOT NULL DEFAULT 3;
-- The last failed attempt, in plain words, and when the webhook last delivered.
ALTER TABLE webhooks ADD COLUMN last_error TEXT;
ALTER TABLE webhooks ADD COLUMN last_delivered_at TIMESTAMP;
-- The URL without its scheme, lower-cased: what a search by host matches the start of.
ALTER TABLE webhooks ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX webhooks_trouble ON webhooks (trouble, id);
CREATE INDEX webhooks_address ON webhooks (address);

-- (SQLite's triggers cannot change the row being written: they update it after; the update
-- sets only `address`, `paused` and `trouble`, which fire nothing.)
CREATE TRIGGER webhooks_health_update AFTER UPDATE OF url, status, disabled_reason, failing_since, user_id
    ON webhooks BEGIN
    UPDATE webhooks SET address = lower(substr(url, instr(url, '://') + 3)), paused = EXISTS (
        SELECT 1 FROM users u
        WHERE u.id = NEW.user_id AND (u.api_access_at IS NULL OR u.disabled_at IS NOT NULL)
    ) WHERE id = NEW.id;
    UPDATE webhooks SET trouble = CASE
        WHEN status = 'Off' AND disabled_reason IS NOT NULL THEN 1
        WHEN status = 'Off' THEN 4
        WHEN paused THEN 2
        WHEN failing_since IS NOT NULL THEN 0
        ELSE 3
    END WHERE id = NEW.id;
END;
-- A new webhook: as if its owner had just been set, which the trigger above handles.
CREATE TRIGGER webhooks_health_insert AFTER INSERT ON webhooks BEGIN
    UPDATE webhooks SET user_id = user_id WHERE id = NEW.id;
END;

-- An owner's API Access or account turning on or off pauses or resumes their webhooks.
CREATE TRIGGER users_webhooks_health AFTER UPDATE OF api_access_at, disabled_at ON users
    WHEN ((OLD.api_access_at IS NULL) <> (NEW.api_access_at IS NULL)
          OR (OLD.disabled_at IS NULL) <> (NEW.disabled_at IS NULL))
BEGIN
    UPDATE webhooks SET user_id = user_id WHERE user_id = NEW.id;
END;

UPDATE webhooks SET user_id = user_id;

-- Attempts an hour per webhook, added as deliveries settle: the last 24 hours' success rate
-- reads at most 24 rows a webhook, never the attempts themselves.
CREATE TABLE webhook_hours (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    hour TIMESTAMP NOT NULL,
    delivered BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (webhook_id, hour)
);
CREATE INDEX webhook_hours_hour ON webhook_hours (hour);

-- Deliveries waiting, per webhook and in all: how many, and the oldest. (Not partial indexes:
-- the state is a bound value, which SQLite's planner does not read.)
CREATE INDEX deliveries_waiting ON deliveries (state, webhook_id, created_at);
CREATE INDEX deliveries_waiting_age ON deliveries (state, created_at);
