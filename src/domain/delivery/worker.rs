//! The worker's pipeline: senders post from a queue of claimed deliveries while one
//! bookkeeper records what they finished and claims more, in one transaction per turn. A claim
//! is a lease in the database, so a delivery whose worker died is taken again once the lease
//! runs out.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use chrono::NaiveDateTime;
use futures_util::StreamExt;
use futures_util::future::join_all;

use super::{Outcome, egress, post, settle};
use crate::config::DeliverySettings;
use crate::db::{Db, DbConnection, now, write_transaction};
use crate::domain::Result;
use crate::models::delivery::{Delivery, DeliveryId, DeliveryJob};

/// How long a claim outlives the attempts it covers, for recording their outcomes.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// Claimed deliveries queued per sender, so the senders never wait for the database.
const QUEUED_PER_SENDER: usize = 16;
/// How many attempts' time a claim of the pipelined worker lasts: a queued delivery must
/// start within one webhook timeout of its claim, or it is handed back unsent.
const LEASE_ATTEMPTS: u32 = 2;
/// How long an outcome may wait to be recorded with others: on a crash, what was sent and not
/// yet recorded is sent again.
const RECORD_WITHIN: Duration = Duration::from_millis(5);
/// The most outcomes recorded in one transaction.
const MOST_RECORDED: usize = 512;
pub struct Worker {
    db: Db,
    client: reqwest::Client,
    settings: Arc<DeliverySettings>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Worker {
    pub fn new(db: Db, settings: DeliverySettings) -> std::result::Result<Self, String> {
        let client = egress::client(&settings)?;
        Ok(Self {
            db,
            client,
            settings: Arc::new(settings),
            metrics: Arc::default(),
        })
    }

    /// Counts this worker's attempts in the instance's metrics.
    pub fn with_metrics(self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self { metrics, ..self }
    }

    /// Delivers until `stop` turns true, as a pipeline: `webhook_concurrency` senders post
    /// from a queue of claimed deliveries while one bookkeeper records what they finished and
    /// claims more, both in one transaction per turn — so the database works while the posts
    /// are in flight, and a slow receiver holds up only its own deliveries. After the stop
    /// nothing new is sent: the posts in flight are finished and recorded (each bounded by the
    /// webhook timeout), and what is still queued is handed back at once for any instance.
    pub async fn run(&self, stop: tokio::sync::watch::Receiver<bool>) {
        let (queue, queued) = tokio::sync::mpsc::channel(self.senders() * QUEUED_PER_SENDER);
        let (finished, outcomes) = tokio::sync::mpsc::unbounded_channel();
        futures_util::join!(
            self.send_queued(queued, finished, &stop),
            self.keep_books(queue, outcomes, stop.clone()),
        );
        tracing::info!("webhook delivery stopped");
    }

    /// The senders: up to `webhook_concurrency` posts at once, each reported as it finishes.
    async fn send_queued(
        &self,
        queued: tokio::sync::mpsc::Receiver<Claimed>,
        finished: tokio::sync::mpsc::UnboundedSender<Finished>,
        stop: &tokio::sync::watch::Receiver<bool>,
    ) {
        let jobs = futures_util::stream::unfold(queued, |mut queued| async {
            queued.recv().await.map(|job| (job, queued))
        });
        let timeout = chrono::Duration::from_std(self.settings.webhook_timeout + LEASE_MARGIN)
            .unwrap_or(chrono::Duration::MAX);
        jobs.map(|claimed| async move {
            // Never send on a claim that could run out before the attempt is recorded: another
            // instance may take the delivery then. Such a delivery, and everything after the
            // stop, is handed back instead.
            let outcome = if *stop.borrow() || now() + timeout > claimed.until {
                None
            } else {
                Some(self.attempt(&claimed.job).await)
            };
            (claimed, outcome)
        })
        .buffer_unordered(self.senders())
        .for_each(|done| {
            // The bookkeeper outlives the senders: it stops once this channel closes.
            let _ = finished.send(done);
            futures_util::future::ready(())
        })
        .await;
    }

    /// The bookkeeper: each turn records what the senders finished and, when the queue has
    /// room for a sender's worth, claims that much more — one transaction for both.
    async fn keep_books(
        &self,
        queue: tokio::sync::mpsc::Sender<Claimed>,
        mut outcomes: tokio::sync::mpsc::UnboundedReceiver<Finished>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let senders = self.senders();
        let lease = lease(&self.settings, LEASE_ATTEMPTS);
        let mut queue = Some(queue);
        let mut finished = Vec::new();
        let mut senders_done = false;
        // Set when a claim came up short: look again only after the poll interval.
        let mut next_look: Option<Instant> = None;
        // When the oldest outcome not yet recorded must be, at the latest.
        let mut record_by: Option<Instant> = None;
        loop {
            if *stop.borrow() {
                // Closing the queue lets the senders end once it is empty.
                queue = None;
            }
            // Whatever else finished meanwhile goes into the same turn.
            while finished.len() < MOST_RECORDED {
                match outcomes.try_recv() {
                    Ok(done) => finished.push(done),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            if finished.is_empty() {
                record_by = None;
            } else if record_by.is_none() {
                record_by = Some(now + RECORD_WITHIN);
            }
            let looking = next_look.is_none_or(|at| at <= now);
            let free = match &queue {
                Some(queue) if looking => queue.capacity(),
                _ => 0,
            };
            // Outcomes are recorded once there are as many as a claim takes, or once the
            // oldest has waited long enough; a turn that records also fills the queue.
            let half = senders * QUEUED_PER_SENDER / 2;
            let record = !finished.is_empty()
                && (finished.len() >= half
                    || queue.is_none()
                    || senders_done
                    || record_by.is_some_and(|at| at <= now));
            // Otherwise a claim waits for half the queue to be free, so claims are few and large.
            let room = if record || free >= half { free } else { 0 };
            if room == 0 && !record {
                if senders_done {
                    break;
                }
                // Wake only for what can change this decision: an outcome (which also frees
                // a place in the queue), the stop, the record deadline, or a look that is
                // still ahead. A look already due waits for room, not for the clock: sleeping
                // until a past instant returns at once, and the loop would spin on a full
                // queue for as long as receivers are slow.
                let look_ahead = next_look.filter(|at| queue.is_some() && *at > now);
                let wake = [look_ahead, record_by].into_iter().flatten().min();
                tokio::select! {
                    received = outcomes.recv_many(&mut finished, MOST_RECORDED) => {
                        senders_done = received == 0;
                    }
                    changed = stop.changed(), if queue.is_some() => {
                        if changed.is_err() {
                            queue = None; // no one left to say stop: stop now
                        }
                    }
                    _ = sleep_until(wake), if wake.is_some() => {}
                }
                continue;
            }
            let batch = std::mem::take(&mut finished);
            let settings = self.settings.clone();
            let turn = self
                .db
                .write(move |c| record_and_claim(c, batch, room, lease, &settings))
                .await;
            match turn {
                Ok(jobs) => {
                    if jobs.len() < room {
                        next_look = Some(Instant::now() + self.settings.webhook_poll);
                    }
                    if let Some(queue) = &queue {
                        for job in jobs {
                            // Room was there before the turn, and only this loop fills it.
                            let _ = queue.send(job).await;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery could not reach the database; what it could not record is sent again when its claim expires");
                    next_look = Some(Instant::now() + self.settings.webhook_poll * 4);
                }
            }
        }
    }

    /// How many posts the worker makes at once (at least one).
    fn senders(&self) -> usize {
        self.settings.webhook_concurrency.max(1)
    }

    /// One claim of up to `webhook_concurrency` deliveries, sent all at once and recorded
    /// before it returns: the worker's steps one at a time, for tests that drive it. Returns
    /// how many deliveries it attempted.
    pub async fn deliver_due(&self) -> Result<usize> {
        let limit = self.settings.webhook_concurrency;
        let lease = lease(&self.settings, 1);
        let settings = self.settings.clone();
        let jobs = self
            .db
            .write(move |c| record_and_claim(c, Vec::new(), limit, lease, &settings))
            .await?;
        let count = jobs.len();
        let outcomes: Vec<Finished> = join_all(jobs.into_iter().map(|claimed| async {
            let outcome = self.attempt(&claimed.job).await;
            (claimed, Some(outcome))
        }))
        .await;
        let settings = self.settings.clone();
        self.db
            .write(move |c| record_and_claim(c, outcomes, 0, lease, &settings))
            .await?;
        Ok(count)
    }

    async fn attempt(&self, job: &DeliveryJob) -> Outcome {
        let outcome = if job.sends() {
            post::post(&self.client, job, self.settings.webhook_allow_private).await
        } else {
            Outcome::Cancelled
        };
        match &outcome {
            Outcome::Delivered { status, .. } => {
                self.metrics.delivery("delivered");
                tracing::info!(
                    delivery = job.delivery_id.0,
                    webhook = job.webhook_id.0,
                    status,
                    "webhook delivered"
                )
            }
            Outcome::Failed { error, .. } => {
                self.metrics.delivery("failed");
                tracing::info!(delivery = job.delivery_id.0, webhook = job.webhook_id.0, %error, "webhook attempt failed")
            }
            Outcome::Cancelled => {
                self.metrics.delivery("cancelled");
                tracing::info!(
                    delivery = job.delivery_id.0,
                    webhook = job.webhook_id.0,
                    "webhook delivery cancelled: the webhook, its owner's API Access or its owner's account is off"
                )
            }
        }
        outcome
    }
}

/// A claimed delivery: what sending it needs, and when the claim runs out.
struct Claimed {
    job: DeliveryJob,
    until: NaiveDateTime,
}

/// A claimed delivery as the senders hand it back: the outcome of its attempt, or None when it
/// was not sent (the worker stopped, or the claim was too near its end).
type Finished = (Claimed, Option<Outcome>);

/// How long a claim lasts: `attempts` webhook timeouts and the time to record the outcome.
/// After that a delivery whose worker died is taken by another.
fn lease(settings: &DeliverySettings, attempts: u32) -> chrono::Duration {
    chrono::Duration::from_std(settings.webhook_timeout.saturating_mul(attempts) + LEASE_MARGIN)
        .unwrap_or(chrono::Duration::hours(1))
}

/// Records what finished and claims up to `room` due deliveries for `lease`, with what sending
/// them needs: one transaction, so one disk sync on SQLite.
fn record_and_claim(
    conn: &mut DbConnection,
    finished: Vec<Finished>,
    room: usize,
    lease: chrono::Duration,
    settings: &DeliverySettings,
) -> Result<Vec<Claimed>> {
    // Look first without the write lock: an idle worker polls often, and must not hold up
    // the requests that write.
    if finished.is_empty() && (room == 0 || !Delivery::any_due(conn, now())?) {
        return Ok(Vec::new());
    }
    write_transaction(conn, |conn| {
        let mut attempted = Vec::with_capacity(finished.len());
        let mut unsent: Vec<(NaiveDateTime, DeliveryId)> = Vec::new();
        for (claimed, outcome) in finished {
            match outcome {
                Some(outcome) => attempted.push((claimed.job, outcome)),
                None => unsent.push((claimed.until, claimed.job.delivery_id)),
            }
        }
        settle::settle_batch(conn, attempted, settings)?;
        // Handed back claim by claim: a claim that ran out may be another instance's now.
        unsent.sort_unstable();
        for claim in unsent.chunk_by(|a, b| a.0 == b.0) {
            let ids: Vec<DeliveryId> = claim.iter().map(|(_, id)| *id).collect();
            Delivery::release(conn, &ids, claim[0].0)?;
        }
        if room == 0 {
            return Ok(Vec::new());
        }
        let at = now();
        let until = at + lease;
        let limit = i64::try_from(room).unwrap_or(i64::MAX);
        let ids = Delivery::claim_due(conn, at, until, limit)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let jobs = Delivery::jobs(conn, &ids)?;
        Ok(jobs.into_iter().map(|job| Claimed { job, until }).collect())
    })
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
