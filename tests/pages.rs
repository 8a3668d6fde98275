//! What every page relies on: the vendored scripts and styles, and the settings menu.

use keyport::models::Role;

use crate::support::TestApp;

#[actix_web::test]
async fn scripts_and_styles_are_served_from_keyport_itself() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let login = browser.get("/login").await;
    for asset in [
        "/static/htmx-2.0.11.min.js",
        "/static/app.js",
        "/static/app.css",
        "/static/favicon.svg",
    ] {
        assert!(login.contains(asset), "{asset} is not linked");
        let page = browser.get(asset).await;
        assert_eq!(page.status, 200, "{asset}");
        assert!(!page.body.is_empty());
    }
    assert!(
        browser
            .get("/static/htmx-2.0.11.min.js")
            .await
            .contains("htmx")
    );
    assert_eq!(
        browser.get("/static/app.js").await.header("content-type"),
        "text/javascript; charset=utf-8"
    );
    assert!(
        !login.contains("https://"),
        "no page may load anything from another site"
    );
    assert_eq!(browser.get("/static/nothing.js").await.status, 404);
}

#[actix_web::test]
async fn the_header_and_menu_lead_to_api_access() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.signed_in(Role::User, "Mia Menu").await;
    let settings = browser.get("/settings").await;
    assert!(settings.contains(r#"<a href="/settings">Your Profile &amp; Preferences</a>"#));
    assert!(settings.contains("My Settings &amp; Preferences"));
    assert!(settings.contains(r#"<a href="/settings/api-access">API Access</a>"#));
    assert!(!settings.contains("Advanced Settings"));
    assert_eq!(browser.get("/").await.location(), "/settings");
}

/// Every response, whoever asks and whatever the answer, confines the browser; the API's are
/// never cached.
#[actix_web::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.signed_in(Role::User, "Hal Headers").await;
    let api = app.api();
    let mut answers = Vec::new();
    for path in ["/login", "/no-such-page", "/static/app.css", "/docs/api"] {
        let page = app.browser().get(path).await;
        answers.push((path, page.status, page.headers));
    }
    for path in ["/settings", "/settings/api-access"] {
        let page = browser.get(path).await;
        answers.push((path, page.status, page.headers));
    }
    for path in [
        "/api/v1/me",
        "/api/v1/nothing",
        "/api/v1/contacts?bad=1",
        "/api/v1/openapi.json",
    ] {
        let response = api.get(path).await;
        answers.push((path, response.status().as_u16(), response.headers().clone()));
    }
    for (path, status, headers) in &answers {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert_eq!(
            header("content-security-policy"),
            keyport::http::security_headers::CONTENT_SECURITY_POLICY,
            "{path} ({status})"
        );
        assert!(header("content-security-policy").contains("script-src 'self'"));
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(
            header("strict-transport-security"),
            "",
            "no HSTS without TLS"
        );
        if path.starts_with("/api/v1/") && *path != "/api/v1/openapi.json" {
            assert_eq!(header("cache-control"), "no-store", "{path} ({status})");
        }
    }
}

/// Behind TLS (secure cookies on), browsers are also told to come back over HTTPS only.
#[actix_web::test]
async fn behind_tls_responses_carry_hsts() {
    let app = TestApp::builder()
        .web(keyport::config::WebSettings {
            secure_cookies: true,
            ..Default::default()
        })
        .spawn()
        .await;
    for path in ["/login", "/api/v1/me", "/static/app.css"] {
        let response = app.api().get(path).await;
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}
