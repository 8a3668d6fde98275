//! The portal's own scripts and styles, compiled into the binary so one file deploys keyport.
//! File names carry a version, so browsers may cache them for a long time.

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{HttpResponse, web};

use crate::http::error::Error;

const FILES: &[(&str, &str, &str)] = &[
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/htmx-2.0.11.min.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/static/{name}").get(serve));
}

async fn serve(name: web::Path<String>) -> Result<HttpResponse, Error> {
    let (_, mime, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(Error::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header(ContentType(mime.parse().map_err(Error::internal)?))
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(3600),
        ]))
        .body(*body))
}
