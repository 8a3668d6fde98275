//! The JSON API under /api/v1, authenticated by API key.

pub mod auth;
pub mod me;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::web::error::Error;

pub const PREFIX: &str = "/api/v1";

pub fn routes(cfg: &mut web::ServiceConfig) {
    me::routes(cfg);
}

/// Every error under /api, ours or the framework's, as `{"error": …}` with the same status;
/// 401s say how to authenticate.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => {
            return Err(e);
        }
    };
    if !res.status().is_client_error() && !res.status().is_server_error() {
        return Ok(res);
    }
    let message = match res.response().error() {
        Some(e) => match e.as_error::<Error>() {
            Some(ours) => ours.message.clone(),
            None => e.to_string(),
        },
        None => res
            .status()
            .canonical_reason()
            .unwrap_or("error")
            .to_owned(),
    };
    let (req, res) = res.into_parts();
    Ok(ServiceResponse::new(req, json_error(res, message)))
}

fn json_error(res: HttpResponse, message: String) -> HttpResponse {
    let status = res.status();
    let mut json = HttpResponse::build(status);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.append_header((name.clone(), value.clone()));
        }
    }
    if status == actix_web::http::StatusCode::UNAUTHORIZED {
        json.insert_header((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"keyport\""),
        ));
    }
    json.json(serde_json::json!({ "error": message }))
}

/// Unknown routes under /api.
pub async fn not_found() -> Result<HttpResponse, Error> {
    Err(Error::not_found_with("There is no such API endpoint."))
}
