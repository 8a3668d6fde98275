//! How fast passwords may be guessed, counted in the database so that every instance on it
//! counts the same guesses (GCRA, one row per limit and key).
//!
//! Every attempt counts, before the password is checked, so a refused guess costs no hashing
//! and reveals nothing.
//! - Per account and client: 5 at once, then one every 12 s; past 20, one every 3 minutes —
//!   a delay that grows the longer the guessing goes on.
//! - Per account, over every client keyport does not know: 100 an hour.
//! - Per address, over every account (password spraying): 30 at once, 200 an hour.
//!
//! A browser that has signed in to an account before carries a device cookie for it, and is
//! its own client: someone guessing from elsewhere cannot lock the real user out of the
//! browser they use (OWASP's device cookies).

use std::net::IpAddr;
use std::time::Duration;

use crate::db::{DbConnection, write_transaction};
use crate::models::sign_in_limit;

/// Who is trying to sign in, as far as the limits are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignInClient {
    /// A browser that signed in to this account before (its device cookie's id).
    Device(String),
    /// Anyone else, by address.
    Address(IpAddr),
}

/// A limit: `burst` attempts at once, then one every `every`.
struct Limit {
    name: &'static str,
    every: Duration,
    burst: i64,
}

const PER_CLIENT_QUICK: Limit = Limit {
    name: "account+client/minute",
    every: Duration::from_secs(12),
    burst: 5,
};
const PER_CLIENT_SLOW: Limit = Limit {
    name: "account+client/hour",
    every: Duration::from_secs(180),
    burst: 20,
};
const PER_ACCOUNT: Limit = Limit {
    name: "account/hour",
    every: Duration::from_secs(36),
    burst: 100,
};
const PER_ADDRESS: Limit = Limit {
    name: "address/hour",
    every: Duration::from_secs(18),
    burst: 30,
};

impl Limit {
    /// Counts one attempt on `parts` at `now` (µs since the epoch); `Err` is the wait.
    fn take(
        &self,
        conn: &mut DbConnection,
        parts: &[&str],
        now: i64,
    ) -> diesel::QueryResult<Result<(), Duration>> {
        // Hashed: the table keeps no typed email (people type passwords into email fields).
        let mut key = blake3::Hasher::new();
        key.update(self.name.as_bytes());
        for part in parts {
            key.update(b"\0").update(part.as_bytes());
        }
        let key = key.finalize().to_hex();
        let every = i64::try_from(self.every.as_micros()).unwrap_or(i64::MAX);
        Ok(
            match sign_in_limit::take(conn, &key, now, every, self.burst)? {
                None => Ok(()),
                Some(wait) => Err(Duration::from_micros(wait.unsigned_abs())),
            },
        )
    }
}

/// Counts one password attempt for `account` (its normalized email, known or not) from
/// `client` at `now` (µs since the Unix epoch): `Err` is how long to wait. The limits are
/// taken in order until one refuses, in one transaction (one disk sync on SQLite).
pub fn attempt(
    conn: &mut DbConnection,
    account: &str,
    client: &SignInClient,
    now: i64,
) -> diesel::QueryResult<Result<(), Duration>> {
    // Bounded keys: an email a megabyte long hashes the same as any other.
    let client_key = match client {
        SignInClient::Device(device) => format!("device:{device}"),
        SignInClient::Address(addr) => format!("address:{addr}"),
    };
    write_transaction(conn, |conn| {
        let mut taken = PER_CLIENT_QUICK.take(conn, &[account, &client_key], now)?;
        if taken.is_ok() {
            taken = PER_CLIENT_SLOW.take(conn, &[account, &client_key], now)?;
        }
        if let (Ok(()), SignInClient::Address(_)) = (taken, client) {
            taken = PER_ADDRESS.take(conn, &[&client_key], now)?;
            if taken.is_ok() {
                taken = PER_ACCOUNT.take(conn, &[account], now)?;
            }
        }
        Ok(taken)
    })
}

/// Password reset links asked for, per email: 3 at once, then one every 20 minutes — enough
/// for a person who lost a mail, too few to flood someone's inbox.
const RESETS_PER_ACCOUNT: Limit = Limit {
    name: "reset/account",
    every: Duration::from_secs(1200),
    burst: 3,
};
/// Per address, over every email: 10 at once, then one every 6 minutes.
const RESETS_PER_ADDRESS: Limit = Limit {
    name: "reset/address",
    every: Duration::from_secs(360),
    burst: 10,
};

/// Counts one Forgot password request for `account` (its normalized email, known or not)
/// from `address`: `Err` is how long to wait. Counted the same whether the account exists.
pub fn reset_request(
    conn: &mut DbConnection,
    account: &str,
    address: Option<IpAddr>,
    now: i64,
) -> diesel::QueryResult<Result<(), Duration>> {
    let address = address.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    write_transaction(conn, |conn| {
        let taken = RESETS_PER_ADDRESS.take(conn, &[&address], now)?;
        if taken.is_err() {
            return Ok(taken);
        }
        RESETS_PER_ACCOUNT.take(conn, &[account], now)
    })
}

