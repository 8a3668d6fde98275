//! Recording attempts and deciding what comes next: delivered, retried on the schedule (with
//! jitter and the receiver's Retry-After), given up, or the webhook turned off (410 Gone, or
//! failing for too long).

use std::time::Duration;

use chrono::NaiveDateTime;
use rand::Rng;

use super::Outcome;
use crate::config::DeliverySettings;
use crate::db::{DbConnection, now};
use crate::domain::Result;
use crate::domain::audit::{self, By};
use crate::domain::mail::notices;
use crate::models::delivery::{Delivery, DeliveryJob, DeliveryState, NewAttempt};
use crate::models::{AuditAction, DeliveryId, Webhook, WebhookId};

/// A receiver's Retry-After is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How far a retry may move from its schedule, so that retries from one outage spread out.
const JITTER: f64 = 0.2;

/// Records a batch's attempts, in the caller's transaction. The deliveries made — nearly all,
/// usually — take three statements whatever the batch's size; a cancellation or a failed
/// attempt is settled on its own.
pub fn settle_batch(
    conn: &mut DbConnection,
    outcomes: Vec<(DeliveryJob, Outcome)>,
    settings: &DeliverySettings,
) -> Result<()> {
    let at = now();
    let mut made = Vec::new();
    for (job, outcome) in outcomes {
        match outcome {
            Outcome::Delivered {
                status,
                duration,
                body,
            } => made.push((job, status, duration, body)),
            Outcome::Cancelled => {
                Delivery::settle(
                    conn,
                    job.delivery_id,
                    job.attempts,
                    DeliveryState::Cancelled,
                    None,
                    at,
                )?;
            }
            Outcome::Failed {
                status,
                duration,
                error,
                body,
                retry_after,
            } => {
                let failed = attempt(
                    &job,
                    at,
                    status,
                    duration,
                    Some(&error),
                    body.as_deref(),
                    false,
                );
                settle_failure(conn, &job, failed, retry_after, settings)?;
            }
        }
    }
    if made.is_empty() {
        return Ok(());
    }
    let attempts: Vec<NewAttempt> = made
        .iter()
        .map(|(job, status, duration, body)| {
            attempt(job, at, Some(*status), *duration, None, Some(body), true)
        })
        .collect();
    NewAttempt::insert_all(conn, &attempts)?;
    let mut hooks: Vec<WebhookId> = made.iter().map(|(job, ..)| job.webhook_id).collect();
    hooks.sort_unstable();
    for run in hooks.chunk_by(|a, b| a == b) {
        Webhook::note_success(conn, run[0], at)?;
        Webhook::count_hour(conn, run[0], at, run.len() as i64, 0)?;
    }
    let ids: Vec<DeliveryId> = made.iter().map(|(job, ..)| job.delivery_id).collect();
    Delivery::settle_delivered(conn, &ids, at)?;
    Ok(())
}

/// Records a failed attempt and decides what happens next: stop on 410 Gone, turn the webhook
/// off when it has failed too long, or schedule the next attempt (if the schedule has one).
fn settle_failure(
    conn: &mut DbConnection,
    job: &DeliveryJob,
    failed: NewAttempt,
    retry_after: Option<Duration>,
    settings: &DeliverySettings,
) -> Result<()> {
    let at = failed.attempted_at;
    let gone = failed.response_status == Some(410);
    let status = failed.response_status.and_then(|s| u16::try_from(s).ok());
    let last_error = super::explain(&job.url, status, failed.error);
    failed.insert(conn)?;
    Webhook::count_hour(conn, job.webhook_id, at, 0, 1)?;
    let attempts = job.attempts + 1;
    let (state, next) = if gone {
        // 410 Gone: the receiver asks us to stop.
        let reason = "Turned off because the receiver answered 410 Gone.";
        turned_off(conn, job.webhook_id, reason, &last_error)?;
        (DeliveryState::Failed, None)
    } else {
        turn_off_if_failing_too_long(
            conn,
            job.webhook_id,
            at,
            settings.webhook_disable_after,
            &last_error,
        )?;
        match next_attempt(
            &settings.webhook_retry_schedule.0,
            attempts,
            retry_after,
            at,
        ) {
            Some(next) => (DeliveryState::Pending, Some(next)),
            None => (DeliveryState::Failed, None),
        }
    };
    Delivery::settle(conn, job.delivery_id, attempts, state, next, at)?;
    Ok(())
}

