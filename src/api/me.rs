//! GET /api/v1/me: who the key belongs to; GET /api/v1/me/usage: how the key is used.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, get, web};
use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::auth::ApiCaller;
use crate::AppState;
use crate::domain::key_usage::{self, Day};
use crate::http::error::Error;
use crate::http::openapi::KeyErrors;
use crate::models::{Role, UserId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(me).service(usage);
}

/// The user whose key made the call, and the key.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub key: MeKey,
}

/// The key that made the call.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeKey {
    pub id: i64,
    /// The name its owner gave it (`Default` for the key Enable API Access makes).
    pub name: String,
    /// Its first characters, as the portal lists it.
    pub prefix: String,
    /// What it may do: `contacts:read`, `jobs:write`, … (`write` includes `read`).
    #[schema(example = json!(["contacts:write", "jobs:read"]))]
    pub scopes: Vec<String>,
    /// When it stops working; `null`: never.
    #[serde(serialize_with = "crate::models::utc_or_null")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<NaiveDateTime>,
}

/// Who the key belongs to
///
/// The user whose API key made the call, and the key: its name, scopes and expiry. A quick
/// way to check that a key works. Needs no scope.
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
    let (user, key) = (caller.user, caller.key);
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Me {
            id: user.id,
            email: user.email,
            name: user.name,
            role: user.role,
            key: MeKey {
                id: key.id,
                scopes: key.access.scope_names(),
                name: key.name,
                prefix: key.prefix,
                expires_at: key.expires_at,
            },
        })
}

/// A key's requests a day.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Usage {
    /// The last 30 days, oldest first, today (UTC) included; days without requests as zeros.
    pub days: Vec<Day>,
}

/// How the key is used
///
/// The calling key's requests a day over the last 30 days, by how they ended: `succeeded`
/// (2xx and 3xx), `refused` (403: the key's scopes or allowed addresses), `client_errors`
/// (other 4xx) and `throttled` (429). Counts are written every few seconds
/// (`KEYPORT_USAGE_FLUSH`, 10 by default), so the latest calls may not show yet. Needs no scope.
#[utoipa::path(
    tag = "Account",
    operation_id = "get_me_usage",
    responses(
        (status = 200, description = "The key's usage", body = Usage),
        KeyErrors,
    ),
)]
#[get("/me/usage")]
async fn usage(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, Error> {
    let key = caller.key.id;
    let today = crate::db::now().date();
    let days = state
        .db
        .run(move |c| key_usage::days(c, key, today))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(Usage { days }))
}
