//! API Management: what admins and support staff see of everyone's API Access.

use super::api_access::{self, ApiAccess};
use super::{Error, Result};
use crate::db::DbConnection;
use crate::models::api_key::UserSummary;
use crate::models::user::normalize;
use crate::models::{ApiKeyRow, AuditEvent, User, UserId, Webhook};

pub const PAGE_SIZE: i64 = 50;
const MAX_SEARCH_CHARS: usize = 254;
const HISTORY_ROWS: i64 = 20;

/// One page of users with API Access on: newest key first, or in term order for a search.
pub struct KeyPage {
    pub rows: Vec<(ApiKeyRow, UserSummary)>,
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

pub fn list(conn: &mut DbConnection, search: Option<&str>, after: Option<i64>) -> Result<KeyPage> {
    let limit = PAGE_SIZE + 1;
    let mut rows = match search {
        Some(search) => ApiKeyRow::search_active(conn, search, after.map(UserId), limit)?,
        None => ApiKeyRow::list_active(conn, after, limit)?,
    };
    if rows.len() as i64 <= PAGE_SIZE {
        return Ok(KeyPage {
            rows,
            next_after: None,
        });
    }
    rows.truncate(PAGE_SIZE as usize);
    // The cursor is the last key in the list, or the last user in a search.
    let next_after = rows
        .last()
        .map(|(key, user)| if search.is_some() { user.id.0 } else { key.id });
    Ok(KeyPage { rows, next_after })
}

/// Everything the API Management user page shows.
pub struct UserDetail {
    pub user: User,
    pub access: ApiAccess,
    pub keys: Vec<ApiKeyRow>,
    pub audit: Vec<(AuditEvent, Option<String>)>,
    pub webhooks: Vec<Webhook>,
}

pub fn user_detail(conn: &mut DbConnection, id: UserId) -> Result<UserDetail> {
    let user = User::find(conn, id)?.ok_or(Error::NotFound)?;
    Ok(UserDetail {
        access: api_access::state(conn, id)?,
        keys: ApiKeyRow::history_for_user(conn, id, HISTORY_ROWS)?,
        audit: AuditEvent::for_subject(conn, id, HISTORY_ROWS)?,
        webhooks: Webhook::for_user(conn, id)?,
        user,
    })
}
