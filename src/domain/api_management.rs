//! API Management: what admins and support staff see of everyone's API Access.

use super::api_access::{self, ApiAccess};
use super::key_policy::{self, KeyPolicy};
use super::key_usage;
use super::{Error, Result};
use crate::db::DbConnection;
use crate::models::user::normalize;
use crate::models::{AccessListing, ApiKeyRow, AuditEvent, User, UserId, Webhook};

pub const PAGE_SIZE: i64 = 50;
const MAX_SEARCH_CHARS: usize = 254;
const HISTORY_ROWS: i64 = 20;

/// One page of people: most recently turned on (API Management) or newest account (People)
/// first, or in term order for a search.
pub struct KeyPage {
    pub rows: Vec<AccessListing>,
    /// The cursor for the next page, when there is one.
    pub next_after: Option<i64>,
}

/// A search as typed: matches the start of an email or name, case-insensitively.
pub fn normalize_search(q: Option<&str>) -> Result<Option<String>> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > MAX_SEARCH_CHARS || q.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "Search: enter at most {MAX_SEARCH_CHARS} printable characters."
        )));
    }
    Ok(Some(normalize(q)))
}

/// Whom a list of people shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// API Management: people with API Access on (`access=on`, the default).
    WithApiAccess,
    /// API Management's `access=off`: people with API Access off (a cleared key, say).
    WithoutApiAccess,
    /// API Management's `?stale=1`: people whose keys that stopped working were still sent in
    /// the last `SHOWN_DAYS` days (whether their API Access is on or not).
    StillUsingStoppedKeys,
    /// People, and API Management's `access=any`: everyone.
    Everyone,
}

impl Listed {
    /// Whether the people listed have API Access on, off, or either (None).
    fn access(self) -> Option<bool> {
        match self {
            Listed::WithApiAccess => Some(true),
            Listed::WithoutApiAccess => Some(false),
            Listed::StillUsingStoppedKeys | Listed::Everyone => None,
        }
    }
}

pub fn list(
    conn: &mut DbConnection,
    search: Option<&str>,
    after: Option<i64>,
    listed: Listed,
) -> Result<KeyPage> {
    let limit = PAGE_SIZE + 1;
    let after = after.map(UserId);
    let mut rows = match (listed, search) {
        (Listed::StillUsingStoppedKeys, search) => {
            let since = crate::db::now() - chrono::Duration::days(key_usage::SHOWN_DAYS);
            AccessListing::still_using_stopped_keys(conn, since, search, after, limit)?
        }
        (listed, Some(search)) => {
            AccessListing::search(conn, search, listed.access(), after, limit)?
        }
        (Listed::WithApiAccess, None) => AccessListing::list(conn, after, limit)?,
        (listed, None) => AccessListing::everyone(conn, listed.access(), after, limit)?,
    };
    if rows.len() as i64 <= PAGE_SIZE {
        return Ok(KeyPage {
            rows,
            next_after: None,
        });
    }
    rows.truncate(PAGE_SIZE as usize);
    // The cursor is the last person on the page.
    let next_after = rows.last().map(|row| row.user.id.0);
    Ok(KeyPage { rows, next_after })
}

/// Everything the API Management user page shows.
pub struct UserDetail {
    pub user: User,
    pub access: ApiAccess,
    pub policy: KeyPolicy,
    pub keys: Vec<ApiKeyRow>,
    pub audit: Vec<(AuditEvent, Option<String>)>,
    pub webhooks: Vec<Webhook>,
    /// Their keys that stopped working and are still sent (dismissed or not).
    pub still_used: Vec<key_usage::StillUsed>,
    /// Each working key's last 30 days.
    pub usage: Vec<(ApiKeyRow, Vec<key_usage::Day>)>,
}

pub fn user_detail(conn: &mut DbConnection, id: UserId) -> Result<UserDetail> {
    let user = User::find(conn, id)?.ok_or(Error::NotFound)?;
    Ok(UserDetail {
        access: api_access::state(conn, &user)?,
        policy: key_policy::current(conn)?,
        keys: ApiKeyRow::history_for_user(conn, id, HISTORY_ROWS)?,
        audit: AuditEvent::for_subject(conn, id, HISTORY_ROWS)?,
        webhooks: Webhook::for_user(conn, id)?,
        still_used: key_usage::still_used(conn, id, false)?,
        usage: usage_of_live_keys(conn, id)?,
        user,
    })
}

fn usage_of_live_keys(
    conn: &mut DbConnection,
    user: UserId,
) -> Result<Vec<(ApiKeyRow, Vec<key_usage::Day>)>> {
    let at = crate::db::now();
    ApiKeyRow::live_for_user(conn, user, at)?
        .into_iter()
        .map(|key| {
            let days = key_usage::days(conn, key.id, at.date())?;
            Ok((key, days))
        })
        .collect()
}
