//! API Access, the switch on a user that keys live under: enable (with the `Default` key), the
//! seed's Regenerate New Key, Turn Off API Access, Clear API Key, who may turn it on, and
//! checking a key on an API request. Every change is one write transaction with its audit
//! event. The keys themselves (create, regenerate with a grace time, retire, delete): `api_keys`.

use std::net::IpAddr;

use chrono::NaiveDateTime;

use super::allowed_addresses::AllowedAddresses;
use super::api_keys::{Grace, IssuedKey, issue, lock};
use super::audit::{self, Actor};
use super::keys::ApiKey;
use super::mail::notices;
use super::scopes::Access;
use super::{Error, Result};
use super::{key_policy, key_usage};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::api_key::DEFAULT_NAME;
use crate::models::api_key::Revocation;
use crate::models::{ApiKeyRow, AuditAction, NewApiKey, RevokeReason, User, UserId};

/// A user's API Access as their settings page shows it.
#[derive(Debug, Clone)]
pub enum ApiAccess {
    /// On since `since`, with the keys that live under it (oldest first).
    On {
        since: NaiveDateTime,
        keys: Vec<ApiKeyRow>,
    },
    /// Off; `last` is the most recent key, which says how it was turned off (and by whom).
    Off { last: Option<Box<ApiKeyRow>> },
}

/// Last-used time and address are written at most once a minute per key.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// The API Access of `user`, already read.
pub fn state(conn: &mut DbConnection, user: &User) -> Result<ApiAccess> {
    Ok(match user.api_access_at {
        Some(since) => ApiAccess::On {
            since,
            keys: ApiKeyRow::live_for_user(conn, user.id, now())?,
        },
        None => ApiAccess::Off {
            last: ApiKeyRow::history_for_user(conn, user.id, 1)?
                .pop()
                .map(Box::new),
        },
    })
}

/// Enable API Access: access on, and one key named `Default` with full access, shown once.
pub fn enable(conn: &mut DbConnection, actor: &Actor) -> Result<IssuedKey> {
    write_transaction(conn, |conn| {
        let user = lock(conn, actor.id)?;
        if user.api_access_at.is_some() {
            return Err(Error::Conflict(
                "API Access is already on. Use Regenerate New Key to get a new key.".into(),
            ));
        }
        if !key_policy::current(conn)?.may_enable(&user) {
            return Err(Error::Forbidden(NOT_ALLOWED.into()));
        }
        let at = now();
        User::set_api_access(conn, actor.id, Some(at))?;
        let issued = issue(conn, &NewApiKey::default_key(actor.id, at))?;
        audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::ApiAccessEnabled,
            Some(&issued.row.prefix),
        )?;
        notices::api_access_on(conn, &user, actor, &issued.row)?;
        Ok(issued)
    })
}

/// What a person who may not turn API Access on is told.
pub const NOT_ALLOWED: &str =
    "API Access is not available to you yet: if you don't see this area, contact your admin.";

/// The seed's Regenerate New Key: replaces the `Default` key (or the only key) at once; the
/// old key, and every link that embeds it, fails at once.
pub fn regenerate(conn: &mut DbConnection, actor: &Actor) -> Result<IssuedKey> {
    write_transaction(conn, |conn| {
        let user = lock(conn, actor.id)?;
        if user.api_access_at.is_none() {
            return Err(Error::Conflict(
                "API Access is off. Enable API Access to get a key.".into(),
            ));
        }
        let keys = ApiKeyRow::live_for_user(conn, actor.id, now())?;
        let current: Vec<&ApiKeyRow> = keys.iter().filter(|k| k.retires_at.is_none()).collect();
        let target = current
            .iter()
            .find(|k| k.name == DEFAULT_NAME)
            .or(match current.as_slice() {
                [only] => Some(only),
                _ => None,
            })
            .ok_or_else(|| {
                Error::Conflict(
                    "You have several keys: open the key you want to replace and use its Regenerate New Key.".into(),
                )
            })?;
        super::api_keys::replace(conn, actor, target, Grace::None)
    })
}

/// Turn Off API Access: every key of the user, and every link with one, fails at once.
pub fn turn_off(conn: &mut DbConnection, actor: &Actor) -> Result<()> {
    write_transaction(conn, |conn| {
        let user = lock(conn, actor.id)?;
        if user.api_access_at.is_none() {
            return Err(Error::Conflict("API Access is already off.".into()));
        }
        let revocation = Revocation::new(RevokeReason::TurnedOff, actor.id, None, now());
        ApiKeyRow::revoke_active(conn, actor.id, &revocation)?;
        User::set_api_access(conn, actor.id, None)?;
        audit::record(conn, actor, actor.id, AuditAction::ApiAccessTurnedOff, None)?;
        notices::api_access_off(conn, &user, actor)?;
        Ok(())
    })
}

