-- The mail outbox: a mail is queued in the transaction of the change that causes it, sent by
-- a worker that claims a batch (any number of instances), retried on a schedule, and every
-- attempt is kept. `content` is what the mail says (JSON), rendered when it is sent.
CREATE TABLE mails (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    to_email TEXT NOT NULL,
    to_name TEXT NOT NULL,
    subject TEXT NOT NULL,
    content TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    -- Mails that go once (a reminder per key and threshold, an alert per failing spell).
    once_key TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mails_due ON mails (state, next_attempt_at, id);
CREATE INDEX mails_to ON mails (to_email, id);

CREATE TABLE mail_attempts (
    id BIGSERIAL PRIMARY KEY,
    mail_id BIGINT NOT NULL REFERENCES mails (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    ok BOOLEAN NOT NULL,
    -- The SMTP server's reply, or why there was none.
    reply TEXT NOT NULL
);
CREATE INDEX mail_attempts_mail ON mail_attempts (mail_id, id);

-- What a person wants to hear about beyond security mails, which always go.
ALTER TABLE users ADD COLUMN notify_webhook_alerts BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN notify_expiry BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN notify_stale_keys BOOLEAN NOT NULL DEFAULT TRUE;
-- When the person last signed in: a sign-in from a new device after that is mailed.
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMP;
