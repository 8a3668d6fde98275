DROP TABLE instance_secrets;
DROP TABLE setup_tokens;
DROP TABLE sessions;
DROP TABLE audit_events;
DROP TABLE webhooks;
DROP TABLE api_keys;
DROP TABLE user_search_terms;
DROP TABLE users;
