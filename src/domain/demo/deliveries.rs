//! The demo's webhooks and their delivery history.

use chrono::{Duration, NaiveDateTime};

use super::Clock;
use crate::db::DbConnection;
use crate::domain::Result;
use crate::domain::outbox::event_type;
use crate::models::delivery::{DeliveryState, NewWebhookEvent};
use crate::models::demo_history::{self as history, PastDelivery};
use crate::models::{Entity, NewWebhook, OperationType, User, Webhook, WebhookStatus};

#[allow(clippy::too_many_arguments)]
pub(super) fn webhook(
    conn: &mut DbConnection,
    clock: &Clock,
    owner: &User,
    url: &str,
    entity: Entity,
    operation_type: OperationType,
    status: WebhookStatus,
    days_ago: i64,
) -> Result<Webhook> {
    Ok(NewWebhook {
        user_id: owner.id,
        url,
        entity,
        operation_type,
        status,
        secret: &crate::domain::keys::webhook_secret(),
        created_at: clock.ago(days_ago, 0),
    }
    .insert(conn)?)
}

/// How a webhook's deliveries went.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum History {
    /// Delivered, now and then at the second attempt.
    Healthy,
    /// Delivered until a day ago; since then every attempt fails, and keyport retries.
    FailingForADay,
    /// The receiver answered 410 Gone three days ago, and keyport turned the webhook off.
    Gone,
}

/// `count` deliveries over the last `days` days.
pub(super) fn deliveries(
    conn: &mut DbConnection,
    clock: &mut Clock,
    hook: &Webhook,
    days: i64,
    count: u64,
    how: History,
) -> Result<()> {
    let names = [
        "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
    ];
    let span = (days * 24) as u64;
    for n in 0..count {
        // Oldest first, spread over the span, the newest a few hours ago.
        let hours_ago = (span - span * n / count.max(1)) as i64 + 2;
        let at = clock.ago(0, hours_ago);
        let name = names[clock.vary(names.len() as u64) as usize];
        let record_id = 1000 + n as i64;
        let data = serde_json::json!({
            "id": record_id,
            "first_name": name,
            "last_name": "Example",
            "email": format!("{}.{}@example.com", name.to_lowercase(), record_id),
        })
        .to_string();
        let event_id = NewWebhookEvent {
            event_type: &event_type(hook.entity, hook.operation_type),
            entity: hook.entity,
            operation_type: hook.operation_type,
            record_id,
            data: &data,
            actor_id: Some(hook.user_id),
            created_at: at,
        }
        .insert(conn)?;
        let ms = |clock: &mut Clock| 40 + clock.vary(300) as i64;
        let second = at + Duration::seconds(30);
        let last_day = hours_ago <= 26;
        let (state, next, attempts) = match how {
            History::FailingForADay if last_day => {
                let mut tries: Vec<(NaiveDateTime, Option<i32>, Option<&str>, i64)> = vec![
                    (at, Some(503), None, ms(clock)),
                    (second, None, Some("timed out after 10 s"), 10_000),
                ];
                if hours_ago > 20 {
                    tries.push((at + Duration::hours(6), Some(503), None, ms(clock)));
                    (DeliveryState::Failed, None, tries)
                } else {
                    (DeliveryState::Pending, Some(clock.ago(0, -2)), tries)
                }
            }
            History::Gone if n + 1 == count => (
                DeliveryState::Failed,
                None,
                vec![(clock.ago(3, 0), Some(410), None, ms(clock))],
            ),
            _ if clock.vary(8) == 0 => (
                DeliveryState::Delivered,
                None,
                vec![
                    (at, Some(500), None, ms(clock)),
                    (second, Some(200), None, ms(clock)),
                ],
            ),
            _ => (
                DeliveryState::Delivered,
                None,
                vec![(at, Some(200), None, ms(clock))],
            ),
        };
        // The hour counters and the webhook's last outcome, as settling keeps them.
        for &(when, status, error, _) in &attempts {
            let ok = status.is_some_and(|s| (200..300).contains(&s));
            Webhook::count_hour(conn, hook.id, when, i64::from(ok), i64::from(!ok))?;
            if ok {
                Webhook::note_success(conn, hook.id, when)?;
            } else {
                let status = status.and_then(|s| u16::try_from(s).ok());
                let words = crate::domain::delivery::explain(&hook.url, status, error);
                Webhook::note_failure(conn, hook.id, when, &words)?;
            }
        }
        let message_id = format!("msg_demo{:04}{:03}", hook.id.0, n);
        PastDelivery {
            event_id,
            webhook_id: hook.id,
            message_id: &message_id,
            state,
            created_at: at,
            next_attempt_at: next,
            attempts,
        }
        .insert(conn)?;
    }
    match how {
        History::FailingForADay => {
            history::set_failing_since(conn, hook.id, clock.ago(1, 2))?;
        }
        History::Gone => {
            Webhook::turn_off(
                conn,
                hook.id,
                "Turned off because the receiver answered 410 Gone.",
            )?;
        }
        History::Healthy => {}
    }
    Ok(())
}
