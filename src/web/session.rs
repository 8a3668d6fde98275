//! Sessions kept in the database (so signing out really ends them, on every instance), and the
//! signed-in user as an extractor: `SignedIn`, `Staff` (admins and support) and `Admin`.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{Session, SessionExt};
use actix_web::cookie::time::Duration;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use rand::TryRngCore;
use rand::distr::{Alphanumeric, Distribution};

use crate::AppState;
use crate::db::{Db, now};
use crate::domain::{self, accounts, keys};
use crate::http::error::Error;
use crate::models::session::{NewSession, Session as SessionRow};
use crate::models::{Role, User, UserId};
use crate::web::password_attempts::{PASSWORD_GUESSING, password_attempt};

/// The session cookie's name (`__Host-keyport_session` behind TLS).
pub const COOKIE: &str = "keyport_session";
/// The sign-in page; a page that needs a signed-in user sends browsers there with `next`.
pub const LOGIN: &str = "/login";
const USER_ID: &str = "user_id";
/// When the session signed in (Unix seconds): the absolute timeout counts from here.
const SIGNED_IN_AT: &str = "signed_in_at";
/// When the password was last entered in this session (Unix seconds).
const PASSWORD_AT: &str = "password_at";
/// The idle timeout is refreshed at most this often, so browsing does not write every request.
const EXTEND_SLACK_SECS: i64 = 60;

pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn key_hash(key: &SessionKey) -> Vec<u8> {
    blake3::hash(key.as_ref().as_bytes()).as_bytes().to_vec()
}

fn expiry(ttl: &Duration) -> chrono::NaiveDateTime {
    now() + chrono::Duration::seconds(ttl.whole_seconds())
}

/// The signed-in user recorded in a session's state, so sessions can be ended per user.
fn user_of(state: &HashMap<String, String>) -> Option<UserId> {
    state.get(USER_ID).and_then(|v| v.parse().ok()).map(UserId)
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let hash = key_hash(key);
        let state = self
            .db
            .run(move |c| SessionRow::load_state(c, &hash, now()).map_err(anyhow::Error::from))
            .await
            .map_err(LoadError::Other)?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let json = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key: String = Alphanumeric
            .sample_iter(rand::rngs::OsRng.unwrap_err())
            .take(64)
            .map(char::from)
            .collect();
        let key = SessionKey::try_from(key).map_err(|e| SaveError::Other(e.into()))?;
        let hash = key_hash(&key);
        let expires_at = expiry(ttl);
        self.db
            .write(move |c| {
                let row = NewSession {
                    key_hash: &hash,
                    user_id: user_of(&state),
                    state: &json,
                    expires_at,
                };
                SessionRow::insert(c, &row).map_err(anyhow::Error::from)
            })
            .await
            .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let json =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let hash = key_hash(&key);
        let expires_at = expiry(ttl);
        let user = user_of(&state);
        let updated = self
            .db
            .write(move |c| {
                SessionRow::update_state(c, &hash, user, &json, expires_at, now())
                    .map_err(anyhow::Error::from)
            })
            .await
            .map_err(UpdateError::Other)?;
        if updated == 1 {
            Ok(key)
        } else {
            // The session ended while this request ran (signed out in another tab, expired).
            // Its state must not bring it back: start an empty, signed-out one instead.
            self.save(HashMap::new(), ttl)
                .await
                .map_err(|e| UpdateError::Other(e.into()))
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let hash = key_hash(key);
        let expires_at = expiry(ttl);
        self.db
            .write(move |c| {
                let slack = chrono::Duration::seconds(EXTEND_SLACK_SECS);
                SessionRow::extend(c, &hash, expires_at, slack, now()).map_err(anyhow::Error::from)
            })
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let hash = key_hash(key);
        self.db
            .write(move |c| SessionRow::delete(c, &hash).map_err(anyhow::Error::from))
            .await?;
        Ok(())
    }
}

