DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhook_events;
DROP TABLE jobs;
DROP TABLE contacts;
DROP TABLE companies;
