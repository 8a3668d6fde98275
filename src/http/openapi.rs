//! The OpenAPI document: made from the handlers' `#[utoipa::path]` annotations as the routes are
//! registered (utoipa-actix-web), so a route cannot exist without its documentation. Served as
//! JSON at `/api/v1/openapi.json` (`api::docs`), and read by the API Developer Guide; the one
//! `ErrorBody` shape here is what every API error is rendered as.

use serde::Serialize;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The header that carries the API key.
pub const HEADER: &str = "X-Api-Key";

/// The names of the three ways to pass the key, as the document's security schemes call them.
pub const KEY_HEADER: &str = "api_key_header";
pub const BEARER: &str = "bearer";
pub const KEY_QUERY: &str = "api_key_query";

/// Every error the API answers: a message for people, and for a wrong field, its name.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong, in a sentence.
    pub error: String,
    /// The request body field that is wrong, when one is.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// On a 403 for a key's scopes: the scope the call needs (`contacts:write`).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
    /// This request's id (also in the `X-Request-Id` header): quote it when reporting a problem.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What any call with a key may answer besides its own results.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum KeyErrors {
    /// A query parameter is not known, or not valid, or the request carries two different keys
    #[response(status = 400)]
    BadQuery(ErrorBody),
    /// No valid API key, or the key expired (the message says when)
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The key lacks the scope this operation needs; `required_scope` names it
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Too many requests with an invalid key from this address; `Retry-After` says when to try again
    #[response(status = 429)]
    Throttled(ErrorBody),
}

/// What any call with a JSON body may answer besides its own results.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    /// A query parameter is not known or not valid, the body is not JSON, or the request carries two different keys
    #[response(status = 400)]
    BadQuery(ErrorBody),
    /// No valid API key, or the key expired (the message says when)
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The key lacks the scope this operation needs; `required_scope` names it
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Too many requests with an invalid key from this address; `Retry-After` says when to try again
    #[response(status = 429)]
    Throttled(ErrorBody),
    /// The body is larger than 256 KB
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not sent as application/json
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// The body is not a JSON object, or a field is missing or not valid; `field` names it
    #[response(status = 422)]
    Invalid(ErrorBody),
}

/// What the document says beyond the routes: who, how to authenticate, and the tags' order.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "keyport API",
        description = "The JSON API of keyport. Authenticate with your personal API key from \
            Your Profile & Preferences → My Settings & Preferences → API Access. Errors are \
            `{\"error\": \"…\"}` with the right status.",
        license(name = "MIT OR Apache-2.0"),
    ),
    modifiers(&KeySchemes),
    tags(
        (name = "Account", description = "The key and its owner"),
        (name = "Contacts", description = "People at companies"),
        (name = "Companies", description = "Companies"),
        (name = "Jobs", description = "Job openings"),
        (name = "Webhooks", description = "Your webhook subscriptions: keyport POSTs a signed event to your URL when a record changes"),
        (name = "Documentation", description = "This document"),
    ),
)]
struct Base;

/// The three ways to pass the key; every operation accepts any one of them.
struct KeySchemes;

impl Modify for KeySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            KEY_HEADER,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                HEADER,
                "The API key in a header: `X-Api-Key: kp_…`.",
            ))),
        );
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The API key as a bearer token: `Authorization: Bearer kp_…`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            KEY_QUERY,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "api_key",
                "The API key in the address, for links: `?api_key=kp_…`. Whoever sees the link \
                 can use the key; regenerating the key breaks every such link.",
            ))),
        );
    }
}

/// The base of the document; the routes add their paths and schemas to it.
pub fn base() -> Document {
    let mut doc = Base::openapi();
    doc.security = Some(
        [KEY_HEADER, BEARER, KEY_QUERY]
            .map(|scheme| utoipa::openapi::security::SecurityRequirement::new(scheme, [""; 0]))
            .to_vec(),
    );
    doc
}

/// The finished document, and its JSON as served.
pub struct ApiDocument {
    pub json: String,
    pub value: serde_json::Value,
}

impl ApiDocument {
    pub fn new(doc: &Document) -> Self {
        let value = serde_json::to_value(doc).unwrap_or_default();
        Self {
            json: value.to_string(),
            value,
        }
    }

    /// The document's entry for the path template that `path` fits (`/api/v1/jobs/{id}`).
    fn path_item(&self, path: &str) -> Option<&serde_json::Map<String, serde_json::Value>> {
        let paths = self.value.get("paths")?.as_object()?;
        let (_, item) = paths.iter().find(|(template, _)| fits(template, path))?;
        item.as_object()
    }

    /// The query parameters the document names for an operation, when it has the operation.
    pub fn query_parameters(&self, method: &str, path: &str) -> Option<Vec<String>> {
        let operation = self.path_item(path)?.get(&method.to_lowercase())?;
        let parameters = operation.get("parameters").and_then(|p| p.as_array());
        Some(
            parameters
                .into_iter()
                .flatten()
                .filter(|p| p.get("in").and_then(|i| i.as_str()) == Some("query"))
                .filter_map(|p| p.get("name")?.as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// The methods documented for the path template that `path` fits.
    pub fn methods_at(&self, path: &str) -> Option<Vec<String>> {
        let methods = self.path_item(path)?.keys();
        Some(
            methods
                .filter(|m| HTTP_METHODS.contains(&m.as_str()))
                .map(|m| m.to_uppercase())
                .collect(),
        )
    }
}

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Whether `path` fits `template`, where `{name}` stands for one non-empty segment.
fn fits(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') && ts.ends_with('}') && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}