/// Marks the session as signed in as `user`, under a new session key (no fixation) and with a
/// new CSRF token.
pub fn sign_in(session: &Session, user: &User) -> Result<(), Error> {
    session.renew();
    super::csrf::renew(session)?;
    session.insert(USER_ID, user.id.0)?;
    session.insert(SIGNED_IN_AT, unix_now())?;
    session.insert(PASSWORD_AT, unix_now())?;
    Ok(())
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A signed-in person, loaded fresh from the database on every request, so a changed role
/// takes effect at once.
pub struct SignedIn {
    pub user: User,
    pub session: Session,
    /// Whether a sensitive change (Regenerate New Key, Turn Off API Access) must ask for the
    /// password first: it was last entered longer ago than `KEYPORT_REAUTH_MINUTES`.
    pub needs_password: bool,
    /// Where the request came from (behind trusted proxies, the client's address).
    pub ip: Option<String>,
}

impl SignedIn {
    /// Who is acting, for the audit trail: this person, from this address.
    pub fn actor(&self) -> crate::domain::audit::Actor {
        crate::domain::audit::Actor {
            id: self.user.id,
            ip: self.ip.clone(),
        }
    }

    /// Checks the password this person typed to confirm it is them (before a sensitive change,
    /// or a new password): counted against the sign-in limits first, then verified; `wrong` is
    /// the answer to a wrong one. A right one counts as just entered.
    pub async fn confirm_password(
        &mut self,
        state: &AppState,
        req: &HttpRequest,
        password: String,
        wrong: &str,
    ) -> Result<(), Error> {
        password_attempt(req, state, &self.user.email, PASSWORD_GUESSING).await?;
        match accounts::check_password(Some(self.user.clone()), password).await {
            Ok(_) => {
                self.session.insert(PASSWORD_AT, unix_now())?;
                self.needs_password = false;
                Ok(())
            }
            Err(domain::Error::BadCredentials) => Err(Error::unprocessable(wrong)),
            Err(e) => Err(e.into()),
        }
    }
}

impl FromRequest for SignedIn {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let return_to = return_to(req);
        let ip = crate::http::client_address::client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| Error::internal("application state missing"))?;
            let Some(id) = session.get::<i64>(USER_ID)? else {
                return Err(sign_in_required(&return_to));
            };
            // However active, a session ends this long after signing in.
            let signed_in_at = session.get::<i64>(SIGNED_IN_AT)?.unwrap_or(0);
            let absolute = state.settings.session_absolute_hours * 3600;
            let user = if unix_now() - signed_in_at < absolute {
                state
                    .db
                    .run(move |c| User::find(c, UserId(id)).map_err(Error::internal))
                    .await?
            } else {
                None
            };
            match user {
                Some(user) if user.disabled_at.is_none() => {
                    let password_at = session.get::<i64>(PASSWORD_AT)?.unwrap_or(0);
                    let reauth = state.settings.reauth_minutes * 60;
                    Ok(SignedIn {
                        user,
                        session,
                        needs_password: unix_now() - password_at > reauth,
                        ip,
                    })
                }
                _ => {
                    session.purge();
                    Err(sign_in_required(&return_to))
                }
            }
        })
    }
}

/// Where to come back to after signing in: this page, without any API key. The address goes
/// into `next=`, the sign-in form and the access log, so a key in a link must not ride along:
/// a parameter named `api_key`, or holding a key, is dropped; a path holding one is not kept.
/// Sign in, then come back to `return_to`.
fn sign_in_required(return_to: &str) -> Error {
    let next = serde_urlencoded::to_string([("next", return_to)]).unwrap_or_default();
    Error::unauthorized("Sign in to continue.").redirecting_to(format!("{LOGIN}?{next}"))
}

fn return_to(req: &HttpRequest) -> String {
    let decoded = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    if keys::contains_key(&decoded(req.path())) {
        return super::settings::urls::INDEX.to_owned();
    }
    let kept: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|pair| {
            let pair = decoded(pair);
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && !name.eq_ignore_ascii_case("api_key") && !keys::contains_key(&pair)
        })
        .collect();
    match kept.as_slice() {
        [] => req.path().to_owned(),
        pairs => format!("{}?{}", req.path(), pairs.join("&")),
    }
}

/// Admins and support staff: they may read API Management.
pub struct Staff(pub SignedIn);
/// Admins: they may change what API Management shows.
pub struct Admin(pub SignedIn);

/// A signed-in person whose role passes `allowed`; everyone else signed in gets 403.
fn with_role<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    allowed: fn(Role) -> bool,
    wrap: fn(SignedIn) -> T,
) -> LocalBoxFuture<'static, Result<T, Error>> {
    let signed_in = SignedIn::from_request(req, payload);
    Box::pin(async move {
        let signed_in = signed_in.await?;
        if allowed(signed_in.user.role) {
            Ok(wrap(signed_in))
        } else {
            Err(Error::forbidden())
        }
    })
}

impl FromRequest for Staff {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        with_role(req, payload, Role::is_staff, Staff)
    }
}

impl FromRequest for Admin {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        with_role(req, payload, |role| role == Role::Admin, Admin)
    }
}
