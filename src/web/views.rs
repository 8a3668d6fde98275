//! How rows read on a page: times as "3 minutes ago" with the exact time beside, keys by prefix.

use chrono::NaiveDateTime;

use super::pages::{ago, exact};
use crate::domain::api_access::ApiAccess;
use crate::models::{ApiKeyRow, RevokeReason, Webhook, WebhookStatus};

#[derive(serde::Serialize)]
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
#[derive(serde::Serialize)]
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

/// A webhook as a table row, with the actions this viewer may take.
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub entity: &'static str,
    pub operation_type: &'static str,
    /// `On`, `Off` or `Paused`: the badge's style.
    pub badge: &'static str,
    /// What the status means, in words.
    pub status_text: String,
    pub is_on: bool,
    /// Where the On/Off form posts, when this viewer may change it.
    pub toggle_url: Option<String>,
    pub delete_url: Option<String>,
    pub reveal_url: Option<String>,
    /// The signing secret, on the one response that reveals it.
    pub secret: Option<String>,
    /// The webhook's status page (deliveries and attempts), for staff.
    pub details_url: Option<String>,
}

impl WebhookRow {
    /// `access_on`: whether the owner's API Access is on; without it the webhook is paused.
    pub fn new(hook: &Webhook, access_on: bool) -> Self {
        let (badge, status_text) = match (hook.status, access_on, &hook.disabled_reason) {
            (WebhookStatus::On, true, _) => ("On", "On".to_owned()),
            (WebhookStatus::On, false, _) => (
                "Paused",
                "Paused: the owner's API Access is off, so nothing is sent".to_owned(),
            ),
            (WebhookStatus::Off, _, Some(reason)) => ("Off", format!("Off: {reason}")),
            (WebhookStatus::Off, _, None) => ("Off", "Off".to_owned()),
        };
        Self {
            id: hook.id.0,
            url: hook.url.clone(),
            entity: hook.entity.as_str(),
            operation_type: hook.operation_type.as_str(),
            badge,
            status_text,
            is_on: hook.status == WebhookStatus::On,
            toggle_url: None,
            delete_url: None,
            reveal_url: None,
            secret: None,
            details_url: None,
        }
    }
}

/// The On/Off form of a webhook row, posted by its owner in API Access and by admins in API
/// Management.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusForm {
    pub status: WebhookStatus,
}
