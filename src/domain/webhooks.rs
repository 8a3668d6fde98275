//! Webhook subscriptions: a user adds, changes and removes their own; nobody sees another's.

use std::collections::HashMap;

use serde::Deserialize;

use super::audit::Actor;
use super::keys::webhook_secret;
use super::{Error, Result, invalid};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::delivery::{Attempt, Delivery, DeliveryId, DeliveryState};
use crate::models::{
    AuditAction, Entity, NewWebhook, OperationType, UserId, Webhook, WebhookChanges, WebhookId,
    WebhookStatus,
};

/// A new webhook: where to send, and which changes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"url": "https://example.com/keyport-hooks", "entity": "Contact", "operation_type": "Create"})))]
pub struct NewSubscription {
    /// An http or https address. Deliveries go only to public addresses: a loopback, private,
    /// link-local or otherwise non-public IPv4 address, or `localhost`, is refused with 422
    /// unless this keyport allows private receivers.
    #[schema(schema_with = super::web_address::schema)]
    pub url: String,
    pub entity: Entity,
    pub operation_type: OperationType,
    /// `On` when not given.
    #[serde(default, deserialize_with = "super::fields::not_null")]
    #[schema(nullable = false)]
    pub status: Option<WebhookStatus>,
}

/// Changes to a webhook: absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"status": "Off"})))]
pub struct SubscriptionChanges {
    /// An http or https address; deliveries go only to public addresses.
    #[serde(default, deserialize_with = "super::fields::not_null")]
    #[schema(schema_with = super::web_address::schema)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "super::fields::not_null")]
    #[schema(nullable = false)]
    pub entity: Option<Entity>,
    #[serde(default, deserialize_with = "super::fields::not_null")]
    #[schema(nullable = false)]
    pub operation_type: Option<OperationType>,
    /// Turning a webhook On again clears why keyport turned it off.
    #[serde(default, deserialize_with = "super::fields::not_null")]
    #[schema(nullable = false)]
    pub status: Option<WebhookStatus>,
}

/// The rules a webhook URL follows when it is saved: the web address grammar, and — unless
/// the instance allows private receivers — no literal address that is not public and no
/// `localhost`. Names are checked again at delivery, on the address actually connected to.
pub fn validate_url(url: &str, allow_private: bool) -> Result<String> {
    let url = super::web_address::check("url", url)?;
    if allow_private {
        return Ok(url);
    }
    let parsed = url::Url::parse(&url).map_err(|e| invalid("url", e.to_string()))?;
    if let Some(ip) = super::delivery::egress::non_public_literal(&parsed) {
        return Err(invalid(
            "url",
            format!("must not point at {ip}: deliveries go only to public addresses"),
        ));
    }
    match parsed.host() {
        Some(url::Host::Domain(name))
            if name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost") =>
        {
            Err(invalid(
                "url",
                "must not point at localhost: deliveries go only to public addresses",
            ))
        }
        _ => Ok(url),
    }
}

pub fn list(conn: &mut DbConnection, owner: UserId) -> Result<Vec<Webhook>> {
    Ok(Webhook::for_user(conn, owner)?)
}

pub fn get(conn: &mut DbConnection, owner: UserId, id: WebhookId) -> Result<Webhook> {
    Webhook::find_owned(conn, owner, id)?.ok_or(Error::NotFound)
}

/// Adds a webhook for the actor, audited.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    new: NewSubscription,
    allow_private: bool,
) -> Result<Webhook> {
    let url = validate_url(&new.url, allow_private)?;
    let owner = actor.id;
    write_transaction(conn, |conn| {
        let hook = NewWebhook {
            user_id: owner,
            url: &url,
            entity: new.entity,
            operation_type: new.operation_type,
            status: new.status.unwrap_or(WebhookStatus::On),
            secret: &webhook_secret(),
            created_at: now(),
        }
        .insert(conn)?;
        super::audit::record(
            conn,
            actor,
            owner,
            AuditAction::WebhookAdded,
            Some(&hook.url),
        )?;
        Ok(hook)
    })
}

pub fn update(
    conn: &mut DbConnection,
    owner: UserId,
    id: WebhookId,
    changes: SubscriptionChanges,
    allow_private: bool,
) -> Result<Webhook> {
    let url = changes
        .url
        .as_deref()
        .map(|url| validate_url(url, allow_private))
        .transpose()?;
    write_transaction(conn, |conn| {
        get(conn, owner, id)?;
        let turned_on = changes.status == Some(WebhookStatus::On);
        let changes = WebhookChanges {
            url,
            entity: changes.entity,
            operation_type: changes.operation_type,
            status: changes.status,
            // Turning it on again clears why keyport had turned it off.
            disabled_reason: turned_on.then_some(None),
            failing_since: turned_on.then_some(None),
        };
        // An empty PATCH changes nothing and answers with the webhook as it is.
        if changes_anything(&changes) {
            Webhook::update_owned(conn, owner, id, &changes)?;
        }
        get(conn, owner, id)
    })
}