/// An admin's Clear API Key: all the user's keys fail at once and their API Access stays off
/// until they enable it again.
pub fn clear(
    conn: &mut DbConnection,
    admin: &Actor,
    subject: UserId,
    note: Option<&str>,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let user = lock(conn, subject)?;
        if user.api_access_at.is_none() {
            return Err(Error::Conflict(
                "This user's API Access is already off.".into(),
            ));
        }
        let revocation = Revocation::new(RevokeReason::Cleared, admin.id, note, now());
        ApiKeyRow::revoke_active(conn, subject, &revocation)?;
        User::set_api_access(conn, subject, None)?;
        audit::record(conn, admin, subject, AuditAction::ApiKeyCleared, note)?;
        notices::key_cleared(conn, &user, admin, None, note)?;
        Ok(())
    })
}

/// An admin allows or disallows a person to turn API Access on (under the policy "only
/// people an admin has allowed"). Disallowing does not turn off access already on.
pub fn set_allowed(
    conn: &mut DbConnection,
    admin: &Actor,
    subject: UserId,
    allowed: bool,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let user = lock(conn, subject)?;
        if user.api_access_allowed == allowed {
            return Ok(());
        }
        User::set_api_access_allowed(conn, subject, allowed)?;
        let action = if allowed {
            AuditAction::ApiAccessAllowed
        } else {
            AuditAction::ApiAccessDisallowed
        };
        audit::record(conn, admin, subject, action, None)?;
        Ok(())
    })
}

/// The key that made an API call, as the call's checks read it.
#[derive(Debug, Clone)]
pub struct CallerKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub access: Access,
    pub expires_at: Option<NaiveDateTime>,
}

/// What checking a key found.
#[derive(Debug)]
pub enum KeyCheck {
    Valid(Box<User>, CallerKey),
    /// Not a key keyport issued, or its owner's account is off.
    Refused,
    /// A key keyport issued that no longer works: revoked, or past its grace time. To the
    /// caller it looks the same as `Refused`; its owner is shown where it is still used.
    Stopped(i64),
    Expired {
        key: i64,
        at: NaiveDateTime,
    },
    /// A key in the link, where the policy refuses them.
    QueryKeysOff,
    /// A working key sent from an address its allow-list does not include.
    WrongAddress(i64),
}

/// Checks a key on an API request; records when and from where a valid one was used.
/// `in_link`: the key came as the `api_key` parameter, allowed by `query_keys` (the
/// environment's setting) unless the key policy says otherwise.
pub fn authenticate(
    conn: &mut DbConnection,
    key: &ApiKey,
    ip: Option<IpAddr>,
    in_link: Option<bool>,
) -> Result<KeyCheck> {
    if let Some(environment) = in_link
        && !key_policy::current(conn)?.query_keys_allowed(environment)
    {
        return Ok(KeyCheck::QueryKeysOff);
    }
    let Some((row, user)) = ApiKeyRow::find_by_hash(conn, &key.hash())? else {
        return Ok(KeyCheck::Refused);
    };
    let at = now();
    if row.revoked_at.is_some()
        || user.api_access_at.is_none()
        || row.retires_at.is_some_and(|end| end <= at)
    {
        return Ok(KeyCheck::Stopped(row.id));
    }
    if let Some(expired) = row.expires_at.filter(|end| *end <= at) {
        return Ok(KeyCheck::Expired {
            key: row.id,
            at: expired,
        });
    }
    if !row.allowed_ips.is_empty() && !AllowedAddresses::from_stored(&row.allowed_ips).permits(ip) {
        return Ok(KeyCheck::WrongAddress(row.id));
    }
    if last_use_is_stale(row.last_used_at, at) {
        let ip = ip.map(|ip| ip.to_string());
        ApiKeyRow::record_use(conn, row.id, at, ip.as_deref())?;
    }
    let caller = CallerKey {
        id: row.id,
        access: Access::from_columns(row.access, &row.scopes),
        name: row.name,
        prefix: row.prefix,
        expires_at: row.expires_at,
    };
    Ok(KeyCheck::Valid(Box::new(user), caller))
}

fn last_use_is_stale(last: Option<NaiveDateTime>, at: NaiveDateTime) -> bool {
    last.is_none_or(|last| (at - last).num_seconds() >= LAST_USED_RESOLUTION_SECS)
}

/// Everything the API Access section shows about a user.
#[derive(Debug)]
pub struct Overview {
    pub access: ApiAccess,
    /// The key policy lets this person turn API Access on.
    pub may_enable: bool,
    pub webhooks: Vec<crate::models::Webhook>,
    /// Keys that stopped working and are still sent, which the owner has not dismissed.
    pub still_used: Vec<key_usage::StillUsed>,
}

pub fn overview(conn: &mut DbConnection, user: UserId) -> Result<Overview> {
    let person = User::find(conn, user)?.ok_or(Error::NotFound)?;
    Ok(Overview {
        access: state(conn, &person)?,
        may_enable: key_policy::current(conn)?.may_enable(&person),
        webhooks: crate::models::Webhook::for_user(conn, user)?,
        still_used: key_usage::still_used(conn, user, true)?,
    })
}
