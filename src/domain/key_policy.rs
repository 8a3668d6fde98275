//! The admin's key policy: how long keys may live, whether they must expire, how many a person
//! may have, whether keys may travel in links, and who may turn API Access on. A change applies
//! to keys created after it; keys already longer-lived than a new maximum are listed.

use chrono::{Duration, NaiveDateTime};

use super::audit::{self, Actor};
use super::{Error, Result};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::{ApiKeyRow, AuditAction, KeyPolicyRow, User, WhoMayEnable};

/// Until an admin saves a policy.
pub const DEFAULT_MAX_KEYS: i32 = 10;
/// The longest expiry anyone may choose, policy or not.
pub const LONGEST_DAYS: i64 = 3650;

/// The policy in force.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPolicy {
    pub max_lifetime_days: Option<i32>,
    pub require_expiry: bool,
    pub max_keys_per_user: i32,
    /// `None`: the environment's setting (`KEYPORT_ALLOW_QUERY_KEYS`) until an admin saves one.
    pub allow_query_keys: Option<bool>,
    pub who_may_enable: WhoMayEnable,
    /// When and by whom it was last saved.
    pub saved: Option<(NaiveDateTime, Option<crate::models::UserId>)>,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            max_lifetime_days: None,
            require_expiry: false,
            max_keys_per_user: DEFAULT_MAX_KEYS,
            allow_query_keys: None,
            who_may_enable: WhoMayEnable::Everyone,
            saved: None,
        }
    }
}

pub fn current(conn: &mut DbConnection) -> Result<KeyPolicy> {
    Ok(
        KeyPolicyRow::get(conn)?.map_or_else(KeyPolicy::default, |row| KeyPolicy {
            max_lifetime_days: row.max_lifetime_days,
            require_expiry: row.require_expiry,
            max_keys_per_user: row.max_keys_per_user,
            allow_query_keys: Some(row.allow_query_keys),
            who_may_enable: row.who_may_enable,
            saved: Some((row.updated_at, row.updated_by)),
        }),
    )
}

impl KeyPolicy {
    /// When a key asked to last `days` (none: never) expires, if the policy allows it.
    pub fn expiry(&self, days: Option<i64>, from: NaiveDateTime) -> Result<Option<NaiveDateTime>> {
        let limit = self.max_lifetime_days.map(i64::from);
        let Some(days) = days else {
            if self.require_expiry {
                let most = limit.unwrap_or(LONGEST_DAYS);
                return Err(Error::InvalidField {
                    field: "expires_in_days",
                    reason: format!(
                        "this keyport requires every key to expire: choose 1 to {most} days"
                    ),
                });
            }
            return Ok(None);
        };
        if !(1..=LONGEST_DAYS).contains(&days) {
            return Err(Error::InvalidField {
                field: "expires_in_days",
                reason: format!("choose 1 to {LONGEST_DAYS} days, or leave it empty for never"),
            });
        }
        if let Some(most) = limit.filter(|most| days > *most) {
            return Err(Error::InvalidField {
                field: "expires_in_days",
                reason: format!("keys on this keyport may live at most {most} days"),
            });
        }
        Ok(Some(from + Duration::days(days)))
    }

    /// Whether this person may turn API Access on.
    pub fn may_enable(&self, user: &User) -> bool {
        self.who_may_enable == WhoMayEnable::Everyone || user.api_access_allowed
    }

    /// Keys in links: the saved policy, or else the environment's setting.
    pub fn query_keys_allowed(&self, environment: bool) -> bool {
        self.allow_query_keys.unwrap_or(environment)
    }
}

/// A policy as an admin submits it.
#[derive(Debug, Clone)]
pub struct PolicyChange {
    pub max_lifetime_days: Option<i32>,
    pub require_expiry: bool,
    pub max_keys_per_user: i32,
    pub allow_query_keys: bool,
    pub who_may_enable: WhoMayEnable,
}

impl PolicyChange {
    fn check(&self) -> Result<()> {
        if let Some(days) = self.max_lifetime_days
            && !(1..=LONGEST_DAYS).contains(&i64::from(days))
        {
            return Err(Error::InvalidField {
                field: "max_lifetime_days",
                reason: format!("choose 1 to {LONGEST_DAYS} days, or leave it empty for none"),
            });
        }
        if !(1..=100).contains(&self.max_keys_per_user) {
            return Err(Error::InvalidField {
                field: "max_keys_per_user",
                reason: "choose 1 to 100".into(),
            });
        }
        Ok(())
    }

    /// How the audit trail reads it.
    fn describe(&self) -> String {
        format!(
            "max lifetime {}, expiry {}, at most {} keys per person, keys in links {}, API Access for {}",
            self.max_lifetime_days
                .map_or("none".into(), |d| format!("{d} days")),
            if self.require_expiry {
                "required"
            } else {
                "optional"
            },
            self.max_keys_per_user,
            if self.allow_query_keys {
                "allowed"
            } else {
                "refused"
            },
            match self.who_may_enable {
                WhoMayEnable::Everyone => "everyone",
                WhoMayEnable::Allowed => "people an admin allowed",
            },
        )
    }
}

/// An admin saves the policy; an audit event records it.
pub fn save(conn: &mut DbConnection, admin: &Actor, change: &PolicyChange) -> Result<()> {
    change.check()?;
    write_transaction(conn, |conn| {
        KeyPolicyRow {
            max_lifetime_days: change.max_lifetime_days,
            require_expiry: change.require_expiry,
            max_keys_per_user: change.max_keys_per_user,
            allow_query_keys: change.allow_query_keys,
            who_may_enable: change.who_may_enable,
            updated_at: now(),
            updated_by: Some(admin.id),
        }
        .save(conn)?;
        audit::record(
            conn,
            admin,
            admin.id,
            AuditAction::KeyPolicyChanged,
            Some(&change.describe()),
        )?;
        Ok(())
    })
}

/// Live keys that outlive the policy's maximum lifetime (or never expire), with their owners:
/// the policy page lists them, since a change applies only to keys created after it.
pub fn keys_beyond(
    conn: &mut DbConnection,
    policy: &KeyPolicy,
    limit: i64,
) -> Result<Vec<(ApiKeyRow, crate::models::UserSummary)>> {
    let Some(days) = policy.max_lifetime_days else {
        return Ok(Vec::new());
    };
    Ok(ApiKeyRow::living_longer_than(
        conn,
        Duration::days(i64::from(days)),
        now(),
        limit,
    )?)
}
