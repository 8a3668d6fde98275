//! Your Profile & Preferences → My Settings & Preferences: the settings menu, API Access with
//! the user's webhooks and their status pages, and Password & Sign-in. Every path under
//! /settings is registered here.

mod api_access;
mod keys;
mod notifications;
mod password;
pub mod urls;
mod webhooks;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(urls::INDEX).get(api_access::index))
        .service(web::resource(urls::API_ACCESS).get(api_access::show))
        .service(web::resource(urls::ENABLE).post(api_access::enable))
        .service(
            web::resource(urls::REGENERATE)
                .get(api_access::confirm_regenerate)
                .post(api_access::regenerate),
        )
        .service(
            web::resource(urls::TURN_OFF)
                .get(api_access::confirm_turn_off)
                .post(api_access::turn_off),
        )
        .service(web::resource(urls::KEYS).post(keys::create))
        .service(web::resource(urls::NEW_KEY).get(keys::new_form))
        .service(web::resource(urls::KEY).get(keys::show))
        .service(
            web::resource(urls::KEY_REGENERATE)
                .get(keys::confirm_regenerate)
                .post(keys::regenerate),
        )
        .service(
            web::resource(urls::KEY_RETIRE)
                .get(keys::confirm_retire)
                .post(keys::retire),
        )
        .service(
            web::resource(urls::KEY_DELETE)
                .get(keys::confirm_delete)
                .post(keys::delete),
        )
        .service(web::resource(urls::KEY_ADDRESSES).post(keys::set_addresses))
        .service(web::resource(urls::KEY_STILL_USED_DISMISS).post(keys::dismiss_still_used))
        .service(web::resource(urls::WEBHOOKS).post(webhooks::add))
        .service(web::resource(urls::WEBHOOK).get(webhooks::status_page))
        .service(web::resource(urls::WEBHOOK_STATUS).post(webhooks::set_status))
        .service(web::resource(urls::WEBHOOK_DELETE).post(webhooks::delete))
        .service(web::resource(urls::WEBHOOK_SECRET).get(webhooks::reveal_secret))
        .service(web::resource(urls::REDELIVER).post(webhooks::redeliver))
        .service(
            web::resource(urls::PASSWORD)
                .get(password::show)
                .post(password::change),
        )
        .service(
            web::resource(urls::NOTIFICATIONS)
                .get(notifications::show)
                .post(notifications::save),
        )
        .service(web::resource(urls::SIGN_OUT_EVERYWHERE).post(password::sign_out_everywhere));
}
