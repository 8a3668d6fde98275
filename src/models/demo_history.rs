//! What `serve --demo` needs beyond the product's own writes: its history happened over the
//! last weeks, so the rows the domain wrote "now" are moved back to when they happened, and
//! webhook deliveries are written as they ended.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::delivery::{DeliveryId, DeliveryState, NewAttempt, NewDelivery};
use super::user::UserId;
use super::webhook::WebhookId;
use crate::db::DbConnection;
use crate::db::schema::{api_keys, audit_events, deliveries, users, webhooks};

/// The newest audit event's id (0 when there is none): what came after it is moved back.
pub fn last_audit_event(conn: &mut DbConnection) -> QueryResult<i64> {
    audit_events::table
        .select(diesel::dsl::max(audit_events::id))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}

/// Moves the audit events after `after` to `at`.
pub fn move_audit_events(
    conn: &mut DbConnection,
    after: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(audit_events::table.filter(audit_events::id.gt(after)))
        .set(audit_events::created_at.eq(at))
        .execute(conn)
}

/// When the person joined, and last signed in.
pub fn move_user(
    conn: &mut DbConnection,
    id: UserId,
    created_at: NaiveDateTime,
    last_sign_in_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::created_at.eq(created_at),
            users::last_sign_in_at.eq(last_sign_in_at),
        ))
        .execute(conn)
}

/// API Access on since `at`.
pub fn move_api_access(
    conn: &mut DbConnection,
    id: UserId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::api_access_at.is_not_null()),
    )
    .set(users::api_access_at.eq(at))
    .execute(conn)
}

/// Disabled since `at`.
pub fn move_disabled(conn: &mut DbConnection, id: UserId, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::disabled_at.is_not_null()),
    )
    .set(users::disabled_at.eq(at))
    .execute(conn)
}

/// Invited at `at`.
pub fn move_invited(conn: &mut DbConnection, id: UserId, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(id)
            .filter(users::invited_at.is_not_null()),
    )
    .set(users::invited_at.eq(at))
    .execute(conn)
}

/// The person's one-time links were sent at `at` (and work for as long after it as before).
pub fn move_links(conn: &mut DbConnection, id: UserId, at: NaiveDateTime) -> QueryResult<()> {
    use crate::db::schema::account_links;
    let links: Vec<(Vec<u8>, NaiveDateTime, NaiveDateTime)> = account_links::table
        .filter(account_links::user_id.eq(id))
        .select((
            account_links::token_hash,
            account_links::created_at,
            account_links::expires_at,
        ))
        .load(conn)?;
    for (hash, created, expires) in links {
        diesel::update(account_links::table.find(hash))
            .set((
                account_links::created_at.eq(at),
                account_links::expires_at.eq(at + (expires - created)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A key made at `created_at`, last used at `last_used_at` from `ip`.
pub fn move_key(
    conn: &mut DbConnection,
    id: i64,
    created_at: NaiveDateTime,
    last_used: Option<(NaiveDateTime, &str)>,
) -> QueryResult<usize> {
    diesel::update(api_keys::table.find(id))
        .set((
            api_keys::created_at.eq(created_at),
            api_keys::last_used_at.eq(last_used.map(|(at, _)| at)),
            api_keys::last_used_ip.eq(last_used.map(|(_, ip)| ip)),
        ))
        .execute(conn)
}

/// The person's stopped keys stopped at `at`.
pub fn move_revocations(
    conn: &mut DbConnection,
    user: UserId,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_keys::table
            .filter(api_keys::user_id.eq(user))
            .filter(api_keys::revoked_at.is_not_null()),
    )
    .set(api_keys::revoked_at.eq(at))
    .execute(conn)
}

/// A delivery as it ended: its attempts, its state and when it finished (or is due again).
pub struct PastDelivery<'a> {
    pub event_id: i64,
    pub webhook_id: WebhookId,
    pub message_id: &'a str,
    pub state: DeliveryState,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: Option<NaiveDateTime>,
    /// (when, status, error, took ms)
    pub attempts: Vec<(NaiveDateTime, Option<i32>, Option<&'a str>, i64)>,
}

impl PastDelivery<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<DeliveryId> {
        NewDelivery {
            event_id: self.event_id,
            webhook_id: self.webhook_id,
            message_id: self.message_id,
            state: self.state,
            next_attempt_at: self.next_attempt_at,
            created_at: self.created_at,
        }
        .insert(conn)?;
        let id: DeliveryId = deliveries::table
            .filter(deliveries::message_id.eq(self.message_id))
            .filter(deliveries::webhook_id.eq(self.webhook_id))
            .select(deliveries::id)
            .first(conn)?;
        let finished = (self.state != DeliveryState::Pending)
            .then(|| self.attempts.last().map(|a| a.0))
            .flatten();
        diesel::update(deliveries::table.find(id))
            .set((
                deliveries::attempts.eq(self.attempts.len() as i32),
                deliveries::finished_at.eq(finished),
            ))
            .execute(conn)?;
        let rows: Vec<NewAttempt> = self
            .attempts
            .iter()
            .map(|&(at, status, error, took)| NewAttempt {
                delivery_id: id,
                attempted_at: at,
                response_status: status,
                duration_ms: took,
                error,
                response_body: None,
                succeeded: status.is_some_and(|s| (200..300).contains(&s)),
            })
            .collect();
        NewAttempt::insert_all(conn, &rows)?;
        Ok(id)
    }
}

/// The webhook has been failing since `since`.
pub fn set_failing_since(
    conn: &mut DbConnection,
    id: WebhookId,
    since: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(webhooks::table.find(id))
        .set(webhooks::failing_since.eq(since))
        .execute(conn)
}

/// Every mail the demo's history queued: it happened weeks ago, nobody is to be told now.
pub fn forget_mails(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::delete(crate::db::schema::mails::table).execute(conn)
}
