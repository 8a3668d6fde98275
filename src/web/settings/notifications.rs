//! My Settings & Preferences → Notifications: which mails beyond security notices a person
//! wants. Security mails (a key created, regenerated or cleared, a password changed) always go.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::urls;
use crate::AppState;
use crate::http::error::Error;
use crate::models::User;
use crate::web::pages::{Flash, Layout, html, redirect};
use crate::web::session::SignedIn;
use crate::web::views::checkbox;

#[derive(Template)]
#[template(path = "settings/notifications.html")]
struct NotificationsPage {
    layout: Layout,
    webhook_alerts: bool,
    expiry: bool,
    stale_keys: bool,
}

pub(super) async fn show(me: SignedIn) -> Result<HttpResponse, Error> {
    html(&NotificationsPage {
        webhook_alerts: me.user.notify_webhook_alerts,
        expiry: me.user.notify_expiry,
        stale_keys: me.user.notify_stale_keys,
        layout: Layout::for_user(&me)?,
    })
}

/// The checkboxes (`views::checkbox`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NotificationsForm {
    webhook_alerts: Option<String>,
    expiry_reminders: Option<String>,
    stale_keys: Option<String>,
}

pub(super) async fn save(
    state: web::Data<AppState>,
    me: SignedIn,
    form: web::Form<NotificationsForm>,
) -> Result<HttpResponse, Error> {
    let (alerts, expiry, stale) = (
        checkbox(&form.webhook_alerts)?,
        checkbox(&form.expiry_reminders)?,
        checkbox(&form.stale_keys)?,
    );
    let id = me.user.id;
    state
        .db
        .write(move |c| {
            User::set_notifications(c, id, alerts, expiry, stale).map_err(Error::internal)
        })
        .await?;
    Flash::success("Notifications saved.").set(&me.session)?;
    Ok(redirect(urls::NOTIFICATIONS))
}
