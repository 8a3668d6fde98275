-- People managed in the portal. An invited person has an account (so their email is taken and
-- People lists them) that cannot sign in until they accept: no password, `invited_at` set.
ALTER TABLE users ADD COLUMN invited_at TIMESTAMP;
CREATE INDEX users_invited ON users (invited_at) WHERE invited_at IS NOT NULL;

-- One-time links mailed to a person: an invitation (7 days) or a password reset (1 hour).
-- Only the token's hash is kept; a link is deleted when it is used or replaced.
CREATE TABLE account_links (
    token_hash BLOB PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX account_links_user ON account_links (user_id, purpose);
