//! Throttling of API key guesses (sign-in guesses are `web::password_attempts`).
//!
//! An address whose calls keep failing with 401 gets 429 instead (30 at once, then one
//! every 2 s, unless `KEYPORT_API_KEY_FAILURES_PER_MINUTE` says otherwise); calls with a valid
//! key are never counted. This one is governor's keyed GCRA limiter, in memory per instance:
//! it is on the path of every refused call, and keys of 190 random bits are not guessed a few
//! thousand tries faster with several instances.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::client_address::client_addr;
use super::error::Error;
use crate::AppState;
use crate::domain::key_usage::{Outcome, UsedKey};

type Limiter<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The limits of one instance; the clock is governor's real one except in tests.
pub struct Throttles<C: Clock = DefaultClock> {
    api_key_failures: Limiter<IpAddr, C>,
}

impl Throttles {
    /// The limits above, with this many API key failures a minute per address.
    pub fn new(api_key_failures_per_minute: NonZeroU32) -> Self {
        Self::with_clock(DefaultClock::default(), api_key_failures_per_minute)
    }
}

impl<C: Clock + Clone> Throttles<C> {
    pub fn with_clock(clock: C, api_key_failures_per_minute: NonZeroU32) -> Self {
        Self {
            api_key_failures: RateLimiter::new(
                Quota::per_minute(api_key_failures_per_minute),
                DefaultKeyedStateStore::default(),
                clock,
            ),
        }
    }

    /// Counts one API call refused for its key; `Err` is how long the address must wait.
    pub fn api_key_failure(&self, addr: IpAddr) -> Result<(), Duration> {
        self.api_key_failures
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(self.api_key_failures.clock().now()))
    }

    /// Drops the state of addresses that are back to full allowance, so memory follows the
    /// clients of the last minutes rather than every client ever seen.
    pub fn forget_idle(&self) {
        self.api_key_failures.retain_recent();
        self.api_key_failures.shrink_to_fit();
    }

    /// Addresses held, for tests and metrics.
    pub fn tracked(&self) -> usize {
        self.api_key_failures.len()
    }
}

pub const API_KEY_GUESSING: &str = "Too many requests with an invalid API key from this address.";

/// Wraps the API and accounts for each answer: a 401 counts against the caller's address, and
/// once the address is over its allowance the answer is 429 with `Retry-After` instead; a call
/// made with a working key counts in that key's usage (in memory, by how it ended).
pub async fn api_key_failures(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let addr = client_addr(req.request());
    let res = next.call(req).await?;
    if res.status() != StatusCode::UNAUTHORIZED {
        let used = res.request().extensions().get::<UsedKey>().copied();
        if let (Some(UsedKey(key)), Some(outcome), Some(state)) =
            (used, Outcome::of_status(res.status().as_u16()), &state)
        {
            state.key_usage.count(key, outcome, crate::db::now());
        }
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
        assert_eq!(throttles.tracked(), 2);
        clock.advance(Duration::from_secs(3600));
        throttles.forget_idle();
        assert_eq!(throttles.tracked(), 0);
    }
}
