//! Webhook delivery: a worker claims due deliveries, posts each one signed the Standard
//! Webhooks way, records every attempt, and schedules retries.
//!
//! - `worker`: the pipeline (claims, senders, the bookkeeper) and its lease;
//! - `post`: one attempt over HTTP;
//! - `settle`: recording outcomes, retries, turning failing webhooks off;
//! - `signing`: the payload and its signature;
//! - `egress`: where deliveries may go (public addresses only);
//! - `explain`: a failed attempt in plain words.

pub mod egress;
mod explain;
mod post;
mod settle;
pub mod signing;
mod worker;

use std::time::Duration;

use tokio::time::Instant;

pub use explain::explain;
pub use settle::next_attempt;
pub use worker::Worker;

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
