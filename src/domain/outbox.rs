//! The transactional outbox: a record change writes its event and one pending delivery per
//! sending webhook inside the change's own transaction.

use rand::TryRngCore;
use rand::distr::{Alphanumeric, Distribution};
use serde::Serialize;

use crate::db::{DbConnection, now};
use crate::models::delivery::{DeliveryState, NewDelivery, NewWebhookEvent};
use crate::models::{Entity, OperationType, UserId, Webhook};

/// `contact.created`, `company.updated`, `job.deleted`, …
pub fn event_type(entity: Entity, operation: OperationType) -> String {
    let verb = match operation {
        OperationType::Create => "created",
        OperationType::Update => "updated",
        OperationType::Delete => "deleted",
    };
    format!("{}.{verb}", entity.as_str().to_lowercase())
}

/// Records the change and queues it for every webhook that sends for it. Call inside the
/// transaction that makes the change.
pub fn publish(
    conn: &mut DbConnection,
    entity: Entity,
    operation: OperationType,
    record_id: i64,
    record: &impl Serialize,
    actor: UserId,
) -> super::Result<()> {
    let webhooks = Webhook::sending_for(conn, entity, operation)?;
    if webhooks.is_empty() {
        return Ok(());
    }
    let data = serde_json::to_string(record).map_err(|e| super::Error::Invalid(e.to_string()))?;
    let at = now();
    let event_id = NewWebhookEvent {
        event_type: &event_type(entity, operation),
        entity,
        operation_type: operation,
        record_id,
        data: &data,
        actor_id: Some(actor),
        created_at: at,
    }
    .insert(conn)?;
    for webhook_id in webhooks {
        NewDelivery {
            event_id,
            webhook_id,
            message_id: &message_id(),
            state: DeliveryState::Pending,
            next_attempt_at: Some(at),
            created_at: at,
        }
        .insert(conn)?;
    }
    Ok(())
}

/// The Standard Webhooks message id: `msg_` and 24 random characters.
fn message_id() -> String {
    let body: String = Alphanumeric
        .sample_iter(rand::rngs::OsRng.unwrap_err())
        .take(24)
        .map(char::from)
        .collect();
    format!("msg_{body}")
}
