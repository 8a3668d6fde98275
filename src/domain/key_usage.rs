//! How each key is used, and where a key that stopped working is still sent.
//!
//! Counted in memory on the request path (a short lock, no database) and written in batches
//! by `flush`: at most one upsert per key and day, and one per stopped key, however many
//! requests came. Only keys keyport issued are counted (they were found by their hash), so a
//! flood of made-up keys adds nothing here.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::Result;
use super::keys::redact;
use super::mail::notices;
use crate::db::{Db, DbConnection, Unavailable, write_transaction};
use crate::models::key_usage::{self as usage, DayCounts, SentAs, StaleRecord, StaleUse};
use crate::models::{ApiKeyRow, UserId};

/// The days a key's usage shows, today included.
pub const SHOWN_DAYS: i64 = 30;
/// The days kept before they are pruned.
const KEPT_DAYS: i64 = 90;
/// How much of a User-Agent, a path and a method is kept.
const UA_CHARS: usize = 200;
const PATH_CHARS: usize = 200;
const METHOD_CHARS: usize = 16;

/// How an API request with a working key ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx and 3xx.
    Succeeded,
    /// 403: the key's scopes or addresses do not allow it.
    Refused,
    /// Any other 4xx.
    ClientError,
    /// 429.
    Throttled,
}

impl Outcome {
    /// The outcome of a response status; none for a server error (not the client's doing).
    pub fn of_status(status: u16) -> Option<Self> {
        match status {
            200..=399 => Some(Outcome::Succeeded),
            403 => Some(Outcome::Refused),
            429 => Some(Outcome::Throttled),
            400..=499 => Some(Outcome::ClientError),
            _ => None,
        }
    }
}

/// The working key an API call was made with (a request extension), so that how the call
/// ended is counted against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsedKey(pub i64);

/// A request that carried a key that no longer works, as it came.
pub struct StaleRequest<'a> {
    pub ip: Option<&'a str>,
    pub sent_as: SentAs,
    pub method: &'a str,
    /// Without the query string.
    pub path: &'a str,
    pub user_agent: Option<&'a str>,
}

#[derive(Default)]
struct Pending {
    days: HashMap<(i64, NaiveDate), DayCounts>,
    stale: HashMap<i64, StaleUse>,
}

impl Pending {
    /// Adds `later`, a newer use of its key: the counts add, the last use is the newer one's.
    fn note_stale(&mut self, later: StaleUse) {
        let mut later = later;
        if let Some(earlier) = self.stale.remove(&later.key_id) {
            later.uses += earlier.uses;
            later.first_at = earlier.first_at.min(later.first_at);
        }
        self.stale.insert(later.key_id, later);
    }

    /// Adds what was counted `since` this (which is older).
    fn merge(&mut self, since: Pending) {
        for (day, counts) in since.days {
            self.days.entry(day).or_default().add(&counts);
        }
        for later in since.stale.into_values() {
            self.note_stale(later);
        }
    }
}

/// This instance's counts since the last flush.
#[derive(Default)]
pub struct KeyUsage {
    pending: Mutex<Pending>,
}

/// What a flush wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    pub days: usize,
    pub stale_keys: usize,
    /// Mails queued about stopped keys still in use.
    pub mails: usize,
}

impl KeyUsage {
    /// Counts one request made with the working key `key`.
    pub fn count(&self, key: i64, outcome: Outcome, at: NaiveDateTime) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let day = pending.days.entry((key, at.date())).or_default();
        match outcome {
            Outcome::Succeeded => day.succeeded += 1,
            Outcome::Refused => day.refused += 1,
            Outcome::ClientError => day.client_errors += 1,
            Outcome::Throttled => day.throttled += 1,
        }
    }

    /// Notes a use of `key`, which keyport issued and which no longer works.
    pub fn stale(&self, key: i64, request: &StaleRequest, at: NaiveDateTime) {
        let kept = |text: &str, max: usize| redact(text).chars().take(max).collect::<String>();
        let latest = StaleUse {
            key_id: key,
            uses: 1,
            first_at: at,
            last_at: at,
            last_ip: request.ip.map(str::to_owned),
            sent_as: request.sent_as,
            method: kept(request.method, METHOD_CHARS),
            path: kept(request.path, PATH_CHARS),
            user_agent: request.user_agent.map(|ua| kept(ua, UA_CHARS)),
        };
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .note_stale(latest);
    }

    /// Writes what was counted since the last flush, in one transaction; what cannot be
    /// written is kept for the next one.
    pub async fn flush(&self, db: &Db) -> Result<Flushed, Unavailable> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if taken.days.is_empty() && taken.stale.is_empty() {
            return Ok(Flushed::default());
        }
        let taken = std::sync::Arc::new(taken);
        let writing = taken.clone();
        let written = db
            .write(move |c| {
                write_transaction(c, |c| write(c, &writing, crate::db::now()))
                    .map_err(|e| Unavailable(e.to_string()))
            })
            .await;
        if written.is_err()
            && let Ok(taken) = std::sync::Arc::try_unwrap(taken)
        {
            // Put back in front of what was counted meanwhile, which is newer.
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let since = std::mem::replace(&mut *pending, taken);
            pending.merge(since);
        }
        written
    }
}

