//! GET /api/v1/me: who the key belongs to.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::ApiCaller;
use crate::http::openapi::KeyErrors;
use crate::models::{Role, UserId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(me);
}

/// The user whose key made the call.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// Who the key belongs to
///
/// The user whose API key made the call. A quick way to check that a key works.
#[utoipa::path(
    tag = "Account",
    operation_id = "get_me",
    responses(
        (status = 200, description = "The key's owner", body = Me),
        KeyErrors,
    ),
)]
#[get("/me")]
async fn me(caller: ApiCaller) -> HttpResponse {
    let user = caller.user;
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Me {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
        })
}
