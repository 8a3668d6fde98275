//! Advanced Settings → Webhooks: every webhook of every person, the most troubled first,
//! filtered by health, searched by host or owner, paged; and API Management finding people
//! whose API Access is off.

use std::time::Duration;

use keyport::config::{DeliverySettings, RetrySchedule};
use keyport::domain::delivery::Worker;
use keyport::models::Role;

use crate::support::{Receiver, TestApp};

async fn deliver_all(app: &TestApp) {
    let worker = Worker::new(
        app.db.clone(),
        DeliverySettings {
            webhook_retry_schedule: RetrySchedule(vec![Duration::ZERO; 2]),
            webhook_timeout: Duration::from_secs(5),
            webhook_allow_private: true,
            ..DeliverySettings::default()
        },
    )
    .expect("worker");
    while worker.deliver_due().await.expect("deliver") > 0 {}
}

/// Where each URL first appears on the page.
fn position(page: &str, url: &str) -> usize {
    page.find(&format!(">{url}</a>"))
        .unwrap_or_else(|| panic!("{url} is not listed"))
}

#[actix_web::test]
async fn support_sees_every_webhook_most_troubled_first_filtered_and_searched() {
    let app = TestApp::spawn().await;
    let (failing, fine, gone, paused, off) = (
        Receiver::start(&[500, 500, 500]),
        Receiver::start(&[]),
        Receiver::start(&[410]),
        Receiver::start(&[]),
        Receiver::start(&[]),
    );
    let mut keys = Vec::new();
    for (name, receiver) in [
        ("Fay Failing", &failing),
        ("Hal Healthy", &fine),
        ("Gil Gone", &gone),
        ("Pat Paused", &paused),
        ("Owen Off", &off),
    ] {
        let (_, key) = app.user_with_key(name).await;
        app.api()
            .create_webhook(&key, &receiver.url(), "Contact", "Create")
            .await;
        keys.push(key);
    }
    // Owen turns his off; Pat turns API Access off; then a contact is made and delivered.
    let (status, hooks) = app
        .api()
        .call(&keys[4], reqwest::Method::GET, "/api/v1/webhooks", None)
        .await;
    assert_eq!(status, 200);
    let owen_hook = hooks["data"][0]["id"].as_i64().expect("id");
    app.api()
        .call(
            &keys[4],
            reqwest::Method::PATCH,
            &format!("/api/v1/webhooks/{owen_hook}"),
            Some(serde_json::json!({"status": "Off"})),
        )
        .await;
    app.api().create_contact(&keys[0], "Ada", "First").await;
    deliver_all(&app).await;
    let pat = app.user_named("Pat Paused");
    app.with_conn(|c| {
        keyport::domain::api_access::turn_off(
            c,
            &keyport::domain::audit::Actor { id: pat, ip: None },
        )
    })
    .expect("turn off");
    // One more change, not yet delivered: it waits for the two that send.
    app.api().create_contact(&keys[1], "Grace", "Second").await;

    let (_, support) = app.signed_in(Role::Support, "Sue Support").await;
    let page = support.get("/admin/webhooks").await;
    assert_eq!(page.status, 200);
    let order: Vec<usize> = [&failing, &gone, &paused, &fine, &off]
        .iter()
        .map(|r| position(&page.body, &r.url()))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "most troubled first: {order:?}"
    );
    assert!(
        page.contains("<dt>Failing now</dt><dd>1</dd>"),
        "{}",
        page.body
    );
    assert!(page.contains("<dt>Deliveries waiting</dt><dd>2</dd>"));
    assert!(page.contains("answered 500 Internal Server Error"));
    assert!(
        page.contains("0.0 % of 3"),
        "three failed attempts in the last 24 h"
    );
    assert!(page.contains("100.0 % of 1"));
    assert!(page.contains("Fay Failing") && page.contains("Gil Gone"));
    assert!(
        !page.contains("method=\"post\" action=\"/admin"),
        "support changes nothing here"
    );

    for (state, shown, hidden) in [
        ("failing", vec![&failing], vec![&fine, &gone, &paused, &off]),
        ("off", vec![&gone, &off], vec![&failing, &fine, &paused]),
        ("paused", vec![&paused], vec![&failing, &fine, &gone, &off]),
        ("healthy", vec![&fine], vec![&failing, &gone, &paused, &off]),
    ] {
        let page = support.get(&format!("/admin/webhooks?state={state}")).await;
        for r in shown {
            assert!(page.contains(&r.url()), "{state}: {}", r.url());
        }
        for r in hidden {
            assert!(!page.contains(&r.url()), "{state} hides {}", r.url());
        }
    }
    // By host (the URL without its scheme) or by owner.
    let host = fine.url().trim_start_matches("http://").to_owned();
    let port_only = &host[..host.find("/hooks").expect("path")];
    let found = support.get(&format!("/admin/webhooks?q={port_only}")).await;
    assert!(found.contains(&fine.url()) && !found.contains(&failing.url()));
    let found = support.get("/admin/webhooks?q=gil").await;
    assert!(found.contains(&gone.url()) && !found.contains(&fine.url()));
    let found = support.get("/admin/webhooks?q=gil&state=healthy").await;
    assert!(found.contains("No webhooks that are healthy matching “gil”"));
    assert_eq!(
        support.get("/admin/webhooks?state=broken").await.status,
        400
    );
    assert_eq!(support.get("/admin/webhooks?after=x").await.status, 400);

    // keyport's turning Gil's webhook off is on Gil's audit trail.
    let admin_view = support.get("/admin/api-management?q=gil&access=any").await;
    let gil = admin_view
        .body
        .split("href=\"/admin/api-management/users/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("Gil")
        .to_owned();
    let trail = support
        .get(&format!("/admin/api-management/users/{gil}"))
        .await;
    assert!(
        trail.contains("Turned a webhook off (keyport)"),
        "{}",
        trail.body
    );
    assert!(trail.contains("<td data-label=\"Who\">keyport</td>"));

    let (_, user) = app.signed_in(Role::User, "Ulla User").await;
    assert_eq!(user.get("/admin/webhooks").await.status, 403);
}

