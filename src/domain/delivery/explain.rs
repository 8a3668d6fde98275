//! A failed attempt in plain words: what a person reading the delivery log needs first
//! ("hooks.example.com does not resolve"), with the technical text kept beside it.

/// What went wrong with an attempt to `url`: the receiver's status, or the transport's error.
pub fn explain(url: &str, status: Option<u16>, error: Option<&str>) -> String {
    if let Some(status) = status {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        return format!("answered {status} {reason}").trim_end().to_owned();
    }
    let error = error.unwrap_or_default();
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or("the receiver")
        .to_owned();
    let place = parsed
        .as_ref()
        .and_then(|u| Some(format!("{host}:{}", u.port_or_known_default()?)))
        .unwrap_or_else(|| host.clone());
    let lower = error.to_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        format!("{host} does not resolve")
    } else if lower.contains("connection refused") {
        format!("connection refused by {place}")
    } else if lower.starts_with("timed out") || lower.contains("operation timed out") {
        "timed out before the receiver answered".to_owned()
    } else if lower.contains("certificate") || lower.contains("tls") {
        format!("the TLS connection to {place} failed (its certificate was not accepted)")
    } else if lower.contains("connection reset") || lower.contains("connection closed") {
        format!("{place} closed the connection")
    } else if lower.starts_with("refused: ") {
        // keyport's own refusal to reach a private address, already in words.
        error.trim_start_matches("refused: ").to_owned()
    } else if lower.starts_with("could not connect") {
        format!("could not connect to {place}")
    } else if error.is_empty() {
        "no answer".to_owned()
    } else {
        error.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::explain;

    #[test]
    fn errors_read_in_plain_words() {
        let url = "https://hooks.example.com/in";
        assert_eq!(
            explain(url, Some(500), None),
            "answered 500 Internal Server Error"
        );
        assert_eq!(explain(url, Some(599), None), "answered 599");
        assert_eq!(
            explain(
                url,
                None,
                Some(
                    "could not connect: error sending request for url (https://hooks.example.com/in): client error (Connect): dns error: failed to lookup address information: Name or service not known"
                )
            ),
            "hooks.example.com does not resolve"
        );
        assert_eq!(
            explain(
                "http://203.0.113.7/x",
                None,
                Some(
                    "could not connect: error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)"
                )
            ),
            "connection refused by 203.0.113.7:80"
        );
        assert_eq!(
            explain(url, None, Some("timed out: operation timed out")),
            "timed out before the receiver answered"
        );
        assert_eq!(
            explain(url, None, Some("refused: 10.0.0.1 is not a public address")),
            "10.0.0.1 is not a public address"
        );
    }
}
