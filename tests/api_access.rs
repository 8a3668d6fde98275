//! A user's API Access, end to end through HTTP.

use futures_util::future::join_all;
use keyport::models::{ApiKeyRow, AuditAction, AuditEvent, Role};
use serde_json::Value;

use crate::support::{KeyIn, TestApp};

#[actix_web::test]
async fn the_seed_story_end_to_end() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (uma, browser) = app.signed_in(Role::User, "Uma User").await;

    let page = browser.get("/settings/api-access").await;
    assert_eq!(page.status, 200);
    assert!(page.contains("API Access is <strong>off</strong>"));
    assert!(page.contains("Enable API Access"));

    // Enable: the key is shown once, never cached.
    let page = browser.post("/settings/api-access/enable", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(page.contains("it will not be shown again"));
    let first = page.shown_key();
    assert!(first.starts_with("kp_"));

    for how in [KeyIn::Header, KeyIn::Bearer, KeyIn::Query] {
        let response = api.get_me_via(&first, how).await;
        assert_eq!(response.status(), 200, "{how:?}");
        let me: Value = response.json().await.expect("json");
        assert_eq!(me["id"], uma.id.0);
        assert_eq!(me["email"], uma.email.as_str());
        assert_eq!(me["name"], "Uma User");
        assert_eq!(me["role"], "user");
    }

    // Reloading shows the prefix only.
    let page = browser.get("/settings/api-access").await;
    assert!(!page.contains(&first));
    assert!(page.contains(&format!("{}…", &first[..9])));
    assert!(page.contains("Regenerate New Key"));

    // Regenerate New Key: confirmation first, then the old key and its links fail at once.
    let confirm = browser.get("/settings/api-access/regenerate").await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.contains("every existing link that contains it"));
    let second = browser
        .post("/settings/api-access/regenerate", &[])
        .await
        .shown_key();
    assert_ne!(first, second);
    assert_eq!(api.get_me(&first).await.status(), 401);
    assert_eq!(api.get_me_via(&first, KeyIn::Query).await.status(), 401);
    assert_eq!(api.get_me(&second).await.status(), 200);

    // Turn Off API Access: the key fails at once.
    let confirm = browser.get("/settings/api-access/disable").await;
    assert!(confirm.contains("Turn Off API Access?"));
    let page = browser.post("/settings/api-access/disable", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/settings/api-access");
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains(
        "API Access is off. Your key, and every link that contains it, no longer works."
    ));
    assert_eq!(api.get_me(&second).await.status(), 401);

    // Enable again, then an admin clears it.
    let third = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    assert_eq!(api.get_me(&third).await.status(), 200);
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let page = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", uma.id),
            &[("reason", "Posted in a public chat")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(api.get_me(&third).await.status(), 401);
    let page = browser.get("/settings/api-access").await;
    assert!(
        page.contains("An admin cleared your API key"),
        "{}",
        page.body
    );
    assert!(page.contains("Posted in a public chat"));
    assert!(page.contains("Enable API Access"));

    // Enabling again works.
    let fourth = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    assert_eq!(api.get_me(&fourth).await.status(), 200);

    // Every change left an audit event, newest first.
    let actions: Vec<AuditAction> = app
        .with_conn(|c| AuditEvent::for_subject(c, uma.id, 50))
        .expect("audit events")
        .into_iter()
        .map(|(event, _)| event.action)
        .collect();
    use AuditAction::*;
    assert_eq!(
        actions,
        [
            ApiAccessEnabled,
            ApiKeyCleared,
            ApiAccessEnabled,
            ApiAccessTurnedOff,
            KeyRegenerated,
            ApiAccessEnabled
        ]
    );
    // Revoked keys stay as history; one is active.
    let history = app
        .with_conn(|c| ApiKeyRow::history_for_user(c, uma.id, 50))
        .expect("history");
    assert_eq!(history.len(), 4);
    assert_eq!(history.iter().filter(|k| k.revoked_at.is_none()).count(), 1);
}

#[actix_web::test]
async fn htmx_gets_the_section_and_forms_work_without_it() {
    let app = TestApp::spawn().await;
    let (_, browser) = app.signed_in(Role::User, "Hana Htmx").await;

    let section = browser.get_htmx("/settings/api-access").await;
    assert!(
        section
            .body
            .trim_start()
            .starts_with("<section id=\"api-access\"")
    );
    assert!(!section.contains("<html"));

    let section = browser.post_htmx("/settings/api-access/enable").await;
    assert_eq!(section.status, 200);
    let key = section.shown_key();
    assert!(!section.contains("<html"));
    assert_eq!(app.api().get_me(&key).await.status(), 200);

    let confirm = browser.get_htmx("/settings/api-access/disable").await;
    assert!(confirm.contains("Turn Off API Access?"));
    let section = browser.post_htmx("/settings/api-access/disable").await;
    assert_eq!(section.status, 200);
    assert!(section.contains("API Access is off. Your key"));
    assert_eq!(app.api().get_me(&key).await.status(), 401);
}

#[actix_web::test]
async fn actions_that_do_not_fit_the_state_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (user, browser) = app.signed_in(Role::User, "Cleo Conflict").await;

    for path in [
        "/settings/api-access/regenerate",
        "/settings/api-access/disable",
    ] {
        let page = browser.post(path, &[]).await;
        assert_eq!(page.status, 409, "{path}");
        assert!(page.contains("API Access is"), "{path}: {}", page.body);
    }
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let again = browser.post("/settings/api-access/enable", &[]).await;
    assert_eq!(again.status, 409);
    assert!(again.contains("already on"));
    assert_eq!(app.api().get_me(&key).await.status(), 200);
    let history = app
        .with_conn(|c| ApiKeyRow::history_for_user(c, user.id, 10))
        .expect("history");
    assert_eq!(history.len(), 1);
}

#[actix_web::test]
async fn twenty_concurrent_regenerates_leave_exactly_one_active_key() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (user, browser) = app.signed_in(Role::User, "Rita Race").await;
    let original = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();

    let pages =
        join_all((0..20).map(|_| browser.post("/settings/api-access/regenerate", &[]))).await;
    let mut keys = vec![original];
    for page in &pages {
        assert_eq!(page.status, 200, "{}", page.body);
        keys.push(page.shown_key());
    }

    let active = app
        .with_conn(|c| ApiKeyRow::active_for_user(c, user.id))
        .expect("active key");
    assert!(active.is_some());
    let history = app
        .with_conn(|c| ApiKeyRow::history_for_user(c, user.id, 100))
        .expect("history");
    assert_eq!(history.len(), 21);
    assert_eq!(history.iter().filter(|k| k.revoked_at.is_none()).count(), 1);

    let mut working = 0;
    for key in &keys {
        match api.get_me(key).await.status().as_u16() {
            200 => working += 1,
            401 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(working, 1);
}

/// Names are unique among a user's live keys: the database, not only the code, says so.
#[actix_web::test]
async fn the_database_refuses_a_second_live_key_with_the_same_name() {
    use keyport::models::NewApiKey;
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::User, "Dora Database");
    let insert = |hash: [u8; 32]| {
        app.with_conn(|c| {
            NewApiKey {
                prefix: "kp_test00",
                key_hash: &hash,
                ..NewApiKey::default_key(user.id, keyport::db::now())
            }
            .insert(c)
        })
    };
    insert([1; 32]).expect("the first key named Default");
    let second = insert([2; 32]).expect_err("a second live key named Default must be refused");
    assert!(keyport::db::is_unique_violation(&second), "{second:?}");
}
