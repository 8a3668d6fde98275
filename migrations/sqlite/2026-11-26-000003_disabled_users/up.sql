-- An admin can turn an account off: it cannot sign in, its sessions end and its key fails.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;
