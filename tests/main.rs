//! keyport's integration tests: one binary, a module per area. Every test gets its own
//! database (a SQLite file, or a PostgreSQL schema when KEYPORT_TEST_DATABASE_URL names one),
//! so the suite runs in parallel.

mod support;

mod abuse;
mod api_access;
mod api_keys;
mod api_management;
mod architecture;
mod auth;
mod bad_input;
mod cli;
mod delivery;
mod deploy;
mod docs;
mod faults;
mod instances;
mod invitations;
mod key_usage;
mod keys;
mod mail;
mod metrics;
mod pages;
mod password_reset;
mod people;
mod properties;
mod records;
mod request_ids;
mod serve;
mod sessions;
mod webhook_health;
mod webhook_overview;
mod webhooks;
