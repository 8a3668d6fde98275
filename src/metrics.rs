//! What `/metrics` reports, in the Prometheus (OpenMetrics) text format: counters this instance
//! keeps as it works, and gauges read when scraped (the delivery queue is the database's, the
//! same from every instance; the pool is this instance's).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route's pattern (`/api/v1/webhooks/{id}`), never the path itself: the label's
    /// values stay few whatever clients ask for.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

/// How an API key check ended.
#[derive(Debug, Clone, Copy)]
pub enum KeyVerification {
    Valid,
    /// No key in the request.
    Missing,
    /// Not a keyport key (or its checksum is wrong): refused without the database.
    Malformed,
    /// Well-formed, but no active key has that hash (unknown, regenerated, turned off or
    /// cleared), or its owner's account is turned off.
    Rejected,
    /// A known key past its expiry.
    Expired,
    /// In the address, on an instance that refuses keys there.
    QueryKeyRefused,
    /// Two different keys in one request: refused with 400.
    Several,
    /// A working key from an address its allow-list does not include: refused with 403.
    WrongAddress,
}

impl KeyVerification {
    fn label(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::QueryKeyRefused => "query_key_refused",
            Self::Several => "several_keys",
            Self::WrongAddress => "wrong_address",
        }
    }
}

/// The delivery queue as the database holds it at a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct Queue {
    pub pending: i64,
    pub due: i64,
    pub oldest_pending_seconds: f64,
    pub oldest_due_seconds: f64,
}

/// This instance's connection pool.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pool {
    pub max: u32,
    pub open: u32,
    pub idle: u32,
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    key_verifications: Family<Outcome, Counter>,
    deliveries: Family<Outcome, Counter>,
    pending: Gauge,
    due: Gauge,
    oldest_pending: FloatGauge,
    oldest_due: FloatGauge,
    pool_max: Gauge,
    pool_open: Gauge,
    pool_in_use: Gauge,
}

fn request_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("keyport");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        let request_seconds = Family::new_with_constructor(request_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route",
            request_seconds.clone(),
        );
        let key_verifications = Family::<Outcome, Counter>::default();
        registry.register(
            "api_key_verifications",
            "API key checks, by outcome (valid, missing, malformed, rejected, query_key_refused)",
            key_verifications.clone(),
        );
        let deliveries = Family::<Outcome, Counter>::default();
        registry.register(
            "webhook_delivery_attempts",
            "Webhook delivery attempts made by this instance, by outcome (delivered, failed, cancelled)",
            deliveries.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let float_gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = FloatGauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let pending = gauge(
            &mut registry,
            "webhook_deliveries_pending",
            "Deliveries not yet made or given up on (due now or scheduled for a retry)",
        );
        let due = gauge(
            &mut registry,
            "webhook_deliveries_due",
            "Pending deliveries whose attempt is due now",
        );
        let oldest_pending = float_gauge(
            &mut registry,
            "webhook_oldest_pending_age_seconds",
            "Age of the oldest pending delivery (0 when none)",
        );
        let oldest_due = float_gauge(
            &mut registry,
            "webhook_oldest_due_lateness_seconds",
            "How long the longest-waiting due delivery has been due (0 when none)",
        );
        let pool_max = gauge(
            &mut registry,
            "db_pool_max_connections",
            "Connections this instance's pool may open",
        );
        let pool_open = gauge(
            &mut registry,
            "db_pool_open_connections",
            "Connections this instance's pool has open",
        );
        let pool_in_use = gauge(
            &mut registry,
            "db_pool_in_use_connections",
            "Connections of this instance's pool in use",
        );
        Self {
            registry,
            requests,
            request_seconds,
            key_verifications,
            deliveries,
            pending,
            due,
            oldest_pending,
            oldest_due,
            pool_max,
            pool_open,
            pool_in_use,
        }
    }
}

impl Metrics {
    pub fn request(&self, labels: RequestLabels, seconds: f64) {
        self.request_seconds
            .get_or_create(&RouteLabels {
                route: labels.route.clone(),
            })
            .observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    pub fn key_verification(&self, outcome: KeyVerification) {
        self.key_verifications
            .get_or_create(&Outcome {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// One delivery attempt's outcome: `delivered`, `failed` or `cancelled`.
    pub fn delivery(&self, outcome: &'static str) {
        self.deliveries.get_or_create(&Outcome { outcome }).inc();
    }

    /// The text a scrape gets, with the gauges read just now.
    pub fn render(&self, queue: Queue, pool: Pool) -> Result<String, std::fmt::Error> {
        self.pending.set(queue.pending);
        self.due.set(queue.due);
        self.oldest_pending.set(queue.oldest_pending_seconds);
        self.oldest_due.set(queue.oldest_due_seconds);
        self.pool_max.set(pool.max.into());
        self.pool_open.set(pool.open.into());
        self.pool_in_use
            .set(pool.open.saturating_sub(pool.idle).into());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
