//! GET /api/v1/me: who the key belongs to.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::auth::ApiCaller;
use crate::models::{Role, UserId};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(me));
}

#[derive(Serialize)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
}

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
