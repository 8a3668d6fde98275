//! The API key as an extractor: from `X-Api-Key`, `Authorization: Bearer`, or `?api_key=`.
//! Every failure — missing, malformed, unknown, revoked — gets the same 401; a key that fails
//! its checksum is refused without touching the database.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use crate::AppState;
use crate::domain::api_access;
use crate::domain::keys::ApiKey;
use crate::metrics::KeyVerification;
use crate::models::User;
use crate::web::client_address::client_ip;
use crate::web::error::Error;

pub const HEADER: &str = "X-Api-Key";
const UNAUTHORIZED: &str = "A valid API key is required: send it as X-Api-Key, as Authorization: Bearer, or as the api_key query parameter.";
const QUERY_KEYS_OFF: &str = "Keys in the address are turned off on this keyport: send the key as X-Api-Key or Authorization: Bearer.";

/// The user whose active key authenticated this request.
pub struct ApiCaller {
    pub user: User,
    /// Where the call came from, for the audit trail.
    pub ip: Option<String>,
}

impl ApiCaller {
    pub fn actor(&self) -> crate::domain::audit::Actor {
        crate::domain::audit::Actor {
            id: self.user.id,
            ip: self.ip.clone(),
        }
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    api_key: Option<String>,
}

/// Where the key came from.
enum Presented {
    Header(String),
    Query(String),
}

/// The key as presented, before any check. A header sent twice is no key: which one was
/// meant cannot be known.
fn presented(req: &HttpRequest) -> Option<Presented> {
    let headers = req.headers();
    if headers.get_all(HEADER).count() > 1 || headers.get_all(header::AUTHORIZATION).count() > 1 {
        return None;
    }
    if let Some(value) = req.headers().get(HEADER) {
        return Some(Presented::Header(value.to_str().ok()?.trim().to_owned()));
    }
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| Presented::Header(token.trim().to_owned()));
    }
    serde_urlencoded::from_str::<KeyQuery>(req.query_string())
        .ok()?
        .api_key
        .map(Presented::Query)
}

impl FromRequest for ApiCaller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = presented(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let ip = client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("application state missing"))?;
            let counted = |outcome| state.metrics.key_verification(outcome);
            let key = match presented {
                Some(Presented::Header(key)) => ApiKey::parse(&key),
                Some(Presented::Query(_)) if !state.settings.allow_query_keys => {
                    counted(KeyVerification::QueryKeyRefused);
                    return Err(Error::unauthorized(QUERY_KEYS_OFF));
                }
                Some(Presented::Query(key)) => ApiKey::parse(&key),
                None => {
                    counted(KeyVerification::Missing);
                    return Err(Error::unauthorized(UNAUTHORIZED));
                }
            };
            let Some(key) = key else {
                counted(KeyVerification::Malformed);
                return Err(Error::unauthorized(UNAUTHORIZED));
            };
            let seen_from = ip.clone();
            let user = state
                .db
                .run(move |c| api_access::authenticate(c, &key, seen_from.as_deref()))
                .await?;
            counted(if user.is_some() {
                KeyVerification::Valid
            } else {
                KeyVerification::Rejected
            });
            user.map(|user| ApiCaller { user, ip })
                .ok_or_else(|| Error::unauthorized(UNAUTHORIZED))
        })
    }
}
