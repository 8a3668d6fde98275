//! One attempt: the Standard Webhooks POST of a delivery, and what the receiver's answer was.

use std::time::Duration;

use tokio::time::Instant;

use super::Outcome;
use super::egress::check_literal_address;
use super::signing::{payload, sign};
use crate::models::delivery::DeliveryJob;

/// The first part of the response body that is kept with the attempt.
const KEPT_BODY_BYTES: usize = 1024;

/// Posts one delivery, signed, and reads what the receiver answered.
pub async fn post(client: &reqwest::Client, job: &DeliveryJob, allow_private: bool) -> Outcome {
    let started = Instant::now();
    if let Err(error) = check_literal_address(&job.url, allow_private) {
        return Outcome::not_sent(started, error);
    }
    let body = payload(job);
    let timestamp = chrono::Utc::now().timestamp();
    let Some(signature) = sign(&job.secret, &job.message_id, timestamp, &body) else {
        return Outcome::not_sent(started, "the webhook's signing secret is not valid".into());
    };
    let response = client
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
