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

    let (status, created) = api
        .call(&key, Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://hooks.example.com/in", "entity": "Contact", "operation_type": "Create"})))
        .await;
    assert_eq!(status, 201, "{created}");
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
            let (status, hook) = api
                .call(subscriber_key, Method::POST, "/api/v1/webhooks", Some(json!({"url": "https://hooks.example.com/in", "entity": entity, "operation_type": operation})))
                .await;
            assert_eq!(status, 201);
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
    assert_eq!(status, 422);
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
}
