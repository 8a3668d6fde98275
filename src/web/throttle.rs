//! Throttling of password guesses and API key guesses, with governor's keyed GCRA limiters
//! (in memory, per instance).
//!
//! Sign-in (and the password asked again before Regenerate New Key): every attempt counts,
//! before the password is checked, so a refused guess costs no hashing and reveals nothing.
//! - Per account and client: 5 at once, then one every 12 s; past 20, one every 3 minutes —
//!   a delay that grows the longer the guessing goes on.
//! - Per account, over every client keyport does not know: 100 an hour.
//! - Per address, over every account (password spraying): 30 at once, 200 an hour.
//!
//! A browser that has signed in to an account before carries a device cookie for it, and is
//! its own client: someone guessing from elsewhere cannot lock the real user out of the
//! browser they use (OWASP's device cookies).
//!
//! API: an address whose calls keep failing with 401 gets 429 instead (30 at once, then one
//! every 2 s, unless `KEYPORT_API_KEY_FAILURES_PER_MINUTE` says otherwise); calls with a valid
//! key are never counted.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::client_address::client_addr;
use super::error::Error;
use crate::AppState;

const fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).expect("a limit is not zero"))
}

const fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).expect("a limit is not zero"))
}

/// Who is trying to sign in, as far as the limits are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignInClient {
    /// A browser that signed in to this account before (its device cookie's id).
    Device(String),
    /// Anyone else, by address.
    Address(IpAddr),
}

type Limiter<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The limits of one instance; the clock is governor's real one except in tests.
pub struct Throttles<C: Clock = DefaultClock> {
    per_client_quick: Limiter<(String, SignInClient), C>,
    per_client_slow: Limiter<(String, SignInClient), C>,
    per_account: Limiter<String, C>,
    per_address: Limiter<IpAddr, C>,
    api_key_failures: Limiter<IpAddr, C>,
}

impl Throttles {
    /// The limits above, with this many API key failures a minute per address.
    pub fn new(api_key_failures_per_minute: NonZeroU32) -> Self {
        Self::with_clock(DefaultClock::default(), api_key_failures_per_minute)
    }
}

fn limiter<K, C>(quota: Quota, clock: &C) -> Limiter<K, C>
where
    K: Clone + Eq + std::hash::Hash,
    C: Clock + Clone,
{
    RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())
}

/// How long until the limiter lets the key through again, or `Ok` (and the attempt counted).
fn take<K, C>(limiter: &Limiter<K, C>, key: &K) -> Result<(), Duration>
where
    K: Clone + Eq + std::hash::Hash,
    C: Clock,
{
    limiter
        .check_key(key)
        .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
}

impl<C: Clock + Clone> Throttles<C> {
    pub fn with_clock(clock: C, api_key_failures_per_minute: NonZeroU32) -> Self {
        Self {
            per_client_quick: limiter(per_minute(5), &clock),
            per_client_slow: limiter(per_hour(20), &clock),
            per_account: limiter(per_hour(100), &clock),
            per_address: limiter(
                per_hour(200).allow_burst(NonZeroU32::new(30).expect("not zero")),
                &clock,
            ),
            api_key_failures: limiter(Quota::per_minute(api_key_failures_per_minute), &clock),
        }
    }

    /// Counts one password attempt for `account` (its normalized email, known or not) from
    /// `client`; `Err` is how long to wait.
    pub fn sign_in_attempt(&self, account: &str, client: &SignInClient) -> Result<(), Duration> {
        // Bounded keys: an attacker cannot grow the maps with megabyte-long emails.
        let account: String = account.chars().take(254).collect();
        let pair = (account.clone(), client.clone());
        take(&self.per_client_quick, &pair)?;
        take(&self.per_client_slow, &pair)?;
        if let SignInClient::Address(addr) = client {
            take(&self.per_address, addr)?;
            take(&self.per_account, &account)?;
        }
        Ok(())
    }

    /// Counts one API call refused for its key; `Err` is how long the address must wait.
    pub fn api_key_failure(&self, addr: IpAddr) -> Result<(), Duration> {
        take(&self.api_key_failures, &addr)
    }

    /// Drops the state of keys that are back to full allowance, so memory follows the
    /// clients of the last hour rather than every client ever seen.
    pub fn forget_idle(&self) {
        self.per_client_quick.retain_recent();
        self.per_client_slow.retain_recent();
        self.per_account.retain_recent();
        self.per_address.retain_recent();
        self.api_key_failures.retain_recent();
        self.per_client_quick.shrink_to_fit();
        self.per_client_slow.shrink_to_fit();
        self.per_account.shrink_to_fit();
        self.per_address.shrink_to_fit();
        self.api_key_failures.shrink_to_fit();
    }

    /// Entries held, for tests and metrics.
    pub fn tracked(&self) -> usize {
        self.per_client_quick.len()
            + self.per_client_slow.len()
            + self.per_account.len()
            + self.per_address.len()
            + self.api_key_failures.len()
    }
}

