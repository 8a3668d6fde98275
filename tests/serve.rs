//! `keyport serve` as the README runs it: demo data, and the first-start setup link.

use serde_json::Value;

use crate::support::{Browser, TestApp, serve};

#[actix_web::test]
async fn serve_with_demo_data_prints_working_sign_ins_and_a_working_key() {
    let app = TestApp::spawn().await;
    let served = serve(&app.database_url, &["--demo"]);
    let key_line = served.line_with("API key of user@example.com");
    let key = key_line
        .split_whitespace()
        .last()
        .expect("the key")
        .to_owned();
    served.wait_until_listening().await;

    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", served.base))
        .header("X-Api-Key", &key)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["email"], "user@example.com");

    let admin = Browser::new(served.base.clone());
    let page = admin
        .sign_in("admin@example.com", keyport::domain::demo::DEMO_PASSWORD)
        .await;
    assert_eq!(page.status, 303);
    let list = admin.get("/admin/api-management").await;
    assert!(list.contains("user@example.com"));
    let uma = list
        .body
        .split("href=\"/admin/api-management/users/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a user link")
        .to_owned();
    let page = admin
        .get(&format!("/admin/api-management/users/{uma}"))
        .await;
    assert!(page.contains("https://hooks.example.com/contacts"));
    assert!(page.contains("badge-Off"));

    let support = Browser::new(served.base.clone());
    assert_eq!(
        support
            .sign_in("support@example.com", keyport::domain::demo::DEMO_PASSWORD)
            .await
            .status,
        303
    );
    assert_eq!(support.get("/admin/api-management").await.status, 200);
}

#[actix_web::test]
async fn first_start_prints_a_setup_link_that_creates_the_first_admin_once() {
    let app = TestApp::spawn().await;
    let served = serve(&app.database_url, &[]);
    let link = served.line_with("/setup?token=").trim().to_owned();
    served.wait_until_listening().await;
    let path = link.trim_start_matches(&served.base).to_owned();
    assert!(path.starts_with("/setup?token="), "{link}");

    let browser = Browser::new(served.base.clone());
    let form = browser.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(form.contains("Create the first admin"));
    let token = path.trim_start_matches("/setup?token=");

    let short = browser
        .post(
            "/setup",
            &[
                ("token", token),
                ("email", "first@example.com"),
                ("name", "First Admin"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.contains("at least 12 characters"));

    let done = browser
        .post(
            "/setup",
            &[
                ("token", token),
                ("email", "first@example.com"),
                ("name", "First Admin"),
                ("password", "the very first password"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(browser.get("/admin/api-management").await.status, 200);

    // The link works once.
    let other = Browser::new(served.base.clone());
    assert_eq!(other.get(&path).await.status, 404);
    let again = other
        .post(
            "/setup",
            &[
                ("token", token),
                ("email", "second@example.com"),
                ("name", "Second"),
                ("password", "another long password"),
            ],
        )
        .await;
    assert_eq!(again.status, 422);
    assert!(again.contains("already been used"));
    let forged = other.get("/setup?token=not-a-real-token").await;
    assert_eq!(forged.status, 404);
}

#[actix_web::test]
async fn health_and_readiness_probes_answer_without_a_session() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let api = app.api();
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = api.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{path} started a session"
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["status"], status, "{path}");
    }
    // A database whose newest migration has not run (as when an older keyport created it).
    app.with_conn(|c| {
        c.batch_execute(
            "DELETE FROM __diesel_schema_migrations WHERE version = \
             (SELECT MAX(version) FROM __diesel_schema_migrations)",
        )
    })
    .expect("forget the newest migration");
    let response = api.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "not ready");
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("1 database migrations have not run")),
        "{body}"
    );
    // The process itself is fine.
    assert_eq!(api.get("/healthz").await.status(), 200);
}