fn write(
    conn: &mut DbConnection,
    pending: &Pending,
    at: NaiveDateTime,
) -> diesel::QueryResult<Flushed> {
    let mut flushed = Flushed::default();
    for ((key, day), counts) in &pending.days {
        usage::add_day(conn, *key, *day, counts)?;
        flushed.days += 1;
    }
    for stale in pending.stale.values() {
        stale.add(conn)?;
        flushed.stale_keys += 1;
        // At most one mail a day per key, whichever instance flushes first.
        if StaleUse::take_mail_turn(conn, stale.key_id, at)?
            && let Some((key, owner)) = ApiKeyRow::with_owner(conn, stale.key_id)?
        {
            let record = StaleRecord::of_key(conn, stale.key_id)?;
            if let Some(record) = record
                && notices::key_still_used(conn, &owner, &key, &record)?
            {
                flushed.mails += 1;
            }
        }
    }
    Ok(flushed)
}

/// Drops usage older than what is kept.
pub fn prune(conn: &mut DbConnection, today: NaiveDate) -> diesel::QueryResult<usize> {
    usage::prune(conn, today - Duration::days(KEPT_DAYS))
}

/// One day of a key's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Day {
    #[schema(value_type = String, format = Date, example = "2026-11-29")]
    pub date: NaiveDate,
    pub succeeded: i64,
    /// Refused for the key's scopes or addresses (403).
    pub refused: i64,
    /// Other 4xx answers.
    pub client_errors: i64,
    /// 429 answers.
    pub throttled: i64,
}

/// The key's last `SHOWN_DAYS` days up to `today`, oldest first, days without requests as
/// zeros.
pub fn days(conn: &mut DbConnection, key: i64, today: NaiveDate) -> Result<Vec<Day>> {
    let since = today - Duration::days(SHOWN_DAYS - 1);
    Ok(shown_days(
        today,
        usage::days_of(conn, key, since)?.into_iter().collect(),
    ))
}

fn shown_days(today: NaiveDate, mut stored: HashMap<NaiveDate, DayCounts>) -> Vec<Day> {
    let since = today - Duration::days(SHOWN_DAYS - 1);
    since
        .iter_days()
        .take(SHOWN_DAYS as usize)
        .map(|date| {
            let counts = stored.remove(&date).unwrap_or_default();
            Day {
                date,
                succeeded: counts.succeeded,
                refused: counts.refused,
                client_errors: counts.client_errors,
                throttled: counts.throttled,
            }
        })
        .collect()
}

/// A stopped key still in use, as its owner and staff see it.
#[derive(Debug, Clone)]
pub struct StillUsed {
    pub key: ApiKeyRow,
    pub record: StaleRecord,
}

/// The person's stopped keys still in use; with `news_only`, those the owner has not
/// dismissed since their last use.
pub fn still_used(
    conn: &mut DbConnection,
    user: UserId,
    news_only: bool,
) -> Result<Vec<StillUsed>> {
    Ok(StaleRecord::of_user(conn, user)?
        .into_iter()
        .filter(|(record, _)| !news_only || record.is_news())
        .map(|(record, key)| StillUsed { key, record })
        .collect())
}

/// The owner hides the notice about `key` until it is used again.
pub fn dismiss(conn: &mut DbConnection, user: UserId, key: i64) -> Result<()> {
    if StaleRecord::dismiss(conn, user, key, crate::db::now())? {
        Ok(())
    } else {
        Err(super::Error::NotFound)
    }
}

/// What a key's page shows besides the key: its usage, and where it is still sent if it no
/// longer works.
pub struct KeyActivity {
    pub days: Vec<Day>,
    pub still_used: Option<StillUsed>,
}

impl KeyActivity {
    /// A key just made: no use yet.
    pub fn unused(today: NaiveDate) -> Self {
        KeyActivity {
            days: shown_days(today, HashMap::new()),
            still_used: None,
        }
    }
}

pub fn of_key(conn: &mut DbConnection, key: &ApiKeyRow, today: NaiveDate) -> Result<KeyActivity> {
    Ok(KeyActivity {
        days: days(conn, key.id, today)?,
        still_used: StaleRecord::of_key(conn, key.id)?.map(|record| StillUsed {
            key: key.clone(),
            record,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(path: &str, minute: u32) -> (StaleRequest<'_>, NaiveDateTime) {
        let at = NaiveDate::from_ymd_opt(2026, 11, 29)
            .and_then(|d| d.and_hms_opt(12, minute, 0))
            .expect("a time");
        let request = StaleRequest {
            ip: Some("203.0.113.7"),
            sent_as: SentAs::Link,
            method: "GET",
            path,
            user_agent: None,
        };
        (request, at)
    }

    #[test]
    fn a_failed_flush_keeps_the_counts_and_the_newest_use_wins() {
        let usage = KeyUsage::default();
        let (first, at) = used("/api/v1/contacts", 0);
        usage.stale(7, &first, at);
        usage.count(7, Outcome::Succeeded, at);
        // A flush takes these, and fails to write them; meanwhile a newer use comes in.
        let taken = std::mem::take(&mut *usage.pending.lock().expect("lock"));
        let (newer, later) = used("/api/v1/jobs", 5);
        usage.stale(7, &newer, later);
        usage.count(7, Outcome::Succeeded, later);
        let mut pending = usage.pending.lock().expect("lock");
        let since = std::mem::replace(&mut *pending, taken);
        pending.merge(since);

        let kept = &pending.stale[&7];
        assert_eq!(kept.uses, 2);
        assert_eq!((kept.first_at, kept.last_at), (at, later));
        assert_eq!(kept.path, "/api/v1/jobs", "the newest use is the last one");
        assert_eq!(pending.days[&(7, at.date())].succeeded, 2);
    }
}
