//! Webhook subscriptions through the API, and the outbox rows a record change leaves.

use diesel::prelude::*;
use keyport::db::schema::{contacts, deliveries, webhook_events};
use keyport::models::Role;
use reqwest::Method;
use serde_json::json;

use crate::support::TestApp;

fn pending_deliveries(app: &TestApp, webhook_id: i64) -> Vec<(String, String)> {
    app.with_conn(|c| {
        deliveries::table
            .inner_join(webhook_events::table)
            .filter(deliveries::webhook_id.eq(webhook_id))
            .filter(deliveries::state.eq("pending"))
            .order(deliveries::id.asc())
            .select((webhook_events::event_type, deliveries::message_id))
            .load(c)
    })
    .expect("deliveries")
}

#[actix_web::test]
async fn a_user_manages_their_own_webhooks_and_only_theirs() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, key) = app.user_with_key("Wen Webhooks").await;
    let (_, other_key) = app.user_with_key("Otto Other").await;

    let created = api
        .create_webhook(&key, "https://hooks.example.com/in", "Contact", "Create")
        .await;
    assert_eq!(created["status"], "On");
    assert_eq!(created["entity"], "Contact");
    assert_eq!(created["operation_type"], "Create");
    assert!(
        created["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_") && s.len() > 30)
    );
    let id = created["id"].as_i64().expect("id");
    let path = format!("/api/v1/webhooks/{id}");

    // The secret is in the answer to POST alone.
    let (status, shown) = api.call(&key, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    assert!(shown.get("secret").is_none());
    let (_, list) = api.call(&key, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    assert!(list["data"][0].get("secret").is_none());

    let (status, changed) = api
        .call(
            &key,
            Method::PATCH,
            &path,
            Some(json!({"status": "Off", "operation_type": "Update"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["status"], "Off");
    assert_eq!(changed["operation_type"], "Update");
    let (status, same) = api.call(&key, Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(same["status"], "Off");

    // Another user's webhook does not exist for them.
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"status": "On"}));
        let (status, answer) = api.call(&other_key, method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method}");
        assert!(answer["error"].is_string());
    }
    let (_, list) = api
        .call(&other_key, Method::GET, "/api/v1/webhooks", None)
        .await;
    assert_eq!(list["data"], json!([]));
    let (_, still) = api.call(&key, Method::GET, &path, None).await;
    assert_eq!(still["status"], "Off");

    let (status, _) = api.call(&key, Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, _) = api.call(&key, Method::GET, &path, None).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn webhook_urls_follow_the_rules() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, key) = app.user_with_key("Uri Rules").await;
    let long = format!("https://hooks.example.com/{}", "a".repeat(2048));
    for url in [
        "ftp://hooks.example.com/",
        "https://user:pass@hooks.example.com/",
        "not a url",
        "javascript:alert(1)",
        long.as_str(),
        "https://",
    ] {
        let (status, answer) = api
            .call(
                &key,
                Method::POST,
                "/api/v1/webhooks",
                Some(json!({"url": url, "entity": "Job", "operation_type": "Delete"})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {answer}");
        assert_eq!(answer["field"], "url", "{url}");
    }
    let (status, _) = api.call(&key, Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://x.example/", "entity": "Invoice", "operation_type": "Create"}))).await;
    assert_eq!(status, 422);
    let (_, list) = api.call(&key, Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(list["data"], json!([]));
}

#[actix_web::test]
async fn a_change_queues_one_delivery_per_sending_webhook_in_its_own_transaction() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let (_, key) = app.user_with_key("Oona Outbox").await;
    let (subscriber, subscriber_key) = app.user_with_key("Sid Subscriber").await;
    let subscribe = |entity: &'static str, operation: &'static str| {
        let api = &api;
        let subscriber_key = &subscriber_key;
        async move {
            let hook = api
                .create_webhook(
                    subscriber_key,
                    "https://hooks.example.com/in",
                    entity,
                    operation,
                )
                .await;
            hook["id"].as_i64().expect("id")
        }
    };
    let on_create = subscribe("Contact", "Create").await;
    let on_update = subscribe("Contact", "Update").await;
    let on_company = subscribe("Company", "Create").await;
    let off = subscribe("Contact", "Create").await;
    api.call(
        &subscriber_key,
        Method::PATCH,
        &format!("/api/v1/webhooks/{off}"),
        Some(json!({"status": "Off"})),
    )
    .await;

    let (_, contact) = api
        .call(
            &key,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "Eve", "last_name": "Event"})),
        )
        .await;
    let created = pending_deliveries(&app, on_create);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].0, "contact.created");
    assert!(created[0].1.starts_with("msg_"));
    assert!(pending_deliveries(&app, on_update).is_empty());
    assert!(pending_deliveries(&app, on_company).is_empty());
    assert!(
        pending_deliveries(&app, off).is_empty(),
        "an Off webhook sends nothing"
    );

    api.call(
        &key,
        Method::PATCH,
        &format!("/api/v1/contacts/{}", contact["id"]),
        Some(json!({"last_name": "Changed"})),
    )
    .await;
    assert_eq!(
        pending_deliveries(&app, on_update)
            .iter()
            .map(|d| d.0.as_str())
            .collect::<Vec<_>>(),
        ["contact.updated"]
    );

    // A change that fails validation rolls back: no record, no event, no delivery.
    let events_before = app
        .with_conn(|c| webhook_events::table.count().get_result::<i64>(c))
        .expect("count");
    let (status, _) = api
        .call(
            &key,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": "No", "last_name": "Company", "company_id": 424242})),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.with_conn(|c| webhook_events::table.count().get_result::<i64>(c))
            .expect("count"),
        events_before
    );
    assert_eq!(
        app.with_conn(|c| contacts::table.count().get_result::<i64>(c))
            .expect("count"),
        1
    );

    // The subscriber's API Access is cleared: their webhooks are paused, nothing is queued.
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let page = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", subscriber.id),
            &[],
        )
        .await;
    assert_eq!(page.status, 303);
    api.call(
        &key,
        Method::POST,
        "/api/v1/contacts",
        Some(json!({"first_name": "Paused", "last_name": "Owner"})),
    )
    .await;
    assert_eq!(pending_deliveries(&app, on_create).len(), 1);

    // Their API Access is on again: the webhook sends again.
    let actor = keyport::domain::audit::Actor {
        id: subscriber.id,
        ip: None,
    };
    keyport::domain::api_access::enable(&mut app.conn(), &actor).expect("enable again");
    api.call(
        &key,
        Method::POST,
        "/api/v1/contacts",
        Some(json!({"first_name": "Back", "last_name": "Again"})),
    )
    .await;
    assert_eq!(pending_deliveries(&app, on_create).len(), 2);
}

