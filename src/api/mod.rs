//! The JSON API under /api/v1, authenticated by API key and documented by OpenAPI.

pub mod auth;
pub mod body;
pub mod docs;
pub mod me;
pub mod records;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::http::error::Error;

pub const PREFIX: &str = "/api/v1";

/// Every route goes through utoipa-actix-web's `service`, which adds it to the document.
pub fn routes(cfg: &mut ServiceConfig) {
    docs::routes(cfg);
    me::routes(cfg);
    records::routes(cfg);
    webhooks::routes(cfg);
}

/// Requests no route took: a 405 naming the allowed methods where the document has the path,
/// a 404 otherwise.
pub async fn not_found(
    req: HttpRequest,
    doc: web::Data<crate::http::openapi::ApiDocument>,
) -> Result<HttpResponse, Error> {
    match doc.methods_at(req.path()) {
        Some(allowed) => Err(Error::method_not_allowed(&allowed)),
        None => Err(Error::not_found_with("There is no such API endpoint.")),
    }
}
