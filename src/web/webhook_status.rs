//! A webhook's status page: state, success rate, a chart of the last 24 hours and 7 days, and
//! its deliveries with every attempt. The owner reaches it from API Access
//! (`settings::webhooks`); admins and support from API Management (`api_management::webhooks`).
//! The owner and admins may redeliver; support only reads.

use askama::Template;
use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;

use super::chart::{Bar, bars};
use super::pages::{Flash, Layout};
use super::route::fill;
use super::session::SignedIn;
use super::views::{WebhookRow, When};
use crate::AppState;
use crate::db::now;
use crate::domain::webhooks::{self, Report};
use crate::http::error::Error;
use crate::models::delivery::DeliveryState;
use crate::models::{DeliveryId, UserId, WebhookId};

#[derive(Deserialize)]
pub struct ReportQuery {
    outcome: Option<String>,
    before: Option<i64>,
}

impl ReportQuery {
    fn state(&self) -> Result<Option<DeliveryState>, Error> {
        match self.outcome.as_deref() {
            None | Some("") | Some("all") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                Error::bad_request("outcome: use all, delivered, failed, pending or cancelled.")
            }),
        }
    }
}

pub struct AttemptRow {
    pub when: When,
    pub status: String,
    pub duration_ms: i64,
    pub error: String,
    pub body: String,
    pub succeeded: bool,
}

pub struct DeliveryRow {
    pub id: i64,
    pub event_type: String,
    pub message_id: String,
    pub state: &'static str,
    pub created: When,
    pub next_attempt: Option<When>,
    pub attempts: Vec<AttemptRow>,
    pub redeliver_url: Option<String>,
}

#[derive(Template)]
#[template(path = "webhooks/status.html")]
pub struct StatusPage {
    layout: Layout,
    back_url: String,
    back_label: &'static str,
    page_url: String,
    row: WebhookRow,
    success_rate: String,
    last_delivery: Option<When>,
    chart_day: String,
    chart_week: String,
    outcome: String,
    deliveries: Vec<DeliveryRow>,
    older_url: Option<String>,
}

/// Queues a delivery again (the owner, or an admin), with the message the page shows next.
pub async fn redeliver(
    state: &AppState,
    me: &SignedIn,
    owner: UserId,
    id: WebhookId,
    delivery: DeliveryId,
) -> Result<(), Error> {
    let actor = me.actor();
    state
        .db
        .write(move |c| webhooks::redeliver(c, &actor, owner, id, delivery))
        .await?;
    Flash::success("Delivery queued again. It is sent with the same webhook-id, so receivers can tell it is a repeat.").set(&me.session)
}

/// The webhook's report: its deliveries (filtered, paged) and the week's outcomes.
pub async fn load(
    state: &AppState,
    owner: UserId,
    id: WebhookId,
    query: &ReportQuery,
) -> Result<Report, Error> {
    let (filter, before) = (query.state()?, query.before.map(DeliveryId));
    Ok(state
        .db
        .run(move |c| webhooks::report(c, owner, id, filter, before))
        .await?)
}

/// The status page at `page_url`, with a link back; `redeliver` is the redeliver button's
/// route pattern and the ids before the delivery's, for those who may use it.
pub fn page(
    me: &SignedIn,
    report: Report,
    query: &ReportQuery,
    page_url: String,
    (back_url, back_label): (String, &'static str),
    redeliver: Option<(&str, &[i64])>,
) -> Result<StatusPage, Error> {
    let at = now();
    let attempts = report.outcomes.len();
    let succeeded = report.outcomes.iter().filter(|(_, ok)| *ok).count();
    let success_rate = if attempts == 0 {
        "No attempts in the last 7 days".to_owned()
    } else {
        format!(
            "{:.1} % of {} attempts in the last 7 days",
            100.0 * succeeded as f64 / attempts as f64,
            attempts
        )
    };
    // (Kept on the webhook as deliveries settle; before that was kept, the week's attempts.)
    let last_delivery = report
        .webhook
        .last_delivered_at
        .or_else(|| report.outcomes.iter().find(|(_, ok)| *ok).map(|(t, _)| *t))
        .as_ref()
        .map(When::from);
    let outcome = query.outcome.clone().unwrap_or_else(|| "all".into());
    let deliveries = report
        .deliveries
        .into_iter()
        .map(|(delivery, event_type, attempts)| DeliveryRow {
            redeliver_url: redeliver
                .filter(|_| delivery.state != DeliveryState::Pending)
                .map(|(pattern, ids)| fill(pattern, &[ids, &[delivery.id.0]].concat())),
            id: delivery.id.0,
            event_type,
            message_id: delivery.message_id,
            state: delivery.state.as_str(),
            created: When::from(&delivery.created_at),
            next_attempt: (delivery.state == DeliveryState::Pending)
                .then(|| delivery.next_attempt_at.as_ref().map(When::from))
                .flatten(),
            attempts: attempts
                .into_iter()
                .map(|a| AttemptRow {
                    when: When::from(&a.attempted_at),
                    status: a
                        .response_status
                        .map_or_else(|| "—".into(), |s| s.to_string()),
                    duration_ms: a.duration_ms,
                    error: a.error.unwrap_or_default(),
                    body: a.response_body.unwrap_or_default(),
                    succeeded: a.succeeded,
                })
                .collect(),
        })
        .collect();
    let older_url = report
        .next_before
        .map(|before| format!("{page_url}?outcome={outcome}&before={before}"));
    Ok(StatusPage {
        layout: Layout::for_user(me)?,
        back_url,
        back_label,
        row: WebhookRow::new(&report.webhook),
        success_rate,
        last_delivery,
        chart_day: chart(&report.outcomes, at, 24, Duration::hours(1), "hour"),
        chart_week: chart(&report.outcomes, at, 7, Duration::days(1), "day"),
        outcome,
        deliveries,
        older_url,
        page_url,
    })
}

/// Attempts per bucket of `width` up to `at`, oldest first: delivered above the line, failed
/// below it.
pub fn chart(
    outcomes: &[(NaiveDateTime, bool)],
    at: NaiveDateTime,
    buckets: usize,
    width: Duration,
    unit: &str,
) -> String {
    let mut counts = vec![(0u64, 0u64); buckets];
    for (when, ok) in outcomes {
        let age = at - *when;
        if age < Duration::zero() {
            continue;
        }
        let index = (age.num_seconds() / width.num_seconds().max(1)) as usize;
        if index < buckets {
            let slot = &mut counts[buckets - 1 - index];
            if *ok { slot.0 += 1 } else { slot.1 += 1 }
        }
    }
    let (delivered, failed) = counts.iter().fold((0, 0), |(d, f), (a, b)| (d + a, f + b));
    let drawn: Vec<Bar> = counts
        .iter()
        .enumerate()
        .map(|(i, (ok, failed))| {
            let ago = buckets - 1 - i;
            Bar {
                up: *ok,
                down: *failed,
                label: format!(
                    "{ago} {unit}{} ago: {ok} delivered, {failed} failed",
                    if ago == 1 { "" } else { "s" }
                ),
            }
        })
        .collect();
    bars(
        &drawn,
        &format!("{delivered} delivered and {failed} failed attempts, by {unit}"),
    )
}
