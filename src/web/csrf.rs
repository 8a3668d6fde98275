//! CSRF protection: a random token bound to the session, sent back by every form as the hidden
//! field `csrf_token` (or by htmx as the `X-CSRF-Token` header) and checked, in constant time,
//! for every request that is not GET/HEAD/OPTIONS before any handler runs. The field is taken
//! out of the form on the way, so handlers see only their own fields and can refuse any other
//! (`role=admin` added to a form is a 400, not silently ignored).
//!
//! Someone not signed in has no session (a stored row per anonymous page view would let anyone
//! fill the database): their forms (sign-in, first-admin setup) carry a signed double-submit
//! token instead — a random value in the `keyport_csrf` cookie, and in the form its HMAC under
//! the instances' shared cookie key.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use actix_web::{HttpMessage, HttpRequest};
use base64::Engine;
use futures_util::StreamExt;
use hmac::{Hmac, KeyInit, Mac};
use rand::{RngCore, TryRngCore};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::http::error::Error;

const SESSION_KEY: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";
/// Forms here are small; a larger body is not a form of ours.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The anonymous visitor's cookie (`__Host-keyport_csrf` behind TLS).
pub const COOKIE: &str = "keyport_csrf";

/// The session's token, created on first use.
pub fn token(session: &Session) -> Result<String, Error> {
    if let Some(token) = session.get::<String>(SESSION_KEY)? {
        return Ok(token);
    }
    renew(session)
}

/// A new token for the session (at sign-in), so one seen before signing in is worth nothing.
pub fn renew(session: &Session) -> Result<String, Error> {
    let token = random_text();
    session.insert(SESSION_KEY, &token)?;
    Ok(token)
}

/// The token for a page shown to someone who is not signed in: their session's, if an older
/// keyport gave them one, else the signed form of their CSRF cookie. Writes nothing.
pub fn anonymous_token(req: &HttpRequest, session: &Session) -> Result<String, Error> {
    if let Some(token) = session.get::<String>(SESSION_KEY)? {
        return Ok(token);
    }
    let secret = req
        .extensions()
        .get::<NewCookie>()
        .map(|fresh| fresh.0.clone())
        .or_else(|| cookie_value(req));
    match (secret, req.app_data::<actix_web::web::Data<AppState>>()) {
        (Some(secret), Some(state)) => Ok(signed(state, &secret)),
        _ => Err(Error::internal("the CSRF cookie was not prepared")),
    }
}

/// A CSRF secret made for a visitor who came without one; the response sets it as a cookie.
#[derive(Clone)]
struct NewCookie(String);

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.unwrap_err().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie_value(req: &HttpRequest) -> Option<String> {
    let state = req.app_data::<actix_web::web::Data<AppState>>()?;
    let value = req.cookie(&state.cookie_name(COOKIE))?.value().to_owned();
    (!value.is_empty() && value.len() <= 64).then_some(value)
}

/// The form's half of the double submit: HMAC-SHA256 of the cookie's value under the cookie
/// key, so a value planted in a visitor's browser is no use without a token keyport signed.
fn signed(state: &AppState, secret: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(state.cookie_key().signing())
        .expect("HMAC takes a key of any length");
    mac.update(b"keyport csrf\0");
    mac.update(secret.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method().is_safe() {
        return with_cookie(req, next).await;
    }
    // The session's token where it has one (everyone signed in does), else the cookie's.
    let expected = match req.get_session().get::<String>(SESSION_KEY).ok().flatten() {
        Some(token) => Some(token),
        None => {
            let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
            cookie_value(req.request())
                .zip(state)
                .map(|(secret, state)| signed(&state, &secret))
        }
    };
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

/// A page view from a browser without a CSRF cookie gets one, so the forms it shows can be
/// posted. A cookie, unlike a session, costs the server nothing to hand out.
async fn with_cookie<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
    let fresh = match (&state, cookie_value(req.request())) {
        (Some(_), None) => Some(random_text()),
        _ => None,
    };
    if let Some(secret) = &fresh {
        req.extensions_mut().insert(NewCookie(secret.clone()));
    }
    let mut res = next.call(req).await?;
    if let (Some(secret), Some(state)) = (fresh, state) {
        let cookie = Cookie::build(state.cookie_name(COOKIE), secret)
            .path("/")
            .http_only(true)
            .secure(state.settings.secure_cookies)
            // Lax, not Strict: a visitor arriving from a link elsewhere keeps the cookie their
            // open tabs' forms were signed for; a cross-site post still goes without it.
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
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