/// Now, as the limits count time.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Drops the rows of keys back to their full allowance: the table holds the last hour's
/// clients, not every client ever seen.
pub fn forget_spent(conn: &mut DbConnection, now: i64) -> diesel::QueryResult<usize> {
    sign_in_limit::forget_spent(conn, now)
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;
    use crate::db::{DatabaseUrl, Db};

    const SECOND: i64 = 1_000_000;

    fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = DatabaseUrl::Sqlite(dir.path().join("limits.db").display().to_string());
        let db = Db::connect(&url, 1).expect("connect");
        db.migrate().expect("migrate");
        (dir, db)
    }

    fn address(n: u32) -> SignInClient {
        SignInClient::Address(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n)))
    }

    /// Guesses as fast as allowed from `now`; returns the waits imposed, in order, and the
    /// time after the last guess.
    fn guess(conn: &mut DbConnection, mut now: i64, n: usize) -> (Vec<Duration>, i64) {
        let mut waits = Vec::new();
        for _ in 0..n {
            while let Err(wait) =
                attempt(conn, "ann@example.com", &address(1), now).expect("counted")
            {
                waits.push(wait);
                now += i64::try_from(wait.as_micros()).expect("fits");
            }
        }
        (waits, now)
    }

    #[test]
    fn the_delay_grows_the_longer_guessing_goes_on() {
        let (_dir, db) = database();
        let conn = &mut db.get().expect("conn");
        let (waits, now) = guess(conn, 0, 5);
        assert!(waits.is_empty(), "five attempts at once are allowed");
        let (waits, now) = guess(conn, now, 10);
        assert!(
            waits.iter().all(|w| *w <= Duration::from_secs(12)),
            "{waits:?}"
        );
        assert!(
            waits.iter().any(|w| *w > Duration::from_secs(10)),
            "{waits:?}"
        );
        let (waits, _) = guess(conn, now, 10);
        assert!(
            waits.iter().any(|w| *w >= Duration::from_secs(170)),
            "past 20 guesses the wait is minutes: {waits:?}"
        );
    }

    #[test]
    fn guessing_from_many_addresses_cannot_lock_out_a_known_browser() {
        let (_dir, db) = database();
        let conn = &mut db.get().expect("conn");
        for n in 0..100 {
            assert_eq!(attempt(conn, "ann@example.com", &address(n), 0), Ok(Ok(())));
        }
        // The account's allowance for unknown clients is spent, wherever they come from …
        assert!(
            attempt(conn, "ann@example.com", &address(500), 0)
                .expect("counted")
                .is_err()
        );
        // … but not the browser Ann signed in with before, nor anyone else's account.
        let device = SignInClient::Device("ann-laptop".into());
        assert_eq!(attempt(conn, "ann@example.com", &device, 0), Ok(Ok(())));
        assert_eq!(
            attempt(conn, "bob@example.com", &address(501), 0),
            Ok(Ok(()))
        );
    }

    #[test]
    fn one_address_spraying_many_accounts_is_limited() {
        let (_dir, db) = database();
        let conn = &mut db.get().expect("conn");
        let sprayer = address(7);
        let allowed = (0..100)
            .take_while(|n| {
                attempt(conn, &format!("user{n}@example.com"), &sprayer, 0)
                    .expect("counted")
                    .is_ok()
            })
            .count();
        assert_eq!(allowed, 30);
        // One more every 18 seconds.
        assert!(
            attempt(conn, "late@example.com", &sprayer, 17 * SECOND)
                .expect("counted")
                .is_err()
        );
        assert_eq!(
            attempt(conn, "late@example.com", &sprayer, 18 * SECOND),
            Ok(Ok(()))
        );
    }

    #[test]
    fn spent_keys_are_forgotten_and_nothing_is_kept_in_clear() {
        let (_dir, db) = database();
        let conn = &mut db.get().expect("conn");
        attempt(conn, "ann@example.com", &address(1), 0)
            .expect("counted")
            .expect("allowed");
        let keys: Vec<String> = crate::db::schema::sign_in_limits::table
            .select(crate::db::schema::sign_in_limits::key)
            .load(conn)
            .expect("keys");
        assert_eq!(keys.len(), 4, "one row per limit");
        assert!(
            keys.iter().all(|k| k.len() == 64 && !k.contains("ann")),
            "{keys:?}"
        );
        // A minute later only the slowest limit (one every 3 minutes) has not refilled.
        assert_eq!(forget_spent(conn, 60 * SECOND), Ok(3));
        assert_eq!(forget_spent(conn, 180 * SECOND + 1), Ok(1));
        assert_eq!(sign_in_limit::held(conn), Ok(0));
    }
}