fn changes_anything(c: &WebhookChanges) -> bool {
    c.url.is_some() || c.entity.is_some() || c.operation_type.is_some() || c.status.is_some()
}

/// Deletes one of the actor's webhooks, audited.
pub fn delete(conn: &mut DbConnection, actor: &Actor, id: WebhookId) -> Result<()> {
    write_transaction(conn, |conn| {
        let hook = get(conn, actor.id, id)?;
        Webhook::delete_owned(conn, actor.id, id)?;
        super::audit::record(
            conn,
            actor,
            actor.id,
            AuditAction::WebhookDeleted,
            Some(&hook.url),
        )?;
        Ok(())
    })
}

/// Turns one of `owner`'s webhooks on or off.
pub fn set_status(
    conn: &mut DbConnection,
    owner: UserId,
    id: WebhookId,
    status: WebhookStatus,
) -> Result<Webhook> {
    let changes = SubscriptionChanges {
        status: Some(status),
        ..Default::default()
    };
    // No URL among the changes: the private-address policy has nothing to check.
    update(conn, owner, id, changes, true)
}

/// An admin turns one of `owner`'s webhooks on or off; the audit trail says who and which.
pub fn set_status_as_admin(
    conn: &mut DbConnection,
    admin: &Actor,
    owner: UserId,
    id: WebhookId,
    status: WebhookStatus,
) -> Result<Webhook> {
    write_transaction(conn, |conn| {
        let hook = set_status(conn, owner, id, status)?;
        let action = match status {
            WebhookStatus::On => crate::models::AuditAction::WebhookTurnedOn,
            WebhookStatus::Off => crate::models::AuditAction::WebhookTurnedOff,
        };
        super::audit::record(conn, admin, owner, action, Some(&hook.url))?;
        Ok(hook)
    })
}

/// Deliveries listed on a webhook's status page.
pub const DELIVERIES_PAGE: i64 = 25;
/// The chart reads at most this many attempts (the newest), so a busy webhook's page stays fast.
const CHART_ATTEMPTS: i64 = 50_000;

/// A webhook's status page: its state, recent outcomes, and a page of deliveries with their
/// attempts.
pub struct Report {
    /// With its health (paused while the owner's API Access is off).
    pub webhook: Webhook,
    pub deliveries: Vec<(Delivery, String, Vec<Attempt>)>,
    /// The cursor for older deliveries, when there are more.
    pub next_before: Option<DeliveryId>,
    /// Every attempt of the last 7 days: when, and whether it succeeded.
    pub outcomes: Vec<(chrono::NaiveDateTime, bool)>,
}

pub fn report(
    conn: &mut DbConnection,
    owner: UserId,
    id: WebhookId,
    state: Option<DeliveryState>,
    before: Option<DeliveryId>,
) -> Result<Report> {
    let webhook = get(conn, owner, id)?;
    let mut page = Delivery::for_webhook(conn, id, state, before, DELIVERIES_PAGE + 1)?;
    let next_before = if page.len() as i64 > DELIVERIES_PAGE {
        page.truncate(DELIVERIES_PAGE as usize);
        page.last().map(|(d, _)| d.id)
    } else {
        None
    };
    let ids: Vec<DeliveryId> = page.iter().map(|(d, _)| d.id).collect();
    let mut attempts: HashMap<DeliveryId, Vec<Attempt>> = HashMap::new();
    for attempt in Attempt::for_deliveries(conn, &ids)? {
        attempts
            .entry(attempt.delivery_id)
            .or_default()
            .push(attempt);
    }
    let deliveries = page
        .into_iter()
        .map(|(delivery, event_type)| {
            let mine = attempts.remove(&delivery.id).unwrap_or_default();
            (delivery, event_type, mine)
        })
        .collect();
    let since = now() - chrono::Duration::days(7);
    let outcomes = Attempt::outcomes_since(conn, id, since, CHART_ATTEMPTS)?;
    Ok(Report {
        webhook,
        deliveries,
        next_before,
        outcomes,
    })
}

/// Sends a past delivery of `owner`'s webhook again, for the owner or an admin; audited.
pub fn redeliver(
    conn: &mut DbConnection,
    actor: &Actor,
    owner: UserId,
    id: WebhookId,
    delivery: DeliveryId,
) -> Result<()> {
    write_transaction(conn, |conn| {
        let hook = get(conn, owner, id)?;
        if !Delivery::exists(conn, id, delivery)? {
            return Err(Error::NotFound);
        }
        if Delivery::redeliver(conn, id, delivery, now())? == 0 {
            return Err(Error::Conflict(
                "This delivery is already waiting to be sent.".into(),
            ));
        }
        // Same `webhook-id`, so receivers can tell it is a repeat.
        let detail = format!("{} (delivery {delivery})", hook.url);
        super::audit::record(
            conn,
            actor,
            owner,
            AuditAction::DeliveryRedelivered,
            Some(&detail),
        )?;
        Ok(())
    })
}
