//! How rows read on a page: times as "3 minutes ago" with the exact time beside, keys by prefix.

use chrono::NaiveDateTime;

use super::pages::{ago, exact};
use crate::db::now;
use crate::domain::api_access::ApiAccess;
use crate::domain::api_keys::{self, KeyState};
use crate::domain::scopes::Access;
use crate::models::webhook::Health;
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

/// One line of a person's audit trail: when, what, who, from where, and any detail.
pub struct AuditRow {
    pub when: When,
    pub action: &'static str,
    pub actor: String,
    pub ip: String,
    pub detail: String,
}

impl From<(crate::models::AuditEvent, Option<String>)> for AuditRow {
    fn from((event, actor): (crate::models::AuditEvent, Option<String>)) -> Self {
        use crate::domain::audit::COMMAND_LINE;
        // No acting person: the command line (which says so where an address would be), or
        // keyport itself; a person since deleted shows as a dash.
        let (actor, ip) = match (actor, event.actor_id, event.ip) {
            (Some(name), _, ip) => (name, ip.unwrap_or_default()),
            (None, None, Some(ip)) if ip == COMMAND_LINE => {
                ("the command line".into(), String::new())
            }
            (None, None, None) => ("keyport".into(), String::new()),
            (None, _, ip) => ("—".into(), ip.unwrap_or_default()),
        };
        AuditRow {
            when: When::from(&event.created_at),
            action: event.action.label(),
            actor,
            ip,
            detail: event.detail.unwrap_or_default(),
        }
    }
}

/// A key as pages show it: never the secret.
#[derive(serde::Serialize)]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    /// "Full access", "Read-only", "Contacts: write, Jobs: read".
    pub access: String,
    pub created: When,
    pub expires: Option<When>,
    pub last_used: Option<When>,
    pub last_used_ip: String,
    /// `Active`, `Retiring`, `Expired`, or why it stopped.
    pub state: &'static str,
    /// Until when a Retiring key works.
    pub retires: Option<When>,
    pub revoked: Option<When>,
    pub revoked_reason: &'static str,
    pub revoked_note: String,
    /// Where it may be used from, comma-separated; empty: anywhere.
    pub addresses: String,
}

impl KeyView {
    pub fn is_retiring(&self) -> bool {
        self.retires.is_some() && self.state == "Retiring"
    }
}

impl From<&ApiKeyRow> for KeyView {
    fn from(row: &ApiKeyRow) -> Self {
        let revoked_reason = match row.revoked_reason {
            Some(RevokeReason::Regenerated) => "Replaced by Regenerate New Key",
            Some(RevokeReason::TurnedOff) => "API Access turned off",
            Some(RevokeReason::Cleared) => "Cleared by an admin",
            Some(RevokeReason::Retired) => "Retired after Regenerate New Key",
            Some(RevokeReason::Deleted) => "Deleted",
            Some(RevokeReason::Expired) => "Expired",
            None => "Active",
        };
        let state = match api_keys::state_of(row, now()) {
            KeyState::Active => "Active",
            KeyState::Retiring(_) => "Retiring",
            KeyState::Expired => "Expired",
            KeyState::Revoked if row.revoked_at.is_none() => "Retired after Regenerate New Key",
            KeyState::Revoked => revoked_reason,
        };
        Self {
            id: row.id,
            name: row.name.clone(),
            prefix: row.prefix.clone(),
            access: Access::from_columns(row.access, &row.scopes).label(),
            created: When::from(&row.created_at),
            expires: row.expires_at.as_ref().map(When::from),
            last_used: row.last_used_at.as_ref().map(When::from),
            last_used_ip: row.last_used_ip.clone().unwrap_or_default(),
            state,
            retires: row.retires_at.as_ref().map(When::from),
            revoked: row.revoked_at.as_ref().map(When::from),
            revoked_reason,
            revoked_note: row.revoked_note.clone().unwrap_or_default(),
            addresses: row.allowed_from(),
        }
    }
}

/// API Access as pages show it: on with its keys, or off and why, in the user's own terms.
pub struct AccessView {
    pub on: Option<When>,
    pub keys: Vec<KeyView>,
    pub off_notice: Option<String>,
}

pub fn access_view(access: &ApiAccess) -> AccessView {
    let off = |notice: Option<String>| AccessView {
        on: None,
        keys: Vec::new(),
        off_notice: notice,
    };
    match access {
        ApiAccess::On { since, keys } => AccessView {
            on: Some(When::from(since)),
            keys: keys.iter().map(KeyView::from).collect(),
            off_notice: None,
        },
        ApiAccess::Off { last: Some(row) } if row.revoked_reason == Some(RevokeReason::Cleared) => {
            let when = row.revoked_at.as_ref().map(ago).unwrap_or_default();
            let note = row
                .revoked_note
                .as_deref()
                .map(|n| format!(" Reason given: “{n}”."))
                .unwrap_or_default();
            off(Some(format!(
                "An admin cleared your API key ({when}).{note} Your old key no longer works. \
                 Enable API Access to get a new key."
            )))
        }
        ApiAccess::Off { last: Some(row) } => {
            let when = row.revoked_at.as_ref().map(ago).unwrap_or_default();
            off(Some(format!(
                "You turned off API Access ({when}). Your old key no longer works."
            )))
        }
        ApiAccess::Off { last: None } => off(None),
    }
}

