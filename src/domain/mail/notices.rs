//! The mails keyport sends about keys and accounts, each queued by the domain function that
//! makes the change, in its transaction. Links name the portal's pages by path (the mail
//! worker puts `KEYPORT_PUBLIC_URL` in front).

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::{MailContent, MailKind, one_line, queue, queue_once, utc};
use crate::db::{DbConnection, now};
use crate::domain::audit::Actor;
use crate::models::key_usage::StaleRecord;
use crate::models::{ApiKeyRow, User, Webhook, WebhookId};

const API_ACCESS: &str = "/settings/api-access";
const PASSWORD: &str = "/settings/password";

fn key_page(key: &ApiKeyRow) -> String {
    format!("/settings/api-access/keys/{}", key.id)
}

/// "Default (kp_a1b2c3…)".
fn named(key: &ApiKeyRow) -> String {
    format!("{} ({}…)", key.name, key.prefix)
}

pub fn api_access_on(
    conn: &mut DbConnection,
    to: &User,
    actor: &Actor,
    key: &ApiKeyRow,
) -> QueryResult<()> {
    let content = MailContent::new(
        "API Access is on",
        "API Access was turned on for your account, with a new API key.",
    )
    .paragraph("If this was not you, turn API Access off and change your password.")
    .fact("Key", named(key))
    .done_by(conn, actor, to.id, now())?
    .action("Open API Access", API_ACCESS);
    queue(conn, to, MailKind::ApiAccessOn, &content)
}

pub fn key_created(
    conn: &mut DbConnection,
    to: &User,
    actor: &Actor,
    key: &ApiKeyRow,
) -> QueryResult<()> {
    let mut content = MailContent::new(
        format!("a new API key, “{}”", key.name),
        "A new API key was created for your account.",
    )
    .fact("Key", named(key));
    if let Some(end) = key.expires_at {
        content = content.fact("Expires", utc(end));
    }
    let content = content
        .done_by(conn, actor, to.id, now())?
        .action("See the key", &key_page(key));
    queue(conn, to, MailKind::KeyCreated, &content)
}

pub fn key_regenerated(
    conn: &mut DbConnection,
    to: &User,
    actor: &Actor,
    old: &ApiKeyRow,
    new: &ApiKeyRow,
    retires_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let until = match retires_at {
        Some(end) => format!(
            "The old key keeps working until {}; give your programs the new key before then.",
            utc(end)
        ),
        None => "The old key, and every link that contains it, stopped working at once.".into(),
    };
    let content = MailContent::new(
        format!("the API key “{}” was regenerated", old.name),
        "An API key of yours was replaced with a new one (Regenerate New Key).",
    )
    .paragraph(until)
    .fact("Old key", format!("{}…", old.prefix))
    .fact("New key", format!("{}…", new.prefix))
    .done_by(conn, actor, to.id, now())?
    .action("See the new key", &key_page(new));
    queue(conn, to, MailKind::KeyRegenerated, &content)
}

/// Retire Now or Delete Key: one key stopped; the others go on.
pub fn key_stopped(
    conn: &mut DbConnection,
    to: &User,
    actor: &Actor,
    key: &ApiKeyRow,
    deleted: bool,
) -> QueryResult<()> {
    let (kind, subject, headline) = if deleted {
        (
            MailKind::KeyDeleted,
            format!("the API key “{}” was deleted", key.name),
            "An API key of yours was deleted: it, and every link that contains it, no longer works.",
        )
    } else {
        (
            MailKind::KeyRetired,
            format!("an old API key of “{}” was retired", key.name),
            "An old API key of yours was retired before the end of its grace time: it no longer works.",
        )
    };
    let content = MailContent::new(subject, headline)
        .fact("Key", named(key))
        .done_by(conn, actor, to.id, now())?
        .action("Open API Access", API_ACCESS);
    queue(conn, to, kind, &content)
}

