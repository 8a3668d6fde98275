//! The API key as an extractor: from `X-Api-Key`, `Authorization: Bearer`, or `?api_key=`.
//! Every failure — missing, malformed, unknown, revoked — gets the same 401; a key that fails
//! its checksum is refused without touching the database.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use crate::AppState;
use crate::domain::api_access::{self, CallerKey, KeyCheck};
use crate::domain::key_usage::{StaleRequest, UsedKey};
use crate::domain::keys::ApiKey;
use crate::domain::scopes::Scope;
use crate::http::client_address::client_addr;
use crate::http::error::Error;
use crate::metrics::KeyVerification;
use crate::models::User;
use crate::models::key_usage::SentAs;

pub const HEADER: &str = "X-Api-Key";
const UNAUTHORIZED: &str = "A valid API key is required: send it as X-Api-Key, as Authorization: Bearer, or as the api_key query parameter.";
const QUERY_KEYS_OFF: &str = "Keys in the address are turned off on this keyport: send the key as X-Api-Key or Authorization: Bearer.";

/// The user whose active key authenticated this request, and that key.
pub struct ApiCaller {
    pub user: User,
    pub key: CallerKey,
    /// Where the call came from, for the audit trail.
    pub ip: Option<String>,
}

impl ApiCaller {
    /// Refuses the call with 403 and the scope it needs, when the key lacks it.
    pub fn require(&self, scope: Scope) -> Result<(), Error> {
        Ok(self.key.access.require(scope)?)
    }

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

/// The key and how it came.
enum Presented {
    Key(String, SentAs),
    /// Two different keys (say `X-Api-Key` and `Bearer`): which one was meant cannot be known,
    /// and answering as either owner would be a guess.
    Several,
}

const SEVERAL_KEYS: &str = "Send one API key: this request carries two different keys (in X-Api-Key, Authorization: Bearer or api_key).";

/// The key as presented, before any check. A header sent twice is no key: which one was
/// meant cannot be known.
fn presented(req: &HttpRequest) -> Option<Presented> {
    let headers = req.headers();
    if headers.get_all(HEADER).count() > 1 || headers.get_all(header::AUTHORIZATION).count() > 1 {
        return None;
    }
    let header_key = match headers.get(HEADER) {
        Some(value) => Some(value.to_str().ok()?.trim().to_owned()),
        None => None,
    };
    let bearer = headers.get(header::AUTHORIZATION).and_then(|value| {
        let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned())
    });
    let query = serde_urlencoded::from_str::<KeyQuery>(req.query_string())
        .ok()
        .and_then(|q| q.api_key);
    let mut found = [
        header_key.map(|k| Presented::Key(k, SentAs::Header)),
        bearer.map(|k| Presented::Key(k, SentAs::Bearer)),
        query.map(|k| Presented::Key(k, SentAs::Link)),
    ]
    .into_iter()
    .flatten();
    let first = found.next()?;
    // Two values that are both keys (well-formed, checksum right) and differ: which owner
    // was meant cannot be known. Anything that is not a key is no claim to be anyone.
    let key = |p: &Presented| match p {
        Presented::Key(k, _) => ApiKey::parse(k),
        Presented::Several => None,
    };
    let rest: Vec<Presented> = found.collect();
    let keys: Vec<ApiKey> = std::iter::once(&first)
        .chain(&rest)
        .filter_map(key)
        .collect();
    if keys.iter().any(|k| *k != keys[0]) {
        return Some(Presented::Several);
    }
    Some(first)
}

/// Notes where a key that stopped working is still sent from, for its owner.
fn still_used(state: &AppState, req: &HttpRequest, key: i64, sent_as: SentAs, ip: Option<&str>) {
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let request = StaleRequest {
        ip,
        sent_as,
        method: req.method().as_str(),
        path: req.path(),
        user_agent,
    };
    state.key_usage.stale(key, &request, crate::db::now());
}

impl FromRequest for ApiCaller {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let presented = presented(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let addr = client_addr(req);
        let ip = addr.map(|addr| addr.to_string());
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("application state missing"))?;
            let counted = |outcome| state.metrics.key_verification(outcome);
            let (key, sent_as) = match presented {
                Some(Presented::Key(key, sent_as)) => (ApiKey::parse(&key), sent_as),
                Some(Presented::Several) => {
                    counted(KeyVerification::Several);
                    return Err(Error::bad_request(SEVERAL_KEYS));
                }
                None => {
                    counted(KeyVerification::Missing);
                    return Err(Error::unauthorized(UNAUTHORIZED));
                }
            };
            let Some(key) = key else {
                counted(KeyVerification::Malformed);
                return Err(Error::unauthorized(UNAUTHORIZED));
            };
            let in_link = (sent_as == SentAs::Link).then_some(state.settings.allow_query_keys);
            let check = state
                .db
                .run(move |c| api_access::authenticate(c, &key, addr, in_link))
                .await?;
            match check {
                KeyCheck::Valid(user, key) => {
                    counted(KeyVerification::Valid);
                    // How the call ends is counted against the key (`http::throttle`).
                    req.extensions_mut().insert(UsedKey(key.id));
                    Ok(ApiCaller {
                        user: *user,
                        key,
                        ip,
                    })
                }
                KeyCheck::Refused => {
                    counted(KeyVerification::Rejected);
                    Err(Error::unauthorized(UNAUTHORIZED))
                }
                KeyCheck::Stopped(key) => {
                    counted(KeyVerification::Rejected);
                    still_used(&state, &req, key, sent_as, ip.as_deref());
                    Err(Error::unauthorized(UNAUTHORIZED))
                }
                KeyCheck::Expired { key, at } => {
                    counted(KeyVerification::Expired);
                    still_used(&state, &req, key, sent_as, ip.as_deref());
                    Err(Error::unauthorized(format!(
                        "this API key expired at {}",
                        at.and_utc()
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    )))
                }
                KeyCheck::WrongAddress(key) => {
                    counted(KeyVerification::WrongAddress);
                    // Refused for its addresses: counted in the key's usage as refused.
                    req.extensions_mut().insert(UsedKey(key));
                    Err(Error::new(
                        actix_web::http::StatusCode::FORBIDDEN,
                        format!(
                            "this key may not be used from {}",
                            ip.as_deref().unwrap_or("an unknown address")
                        ),
                    ))
                }
                KeyCheck::QueryKeysOff => {
                    counted(KeyVerification::QueryKeyRefused);
                    Err(Error::unauthorized(QUERY_KEYS_OFF))
                }
            }
        })
    }
}
