-- Keys part 3. How each key is used: requests a day by outcome, counted in memory and added
-- here in batches (several instances add up).
CREATE TABLE key_usage (
    key_id BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    succeeded BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    client_errors BIGINT NOT NULL DEFAULT 0,
    throttled BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day)
);
CREATE INDEX key_usage_day ON key_usage (day);

-- Where a key that stopped working is still sent: one row per key keyport issued (a flood of
-- unknown keys adds nothing), the last use's details, and when the owner dismissed the notice
-- and was last mailed about it.
CREATE TABLE stale_key_uses (
    key_id BIGINT PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    uses BIGINT NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    last_ip TEXT,
    sent_as TEXT NOT NULL CHECK (sent_as IN ('header', 'bearer', 'link')),
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    user_agent TEXT,
    dismissed_at TIMESTAMP,
    mailed_at TIMESTAMP
);

-- The addresses and networks a key may be used from, one per line; empty: anywhere.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
