//! A user's keys under API Access: Create New Key (name, access, expiry), Regenerate New Key on
//! one key with a grace time, Retire Now, Delete Key, and an admin's Clear Key. Every change is
//! one write transaction with its audit event naming the key and its prefix.

use chrono::{Duration, NaiveDateTime};

use super::allowed_addresses::AllowedAddresses;
use super::audit::{self, Actor};
use super::key_policy;
use super::keys::ApiKey;
use super::mail::notices;
use super::scopes::Access;
use super::{Error, Result, invalid};
use crate::db::{DbConnection, is_unique_violation, now, write_transaction};
use crate::models::api_key::Revocation;
use crate::models::{ApiKeyRow, AuditAction, NewApiKey, RevokeReason, User, UserId};

pub const MAX_NAME_CHARS: usize = 60;

/// How long the old key keeps working after Regenerate New Key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    None,
    Hour,
    Day,
    Week,
}

impl Grace {
    /// The form's `grace`: `0` (or empty), `1h`, `24h`, `7d`.
    pub fn parse(text: Option<&str>) -> Result<Self> {
        match text.map(str::trim).unwrap_or_default() {
            "" | "0" => Ok(Grace::None),
            "1h" => Ok(Grace::Hour),
            "24h" => Ok(Grace::Day),
            "7d" => Ok(Grace::Week),
            _ => Err(invalid("grace", "choose 0, 1h, 24h or 7d")),
        }
    }

    fn duration(self) -> Option<Duration> {
        match self {
            Grace::None => None,
            Grace::Hour => Some(Duration::hours(1)),
            Grace::Day => Some(Duration::hours(24)),
            Grace::Week => Some(Duration::days(7)),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grace::None => "at once",
            Grace::Hour => "1 hour",
            Grace::Day => "24 hours",
            Grace::Week => "7 days",
        }
    }
}

/// A key just issued: the secret is shown once, then only `row.prefix`.
#[derive(Debug)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub row: ApiKeyRow,
}

/// One change to a user's API Access at a time (see `User::lock`); no such user is NotFound.
pub(super) fn lock(conn: &mut DbConnection, user: UserId) -> Result<User> {
    if !User::lock(conn, user)? {
        return Err(Error::NotFound);
    }
    User::find(conn, user)?.ok_or(Error::NotFound)
}

/// Makes a key from `template` with a fresh secret.
pub(super) fn issue(
    conn: &mut DbConnection,
    template: &NewApiKey,
) -> diesel::QueryResult<IssuedKey> {
    let key = ApiKey::generate();
    let row = NewApiKey {
        prefix: key.prefix(),
        key_hash: &key.hash(),
        ..*template
    }
    .insert(conn)?;
    Ok(IssuedKey { key, row })
}

/// A key as its owner asks for it.
#[derive(Debug, Clone)]
pub struct KeyRequest {
    pub name: String,
    pub access: Access,
    /// Empty: never (if the policy allows).
    pub expires_in_days: Option<i64>,
}

/// A key name: 1–60 printable characters, trimmed.
pub fn key_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("name", "give the key a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            format!("use at most {MAX_NAME_CHARS} printable characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The user's live keys (Active, Retiring or Expired), oldest first.
pub fn list(conn: &mut DbConnection, user: UserId) -> Result<Vec<ApiKeyRow>> {
    Ok(ApiKeyRow::live_for_user(conn, user, now())?)
}

/// One of the user's keys; another user's is NotFound, as if it did not exist.
pub fn get(conn: &mut DbConnection, user: UserId, id: i64) -> Result<ApiKeyRow> {
    ApiKeyRow::find_for_user(conn, user, id)?.ok_or(Error::NotFound)
}

/// Create New Key: shown once, as Enable API Access shows the first.
pub fn create(conn: &mut DbConnection, actor: &Actor, request: &KeyRequest) -> Result<IssuedKey> {
    let name = key_name(&request.name)?;
    write_transaction(conn, |conn| {
        let user = lock(conn, actor.id)?;
        access_on(&user)?;
        let at = now();
        let policy = key_policy::current(conn)?;
        let expires_at = policy.expiry(request.expires_in_days, at)?;
        // Expired keys leave the count and free their names.
        ApiKeyRow::revoke_lapsed(conn, actor.id, at)?;
        let live = ApiKeyRow::live_for_user(conn, actor.id, at)?;
        let current = live.iter().filter(|k| k.retires_at.is_none()).count();
        if current >= policy.max_keys_per_user as usize {
            return Err(Error::Conflict(format!(
                "You have {current} keys, the most this keyport allows: delete one you no longer use first."
            )));
        }
        if live
            .iter()
            .any(|k| k.retires_at.is_none() && k.name == name)
        {
            return Err(taken(&name));
        }
        let (access, scopes) = request.access.columns();
        let template = NewApiKey {
            name: &name,
            access,
            scopes: &scopes,
            expires_at,
            ..NewApiKey::default_key(actor.id, at)
        };
        let issued = issue(conn, &template).map_err(|e| {
            if is_unique_violation(&e) {
                taken(&name)
            } else {
                e.into()
            }
        })?;
        audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::KeyCreated,
            Some(&describe(&issued.row)),
        )?;
        notices::key_created(conn, &user, actor, &issued.row)?;
        Ok(issued)
    })
}

