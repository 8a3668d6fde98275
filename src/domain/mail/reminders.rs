//! Expiry reminders: a periodic scan queues, for each live key, a mail 7 days and 1 day before
//! it expires and one when it has expired — each once per key and threshold (the database's
//! unique `once_key` says so, however often and on however many instances the scan runs).

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;

use super::{MailContent, MailKind, queue_once, utc};
use crate::db::DbConnection;

/// The thresholds: the window before expiry each covers, and what the mail says.
const THRESHOLDS: [(&str, i64, i64); 3] = [
    // (name, window starts this many hours from now, ends this many hours from now)
    ("7d", 24, 7 * 24),
    ("1d", 0, 24),
    // Expired in the last 7 days (older ones were expired before reminders existed).
    ("expired", -7 * 24, 0),
];

/// Queues the reminders due at `at`; how many it queued.
pub fn queue_due(conn: &mut DbConnection, at: NaiveDateTime) -> QueryResult<usize> {
    let mut queued = 0;
    for (name, from_hours, until_hours) in THRESHOLDS {
        let from = at + Duration::hours(from_hours);
        let until = at + Duration::hours(until_hours);
        for (key, owner) in crate::models::ApiKeyRow::expiring(conn, from, until)? {
            let Some(expires) = key.expires_at else {
                continue;
            };
            let when = utc(expires);
            let content = if name == "expired" {
                MailContent::new(
                    format!("your API key “{}” expired", key.name),
                    "An API key of yours has expired: programs that use it are refused.",
                )
            } else {
                MailContent::new(
                    format!("your API key “{}” expires {}", key.name, if name == "7d" { "in 7 days" } else { "tomorrow" }),
                    "An API key of yours expires soon: regenerate it (its successor gets a new expiry) or create a new key, and give your programs the new key before then.",
                )
            }
            .fact("Key", format!("{} ({}…)", key.name, key.prefix))
            .fact(if name == "expired" { "Expired" } else { "Expires" }, when)
            .action("See the key", &format!("/settings/api-access/keys/{}", key.id));
            let once = format!("key-expiry:{}:{name}", key.id);
            if queue_once(
                conn,
                &owner,
                MailKind::ExpiryReminder,
                &content,
                Some(&once),
            )? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}
