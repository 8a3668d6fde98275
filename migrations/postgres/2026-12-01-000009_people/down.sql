DROP TABLE account_links;
DROP INDEX users_invited;
ALTER TABLE users DROP COLUMN invited_at;
