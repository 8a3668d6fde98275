//! Who may do what: CSRF tokens, sessions, someone else's records, roles.

use reqwest::Method as M;
use serde_json::json;

use super::Who::*;
use super::{CSRF, Case, Csrf, FORBIDDEN, Fixtures, NOTHING, case};
use crate::support::PASSWORD;

pub fn access(f: &Fixtures) -> Vec<Case> {
    let enable = f.enable;
    let add = f.add;
    let missing = f.missing;
    let own = &f.own;
    let others = &f.others;
    let other_user = &f.other_user;
    let api_others = &f.api_others;
    let w = f.world;
    #[rustfmt::skip]
    let cases = vec![
        // CSRF: forged, missing, reused and cross-session tokens.
        case("enable without a token", User, M::POST, enable).csrf(Csrf::Missing).expect(403, CSRF),
        case("enable with a forged token", User, M::POST, enable).csrf(Csrf::Forged).expect(403, CSRF),
        case("enable with another session's token", User, M::POST, enable).csrf(Csrf::OtherSession).expect(403, CSRF),
        case("enable with the token from before sign-in", User, M::POST, enable).csrf(Csrf::Stale).expect(403, CSRF),
        case("enable with the token in the address", User, M::POST, enable).csrf(Csrf::InQuery).expect(403, CSRF),
        case("htmx add-webhook with a forged header", User, M::POST, add)
            .form(&[("url", "https://hooks.example.com/x"), ("entity", "Contact"), ("operation_type", "Create")])
            .header("x-csrf-token", "forged").csrf(Csrf::Missing).expect(403, CSRF),
        case("sign-out without a token", User, M::POST, "/logout").csrf(Csrf::Missing).expect(403, CSRF),
        case("sign out everywhere without a token", User, M::POST, "/settings/sign-out-everywhere").csrf(Csrf::Missing).expect(403, CSRF),
        case("sign-in without a token", Anonymous, M::POST, "/login")
            .form(&[("email", "someone@example.com"), ("password", PASSWORD)]).csrf(Csrf::Missing).expect(403, CSRF),
        case("admin Clear API Key with a support person's token", Admin, M::POST, format!("{other_user}/clear"))
            .form(&[("reason", "csrf")]).csrf(Csrf::Forged).expect(403, CSRF),
        // Sessions: a copied cookie after sign-out, a cookie value the attacker chose.
        case("a cookie copied before sign-out", Program, M::GET, "/settings/api-access")
            .header("cookie", w.copied_cookie.clone()).expect(303, "/login?next=%2Fsettings%2Fapi-access"),
        case("a session cookie the attacker made up", Program, M::GET, "/settings")
            .header("cookie", "keyport_session=attacker-chosen-value").expect(303, "/login?next=%2Fsettings"),
        // IDOR: someone else's webhook answers exactly like a missing one.
        case("another user's webhook page", User, M::GET, others.clone()).expect(404, NOTHING),
        case("a missing webhook page", User, M::GET, missing).expect(404, NOTHING),
        case("turn off another user's webhook", User, M::POST, format!("{others}/status")).form(&[("status", "Off")]).expect(404, NOTHING),
        case("delete another user's webhook", User, M::POST, format!("{others}/delete")).expect(404, NOTHING),
        case("reveal another user's signing secret", User, M::GET, format!("{others}/secret")).expect(404, NOTHING),
        case("redeliver another user's delivery", User, M::POST, format!("{others}/deliveries/{}/redeliver", w.other_delivery)).expect(404, NOTHING),
        case("redeliver another user's delivery through my webhook", User, M::POST, format!("{own}/deliveries/{}/redeliver", w.other_delivery)).expect(404, NOTHING),
        case("API: another user's webhook", Program, M::GET, api_others.clone()).key(&w.user_key).expect(404, NOTHING),
        case("API: change another user's webhook", Program, M::PATCH, api_others.clone()).key(&w.user_key).json(json!({"status": "Off"})).expect(404, NOTHING),
        case("API: delete another user's webhook", Program, M::DELETE, api_others.clone()).key(&w.user_key).expect(404, NOTHING),
        // Roles: every admin page and post, checked on the server.
        case("a user opens API Management", User, M::GET, "/admin/api-management").expect(403, FORBIDDEN),
        case("a user opens a user in API Management", User, M::GET, other_user.clone()).expect(403, FORBIDDEN),
        case("a user clears a key", User, M::POST, format!("{other_user}/clear")).form(&[("reason", "x")]).expect(403, FORBIDDEN),
        case("support clears a key", Support, M::POST, format!("{other_user}/clear")).form(&[("reason", "x")]).expect(403, FORBIDDEN),
        case("support opens the Clear API Key step", Support, M::GET, format!("{other_user}/clear")).expect(403, FORBIDDEN),
        case("support turns a webhook off", Support, M::POST, format!("{other_user}/webhooks/{}/status", w.other_hook)).form(&[("status", "Off")]).expect(403, FORBIDDEN),
        case("a user turns a webhook off as admin", User, M::POST, format!("{other_user}/webhooks/{}/status", w.other_hook)).form(&[("status", "Off")]).expect(403, FORBIDDEN),
        case("a user opens the staff webhook page", User, M::GET, format!("{other_user}/webhooks/{}", w.other_hook)).expect(403, FORBIDDEN),
        case("signed out, clearing a key", Anonymous, M::POST, format!("{other_user}/clear")).form(&[("reason", "x")]).expect(303, "/login"),
    ];
    cases
}