/// Regenerate New Key on one key: the new key inherits its name, access and lifetime; the old
/// one stops at once, or works on as Retiring until the grace time ends.
pub fn regenerate(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    grace: Grace,
) -> Result<IssuedKey> {
    write_transaction(conn, |conn| {
        let user = lock(conn, actor.id)?;
        access_on(&user)?;
        let key = get(conn, actor.id, id)?;
        replace(conn, actor, &key, grace)
    })
}

/// Replaces `old` (within the caller's transaction, the user locked). A key has at most one
/// successor: the database refuses a second, whatever races.
pub(super) fn replace(
    conn: &mut DbConnection,
    actor: &Actor,
    old: &ApiKeyRow,
    grace: Grace,
) -> Result<IssuedKey> {
    let at = now();
    if old.revoked_at.is_some() || old.retires_at.is_some() {
        return Err(Error::Conflict(
            "This key has already been replaced or revoked: regenerate its successor instead."
                .into(),
        ));
    }
    let policy = key_policy::current(conn)?;
    // The same lifetime as the old key had, within today's policy.
    let lifetime = old
        .expires_at
        .map(|end| (end - old.created_at).num_days().max(1));
    let expires_at = policy.expiry(lifetime, at)?;
    let stopped = match grace.duration() {
        None => {
            let revocation = Revocation::new(RevokeReason::Regenerated, actor.id, None, at);
            ApiKeyRow::revoke(conn, old.id, &revocation)?
        }
        Some(grace) => ApiKeyRow::start_retiring(conn, old.id, at + grace)?,
    };
    if !stopped {
        return Err(Error::Conflict(
            "This key has already been replaced or revoked: regenerate its successor instead."
                .into(),
        ));
    }
    let template = NewApiKey {
        name: &old.name,
        access: old.access,
        scopes: &old.scopes,
        expires_at,
        // The new key may be used from where the old one could.
        allowed_ips: &old.allowed_ips,
        replaces: Some(old.id),
        ..NewApiKey::default_key(old.user_id, at)
    };
    let issued = issue(conn, &template).map_err(|e| {
        if is_unique_violation(&e) {
            Error::Conflict("This key has already been replaced.".into())
        } else {
            e.into()
        }
    })?;
    let detail = format!(
        "{} → {}; the old key stops {}",
        describe(old),
        issued.row.prefix,
        grace.label()
    );
    audit::record(
        conn,
        actor,
        old.user_id,
        AuditAction::KeyRegenerated,
        Some(&detail),
    )?;
    let owner = User::find(conn, old.user_id)?.ok_or(Error::NotFound)?;
    let retires_at = grace.duration().map(|grace| at + grace);
    notices::key_regenerated(conn, &owner, actor, old, &issued.row, retires_at)?;
    Ok(issued)
}

/// Retire Now: a Retiring key stops at once.
pub fn retire(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<ApiKeyRow> {
    write_transaction(conn, |conn| {
        let user = lock(conn, actor.id)?;
        let key = get(conn, actor.id, id)?;
        let retiring = key.revoked_at.is_none() && key.retires_at.is_some_and(|end| end > now());
        if !retiring {
            return Err(Error::Conflict("This key is not retiring.".into()));
        }
        ApiKeyRow::revoke(
            conn,
            id,
            &Revocation::new(RevokeReason::Retired, actor.id, None, now()),
        )?;
        audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::KeyRetired,
            Some(&describe(&key)),
        )?;
        notices::key_stopped(conn, &user, actor, &key, false)?;
        Ok(key)
    })
}

