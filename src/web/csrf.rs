//! CSRF protection: a random token bound to the session, sent back by every form as the hidden
//! field `csrf_token` (or by htmx as the `X-CSRF-Token` header) and checked, in constant time,
//! for every request that is not GET/HEAD/OPTIONS before any handler runs. The field is taken
//! out of the form on the way, so handlers see only their own fields and can refuse any other
//! (`role=admin` added to a form is a 400, not silently ignored).

use actix_session::{Session, SessionExt};
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use base64::Engine;
use futures_util::StreamExt;
use rand::{RngCore, TryRngCore};
use subtle::ConstantTimeEq;

use super::error::Error;

const SESSION_KEY: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";
/// Forms here are small; a larger body is not a form of ours.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The session's token, created on first use.
pub fn token(session: &Session) -> Result<String, Error> {
    if let Some(token) = session.get::<String>(SESSION_KEY)? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.unwrap_err().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    session.insert(SESSION_KEY, &token)?;
    Ok(token)
}

/// Drops the token, so the next page gets a new one (at sign-in).
pub fn forget(session: &Session) {
    session.remove(SESSION_KEY);
}

pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method().is_safe() {
        return next.call(req).await;
    }
    let expected = req.get_session().get::<String>(SESSION_KEY).ok().flatten();
    let field = take_form_field(&mut req).await?;
    let provided = match req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(header) => Some(header.to_owned()),
        None => field,
    };
    let valid = match (expected, provided) {
        (Some(expected), Some(provided)) => {
            bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
        }
        _ => false,
    };
    if !valid {
        return Err(Error::csrf().into());
    }
    next.call(req).await
}

/// Takes `csrf_token` out of a url-encoded body and puts the rest back for the handler.
async fn take_form_field(req: &mut ServiceRequest) -> Result<Option<String>, Error> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(None);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Error::bad_request("The form could not be read."))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(Error::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large.",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    // The form parser would read bytes that are not UTF-8 as U+FFFD and go on: refuse them.
    if !is_utf8_form(&body) {
        return Err(Error::bad_request(
            "The form is not valid: it is not UTF-8 text.",
        ));
    }
    // A body that is not a form is left for the handler to refuse.
    let Ok(mut fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        req.set_payload(body.freeze().into());
        return Ok(None);
    };
    let token = fields
        .iter()
        .find(|(name, _)| name == SESSION_KEY)
        .map(|(_, value)| value.clone());
    fields.retain(|(name, _)| name != SESSION_KEY);
    let rest = serde_urlencoded::to_string(&fields).unwrap_or_default();
    req.headers_mut().insert(
        header::CONTENT_LENGTH,
        header::HeaderValue::from(rest.len()),
    );
    req.set_payload(actix_web::web::Bytes::from(rest).into());
    Ok(token)
}

/// Whether every name and value of a url-encoded body decodes to UTF-8.
fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|b| *b == b'&').all(|pair| {
        pair.split(|b| *b == b'=')
            .all(|part| percent_encoding::percent_decode(part).decode_utf8().is_ok())
    })
}
