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
