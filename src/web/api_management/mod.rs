//! Advanced Settings → API Management, for admins and support staff. Every path under
//! /admin/api-management is registered here.

mod people;
mod policy;
pub mod urls;
mod webhooks;

pub use people::list_section;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(urls::LIST).get(people::list))
        .service(
            web::resource(urls::POLICY)
                .get(policy::show)
                .post(policy::save),
        )
        .service(web::resource(urls::USER).get(people::user))
        .service(
            web::resource(urls::CLEAR)
                .get(people::confirm_clear)
                .post(people::clear),
        )
        .service(
            web::resource(urls::CLEAR_KEY)
                .get(people::confirm_clear_key)
                .post(people::clear_key),
        )
        .service(web::resource(urls::ALLOW).post(people::allow))
        .service(web::resource(urls::DISALLOW).post(people::disallow))
        .service(web::resource(urls::WEBHOOK).get(webhooks::status_page))
        .service(web::resource(urls::WEBHOOK_STATUS).post(people::set_webhook_status))
        .service(web::resource(urls::REDELIVER).post(webhooks::redeliver));
}
