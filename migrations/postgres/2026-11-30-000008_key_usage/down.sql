ALTER TABLE api_keys DROP COLUMN allowed_ips;
DROP TABLE stale_key_uses;
DROP TABLE key_usage;