#[actix_web::test]
async fn a_user_manages_webhooks_in_the_browser() {
    let app = TestApp::spawn().await;
    let (bea, browser) = app.signed_in(Role::User, "Bea Browser").await;
    browser.post("/settings/api-access/enable", &[]).await;

    // Add: the secret is shown once, right away, and never cached.
    let page = browser
        .post(
            "/settings/api-access/webhooks",
            &[
                ("url", "https://hooks.example.com/bea"),
                ("entity", "Job"),
                ("operation_type", "Delete"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(page.contains("Webhook added."));
    assert!(page.contains("https://hooks.example.com/bea"));
    let secret_marker = "class=\"mono\" readonly value=\"whsec_";
    assert!(page.contains(secret_marker));
    let id: i64 = page
        .body
        .split("id=\"webhook-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("webhook id");

    // Reloading shows the row without the secret; revealing shows it again.
    let page = browser.get("/settings/api-access").await;
    assert!(!page.contains(secret_marker));
    assert!(page.contains("Reveal secret"));
    let revealed = browser
        .get(&format!("/settings/api-access/webhooks/{id}/secret"))
        .await;
    assert!(revealed.contains(secret_marker));
    assert_eq!(revealed.header("cache-control"), "no-store");

    // A refused URL says why, keeps what was typed, and adds nothing.
    let refused = browser
        .post(
            "/settings/api-access/webhooks",
            &[
                ("url", "ftp://files.example.com/"),
                ("entity", "Job"),
                ("operation_type", "Delete"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.contains("must be an http:// or https:// address"));
    assert!(refused.contains("value=\"ftp://files.example.com/\""));

    // Turn off and on, with htmx and without.
    let section = browser
        .post_htmx_form(
            &format!("/settings/api-access/webhooks/{id}/status"),
            &[("status", "Off")],
        )
        .await;
    assert_eq!(section.status, 200);
    assert!(section.contains("Webhook turned off."));
    assert!(section.contains("badge-Off"));
    let page = browser
        .post(
            &format!("/settings/api-access/webhooks/{id}/status"),
            &[("status", "On")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert!(
        browser
            .get("/settings/api-access")
            .await
            .contains("Webhook turned on.")
    );

    // With API Access off, the webhook shows as paused.
    browser.post("/settings/api-access/disable", &[]).await;
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("health-Paused"));
    assert!(
        page.contains("Paused (API Access is off): nothing is sent"),
        "{}",
        page.body
    );

    // Someone else's webhook is not there for them.
    let (_, other) = app.signed_in(Role::User, "Ola Other").await;
    assert_eq!(
        other
            .get(&format!("/settings/api-access/webhooks/{id}/secret"))
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .post(
                &format!("/settings/api-access/webhooks/{id}/status"),
                &[("status", "Off")]
            )
            .await
            .status,
        404
    );
    assert_eq!(
        other
            .post(&format!("/settings/api-access/webhooks/{id}/delete"), &[])
            .await
            .status,
        404
    );

    let page = browser
        .post(&format!("/settings/api-access/webhooks/{id}/delete"), &[])
        .await;
    assert_eq!(page.status, 303);
    let page = browser.get("/settings/api-access").await;
    assert!(page.contains("Webhook deleted."));
    assert!(!page.contains("https://hooks.example.com/bea"));
    let actions: Vec<keyport::models::AuditAction> = app
        .with_conn(|c| keyport::models::AuditEvent::for_subject(c, bea.id, 20))
        .expect("audit")
        .into_iter()
        .map(|(event, _)| event.action)
        .collect();
    assert!(actions.contains(&keyport::models::AuditAction::WebhookAdded));
    assert!(actions.contains(&keyport::models::AuditAction::WebhookDeleted));
}

#[actix_web::test]
async fn admins_turn_webhooks_off_and_on_audited_and_support_cannot() {
    let app = TestApp::spawn().await;
    let (owner, key) = app.user_with_key("Wes Webhook").await;
    let (_, hook) = app
        .api()
        .call(&key, Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://hooks.example.com/wes", "entity": "Company", "operation_type": "Update"})))
        .await;
    let id = hook["id"].as_i64().expect("id");
    let toggle = format!(
        "/admin/api-management/users/{}/webhooks/{id}/status",
        owner.id
    );
    let user_page = format!("/admin/api-management/users/{}", owner.id);

    let (_, support) = app.signed_in(Role::Support, "Sam Support").await;
    let page = support.get(&user_page).await;
    assert!(page.contains("https://hooks.example.com/wes"));
    assert!(!page.contains(&toggle));
    assert_eq!(
        support.post(&toggle, &[("status", "Off")]).await.status,
        403
    );

    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    assert!(admin.get(&user_page).await.contains(&toggle));
    let done = admin.post(&toggle, &[("status", "Off")]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), user_page);
    let page = admin.get(&user_page).await;
    assert!(page.contains("Webhook https://hooks.example.com/wes turned off."));
    assert!(page.contains("Turned a webhook off"));
    let (_, shown) = app
        .api()
        .call(&key, Method::GET, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(shown["status"], "Off");

    // htmx is told where to go instead of following a redirect into the section.
    let section = admin.post_htmx_form(&toggle, &[("status", "On")]).await;
    assert_eq!(section.status, 200);
    assert_eq!(section.header("hx-redirect"), user_page);
    let (_, shown) = app
        .api()
        .call(&key, Method::GET, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(shown["status"], "On");

    // A webhook id under the wrong user is not found.
    let (other, _) = app.user_with_key("Nia Nobody").await;
    let wrong = format!(
        "/admin/api-management/users/{}/webhooks/{id}/status",
        other.id
    );
    assert_eq!(admin.post(&wrong, &[("status", "Off")]).await.status, 404);
}
