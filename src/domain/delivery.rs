//! Webhook delivery: a worker claims due deliveries, posts each one signed the Standard
//! Webhooks way, records every attempt, and schedules retries. A claim is a lease in the
//! database, so a delivery whose worker died is taken again once the lease runs out.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use futures_util::future::join_all;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use sha2::Sha256;

use super::Result;
use crate::config::DeliverySettings;
use crate::db::{Db, DbConnection, now, write_transaction};
use crate::models::Webhook;
use crate::models::delivery::{Delivery, DeliveryJob, DeliveryState, NewAttempt};

/// The first part of the response body that is kept with the attempt.
const KEPT_BODY_BYTES: usize = 1024;
/// A receiver's Retry-After is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
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
/// How far a retry may move from its schedule, so that retries from one outage spread out.
const JITTER: f64 = 0.2;

/// What one attempt came to.
#[derive(Debug)]
pub enum Outcome {
    Delivered {
        status: u16,
        duration: Duration,
        body: String,
    },
    Failed {
        status: Option<u16>,
        duration: Duration,
        error: String,
        body: Option<String>,
        retry_after: Option<Duration>,
    },
    /// Not sent: the webhook is Off, or its owner's API Access or account is off.
    Cancelled,
}

impl Outcome {
    /// A failure before any answer: refused address, bad secret, no connection.
    fn not_sent(started: Instant, error: String) -> Self {
        Outcome::Failed {
            status: None,
            duration: started.elapsed(),
            error,
            body: None,
            retry_after: None,
        }
    }
}

