//! keyport: a self-hosted portal for API keys and webhooks.
//!
//! `app` builds the whole application (routes and middleware) for `main` and for the tests.

pub mod api;
pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod models;
pub mod process;
pub mod server;
pub mod web;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web as aw};
use utoipa_actix_web::AppExt;

use config::WebSettings;
use db::Db;
use http::error::Error;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: WebSettings,
    /// How webhooks are delivered, for the API Developer Guide to state.
    pub delivery: config::DeliverySettings,
    /// API key throttling, shared by every worker of this instance.
    pub throttles: std::sync::Arc<http::throttle::Throttles>,
    /// What `/metrics` reports: this instance's counters.
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// How each key is used, counted since the last flush.
    pub key_usage: std::sync::Arc<domain::key_usage::KeyUsage>,
    /// Signs and encrypts the session and device cookies; shared by every instance through
    /// the database.
    cookie_key: Key,
}

impl AppState {
    pub fn new(db: Db, settings: WebSettings) -> Result<Self, db::Unavailable> {
        let mut conn = db.get()?;
        let secret = db::instance_secret(&mut conn, "session_cookie_key", 64)
            .map_err(|e| db::Unavailable(e.to_string()))?;
        drop(conn);
        let failures_per_minute = settings.api_key_failures_per_minute;
        Ok(Self {
            db,
            settings,
            delivery: config::DeliverySettings::default(),
            throttles: std::sync::Arc::new(http::throttle::Throttles::new(failures_per_minute)),
            metrics: std::sync::Arc::default(),
            key_usage: std::sync::Arc::default(),
            cookie_key: Key::from(&secret),
        })
    }

    pub fn cookie_key(&self) -> &Key {
        &self.cookie_key
    }

    /// A cookie's name: behind TLS with the `__Host-` prefix, which browsers only accept
    /// from a secure origin, for the whole site and with no Domain.
    pub fn cookie_name(&self, name: &str) -> String {
        if self.settings.secure_cookies {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }

    pub fn with_delivery(self, delivery: config::DeliverySettings) -> Self {
        Self { delivery, ..self }
    }
}

pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let sessions = SessionMiddleware::builder(
        web::session::DbSessionStore::new(state.db.clone()),
        state.cookie_key.clone(),
    )
    .cookie_name(state.cookie_name(web::session::COOKIE))
    .cookie_path("/".into())
    .cookie_secure(state.settings.secure_cookies)
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Lax)
    .session_lifecycle(
        BrowserSession::default()
            .state_ttl(Duration::minutes(state.settings.session_idle_minutes))
            .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
    )
    .build();

    // The API's routes and its OpenAPI document come from the same registration.
    let (app, openapi) = App::new()
        .into_utoipa_app()
        .openapi(http::openapi::base())
        .service(
            utoipa_actix_web::scope(api::PREFIX)
                .wrap(from_fn(api::body::known_query_parameters))
                .wrap(from_fn(http::throttle::api_key_failures))
                .wrap(from_fn(http::error::json_errors))
                .wrap(http::security_headers::api_responses())
                .configure(api::routes)
                .default_service(aw::to(api::not_found)),
        )
        .split_for_parts();

    let tls = state.settings.secure_cookies;
    app.app_data(aw::Data::new(state))
        .app_data(aw::Data::new(http::openapi::ApiDocument::new(&openapi)))
        .app_data(aw::PathConfig::default().error_handler(|_, _| Error::not_found().into()))
        .app_data(aw::QueryConfig::default().error_handler(|e, _| {
            Error::bad_request(format!("The address is not valid: {e}.")).into()
        }))
        .app_data(
            aw::FormConfig::default()
                .limit(64 * 1024)
                .error_handler(|e, _| {
                    Error::bad_request(format!("The form is not valid: {e}.")).into()
                }),
        )
        .app_data(
            aw::JsonConfig::default()
                .limit(256 * 1024)
                .error_handler(|e, _| json_body_error(&e).into()),
        )
        .wrap(http::security_headers::every_response(tls))
        .wrap(from_fn(http::access_log::log))
        .wrap(from_fn(http::request_id::assign))
        .configure(web::static_files::routes)
        .configure(http::probes::routes)
        .configure(http::metrics::routes)
        .service(
            aw::scope("")
                .wrap(from_fn(web::csrf::protect))
                .wrap(sessions)
                .wrap(from_fn(web::error_page::html_errors))
                .configure(web::routes)
                .default_service(aw::to(web::not_found)),
        )
}

/// A JSON body the API cannot take: the wrong media type, too large, or not what was expected.
fn json_body_error(e: &actix_web::error::JsonPayloadError) -> Error {
    use actix_web::error::JsonPayloadError as E;
    use actix_web::http::StatusCode;
    match e {
        E::ContentType => Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the body as JSON, with Content-Type: application/json.",
        ),
        E::Overflow { .. } | E::OverflowKnownLength { .. } => {
            Error::new(StatusCode::PAYLOAD_TOO_LARGE, "The JSON body is too large.")
        }
        // Not JSON at all (or nested deeper than the parser's limit of 128): a bad request.
        E::Deserialize(e) if e.is_syntax() || e.is_eof() => {
            Error::bad_request(format!("The body is not valid JSON: {e}."))
        }
        other => Error::unprocessable(format!("The JSON body is not valid: {other}.")),
    }
}
