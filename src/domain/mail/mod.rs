//! Mail that tells people what happened: queued in the transaction of the change that causes
//! it (a change rolled back sends nothing), sent by `worker` through `transport`, retried, and
//! every attempt kept. What a mail says is stored as `MailContent` and drawn into a plain-text
//! and an HTML part when it is sent. Never a key, a secret or a password: key prefixes only.

pub mod compose;
pub mod notices;
pub mod reminders;
pub mod transport;
pub mod worker;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::audit::Actor;
use crate::db::{DbConnection, now};
use crate::models::mail::{MailState, NewMail};
use crate::models::{User, UserId};

/// What a mail is about; each kind is security (always sent) or one of the notifications a
/// person may turn off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    ApiAccessOn,
    KeyCreated,
    KeyRegenerated,
    KeyRetired,
    KeyDeleted,
    ApiAccessOff,
    KeyCleared,
    PasswordChanged,
    /// A key expiring in 7 days or 1 day, or expired.
    ExpiryReminder,
    WebhookFailing,
    WebhookTurnedOff,
    NewDevice,
    /// A key that stopped working is still sent.
    KeyStillUsed,
    Invitation,
    PasswordReset,
}

/// What a person may turn off under Notifications; security mails always go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Security,
    WebhookAlerts,
    Expiry,
    StaleKeys,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::ApiAccessOn => "api_access_on",
            MailKind::KeyCreated => "key_created",
            MailKind::KeyRegenerated => "key_regenerated",
            MailKind::KeyRetired => "key_retired",
            MailKind::KeyDeleted => "key_deleted",
            MailKind::ApiAccessOff => "api_access_off",
            MailKind::KeyCleared => "key_cleared",
            MailKind::PasswordChanged => "password_changed",
            MailKind::ExpiryReminder => "expiry_reminder",
            MailKind::WebhookFailing => "webhook_failing",
            MailKind::WebhookTurnedOff => "webhook_turned_off",
            MailKind::NewDevice => "new_device",
            MailKind::KeyStillUsed => "key_still_used",
            MailKind::Invitation => "invitation",
            MailKind::PasswordReset => "password_reset",
        }
    }

    /// Mails whose link is a one-time secret: once sent (or given up), the stored content
    /// keeps no link, so the outbox holds no working secret.
    pub fn one_time_link(kind: &str) -> bool {
        kind == MailKind::Invitation.as_str() || kind == MailKind::PasswordReset.as_str()
    }

    pub fn notice(self) -> Notice {
        match self {
            MailKind::ExpiryReminder => Notice::Expiry,
            MailKind::WebhookFailing | MailKind::WebhookTurnedOff => Notice::WebhookAlerts,
            MailKind::KeyStillUsed => Notice::StaleKeys,
            _ => Notice::Security,
        }
    }
}

/// A time as mails write it: `2026-11-29 18:40 UTC`.
pub fn utc(at: NaiveDateTime) -> String {
    format!("{} UTC", at.format("%Y-%m-%d %H:%M"))
}

/// Text that must stay on one line (a display name, a browser's self-description), at most
/// `max` characters: control characters become spaces.
pub fn one_line(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

/// What a mail says: drawn into both parts by `compose`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MailContent {
    pub subject: String,
    /// The first line after the greeting: what happened.
    pub headline: String,
    pub paragraphs: Vec<String>,
    /// Label and value: the key, who, when, from where.
    pub facts: Vec<(String, String)>,
    /// The one link: what it says, and the path on `KEYPORT_PUBLIC_URL`.
    pub action: Option<(String, String)>,
}

impl MailContent {
    pub fn new(subject: impl Into<String>, headline: impl Into<String>) -> Self {
        MailContent {
            subject: format!("keyport: {}", subject.into()),
            headline: headline.into(),
            paragraphs: Vec::new(),
            facts: Vec::new(),
            action: None,
        }
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.paragraphs.push(text.into());
        self
    }

    pub fn fact(mut self, label: &str, value: impl Into<String>) -> Self {
        self.facts.push((label.to_owned(), value.into()));
        self
    }

