//! The one error type of every HTTP surface. Programs get `{"error": …}` (the OpenAPI
//! document's `ErrorBody`) with the right status; in the portal, `web::error_page` draws the
//! same error as a page. `json_errors` makes the framework's own errors (bad path, wrong
//! method) take the API's shape; `reshape` serves both surfaces.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

use super::openapi::ErrorBody;
use crate::domain;

#[derive(Debug, Clone)]
pub struct Error {
    pub status: StatusCode,
    pub message: String,
    /// Where to send a browser instead of showing a page (sign-in required).
    redirect: Option<Box<str>>,
    /// The input field that is wrong, for programs (`{"error": …, "field": …}`).
    field: Option<&'static str>,
    /// Seconds until a throttled client may try again (`Retry-After`).
    retry_after: Option<u64>,
    /// The methods a path takes, on a 405 (`Allow`).
    allow: Option<Box<str>>,
    /// The scope a key lacks, on a 403 (`{"error": …, "required_scope": "contacts:write"}`).
    required_scope: Option<Box<str>>,
}

impl Error {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            redirect: None,
            field: None,
            retry_after: None,
            allow: None,
            required_scope: None,
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to do that.",
        )
    }
    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from keyport. Go back, reload the page and try again.",
        )
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is nothing here.")
    }
    pub fn not_found_with(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    /// 405 with `Allow`, naming the methods `allowed`.
    pub fn method_not_allowed(allowed: &[String]) -> Self {
        let allow = allowed.join(", ");
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("This endpoint accepts {allow}."),
        );
        e.allow = Some(allow.into());
        e
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
    /// 429 with `Retry-After`: `message` says what was refused, the wait is added.
    pub fn too_many(message: &str, retry_after: std::time::Duration) -> Self {
        let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        let secs = secs.max(1);
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{message} Try again in {}.", wait_text(secs)),
        );
        e.retry_after = Some(secs);
        e
    }
    /// Puts this error's `Retry-After` (if any) on a response, such as a form page shown again
    /// with the error.
    pub fn set_retry_after(&self, response: &mut HttpResponse) {
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Try again in a moment.",
        )
    }
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "service unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "keyport cannot reach its database right now. Try again in a moment.",
        )
    }
    /// Browsers are sent to `location` instead of being shown the error (JSON clients still
    /// read it): a page that needs a signed-in user sends them to sign in and back.
    pub fn redirecting_to(mut self, location: String) -> Self {
        self.redirect = Some(location.into());
        self
    }
}

/// "1 second", "40 seconds", "3 minutes".
fn wait_text(secs: u64) -> String {
    let (n, unit) = if secs < 120 {
        (secs, "second")
    } else {
        (secs.div_ceil(60), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    /// Where a browser is sent instead of being shown the error (sign-in required).
    pub fn redirect(&self) -> Option<&str> {
        self.redirect.as_deref()
    }

    /// The error as the API answers it: `ErrorBody` as JSON, `WWW-Authenticate` on a 401,
    /// `Retry-After` when throttled, `Allow` on a 405.
    pub fn json(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"keyport\""),
            ));
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.as_ref()));
        }
        let mut res = res.json(ErrorBody {
            error: self.message.clone(),
            field: self.field.map(str::to_owned),
            required_scope: self.required_scope.as_deref().map(str::to_owned),
            request_id: super::request_id::current(),
        });
        self.set_retry_after(&mut res);
        res
    }
}

/// Under /api every error response, ours or the framework's, is `{"error": …}`.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    reshape(next.call(req).await?, Error::json)
}

/// Gives an error response the surface's shape with `render`: the framework's own errors
/// (404, 405, 413) and ours alike. Responses a handler shaped itself (a form shown again with a
/// 401 or 422) stay as they are.
pub fn reshape(
    res: ServiceResponse<impl MessageBody + 'static>,
    render: impl Fn(&Error) -> HttpResponse,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = res.map_into_boxed_body();
    let status = res.status();
    if !status.is_client_error() && !status.is_server_error() {
        return Ok(res);
    }
    let attached = res.response().error();
    let ours = attached.and_then(|e| e.as_error::<Error>()).cloned();
    let empty = matches!(
        res.response().body().size(),
        BodySize::Sized(0) | BodySize::None
    );
    if ours.is_none() && attached.is_none() && !empty {
        return Ok(res);
    }
    let error = ours.unwrap_or_else(|| Error::new(status, framework_message(status)));
    let (req, res) = res.into_parts();
    let mut shaped = render(&error);
    // Keep what the framework said about the request, such as `Allow` on a 405.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !shaped.headers().contains_key(name)
        {
            shaped.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, shaped))
}

fn framework_message(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "There is nothing here.".into(),
        StatusCode::METHOD_NOT_ALLOWED => {
            "This address does not accept that kind of request.".into()
        }
        StatusCode::PAYLOAD_TOO_LARGE => "The request is too large.".into(),
        other => other
            .canonical_reason()
            .unwrap_or("The request could not be handled.")
            .into(),
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// JSON, or a redirect to sign in; the portal's middleware redraws the JSON as a page.
    fn error_response(&self) -> HttpResponse {
        if let Some(location) = &self.redirect {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location.as_ref()))
                .finish();
        }
        self.json()
    }
}

impl From<domain::Error> for Error {
    fn from(e: domain::Error) -> Self {
        match e {
            domain::Error::NotFound => Error::not_found(),
            domain::Error::Conflict(m) => Error::conflict(m),
            domain::Error::Invalid(m) => Error::unprocessable(m),
            domain::Error::InvalidField { field, reason } => {
                let mut error = Error::unprocessable(format!("{field}: {reason}"));
                error.field = Some(field);
                error
            }
            domain::Error::MissingReference { field, reason } => {
                let mut error = Error::not_found_with(format!("{field}: {reason}"));
                error.field = Some(field);
                error
            }
            domain::Error::Forbidden(m) => Error::new(StatusCode::FORBIDDEN, m),
            domain::Error::Gone(m) => Error::new(StatusCode::GONE, m),
            domain::Error::ScopeRequired { message, scope } => {
                let mut error = Error::new(StatusCode::FORBIDDEN, message);
                error.required_scope = Some(scope.into());
                error
            }
            domain::Error::BadCredentials => Error::unauthorized("Wrong email or password."),
            domain::Error::AccountDisabled => Error::new(
                StatusCode::FORBIDDEN,
                "This account is turned off. Ask an admin of this keyport to turn it on again.",
            ),
            domain::Error::Database(e) => Error::internal(e),
            domain::Error::Unavailable(e) => Error::unavailable(e),
        }
    }
}

impl From<crate::db::Unavailable> for Error {
    fn from(e: crate::db::Unavailable) -> Self {
        Error::unavailable(e)
    }
}

impl From<askama::Error> for Error {
    fn from(e: askama::Error) -> Self {
        Error::internal(e)
    }
}

impl From<actix_session::SessionInsertError> for Error {
    fn from(e: actix_session::SessionInsertError) -> Self {
        Error::internal(e)
    }
}

impl From<actix_session::SessionGetError> for Error {
    fn from(e: actix_session::SessionGetError) -> Self {
        Error::internal(e)
    }
}
