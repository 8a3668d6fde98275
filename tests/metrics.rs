//! `/metrics` as Prometheus scrapes it: counters of requests, key checks and deliveries, the
//! delivery queue and the pool, to allowed addresses only.

use keyport::config::{AddressRanges, WebSettings};
use reqwest::Method;
use serde_json::json;

use crate::support::TestApp;

/// The value of the sample whose name and labels are exactly `series`, or 0 if absent.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.parse().expect("a number"))
}

pub async fn scrape(base: &str) -> String {
    let res = reqwest::get(format!("{}/metrics", base.trim_end_matches('/')))
        .await
        .expect("GET /metrics");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = res.text().await.expect("body");
    assert!(text.ends_with("# EOF\n"), "{text}");
    text
}

#[actix_web::test]
async fn metrics_count_requests_by_route_key_checks_by_outcome_and_read_the_queue() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Mia Metrics").await;
    let api = app.api();
    assert_eq!(api.get_me(&key).await.status(), 200);
    assert_eq!(api.get_me(&key).await.status(), 200);
    assert_eq!(api.get("/api/v1/me").await.status(), 401);
    assert_eq!(api.get_me("kp_not_a_key").await.status(), 401);
    // Well-formed, with a right checksum, but no one's key.
    let unknown = keyport::domain::keys::ApiKey::generate()
        .expose()
        .to_owned();
    assert_eq!(api.get_me(&unknown).await.status(), 401);
    assert_eq!(
        api.call(&key, Method::GET, "/api/v1/webhooks/999999", None)
            .await
            .0,
        404
    );
    // A subscribed change queues one delivery; this server has no worker, so it stays due.
    api.create_webhook(&key, "https://hooks.example.com/m", "Contact", "Create")
        .await;
    let _ = api.create_contact(&key, "Queued", "Once").await;

    // As if it had been made 90 s ago and been due since.
    app.with_conn(|c| {
        use diesel::prelude::*;
        use keyport::db::schema::deliveries;
        let then = keyport::db::now() - chrono::Duration::seconds(90);
        diesel::update(deliveries::table)
            .set((
                deliveries::created_at.eq(then),
                deliveries::next_attempt_at.eq(then),
            ))
            .execute(c)
            .expect("backdate")
    });

    let text = scrape(&app.url("")).await;
    let at = |series: &str| sample(&text, series);
    assert_eq!(
        at(r#"keyport_api_key_verifications_total{outcome="valid"}"#),
        5.0,
        "{text}"
    );
    assert_eq!(
        at(r#"keyport_api_key_verifications_total{outcome="missing"}"#),
        1.0
    );
    assert_eq!(
        at(r#"keyport_api_key_verifications_total{outcome="malformed"}"#),
        1.0
    );
    assert_eq!(
        at(r#"keyport_api_key_verifications_total{outcome="rejected"}"#),
        1.0
    );
    assert_eq!(
        at(r#"keyport_http_requests_total{method="GET",route="/api/v1/me",status="200"}"#),
        2.0
    );
    assert_eq!(
        at(r#"keyport_http_requests_total{method="GET",route="/api/v1/me",status="401"}"#),
        3.0
    );
    // The route's pattern, not the path asked for.
    assert_eq!(
        at(
            r#"keyport_http_requests_total{method="GET",route="/api/v1/webhooks/{id}",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        at(r#"keyport_http_request_duration_seconds_count{route="/api/v1/me"}"#),
        5.0
    );
    assert_eq!(at("keyport_webhook_deliveries_pending"), 1.0);
    assert_eq!(at("keyport_webhook_deliveries_due"), 1.0);
    let age = at("keyport_webhook_oldest_pending_age_seconds");
    assert!((90.0..150.0).contains(&age), "{age}");
    let late = at("keyport_webhook_oldest_due_lateness_seconds");
    assert!((90.0..150.0).contains(&late), "{late}");
    assert_eq!(at("keyport_db_pool_max_connections"), 8.0);
    assert!(at("keyport_db_pool_open_connections") >= 1.0);
    // Keys never appear, whatever was sent.
    assert!(!text.contains(&key) && !text.contains("kp_"), "{text}");
}

#[actix_web::test]
async fn metrics_answer_only_the_allowed_addresses() {
    let app = TestApp::builder()
        .web(WebSettings {
            metrics_allow: AddressRanges::parse("192.0.2.0/24").expect("ranges"),
            trusted_proxies: AddressRanges::parse("127.0.0.1").expect("ranges"),
            ..WebSettings::default()
        })
        .spawn()
        .await;
    let client = reqwest::Client::new();
    let from = |addr: &'static str| {
        client
            .get(app.url("/metrics"))
            .header("x-forwarded-for", addr)
            .send()
    };
    let refused = client.get(app.url("/metrics")).send().await.expect("GET");
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("KEYPORT_METRICS_ALLOW")
    );
    assert_eq!(from("203.0.113.9").await.expect("GET").status(), 403);
    let allowed = from("192.0.2.7").await.expect("GET");
    assert_eq!(allowed.status(), 200);
    assert!(
        allowed
            .text()
            .await
            .expect("body")
            .contains("keyport_http_requests_total")
    );
}

/// The worker counts each attempt by what became of it: failed, delivered, cancelled.
#[actix_web::test]
async fn delivery_attempts_are_counted_by_outcome() {
    use keyport::config::{DeliverySettings, RetrySchedule};
    use keyport::domain::delivery::Worker;
    use keyport::metrics::{Metrics, Pool, Queue};
    use std::sync::Arc;
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let receiver = crate::support::Receiver::start(&[500]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let metrics = Arc::new(Metrics::default());
    let settings = DeliverySettings {
        webhook_retry_schedule: RetrySchedule(vec![Duration::ZERO]),
        webhook_allow_private: true,
        ..DeliverySettings::default()
    };
    let worker = Worker::new(app.db.clone(), settings)
        .expect("worker")
        .with_metrics(metrics.clone());
    let api = app.api();
    let create = |name: &'static str| {
        api.call(
            &key,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"first_name": name, "last_name": "Counted"})),
        )
    };
    assert_eq!(create("First").await.0, 201);
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1); // answered 500
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1); // the retry, answered 200
    // Queued while On, turned Off before it is sent: cancelled.
    assert_eq!(create("Second").await.0, 201);
    let (status, _) = api
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/webhooks/{}", hook["id"]),
            Some(json!({"status": "Off"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    let text = metrics
        .render(Queue::default(), Pool::default())
        .expect("render");
    let at = |outcome: &str| {
        sample(
            &text,
            &format!(r#"keyport_webhook_delivery_attempts_total{{outcome="{outcome}"}}"#),
        )
    };
    assert_eq!(at("failed"), 1.0, "{text}");
    assert_eq!(at("delivered"), 1.0, "{text}");
    assert_eq!(at("cancelled"), 1.0, "{text}");
    assert_eq!(receiver.received().len(), 2);
}
