//! Errors as people see them: every error response in the portal, ours or the framework's,
//! is drawn as a page with the status, what went wrong and the request's id.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::ContentType;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::pages::Layout;
use crate::http::error::{Error, reshape};
use crate::http::request_id;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: u16,
    title: &'a str,
    message: &'a str,
    request_id: Option<String>,
}

/// In the portal every error response is a page, including the framework's (405, 404).
pub async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    reshape(next.call(req).await?, page)
}

/// The error page (or the redirect to sign in).
pub fn page(error: &Error) -> HttpResponse {
    if error.redirect().is_some() {
        return error.error_response();
    }
    let page = ErrorPage {
        layout: Layout::bare(),
        status: error.status.as_u16(),
        title: error.status.canonical_reason().unwrap_or("Error"),
        message: &error.message,
        request_id: request_id::current(),
    };
    let body = page.render().unwrap_or_else(|_| error.message.clone());
    let mut res = HttpResponse::build(error.status)
        .content_type(ContentType::html())
        .body(body);
    error.set_retry_after(&mut res);
    res
}
