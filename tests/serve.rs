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
    let list = admin.get("/admin/api-management?q=uma").await;
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
    assert!(page.contains("Nightly export"), "Uma has a second key");

    // A lived-in team: about 25 people in every state, a webhook failing for a day, one
    // turned off by keyport, an old key still in use, history over weeks.
    let people = admin.get("/admin/people").await;
    let rows = people.body.matches("<td data-label=\"Name\">").count();
    assert!(rows >= 25, "{rows} people");
    for state in ["Active", "Disabled", "Invited"] {
        assert!(
            people.contains(&format!(
                "<span class=\"badge badge-{state}\">{state}</span>"
            )),
            "{state}"
        );
    }
    let invitations = admin.get("/admin/people/invitations").await;
    assert!(invitations.contains("Chloé Martin"));
    let stale = admin.get("/admin/api-management?stale=1").await;
    assert!(stale.contains("Omar Haddad"), "{}", stale.body);
    let grace = person_page(&admin, "grace").await;
    let failing = webhook_page(&admin, &grace).await;
    assert!(
        failing.contains("503") && failing.contains("timed out"),
        "{failing}"
    );
    let priya = person_page(&admin, "priya").await;
    assert!(priya.contains("Billing sync") && priya.contains("CI deploy"));
    assert!(
        webhook_page(&admin, &priya)
            .await
            .contains("Turned off because the receiver answered 410 Gone.")
    );
    let months = app.with_conn(|c| {
        use diesel::prelude::*;
        use keyport::db::schema::audit_events;
        audit_events::table
            .select(diesel::dsl::min(audit_events::created_at))
            .first::<Option<chrono::NaiveDateTime>>(c)
    });
    let oldest = months.expect("audit").expect("events");
    assert!(
        keyport::db::now() - oldest > chrono::Duration::days(30),
        "the audit trail goes back weeks: {oldest}"
    );

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

/// The API Management page of the first person a search finds.
async fn person_page(admin: &Browser, search: &str) -> String {
    let list = admin
        .get(&format!("/admin/api-management?q={search}"))
        .await;
    let id = list
        .body
        .split("href=\"/admin/api-management/users/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("nobody found by {search}"))
        .to_owned();
    admin
        .get(&format!("/admin/api-management/users/{id}"))
        .await
        .body
}

/// The page of the first webhook a person's page links to.
async fn webhook_page(admin: &Browser, person: &str) -> String {
    let link = person
        .split("href=\"/admin/api-management/users/")
        .filter_map(|s| s.split('"').next())
        .find(|path| path.contains("/webhooks/"))
        .expect("a webhook link")
        .to_owned();
    admin
        .get(&format!("/admin/api-management/users/{link}"))
        .await
        .body
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
