-- Times are UTC. email_normalized holds the lower-cased email that case-insensitive
-- uniqueness uses; BINARY collation makes prefix ranges index-friendly.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin', 'support')),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_normalized ON users (email_normalized);

-- Search in API Management: each user's searchable words (email, email domain, name, each
-- later word of the name), lower-cased. A prefix search walks this index in order, so a page
-- costs the same however many users match.
CREATE TABLE user_search_terms (
    term TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (term, user_id)
);
CREATE INDEX user_search_terms_user ON user_search_terms (user_id, term);

CREATE TABLE api_keys (
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
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
-- At most one active key per user: the database, not the code, guarantees it.
CREATE UNIQUE INDEX api_keys_one_active_per_user ON api_keys (user_id) WHERE revoked_at IS NULL;
-- API Management lists active keys newest first; this index keeps that O(page).
CREATE INDEX api_keys_active_newest ON api_keys (id) WHERE revoked_at IS NULL;
CREATE INDEX api_keys_user_history ON api_keys (user_id, id);

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    entity TEXT NOT NULL CHECK (entity IN ('Contact', 'Company', 'Job')),
    operation_type TEXT NOT NULL CHECK (operation_type IN ('Create', 'Update', 'Delete')),
    status TEXT NOT NULL CHECK (status IN ('On', 'Off')),
    -- The Standard Webhooks signing secret (whsec_…); shown to the owner on demand.
    secret TEXT NOT NULL,
    -- Why keyport turned the webhook off itself (410 Gone, failing for too long), if it did.
    disabled_reason TEXT,
    -- The first failed attempt since the last success: failing for too long turns it off.
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id, id);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    subject_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    ip TEXT,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject_id, id);

-- Server-side sessions: signing out really ends a session. Only a hash of the cookie is kept.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash BLOB NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sessions_key_hash ON sessions (key_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- One-time links that create the first admin.
CREATE TABLE setup_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX setup_tokens_token_hash ON setup_tokens (token_hash);

-- Secrets shared by every instance on this database (the session cookie key).
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
