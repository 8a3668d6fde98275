//! One log line per request, and its count in the metrics. The `api_key` query parameter is
//! redacted: links may carry keys, logs must not.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let query = redact_query(req.query_string());
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    // Behind a trusted proxy, the address the limits and the audit trail use.
    let client = super::client_address::client_ip(req.request()).unwrap_or_default();
    let metrics = req
        .app_data::<actix_web::web::Data<crate::AppState>>()
        .map(|state| state.metrics.clone());
    let result = next.call(req).await;
    let (status, route) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
        ),
        Err(e) => (
            e.as_response_error().status_code().as_u16(),
            "unmatched".into(),
        ),
    };
    let seconds = started.elapsed().as_secs_f64();
    if let Some(metrics) = metrics {
        let labels = crate::metrics::RequestLabels {
            method: method.to_string(),
            route,
            status,
        };
        metrics.request(labels, seconds);
    }
    tracing::info!(
        target: "keyport::access",
        %method, %path, %query, status, %peer, %client,
        ms = seconds * 1000.0,
        "request"
    );
    result
}

/// The query string with the value of every `api_key` parameter replaced. Works on the raw
/// text, so a malformed query cannot slip a key past the redaction.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let decoded = name.replace('+', " ");
            if decoded.eq_ignore_ascii_case("api_key")
                || decoded.to_ascii_lowercase().contains("api%5fkey")
            {
                format!("{name}=[redacted]")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::redact_query;

    #[test]
    fn api_key_values_are_redacted() {
        assert_eq!(
            redact_query("a=1&api_key=kp_secret&b=2"),
            "a=1&api_key=[redacted]&b=2"
        );
        assert_eq!(redact_query("API_KEY=kp_secret"), "API_KEY=[redacted]");
        assert_eq!(redact_query("api%5Fkey=kp_secret"), "api%5Fkey=[redacted]");
        assert_eq!(redact_query("api_key"), "api_key=[redacted]");
        assert_eq!(redact_query(""), "");
    }
}
