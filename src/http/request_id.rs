//! A request id for every request: on every log line written while the request is handled
//! (a tracing span, carried into the database threads), in the `X-Request-Id` response header,
//! and on error pages and API errors, so a person reporting a problem can quote it.
//!
//! A trusted proxy's `X-Request-Id` (nginx's `$request_id`) is kept, so its logs and keyport's
//! line up; anyone else's is replaced.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::AppState;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being handled, where there is one.
pub fn current() -> Option<String> {
    CURRENT.try_with(String::clone).ok()
}

pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = from_trusted_proxy(&req).unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()));
    let span = tracing::info_span!("request", id = %id);
    let mut res = CURRENT
        .scope(id.clone(), next.call(req).instrument(span))
        .await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}

/// A proxy's id, if the peer is a trusted proxy and the id is short and plain.
fn from_trusted_proxy(req: &ServiceRequest) -> Option<String> {
    let state = req.app_data::<web::Data<AppState>>()?;
    let peer = req.peer_addr()?.ip();
    if !state.settings.trusted_proxies.contains(&peer) {
        return None;
    }
    let id = req.headers().get(HEADER)?.to_str().ok()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    (!id.is_empty() && id.len() <= 64 && id.chars().all(plain)).then(|| id.to_owned())
}