#[actix_web::test]
async fn the_overview_pages_through_every_webhook_once() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Manny Hooks").await;
    for n in 0..55 {
        app.api()
            .create_webhook(
                &key,
                &format!("https://hooks{n:02}.example.com/in"),
                "Job",
                "Update",
            )
            .await;
    }
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let first = admin.get("/admin/webhooks").await;
    let next = first.next_link().expect("a next page");
    let second = admin.get(&next).await;
    let listed = |body: &str| -> Vec<String> {
        body.split(">https://hooks")
            .skip(1)
            .map(|s| s.split('<').next().unwrap_or_default().to_owned())
            .collect()
    };
    let (a, b) = (listed(&first.body), listed(&second.body));
    assert_eq!(a.len(), 50);
    assert_eq!(b.len(), 5);
    let all: std::collections::HashSet<_> = a.iter().chain(&b).collect();
    assert_eq!(all.len(), 55, "each webhook once");
}

#[actix_web::test]
async fn api_management_finds_people_whose_api_access_is_off() {
    let app = TestApp::spawn().await;
    let (cleo, _) = app.user_with_key("Cleo Cleared").await;
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let cleared = admin
        .post(
            &format!("/admin/api-management/users/{}/clear", cleo.id),
            &[("reason", "leaked")],
        )
        .await;
    assert_eq!(cleared.status, 303);
    let on = admin.get("/admin/api-management?q=cleo").await;
    assert!(
        !on.contains("Cleo Cleared"),
        "the default lists API Access on"
    );
    for access in ["off", "any"] {
        let page = admin
            .get(&format!("/admin/api-management?q=cleo&access={access}"))
            .await;
        assert!(page.contains("Cleo Cleared"), "{access}");
        let unsearched = admin
            .get(&format!("/admin/api-management?access={access}"))
            .await;
        assert!(
            unsearched.contains("Cleo Cleared"),
            "{access} without a search"
        );
    }
    app.user_with_key("Otto On").await;
    let off = admin.get("/admin/api-management?access=off").await;
    assert!(!off.contains("Otto On"));
    assert!(
        admin
            .get("/admin/api-management?access=any")
            .await
            .contains("Otto On")
    );
    assert_eq!(
        admin.get("/admin/api-management?access=maybe").await.status,
        400
    );
}

#[actix_web::test]
async fn hourly_counts_older_than_two_days_are_dropped() {
    use diesel::prelude::*;
    use keyport::db::schema::webhook_hours;
    use keyport::models::{Webhook, WebhookId};
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Cora Counts").await;
    let hook = app
        .api()
        .create_webhook(&key, "https://hooks.example.com/in", "Job", "Update")
        .await;
    let id = WebhookId(hook["id"].as_i64().expect("id"));
    let now = keyport::db::now();
    app.with_conn(|c| {
        Webhook::count_hour(c, id, now - chrono::Duration::days(3), 5, 1)?;
        Webhook::count_hour(c, id, now, 2, 0)?;
        Webhook::count_hour(c, id, now, 1, 1)
    })
    .expect("count");
    let dropped = app
        .with_conn(keyport::domain::webhook_overview::forget_old_hours)
        .expect("forget");
    assert_eq!(dropped, 1);
    let left: Vec<(i64, i64)> = app
        .with_conn(|c| {
            webhook_hours::table
                .select((webhook_hours::delivered, webhook_hours::failed))
                .load(c)
        })
        .expect("hours");
    assert_eq!(left, vec![(3, 1)], "this hour's counts add up");
}
