//! `GET /metrics` for Prometheus, to the addresses `KEYPORT_METRICS_ALLOW` names (by default
//! this machine and private networks). Outside the portal's sessions, like the probes.

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};

use super::client_address::client_addr;
use crate::AppState;
use crate::db::now;
use crate::metrics::Queue;
use crate::models::delivery::Delivery;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").get(metrics));
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let allowed =
        client_addr(&req).is_some_and(|addr| state.settings.metrics_allow.contains(&addr));
    if !allowed {
        return HttpResponse::Forbidden()
            .insert_header(ContentType::plaintext())
            .body("The metrics are not open to this address (KEYPORT_METRICS_ALLOW).\n");
    }
    let queue = state.db.run(read_queue).await;
    let queue = match queue {
        Ok(queue) => queue,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the delivery queue could not be read");
            return HttpResponse::ServiceUnavailable()
                .insert_header(ContentType::plaintext())
                .body("The database does not answer.\n");
        }
    };
    match state.metrics.render(queue, state.db.pool_state()) {
        Ok(text) => HttpResponse::Ok().content_type(OPENMETRICS).body(text),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be written");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn read_queue(conn: &mut crate::db::DbConnection) -> Result<Queue, crate::db::Unavailable> {
    let at = now();
    let (pending, due, oldest, longest_due) =
        Delivery::queue(conn, at).map_err(|e| crate::db::Unavailable(e.to_string()))?;
    let age = |since: Option<chrono::NaiveDateTime>| {
        since.map_or(0.0, |t| {
            ((at - t).num_milliseconds().max(0) as f64) / 1000.0
        })
    };
    Ok(Queue {
        pending,
        due,
        oldest_pending_seconds: age(oldest),
        oldest_due_seconds: age(longest_due),
    })
}