pub fn api_access_off(conn: &mut DbConnection, to: &User, actor: &Actor) -> QueryResult<()> {
    let content = MailContent::new(
        "API Access is off",
        "API Access was turned off for your account: every key of yours, and every link that contains one, no longer works.",
    )
    .done_by(conn, actor, to.id, now())?
    .action("Open API Access", API_ACCESS);
    queue(conn, to, MailKind::ApiAccessOff, &content)
}

/// An admin's Clear API Key (`key` none: all keys, access off) or Clear Key (one key).
pub fn key_cleared(
    conn: &mut DbConnection,
    to: &User,
    admin: &Actor,
    key: Option<&ApiKeyRow>,
    reason: Option<&str>,
) -> QueryResult<()> {
    let mut content = match key {
        None => MailContent::new(
            "an admin cleared your API key",
            "An admin cleared your API key: every key of yours, and every link that contains one, no longer works. Your API Access stays off until you enable it again.",
        ),
        Some(key) => MailContent::new(
            format!("an admin cleared your API key “{}”", key.name),
            "An admin cleared one of your API keys: it, and every link that contains it, no longer works. Your other keys still do.",
        )
        .fact("Key", named(key)),
    };
    if let Some(reason) = reason {
        content = content.fact("Reason", reason);
    }
    let content = content
        .done_by(conn, admin, to.id, now())?
        .action("Open API Access", API_ACCESS);
    queue(conn, to, MailKind::KeyCleared, &content)
}

pub fn password_changed(conn: &mut DbConnection, to: &User, actor: &Actor) -> QueryResult<()> {
    let content = MailContent::new(
        "your password was changed",
        "The password of your keyport account was changed, and your other sessions were signed out.",
    )
    .paragraph("If this was not you, reset your password at once and tell your admin.")
    .done_by(conn, actor, to.id, now())?
    .action("Password & Sign-in", PASSWORD);
    queue(conn, to, MailKind::PasswordChanged, &content)
}

fn webhook_page(id: WebhookId) -> String {
    format!("/settings/api-access/webhooks/{id}")
}

/// A webhook failing without a success for a day: once per failing spell (`since` names it).
pub fn webhook_failing(
    conn: &mut DbConnection,
    webhook: WebhookId,
    since: NaiveDateTime,
    last_error: &str,
) -> QueryResult<()> {
    let Some((hook, owner)) = Webhook::with_owner(conn, webhook)? else {
        return Ok(());
    };
    let content = MailContent::new(
        "a webhook has been failing for a day",
        "Deliveries to one of your webhooks have been failing for 24 hours. keyport keeps retrying, and turns the webhook off if they go on failing.",
    )
    .fact("Webhook", hook.url.clone())
    .fact("Failing since", utc(since))
    .fact("Last error", last_error)
    .action("See its deliveries", &webhook_page(hook.id));
    let once = format!(
        "webhook-failing:{}:{}",
        hook.id,
        since.and_utc().timestamp()
    );
    queue_once(
        conn,
        &owner,
        MailKind::WebhookFailing,
        &content,
        Some(&once),
    )
    .map(drop)
}

/// keyport turned a webhook off (410 Gone, or failing too long).
pub fn webhook_turned_off(
    conn: &mut DbConnection,
    webhook: WebhookId,
    reason: &str,
    last_error: &str,
) -> QueryResult<()> {
    let Some((hook, owner)) = Webhook::with_owner(conn, webhook)? else {
        return Ok(());
    };
    let content = MailContent::new(
        "a webhook was turned off",
        "keyport turned one of your webhooks off: it sends nothing until you turn it on again.",
    )
    .paragraph(reason)
    .fact("Webhook", hook.url.clone())
    .fact("Last error", last_error)
    .action("See its deliveries", &webhook_page(hook.id));
    queue(conn, &owner, MailKind::WebhookTurnedOff, &content)
}

