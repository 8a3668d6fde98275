//! The JSON API under /api/v1, authenticated by API key.

pub mod auth;
pub mod me;
pub mod records;
pub mod webhooks;

use actix_web::{HttpResponse, web};

use crate::web::error::Error;

pub const PREFIX: &str = "/api/v1";

pub fn routes(cfg: &mut web::ServiceConfig) {
    me::routes(cfg);
    records::routes(cfg);
    webhooks::routes(cfg);
}

/// Unknown routes under /api.
pub async fn not_found() -> Result<HttpResponse, Error> {
    Err(Error::not_found_with("There is no such API endpoint."))
}
