//! The device cookie: after a successful sign-in the browser keeps an encrypted cookie naming
//! the account and a random device id. Sign-in attempts that present it are limited on their
//! own, so guessing from elsewhere cannot lock the account's owner out of their browser.

use actix_web::cookie::{Cookie, CookieJar, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse};
use rand::TryRngCore;
use rand::distr::{Alphanumeric, Distribution};

use crate::AppState;
use crate::domain::sign_in_limits::SignInClient;
use crate::http::client_address::client_addr;

const NAME: &str = "keyport_device";
const KEPT_DAYS: i64 = 180;

/// Who is signing in to `account`: the device this browser proved before, or its address.
pub fn sign_in_client(req: &HttpRequest, state: &AppState, account: &str) -> SignInClient {
    match trusted_device(req, state, account) {
        Some(device) => SignInClient::Device(device),
        None => SignInClient::Address(
            client_addr(req).unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()),
        ),
    }
}

fn trusted_device(req: &HttpRequest, state: &AppState, account: &str) -> Option<String> {
    let name = state.cookie_name(NAME);
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(&name)?);
    let cookie = jar.private(state.cookie_key()).get(&name)?;
    let (for_account, device) = cookie.value().split_once('\n')?;
    (for_account == account).then(|| device.to_owned())
}

/// Gives (or renews) this browser the device cookie for `account` after a successful sign-in.
pub fn remember(res: &mut HttpResponse, state: &AppState, account: &str, client: &SignInClient) {
    let device = match client {
        SignInClient::Device(device) => device.clone(),
        SignInClient::Address(_) => Alphanumeric
            .sample_iter(rand::rngs::OsRng.unwrap_err())
            .take(32)
            .map(char::from)
            .collect(),
    };
    let mut cookie = Cookie::new(state.cookie_name(NAME), format!("{account}\n{device}"));
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_secure(state.settings.secure_cookies);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_max_age(Duration::days(KEPT_DAYS));
    let mut jar = CookieJar::new();
    jar.private_mut(state.cookie_key()).add(cookie);
    for cookie in jar.delta() {
        // A cookie that cannot be set only costs this browser its own allowance.
        let _ = res.add_cookie(cookie);
    }
}