/// A checkbox as a form sends it: `on` when ticked, absent when not; anything else is refused.
pub fn checkbox(value: &Option<String>) -> Result<bool, crate::http::error::Error> {
    match value.as_deref() {
        None => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(crate::http::error::Error::unprocessable(
            "A checkbox is either sent as `on` or not sent.",
        )),
    }
}

/// A webhook's health as lists show it, beside (never instead of) its On/Off switch.
pub struct HealthView {
    /// `Healthy`, `Failing`, `Paused`, `TurnedOff`, `Off`: the badge's style.
    pub css: &'static str,
    /// "Healthy", "Failing since 3 hours ago · answered 500 Internal Server Error", …
    pub text: String,
    /// The exact time behind "since …", when there is one.
    pub title: String,
}

impl HealthView {
    pub fn of(hook: &Webhook) -> Self {
        let (css, text, title) = match hook.health() {
            Health::Failing => {
                let since = hook.failing_since.as_ref().map(When::from);
                let last = hook.last_error.as_deref().unwrap_or("deliveries fail");
                (
                    "Failing",
                    format!(
                        "Failing since {} · {last}",
                        since.as_ref().map_or("", |s| s.ago.as_str())
                    ),
                    since.map(|s| s.exact).unwrap_or_default(),
                )
            }
            Health::TurnedOff => (
                "TurnedOff",
                format!(
                    "Turned off by keyport: {}",
                    hook.disabled_reason.as_deref().unwrap_or_default()
                ),
                String::new(),
            ),
            Health::Paused => (
                "Paused",
                "Paused (API Access is off): nothing is sent".to_owned(),
                String::new(),
            ),
            Health::Healthy => (
                "Healthy",
                match &hook.last_delivered_at {
                    Some(at) => format!("Healthy · last delivered {}", ago(at)),
                    None => "Healthy · nothing delivered yet".to_owned(),
                },
                hook.last_delivered_at
                    .as_ref()
                    .map(exact)
                    .unwrap_or_default(),
            ),
            Health::Off => ("Off", "Off: nothing is sent".to_owned(), String::new()),
        };
        HealthView { css, text, title }
    }
}

/// A webhook as a table row, with the actions this viewer may take.
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub entity: &'static str,
    pub operation_type: &'static str,
    /// The switch: `On` or `Off`.
    pub switch: &'static str,
    pub health: HealthView,
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
    pub fn new(hook: &Webhook) -> Self {
        Self {
            id: hook.id.0,
            url: hook.url.clone(),
            entity: hook.entity.as_str(),
            operation_type: hook.operation_type.as_str(),
            switch: hook.status.as_str(),
            health: HealthView::of(hook),
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

/// A key's last 30 days: the chart and the totals.
pub struct UsageView {
    pub chart: String,
    pub succeeded: i64,
    pub refused: i64,
    pub client_errors: i64,
    pub throttled: i64,
}

impl UsageView {
    pub fn new(days: &[crate::domain::key_usage::Day]) -> Self {
        use super::chart::{Bar, bars};
        let drawn: Vec<Bar> = days
            .iter()
            .map(|d| Bar {
                up: d.succeeded.max(0) as u64,
                down: (d.refused + d.client_errors + d.throttled).max(0) as u64,
                label: format!(
                    "{}: {} succeeded, {} refused, {} client errors, {} throttled",
                    d.date, d.succeeded, d.refused, d.client_errors, d.throttled
                ),
            })
            .collect();
        let total = |f: fn(&crate::domain::key_usage::Day) -> i64| days.iter().map(f).sum::<i64>();
        let (succeeded, refused, client_errors, throttled) = (
            total(|d| d.succeeded),
            total(|d| d.refused),
            total(|d| d.client_errors),
            total(|d| d.throttled),
        );
        let summary = format!(
            "{succeeded} succeeded and {} refused or failed requests over the last {} days, by day",
            refused + client_errors + throttled,
            days.len()
        );
        UsageView {
            chart: bars(&drawn, &summary),
            succeeded,
            refused,
            client_errors,
            throttled,
        }
    }
}

/// A key that stopped working and is still sent: what its owner needs to find the program.
pub struct StillUsedView {
    pub key_id: i64,
    pub name: String,
    pub prefix: String,
    /// "regenerated", "expired", …
    pub how: &'static str,
    /// "once", "14 times".
    pub times: String,
    pub first: When,
    pub last: When,
    pub ip: String,
    /// "as a link parameter (api_key)".
    pub sent_as: &'static str,
    pub method: String,
    pub path: String,
    pub user_agent: String,
    /// The owner dismissed it and it has not been used since.
    pub dismissed: bool,
    /// On the owner's own page: where Dismiss posts.
    pub dismiss_url: Option<String>,
}

impl From<&crate::domain::key_usage::StillUsed> for StillUsedView {
    fn from(s: &crate::domain::key_usage::StillUsed) -> Self {
        let r = &s.record.seen;
        StillUsedView {
            key_id: s.key.id,
            name: s.key.name.clone(),
            prefix: s.key.prefix.clone(),
            how: s.key.how_stopped(),
            times: s.record.times(),
            first: When::from(&r.first_at),
            last: When::from(&r.last_at),
            ip: r
                .last_ip
                .clone()
                .unwrap_or_else(|| "an unknown address".into()),
            sent_as: r.sent_as.words(),
            method: r.method.clone(),
            path: r.path.clone(),
            user_agent: r.user_agent.clone().unwrap_or_default(),
            dismissed: !s.record.is_news(),
            dismiss_url: None,
        }
    }
}
