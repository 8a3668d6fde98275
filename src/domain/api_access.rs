//! API Access: enable, Regenerate New Key, Turn Off API Access, Clear API Key, and checking a
//! key on an API request. Every change is one write transaction with its audit event.

use chrono::NaiveDateTime;

use super::audit::{self, Actor};
use super::keys::ApiKey;
use super::{Error, Result};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::{ApiKeyRow, AuditAction, NewApiKey, RevokeReason, User, UserId};

/// A user's API Access as their settings page shows it.
#[derive(Debug, Clone)]
pub enum ApiAccess {
    On(ApiKeyRow),
    /// Off; `last` is the most recent key, which says how it was turned off (and by whom).
    Off {
        last: Option<ApiKeyRow>,
    },
}

/// A key just issued: the secret is shown once, then only `row.prefix`.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub row: ApiKeyRow,
}

/// Last-used time and address are written at most once a minute per key.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

pub fn state(conn: &mut DbConnection, user: UserId) -> Result<ApiAccess> {
    let mut latest = ApiKeyRow::history_for_user(conn, user, 1)?;
    Ok(match latest.pop() {
        Some(row) if row.revoked_at.is_none() => ApiAccess::On(row),
        last => ApiAccess::Off { last },
    })
}

pub fn enable(conn: &mut DbConnection, actor: &Actor) -> Result<IssuedKey> {
    write_transaction(conn, |conn| {
        lock(conn, actor.id)?;
        if ApiKeyRow::active_for_user(conn, actor.id)?.is_some() {
            return Err(Error::Conflict(
                "API Access is already on. Use Regenerate New Key to get a new key.".into(),
            ));
        }
        let issued = issue(conn, actor.id)?;
        audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::ApiAccessEnabled,
            Some(&issued.row.prefix),
        )?;
        Ok(issued)
    })
}

/// Replaces the active key: the old key, and every link that embeds it, fails at once.
pub fn regenerate(conn: &mut DbConnection, actor: &Actor) -> Result<IssuedKey> {
    write_transaction(conn, |conn| {
        lock(conn, actor.id)?;
        let revoked = ApiKeyRow::revoke_active(
            conn,
            actor.id,
            RevokeReason::Regenerated,
            actor.id,
            None,
            now(),
        )?;
        if revoked == 0 {
            return Err(Error::Conflict(
                "API Access is off. Enable API Access to get a key.".into(),
            ));
        }
        let issued = issue(conn, actor.id)?;
        audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::KeyRegenerated,
            Some(&issued.row.prefix),
        )?;
        Ok(issued)
    })
}

pub fn turn_off(conn: &mut DbConnection, actor: &Actor) -> Result<()> {
    write_transaction(conn, |conn| {
        lock(conn, actor.id)?;
        let revoked = ApiKeyRow::revoke_active(
            conn,
            actor.id,
            RevokeReason::TurnedOff,
            actor.id,
            None,
            now(),
        )?;
        if revoked == 0 {
            return Err(Error::Conflict("API Access is already off.".into()));
        }
        audit::record(conn, actor, actor.id, AuditAction::ApiAccessTurnedOff, None)?;
        Ok(())
    })
}

/// An admin's Clear API Key: the user's key fails at once and their API Access stays off until
/// they enable it again.
pub fn clear(
    conn: &mut DbConnection,
    admin: &Actor,
    subject: UserId,
    note: Option<&str>,
) -> Result<()> {
    write_transaction(conn, |conn| {
        lock(conn, subject)?;
        let revoked =
            ApiKeyRow::revoke_active(conn, subject, RevokeReason::Cleared, admin.id, note, now())?;
        if revoked == 0 {
            return Err(Error::Conflict(
                "This user's API Access is already off.".into(),
            ));
        }
        audit::record(conn, admin, subject, AuditAction::ApiKeyCleared, note)?;
        Ok(())
    })
}

/// One change to a user's API Access at a time (see `User::lock`); no such user is NotFound.
fn lock(conn: &mut DbConnection, user: UserId) -> Result<()> {
    if User::lock(conn, user)? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The user a key belongs to, if the key is active. Records when and from where it was used.
pub fn authenticate(
    conn: &mut DbConnection,
    key: &ApiKey,
    ip: Option<&str>,
) -> Result<Option<User>> {
    let Some((row, user)) = ApiKeyRow::find_active_by_hash(conn, &key.hash())? else {
        return Ok(None);
    };
    let at = now();
    if last_use_is_stale(row.last_used_at, at) {
        ApiKeyRow::record_use(conn, row.id, at, ip)?;
    }
    Ok(Some(user))
}

fn last_use_is_stale(last: Option<NaiveDateTime>, at: NaiveDateTime) -> bool {
    last.is_none_or(|last| (at - last).num_seconds() >= LAST_USED_RESOLUTION_SECS)
}

fn issue(conn: &mut DbConnection, user: UserId) -> diesel::QueryResult<IssuedKey> {
    let key = ApiKey::generate();
    let row = NewApiKey {
        user_id: user,
        prefix: key.prefix(),
        key_hash: &key.hash(),
        created_at: now(),
    }
    .insert(conn)?;
    Ok(IssuedKey { key, row })
}

/// Everything the API Access section shows about a user.
#[derive(Debug)]
pub struct Overview {
    pub access: ApiAccess,
    pub webhooks: Vec<crate::models::Webhook>,
}

pub fn overview(conn: &mut DbConnection, user: UserId) -> Result<Overview> {
    Ok(Overview {
        access: state(conn, user)?,
        webhooks: crate::models::Webhook::for_user(conn, user)?,
    })
}