/// Counts one password attempt on `email`'s account from this request's client (its device
/// cookie, or its address). The client, to renew the device cookie after a success; or the 429
/// that says, with `refused`, when to try again.
pub fn password_attempt(
    req: &actix_web::HttpRequest,
    state: &AppState,
    email: &str,
    refused: &str,
) -> Result<(String, SignInClient), Error> {
    let account = crate::models::user::normalize(email);
    let client = super::device_cookie::sign_in_client(req, state, &account);
    match state.throttles.sign_in_attempt(&account, &client) {
        Ok(()) => Ok((account, client)),
        Err(wait) => Err(Error::too_many(refused, wait)),
    }
}

pub const API_KEY_GUESSING: &str = "Too many requests with an invalid API key from this address.";
pub const SIGN_IN_GUESSING: &str = "Too many sign-in attempts.";
pub const PASSWORD_GUESSING: &str = "Too many password attempts.";

/// Wraps the API: a 401 counts against the caller's address, and once the address is over
/// its allowance the answer is 429 with `Retry-After` instead.
pub async fn api_key_failures(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let addr = client_addr(req.request());
    let res = next.call(req).await?;
    if res.status() != StatusCode::UNAUTHORIZED {
        return Ok(res.map_into_left_body());
    }
    let (Some(state), Some(addr)) = (state, addr) else {
        return Ok(res.map_into_left_body());
    };
    match state.throttles.api_key_failure(addr) {
        Ok(()) => Ok(res.map_into_left_body()),
        Err(wait) => {
            // Attached to the response, so the API's error shaping answers it as JSON.
            let (req, _) = res.into_parts();
            let error = Error::too_many(API_KEY_GUESSING, wait);
            Ok(ServiceResponse::from_err(error, req).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn address(n: u32) -> SignInClient {
        SignInClient::Address(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
    }

    /// Guesses as fast as allowed; returns the waits imposed, in order.
    fn guess(
        throttles: &Throttles<FakeRelativeClock>,
        clock: &FakeRelativeClock,
        n: usize,
    ) -> Vec<Duration> {
        let mut waits = Vec::new();
        for _ in 0..n {
            while let Err(wait) = throttles.sign_in_attempt("ann@example.com", &address(1)) {
                waits.push(wait);
                clock.advance(wait);
            }
        }
        waits
    }

    #[test]
    fn the_delay_grows_the_longer_guessing_goes_on() {
        let clock = FakeRelativeClock::default();
        let throttles =
            Throttles::with_clock(clock.clone(), NonZeroU32::new(30).expect("not zero"));
        let waits = guess(&throttles, &clock, 5);
        assert!(waits.is_empty(), "five attempts at once are allowed");
        let waits = guess(&throttles, &clock, 10);
        assert!(
            waits.iter().all(|w| *w <= Duration::from_secs(12)),
            "{waits:?}"
        );
        assert!(
            waits.iter().any(|w| *w > Duration::from_secs(10)),
            "{waits:?}"
        );
        let waits = guess(&throttles, &clock, 10);
        assert!(
            waits.iter().any(|w| *w >= Duration::from_secs(170)),
            "past 20 guesses the wait is minutes: {waits:?}"
        );
    }

    #[test]
    fn guessing_from_many_addresses_cannot_lock_out_a_known_browser() {
        let clock = FakeRelativeClock::default();
        let throttles =
            Throttles::with_clock(clock.clone(), NonZeroU32::new(30).expect("not zero"));
        for n in 0..100 {
            assert!(
                throttles
                    .sign_in_attempt("ann@example.com", &address(n))
                    .is_ok()
            );
        }
        // The account's allowance for unknown clients is spent, wherever they come from …
        assert!(
            throttles
                .sign_in_attempt("ann@example.com", &address(500))
                .is_err()
        );
        // … but not the browser Ann signed in with before, nor anyone else's account.
        let device = SignInClient::Device("ann-laptop".into());
        assert!(
            throttles
                .sign_in_attempt("ann@example.com", &device)
                .is_ok()
        );
        assert!(
            throttles
                .sign_in_attempt("bob@example.com", &address(501))
                .is_ok()
        );
    }

    #[test]
    fn one_address_spraying_many_accounts_is_limited() {
        let clock = FakeRelativeClock::default();
        let throttles =
            Throttles::with_clock(clock.clone(), NonZeroU32::new(30).expect("not zero"));
        let sprayer = address(7);
        let allowed = (0..100)
            .take_while(|n| {
                throttles
                    .sign_in_attempt(&format!("user{n}@example.com"), &sprayer)
                    .is_ok()
            })
            .count();
        assert_eq!(allowed, 30);
    }

    #[test]
    fn api_key_failures_are_limited_per_address_and_forgotten_when_idle() {
        let clock = FakeRelativeClock::default();
        let throttles =
            Throttles::with_clock(clock.clone(), NonZeroU32::new(30).expect("not zero"));
        let addr = IpAddr::from([192, 0, 2, 1]);
        assert!((0..30).all(|_| throttles.api_key_failure(addr).is_ok()));
        let wait = throttles
            .api_key_failure(addr)
            .expect_err("the 31st is refused");
        assert!(wait <= Duration::from_secs(2));
        assert!(
            throttles
                .api_key_failure(IpAddr::from([192, 0, 2, 2]))
                .is_ok()
        );
        assert!(throttles.tracked() >= 2);
        clock.advance(Duration::from_secs(3600));
        throttles.forget_idle();
        assert_eq!(throttles.tracked(), 0);
    }
}
