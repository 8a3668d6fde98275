//! How rows read on a page: times as "3 minutes ago" with the exact time beside, keys by prefix.

use chrono::NaiveDateTime;

use super::pages::{ago, exact};
use crate::domain::api_access::ApiAccess;
use crate::models::{ApiKeyRow, RevokeReason};

pub struct When {
    pub ago: String,
    pub exact: String,
}

impl From<&NaiveDateTime> for When {
    fn from(t: &NaiveDateTime) -> Self {
        Self {
            ago: ago(t),
            exact: exact(t),
        }
    }
}

/// A key as pages show it: never the secret.
pub struct KeyView {
    pub prefix: String,
    pub created: When,
    pub last_used: Option<When>,
    pub last_used_ip: String,
    pub revoked: Option<When>,
    pub revoked_reason: &'static str,
    pub revoked_note: String,
}

impl From<&ApiKeyRow> for KeyView {
    fn from(row: &ApiKeyRow) -> Self {
        Self {
            prefix: row.prefix.clone(),
            created: When::from(&row.created_at),
            last_used: row.last_used_at.as_ref().map(When::from),
            last_used_ip: row.last_used_ip.clone().unwrap_or_default(),
            revoked: row.revoked_at.as_ref().map(When::from),
            revoked_reason: match row.revoked_reason {
                Some(RevokeReason::Regenerated) => "Replaced by Regenerate New Key",
                Some(RevokeReason::TurnedOff) => "API Access turned off",
                Some(RevokeReason::Cleared) => "Cleared by an admin",
                None => "Active",
            },
            revoked_note: row.revoked_note.clone().unwrap_or_default(),
        }
    }
}

/// The active key, or why there is none, in the user's own terms.
pub fn access_view(access: &ApiAccess) -> (Option<KeyView>, Option<String>) {
    match access {
        ApiAccess::On(row) => (Some(KeyView::from(row)), None),
        ApiAccess::Off { last: Some(row) } if row.revoked_reason == Some(RevokeReason::Cleared) => {
            let when = row.revoked_at.as_ref().map(ago).unwrap_or_default();
            let note = row
                .revoked_note
                .as_deref()
                .map(|n| format!(" Reason given: “{n}”."))
                .unwrap_or_default();
            let notice = format!(
                "An admin cleared your API key ({when}).{note} Your old key no longer works. \
                 Enable API Access to get a new key."
            );
            (None, Some(notice))
        }
        ApiAccess::Off { last: Some(row) } => {
            let when = row.revoked_at.as_ref().map(ago).unwrap_or_default();
            (
                None,
                Some(format!(
                    "You turned off API Access ({when}). Your old key no longer works."
                )),
            )
        }
        ApiAccess::Off { last: None } => (None, None),
    }
}
