//! The browser-facing portal: one module per screen, each with one `routes` function.

pub mod account_links;
pub mod api_management;
pub mod chart;
pub mod csrf;
pub mod developer_guide;
pub mod device_cookie;
pub mod error_page;
pub mod guide_examples;
pub mod login;
pub mod mail_log;
pub mod pages;
pub mod password_attempts;
pub mod people;
pub mod route;
pub mod session;
pub mod settings;
pub mod setup;
pub mod static_files;
pub mod views;
pub mod webhook_status;
pub mod webhooks_overview;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    login::routes(cfg);
    account_links::routes(cfg);
    setup::routes(cfg);
    settings::routes(cfg);
    api_management::routes(cfg);
    mail_log::routes(cfg);
    people::routes(cfg);
    webhooks_overview::routes(cfg);
    developer_guide::routes(cfg);
}

/// Unknown pages get the 404 page, not an empty body.
pub async fn not_found() -> Result<actix_web::HttpResponse, crate::http::error::Error> {
    Err(crate::http::error::Error::not_found())
}