pub struct Worker {
    db: Db,
    client: reqwest::Client,
    settings: Arc<DeliverySettings>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Worker {
    pub fn new(db: Db, settings: DeliverySettings) -> std::result::Result<Self, String> {
        let mut client = reqwest::Client::builder()
            .timeout(settings.webhook_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("keyport-webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.webhook_allow_private {
            client = client.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        let client = client
            .build()
            .map_err(|e| format!("cannot build the webhook client: {e}"))?;
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
            self.send(job).await
        } else {
            Outcome::Cancelled
        };
        match &outcome {
            Outcome::Delivered { status, .. } => {
                self.metrics.delivery("delivered");
                tracing::info!(
                    delivery = job.delivery_id,
                    webhook = job.webhook_id,
                    status,
                    "webhook delivered"
                )
            }
            Outcome::Failed { error, .. } => {
                self.metrics.delivery("failed");
                tracing::info!(delivery = job.delivery_id, webhook = job.webhook_id, %error, "webhook attempt failed")
            }
            Outcome::Cancelled => {
                self.metrics.delivery("cancelled");
                tracing::info!(
                    delivery = job.delivery_id,
                    webhook = job.webhook_id,
                    "webhook delivery cancelled: the webhook, its owner's API Access or its owner's account is off"
                )
            }
        }
        outcome
    }

    async fn send(&self, job: &DeliveryJob) -> Outcome {
        let started = Instant::now();
        if let Err(error) = check_literal_address(&job.url, self.settings.webhook_allow_private) {
            return Outcome::not_sent(started, error);
        }
        let body = payload(job);
        let timestamp = chrono::Utc::now().timestamp();
        let Some(signature) = sign(&job.secret, &job.message_id, timestamp, &body) else {
            return Outcome::not_sent(started, "the webhook's signing secret is not valid".into());
        };
        let response = self
            .client
            .post(&job.url)
            .header("content-type", "application/json")
            .header("webhook-id", &job.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let mut response = match response {
            Ok(response) => response,
            Err(e) => return Outcome::not_sent(started, describe(&e)),
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = first_bytes(&mut response).await;
        let duration = started.elapsed();
        if status.is_success() {
            Outcome::Delivered {
                status: status.as_u16(),
                duration,
                body,
            }
        } else {
            let error = format!("the receiver answered {status}");
            Outcome::Failed {
                status: Some(status.as_u16()),
                duration,
                error,
                body: Some(body),
                retry_after,
            }
        }
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
        let mut unsent: Vec<(NaiveDateTime, i64)> = Vec::new();
        for (claimed, outcome) in finished {
            match outcome {
                Some(outcome) => attempted.push((claimed.job, outcome)),
                None => unsent.push((claimed.until, claimed.job.delivery_id)),
            }
        }
        settle_batch(conn, attempted, settings)?;
        // Handed back claim by claim: a claim that ran out may be another instance's now.
        unsent.sort_unstable();
        for claim in unsent.chunk_by(|a, b| a.0 == b.0) {
            let ids: Vec<i64> = claim.iter().map(|(_, id)| *id).collect();
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

/// Records a batch's attempts, in the caller's transaction. The deliveries made — nearly all,
/// usually — take three statements whatever the batch's size; a cancellation or a failed
/// attempt is settled on its own.
fn settle_batch(
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
    let mut hooks: Vec<i64> = made.iter().map(|(job, ..)| job.webhook_id).collect();
    hooks.sort_unstable();
    hooks.dedup();
    for hook in hooks {
        Webhook::note_success(conn, hook)?;
    }
    let ids: Vec<i64> = made.iter().map(|(job, ..)| job.delivery_id).collect();
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
    failed.insert(conn)?;
    let attempts = job.attempts + 1;
    let (state, next) = if gone {
        // 410 Gone: the receiver asks us to stop.
        Webhook::turn_off(
            conn,
            job.webhook_id,
            "Turned off because the receiver answered 410 Gone.",
        )?;
        (DeliveryState::Failed, None)
    } else {
        turn_off_if_failing_too_long(conn, job.webhook_id, at, settings.webhook_disable_after)?;
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

/// A webhook that has failed without a success for `span` is turned off, saying why.
fn turn_off_if_failing_too_long(
    conn: &mut DbConnection,
    webhook: i64,
    at: NaiveDateTime,
    span: Duration,
) -> Result<()> {
    let Some(since) = Webhook::note_failure(conn, webhook, at)? else {
        return Ok(());
    };
    if at - since >= chrono::Duration::from_std(span).unwrap_or(chrono::Duration::MAX) {
        let reason = format!(
            "Turned off because its deliveries kept failing from {} to {}. Turn it on again once the receiver works.",
            since.format("%Y-%m-%d %H:%M UTC"),
            at.format("%Y-%m-%d %H:%M UTC")
        );
        Webhook::turn_off(conn, webhook, &reason)?;
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

/// The body every attempt of a delivery sends: the same bytes each time.
pub fn payload(job: &DeliveryJob) -> String {
    let kind = serde_json::Value::String(job.event_type.clone());
    let timestamp = serde_json::Value::String(
        job.event_created_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    );
    // `data` is the record as serde_json wrote it at the change: valid JSON, embedded as is.
    format!(
        r#"{{"type":{kind},"timestamp":{timestamp},"data":{}}}"#,
        job.data
    )
}

/// The Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed
/// with the base64-decoded part of the `whsec_` secret.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = BASE64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

async fn first_bytes(response: &mut reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < KEPT_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            _ => break,
        }
    }
    kept.truncate(KEPT_BODY_BYTES);
    String::from_utf8_lossy(&kept).into_owned()
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A URL that names an address directly never reaches the resolver: check it here.
fn check_literal_address(url: &str, allow_private: bool) -> std::result::Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("the URL is not valid: {e}"))?;
    match non_public_literal(&parsed) {
        Some(ip) => Err(format!("refused: {ip} is not a public address")),
        None => Ok(()),
    }
}

/// The address a URL names directly, when it is not public. Names are checked when resolved.
pub fn non_public_literal(url: &url::Url) -> Option<IpAddr> {
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    (!is_public(ip)).then_some(ip)
}

/// Addresses a webhook may reach: not loopback, private, link-local (which holds cloud
/// metadata at 169.254.169.254), shared, multicast, unspecified or documentation space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Resolves names and keeps only public addresses, so the address checked is the address
/// connected to: DNS rebinding cannot slip a private address in afterwards.
struct PublicOnlyResolver;

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                all.iter().copied().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                // The addresses are for the operator's log only: shown to the webhook's owner,
                // they would let any key holder map this network's internal names.
                let shown: Vec<String> = all.iter().map(|a| a.ip().to_string()).collect();
                tracing::warn!(%host, addresses = %shown.join(", "), "webhook delivery refused: the name resolves only to addresses that are not public");
                return Err(format!(
                    "refused: {host} resolves only to addresses that are not public"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

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