/// A successful sign-in. From a browser without this account's device cookie, after the
/// account has signed in before, the person is told (a first sign-in is no news).
pub fn signed_in(
    conn: &mut DbConnection,
    user: &User,
    new_device: bool,
    ip: Option<&str>,
    browser: &str,
) -> QueryResult<()> {
    let at = now();
    let before = User::note_sign_in(conn, user.id, at)?;
    if !new_device || before.is_none() {
        return Ok(());
    }
    // What the browser says of itself, as one short line.
    let browser = one_line(browser, 200);
    let mut content = MailContent::new(
        "a sign-in from a new device",
        "Your keyport account was signed in to from a browser it had not seen before.",
    )
    .paragraph("If this was you, there is nothing to do. If not, change your password and sign out everywhere at once.")
    .fact("When", utc(at));
    if let Some(ip) = ip {
        content = content.fact("From", ip);
    }
    if !browser.trim().is_empty() {
        content = content.fact("Browser", browser);
    }
    let content = content.action("Password & Sign-in", PASSWORD);
    queue(conn, user, MailKind::NewDevice, &content)
}

/// A key that stopped working is still being sent (at most once a day per key): whether a
/// mail was queued (the person may have turned these off).
pub fn key_still_used(
    conn: &mut DbConnection,
    to: &User,
    key: &ApiKeyRow,
    record: &StaleRecord,
) -> QueryResult<bool> {
    let how = key.how_stopped();
    let mut content = MailContent::new(
        format!("your {how} API key “{}” is still in use", key.name),
        format!(
            "Your {how} key {}… was still used {} since it stopped working. Something you set up still sends it: update it with a working key.",
            key.prefix,
            record.times()
        ),
    )
    .fact("Key", named(key))
    .fact("Last use", utc(record.seen.last_at))
    .fact(
        "From",
        record.seen.last_ip.clone().unwrap_or_else(|| "unknown".into()),
    )
    .fact("Sent", record.seen.sent_as.words())
    .fact(
        "Request",
        format!("{} {}", record.seen.method, record.seen.path),
    );
    if let Some(agent) = &record.seen.user_agent {
        content = content.fact("User-Agent", one_line(agent, 200));
    }
    let content = content.action("See where it is used", API_ACCESS);
    queue_once(conn, to, MailKind::KeyStillUsed, &content, None)
}

/// An admin invited someone: the one-time link where they set a password. The link holds a
/// secret, so the mail worker forgets it once the mail is sent (`MailKind::one_time_link`).
pub fn invitation(
    conn: &mut DbConnection,
    to: &User,
    admin: &Actor,
    link: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    let who = User::find(conn, admin.id)?.map_or_else(|| "An admin".to_owned(), |u| u.name);
    let content = MailContent::new(
        "you are invited",
        format!("{who} invited you to keyport, where you manage your API keys and webhooks."),
    )
    .paragraph("Open the link to choose your password; it works once. If you did not expect this, ignore the mail: no account is used until you accept.")
    .fact("Your email", to.email.clone())
    .fact("Role", to.role.label())
    .fact("Link works until", utc(expires_at))
    .action("Accept the invitation", link);
    queue(conn, to, MailKind::Invitation, &content)
}

/// A password reset link: asked for on the sign-in page (`admin` none) or sent by an admin.
pub fn password_reset(
    conn: &mut DbConnection,
    to: &User,
    admin: Option<&Actor>,
    requested_from: Option<&str>,
    link: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    let headline = match admin {
        Some(_) => "An admin sent you a link to choose a new password for your keyport account.",
        None => "Someone asked to reset the password of your keyport account.",
    };
    let mut content = MailContent::new("reset your password", headline)
        .paragraph("Open the link to choose a new password; it works once. Choosing one signs you out everywhere else. If you did not ask for this, ignore the mail: your password stays as it is.");
    if let Some(admin) = admin {
        content = content.done_by(conn, admin, to.id, now())?;
    } else {
        content = content.fact("When", utc(now()));
        if let Some(ip) = requested_from {
            content = content.fact("From", ip);
        }
    }
    let content = content
        .fact("Link works until", utc(expires_at))
        .action("Choose a new password", link);
    queue(conn, to, MailKind::PasswordReset, &content)
}