/// A webhook that has failed without a success for `span` is turned off, saying why; its owner
/// hears of a spell of failures once it lasts a day, and of the turning off.
fn turn_off_if_failing_too_long(
    conn: &mut DbConnection,
    webhook: WebhookId,
    at: NaiveDateTime,
    span: Duration,
    last_error: &str,
) -> Result<()> {
    let Some(since) = Webhook::note_failure(conn, webhook, at, last_error)? else {
        return Ok(());
    };
    let failing = at - since;
    if failing >= chrono::Duration::hours(24) {
        notices::webhook_failing(conn, webhook, since, last_error)?;
    }
    if failing >= chrono::Duration::from_std(span).unwrap_or(chrono::Duration::MAX) {
        let reason = format!(
            "Turned off because its deliveries kept failing from {} to {}. Turn it on again once the receiver works.",
            since.format("%Y-%m-%d %H:%M UTC"),
            at.format("%Y-%m-%d %H:%M UTC")
        );
        turned_off(conn, webhook, &reason, last_error)?;
    }
    Ok(())
}

/// keyport turns the webhook off (if it was On): its owner is mailed, and it is in their
/// audit trail.
fn turned_off(
    conn: &mut DbConnection,
    webhook: WebhookId,
    reason: &str,
    last_error: &str,
) -> Result<()> {
    if Webhook::turn_off(conn, webhook, reason)? == 0 {
        return Ok(());
    }
    notices::webhook_turned_off(conn, webhook, reason, last_error)?;
    if let Some((hook, owner)) = Webhook::with_owner(conn, webhook)? {
        let detail = format!("{} — {reason} Last error: {last_error}", hook.url);
        audit::record_by(
            conn,
            By::Keyport,
            owner.id,
            AuditAction::WebhookTurnedOffByKeyport,
            Some(&detail),
        )?;
    }
    Ok(())
}

fn attempt<'a>(
    job: &DeliveryJob,
    at: NaiveDateTime,
    status: Option<u16>,
    duration: Duration,
    error: Option<&'a str>,
    body: Option<&'a str>,
    succeeded: bool,
) -> NewAttempt<'a> {
    NewAttempt {
        delivery_id: job.delivery_id,
        attempted_at: at,
        response_status: status.map(i32::from),
        duration_ms: duration.as_millis().try_into().unwrap_or(i64::MAX),
        error,
        response_body: body,
        succeeded,
    }
}

/// When the next attempt is due after `attempts` failed ones, or None when the schedule is
/// used up. The scheduled delay moves by up to ±20 %; a longer Retry-After wins.
pub fn next_attempt(
    schedule: &[Duration],
    attempts: i32,
    retry_after: Option<Duration>,
    at: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let planned = *schedule.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let jittered = planned.mul_f64(1.0 + rand::rng().random_range(-JITTER..=JITTER));
    let delay = retry_after.map_or(jittered, |asked| asked.min(MAX_RETRY_AFTER).max(jittered));
    Some(at + chrono::Duration::from_std(delay).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_jitter_and_end_with_it() {
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        let at = now();
        let first = next_attempt(&schedule, 1, None, at).expect("a retry");
        let secs = (first - at).num_milliseconds() as f64 / 1000.0;
        assert!((4.0..=6.0).contains(&secs), "{secs}");
        let second = next_attempt(&schedule, 2, None, at).expect("a retry");
        assert!((240..=360).contains(&(second - at).num_seconds()));
        assert_eq!(next_attempt(&schedule, 3, None, at), None);
        let asked =
            next_attempt(&schedule, 1, Some(Duration::from_secs(120)), at).expect("a retry");
        assert_eq!((asked - at).num_seconds(), 120);
    }
}
