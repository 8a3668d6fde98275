//! The headers every response carries, so a browser confines what keyport's pages may do: no
//! inline or foreign script, no framing, no sniffing, and no Referer that could carry a key
//! from a link. Set only where a handler did not set its own (actix's `DefaultHeaders`).

use actix_web::middleware::DefaultHeaders;

/// Scripts and styles come from keyport itself only (htmx is vendored; nothing is inline).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// For every response; with `tls`, browsers are also told to use HTTPS from now on.
pub fn every_response(tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"));
    if tls {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}

/// The API's answers carry data and keys' effects: no cache may keep them.
pub fn api_responses() -> DefaultHeaders {
    DefaultHeaders::new().add(("Cache-Control", "no-store"))
}
