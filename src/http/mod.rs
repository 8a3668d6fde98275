//! What every HTTP surface shares — the portal's pages (`web`), the JSON API (`api`), the
//! probes and `/metrics`: the one error type, the client's address behind trusted proxies,
//! request ids, security headers, the access log, ids in paths, the API-key throttle and the
//! OpenAPI document. Nothing here knows a screen or an API handler.

pub mod access_log;
pub mod client_address;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod path_id;
pub mod probes;
pub mod request_id;
pub mod security_headers;
pub mod throttle;
