//! One log line per request, and its count in the metrics. Links may carry keys, logs must
//! not: every keyport key in the path or query is redacted (by its form, whatever names it),
//! and so is the `api_key` parameter's value. What anyone can send without an account costs
//! bounded log and metric space: long request lines are cut, and unknown methods are counted
//! as one.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

pub async fn log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = truncated(req.method().as_str(), MOST_METHOD_BYTES);
    let method_label = method_label(req.method());
    let path = truncated(
        &redact_keys(&redact_link_token(req.path())),
        MOST_LOGGED_BYTES,
    );
    let query = truncated(
        &redact_keys(&redact_query(req.query_string())),
        MOST_LOGGED_BYTES,
    );
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
            method: method_label.to_owned(),
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

/// The most of the path, and of the query, that one log line carries.
const MOST_LOGGED_BYTES: usize = 512;
/// Methods are short words; anything longer is cut harder.
const MOST_METHOD_BYTES: usize = 32;

/// The method as a metric label: one of HTTP's own, or `OTHER`. Each label set is memory
/// kept for the life of the process, so a client must not be able to make new ones.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("OTHER")
}

/// `text` cut to at most `most` bytes (at a character boundary), with a marker when cut.
pub fn truncated(text: &str, most: usize) -> String {
    if text.len() <= most {
        return text.to_owned();
    }
    let mut end = most;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated, {} bytes]", &text[..end], text.len())
}

/// Raw text from a request line with every keyport key in it redacted, including keys
/// spelled with percent-escapes (`kp%5F…`): when decoding reveals a key, the decoded text is
/// logged, redacted.
pub fn redact_keys(raw: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    if crate::domain::keys::contains_key(&decoded) {
        crate::domain::keys::redact(&decoded).into_owned()
    } else {
        raw.to_owned()
    }
}

/// Pages whose address ends in a one-time token (an invitation, a password reset link).
const TOKEN_PAGES: [&str; 2] = ["/invitations/", "/password-reset/"];

/// The path with a one-time link's token replaced: the link works until used, and logs live
/// longer than that.
pub fn redact_link_token(path: &str) -> std::borrow::Cow<'_, str> {
    match TOKEN_PAGES.iter().find(|page| path.starts_with(*page)) {
        Some(page) if path.len() > page.len() => format!("{page}[redacted]").into(),
        _ => path.into(),
    }
}

/// Parameters whose values are secrets whatever form they take: the API key, and the
/// one-time token of the first-admin setup link.
const SECRET_PARAMETERS: [&str; 2] = ["api_key", "token"];

/// The query string with the value of every secret parameter replaced. Works on the raw text
/// (names percent-decoded), so a malformed query cannot slip a secret past the redaction.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let decoded = percent_encoding::percent_decode_str(&name.replace('+', " "))
                .decode_utf8_lossy()
                .to_ascii_lowercase();
            if SECRET_PARAMETERS.contains(&decoded.as_str()) {
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
    use super::{redact_link_token, redact_query};

    #[test]
    fn one_time_link_tokens_are_redacted() {
        assert_eq!(
            redact_link_token("/invitations/AbC-123_x"),
            "/invitations/[redacted]"
        );
        assert_eq!(
            redact_link_token("/password-reset/AbC-123_x"),
            "/password-reset/[redacted]"
        );
        assert_eq!(redact_link_token("/password-reset"), "/password-reset");
        assert_eq!(redact_link_token("/admin/people"), "/admin/people");
    }

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
        assert_eq!(redact_query("%61pi_key=x"), "%61pi_key=[redacted]");
        assert_eq!(
            redact_query("token=setup-secret&x=1"),
            "token=[redacted]&x=1"
        );
    }
}
