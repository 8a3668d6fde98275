//! What a delivery sends and how it is signed: the Standard Webhooks way, so any of its
//! libraries verifies it. The API Developer Guide signs its sample with the same function.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::models::delivery::DeliveryJob;

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
