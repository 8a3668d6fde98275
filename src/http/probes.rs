//! Probes for service managers and load balancers: `/healthz` (the process answers) and
//! `/readyz` (the database answers and its schema is this version's). Outside the portal's
//! sessions, so probing creates nothing.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;
use crate::db::Db;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/readyz").get(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.run(Db::pending_migrations).await {
        Ok(0) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(pending) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "not ready",
            "reason": format!("{pending} database migrations have not run; start keyport (or `keyport migrate`) with this version"),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "not ready",
                "reason": "the database does not answer",
            }))
        }
    }
}
