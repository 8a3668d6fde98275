ALTER TABLE users DROP COLUMN last_sign_in_at;
ALTER TABLE users DROP COLUMN notify_stale_keys;
ALTER TABLE users DROP COLUMN notify_expiry;
ALTER TABLE users DROP COLUMN notify_webhook_alerts;
DROP TABLE mail_attempts;
DROP TABLE mails;