/// The addresses and networks a working key may be used from (empty: anywhere).
pub fn set_addresses(
    conn: &mut DbConnection,
    actor: &Actor,
    id: i64,
    addresses: &AllowedAddresses,
) -> Result<ApiKeyRow> {
    write_transaction(conn, |conn| {
        lock(conn, actor.id)?;
        let key = get(conn, actor.id, id)?;
        if !matches!(
            state_of(&key, now()),
            KeyState::Active | KeyState::Retiring(_)
        ) {
            return Err(Error::Conflict(
                "This key no longer works: its addresses cannot be changed.".into(),
            ));
        }
        let key = ApiKeyRow {
            allowed_ips: addresses.to_stored(),
            ..key
        };
        ApiKeyRow::set_allowed_ips(conn, id, &key.allowed_ips)?;
        let detail = if key.allowed_ips.is_empty() {
            format!("{}: from anywhere", describe(&key))
        } else {
            format!("{}: only from {}", describe(&key), key.allowed_from())
        };
        audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::KeyAddressesChanged,
            Some(&detail),
        )?;
        Ok(key)
    })
}

/// Delete Key: that key alone fails at once; API Access stays on.
pub fn delete(conn: &mut DbConnection, actor: &Actor, id: i64) -> Result<ApiKeyRow> {
    revoke_one(conn, actor, actor.id, id, RevokeReason::Deleted, None)
}

/// An admin's Clear Key: one key of a user fails at once, with the reason they give.
pub fn clear(
    conn: &mut DbConnection,
    admin: &Actor,
    subject: UserId,
    id: i64,
    note: Option<&str>,
) -> Result<ApiKeyRow> {
    revoke_one(conn, admin, subject, id, RevokeReason::Cleared, note)
}

fn revoke_one(
    conn: &mut DbConnection,
    actor: &Actor,
    owner: UserId,
    id: i64,
    reason: RevokeReason,
    note: Option<&str>,
) -> Result<ApiKeyRow> {
    write_transaction(conn, |conn| {
        let user = lock(conn, owner)?;
        let key = get(conn, owner, id)?;
        let revocation = Revocation::new(reason, actor.id, note, now());
        if !ApiKeyRow::revoke(conn, id, &revocation)? {
            return Err(Error::Conflict("This key no longer works already.".into()));
        }
        let action = match reason {
            RevokeReason::Cleared => AuditAction::KeyCleared,
            _ => AuditAction::KeyDeleted,
        };
        let detail = match note {
            Some(note) => format!("{}; reason: {note}", describe(&key)),
            None => describe(&key),
        };
        audit::record(conn, actor, owner, action, Some(&detail))?;
        match reason {
            RevokeReason::Cleared => notices::key_cleared(conn, &user, actor, Some(&key), note)?,
            _ => notices::key_stopped(conn, &user, actor, &key, true)?,
        }
        Ok(key)
    })
}

/// A key's state as lists show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    /// Works until then.
    Retiring(NaiveDateTime),
    Expired,
    Revoked,
}

pub fn state_of(key: &ApiKeyRow, at: NaiveDateTime) -> KeyState {
    match (key.revoked_at, key.retires_at, key.expires_at) {
        (Some(_), _, _) => KeyState::Revoked,
        (None, Some(end), _) if end <= at => KeyState::Revoked,
        (None, _, Some(end)) if end <= at => KeyState::Expired,
        (None, Some(end), _) => KeyState::Retiring(end),
        (None, None, _) => KeyState::Active,
    }
}

fn access_on(user: &User) -> Result<()> {
    if user.api_access_at.is_none() {
        return Err(Error::Conflict(
            "API Access is off. Enable API Access to get a key.".into(),
        ));
    }
    Ok(())
}

fn taken(name: &str) -> Error {
    invalid("name", format!("you already have a key named “{name}”"))
}

/// "CI deploys (kp_a1b2c3)".
fn describe(key: &ApiKeyRow) -> String {
    format!("{} ({})", key.name, key.prefix)
}
