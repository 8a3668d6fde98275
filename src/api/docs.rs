//! `GET /api/v1/openapi.json`: the OpenAPI document of the API, served as built.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, get, web};

use crate::http::openapi::{ApiDocument, ErrorBody};

/// This document
///
/// The OpenAPI 3.1 document of the API. It needs no key.
#[utoipa::path(
    tag = "Documentation",
    operation_id = "get_openapi",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object),
        (status = 400, description = "A query parameter is not known", body = ErrorBody),
    ),
)]
#[get("/openapi.json")]
async fn openapi_json(doc: web::Data<ApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .content_type("application/json")
        .body(doc.json.clone())
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(openapi_json);
}
