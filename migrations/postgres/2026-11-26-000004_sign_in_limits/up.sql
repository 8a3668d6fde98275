-- Sign-in limits live in the database, so every instance on it counts the same guesses.
-- One row per limit and key (a blake3 hash: attempted emails are not kept in clear); `tat` is
-- the limit's theoretical arrival time (GCRA), in microseconds since the Unix epoch.
CREATE TABLE sign_in_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX sign_in_limits_tat ON sign_in_limits (tat);