    pub fn action(mut self, label: &str, path: &str) -> Self {
        self.action = Some((label.to_owned(), path.to_owned()));
        self
    }

    /// Who did it (when it was not the person themselves), when, and from where.
    pub fn done_by(
        self,
        conn: &mut DbConnection,
        actor: &Actor,
        subject: UserId,
        at: NaiveDateTime,
    ) -> diesel::QueryResult<Self> {
        let mut content = self;
        if actor.id != subject {
            let who = User::find(conn, actor.id)?.map_or_else(|| "an admin".to_owned(), |u| u.name);
            content = content.fact("By", who);
        }
        content = content.fact("When", utc(at));
        if let Some(ip) = &actor.ip {
            content = content.fact("From", ip.clone());
        }
        Ok(content)
    }
}

/// Queues a mail to `to` in the caller's transaction. A turned-off account gets none, and a
/// person who turned a notice off gets none of it.
pub fn queue(
    conn: &mut DbConnection,
    to: &User,
    kind: MailKind,
    content: &MailContent,
) -> diesel::QueryResult<()> {
    queue_once(conn, to, kind, content, None).map(drop)
}

/// As `queue`, but at most once for `once` (a reminder per key and threshold): whether it
/// was queued now.
pub fn queue_once(
    conn: &mut DbConnection,
    to: &User,
    kind: MailKind,
    content: &MailContent,
    once: Option<&str>,
) -> diesel::QueryResult<bool> {
    let wanted = match kind.notice() {
        Notice::Security => true,
        Notice::WebhookAlerts => to.notify_webhook_alerts,
        Notice::Expiry => to.notify_expiry,
        Notice::StaleKeys => to.notify_stale_keys,
    };
    // An invited person gets their invitation, and nothing else until they accept.
    let invited_may_get = to.invited_at.is_none() || kind == MailKind::Invitation;
    if to.disabled_at.is_some() || !wanted || !invited_may_get {
        return Ok(false);
    }
    let text = serde_json::to_string(content).unwrap_or_default();
    let at = now();
    NewMail {
        kind: kind.as_str(),
        user_id: Some(to.id),
        to_email: &to.email,
        to_name: &to.name,
        subject: &content.subject,
        content: &text,
        state: MailState::Pending,
        next_attempt_at: at,
        once_key: once,
        created_at: at,
    }
    .insert(conn)
}

/// How many mails the log shows a page.
pub const LOG_PAGE: i64 = 50;

/// A page of the mail log: newest first, each mail with its attempts.
pub struct MailLog {
    pub mails: Vec<(
        crate::models::mail::Mail,
        Vec<crate::models::mail::MailAttempt>,
    )>,
    /// Where the next page starts, when there is one.
    pub next_before: Option<i64>,
}

/// The mails sent and queued, for support staff: subjects, states and the server's replies,
/// never bodies (they can carry reset links).
pub fn log(
    conn: &mut DbConnection,
    state: Option<MailState>,
    to: Option<&str>,
    before: Option<i64>,
) -> diesel::QueryResult<MailLog> {
    use crate::models::mail::{Mail, MailId};
    let to = to
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty());
    let mut mails = Mail::recent(conn, state, to.as_deref(), before.map(MailId), LOG_PAGE + 1)?;
    let next_before = if mails.len() as i64 > LOG_PAGE {
        mails.truncate(LOG_PAGE as usize);
        mails.last().map(|m| m.id.0)
    } else {
        None
    };
    let ids: Vec<MailId> = mails.iter().map(|m| m.id).collect();
    let mut attempts: std::collections::HashMap<MailId, Vec<_>> = std::collections::HashMap::new();
    for attempt in Mail::attempts_of(conn, &ids)? {
        attempts.entry(attempt.mail_id).or_default().push(attempt);
    }
    let mails = mails
        .into_iter()
        .map(|mail| {
            let mine = attempts.remove(&mail.id).unwrap_or_default();
            (mail, mine)
        })
        .collect();
    Ok(MailLog { mails, next_before })
}
