//! Webhook delivery to a real receiver on loopback, checked the way a receiver checks it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use keyport::config::{DeliverySettings, RetrySchedule};
use keyport::db::schema::{deliveries, delivery_attempts, webhooks};
use keyport::domain::delivery::Worker;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Received, Receiver, TestApp};

fn verify(secret: &str, message: &Received) -> bool {
    crate::support::verify_signature(
        secret,
        &message.id,
        &message.timestamp,
        &message.body,
        &message.signature,
    )
}

fn settings(schedule: &[u64], allow_private: bool) -> DeliverySettings {
    DeliverySettings {
        webhook_retry_schedule: RetrySchedule(
            schedule.iter().map(|s| Duration::from_secs(*s)).collect(),
        ),
        webhook_timeout: Duration::from_secs(5),
        webhook_allow_private: allow_private,
        ..DeliverySettings::default()
    }
}

/// The webhook as its owner reads it through the API.
async fn webhook_json(app: &TestApp, key: &str, id: i64) -> Value {
    let (status, hook) = app
        .api()
        .call(key, Method::GET, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(status, 200, "{hook}");
    hook
}

async fn create_contact(app: &TestApp, key: &str, first_name: &str) -> Value {
    app.api().create_contact(key, first_name, "Webhook").await
}

fn delivery_states(app: &TestApp, webhook_id: i64) -> Vec<(String, i32)> {
    app.with_conn(|c| {
        deliveries::table
            .filter(deliveries::webhook_id.eq(webhook_id))
            .order(deliveries::id.asc())
            .select((deliveries::state, deliveries::attempts))
            .load(c)
    })
    .expect("deliveries")
}

fn attempts(app: &TestApp) -> Vec<(Option<i32>, Option<String>, bool)> {
    app.with_conn(|c| {
        delivery_attempts::table
            .order(delivery_attempts::id.asc())
            .select((
                delivery_attempts::response_status,
                delivery_attempts::error,
                delivery_attempts::succeeded,
            ))
            .load(c)
    })
    .expect("attempts")
}

#[actix_web::test]
async fn each_event_reaches_the_receiver_once_signed_the_standard_way() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let secret = hook["secret"].as_str().expect("secret").to_owned();
    let worker = Worker::new(app.db.clone(), settings(&[5], true)).expect("worker");

    let mut contacts = Vec::new();
    for name in ["Ann", "Ben", "Cai"] {
        contacts.push(create_contact(&app, &key, name).await);
    }
    assert_eq!(worker.deliver_due().await.expect("deliver"), 3);
    assert_eq!(
        worker.deliver_due().await.expect("deliver"),
        0,
        "nothing is sent twice"
    );

    let received = receiver.received();
    assert_eq!(received.len(), 3);
    let now = chrono::Utc::now().timestamp();
    for (message, contact) in received.iter().zip(&contacts) {
        assert!(
            verify(&secret, message),
            "signature does not verify: {message:?}"
        );
        assert!(!verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", message));
        assert!(message.id.starts_with("msg_"));
        let sent: i64 = message.timestamp.parse().expect("unix seconds");
        assert!((now - sent).abs() < 300);
        let body: Value = serde_json::from_str(&message.body).expect("JSON body");
        assert_eq!(body["type"], "contact.created");
        assert!(body["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(body["data"], *contact);
    }
    let ids: std::collections::HashSet<&str> = received.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    let hook_id = hook["id"].as_i64().expect("id");
    assert_eq!(
        delivery_states(&app, hook_id),
        vec![("delivered".to_owned(), 1); 3]
    );
    assert!(
        attempts(&app)
            .iter()
            .all(|(status, error, ok)| *status == Some(200) && error.is_none() && *ok)
    );
}

#[actix_web::test]
async fn a_receiver_that_fails_twice_gets_three_attempts_with_the_same_id() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[500, 503]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    // No delay between attempts, so the test needs no waiting.
    let worker = Worker::new(app.db.clone(), settings(&[0, 0, 0], true)).expect("worker");
    create_contact(&app, &key, "Retry").await;
    for _ in 0..3 {
        assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    }
    assert_eq!(worker.deliver_due().await.expect("deliver"), 0);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|m| m.id == received[0].id && m.body == received[0].body)
    );
    assert_eq!(
        delivery_states(&app, hook["id"].as_i64().expect("id")),
        [("delivered".to_owned(), 3)]
    );
    let recorded = attempts(&app);
    assert_eq!(
        recorded.iter().map(|a| a.0).collect::<Vec<_>>(),
        [Some(500), Some(503), Some(200)]
    );
    assert_eq!(
        recorded[0].1.as_deref(),
        Some("the receiver answered 500 Internal Server Error")
    );
    assert_eq!(recorded.iter().filter(|a| a.2).count(), 1);
}

#[actix_web::test]
async fn retries_follow_the_schedule_and_stop_at_its_end() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[500; 10]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let hook_id = hook["id"].as_i64().expect("id");
    let worker = Worker::new(app.db.clone(), settings(&[3600, 7200], true)).expect("worker");
    create_contact(&app, &key, "Never").await;

    let next_in = || {
        let next: Option<chrono::NaiveDateTime> = app
            .with_conn(|c| {
                deliveries::table
                    .filter(deliveries::webhook_id.eq(hook_id))
                    .select(deliveries::next_attempt_at)
                    .first(c)
            })
            .expect("next");
        next.map(|n| (n - keyport::db::now()).num_seconds())
    };
    // The test's clock: make the next attempt due now instead of waiting for it.
    let advance_clock = || {
        app.with_conn(|c| {
            diesel::update(deliveries::table)
                .set(deliveries::next_attempt_at.eq(keyport::db::now()))
                .execute(c)
        })
        .expect("advance");
    };

    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    let first = next_in().expect("a retry is scheduled");
    assert!((2870..=4320).contains(&first), "1 h ± 20 %: {first}");
    assert_eq!(
        worker.deliver_due().await.expect("deliver"),
        0,
        "not due yet"
    );

    advance_clock();
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    let second = next_in().expect("a retry is scheduled");
    assert!((5750..=8640).contains(&second), "2 h ± 20 %: {second}");

    advance_clock();
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    assert_eq!(next_in(), None);
    assert_eq!(delivery_states(&app, hook_id), [("failed".to_owned(), 3)]);
    assert_eq!(receiver.received().len(), 3);
}

#[actix_web::test]
async fn a_410_turns_the_webhook_off_with_the_reason() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[410]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let worker = Worker::new(app.db.clone(), settings(&[0], true)).expect("worker");
    create_contact(&app, &key, "Gone").await;
    worker.deliver_due().await.expect("deliver");
    let shown = webhook_json(&app, &key, hook["id"].as_i64().expect("id")).await;
    assert_eq!(shown["status"], "Off");
    assert!(
        shown["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("410 Gone"))
    );
    create_contact(&app, &key, "After").await;
    assert_eq!(worker.deliver_due().await.expect("deliver"), 0);
    assert_eq!(receiver.received().len(), 1);
}

#[actix_web::test]
async fn nothing_is_sent_once_the_webhook_is_off_or_its_owner_paused() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let hook_id = hook["id"].as_i64().expect("id");
    let worker = Worker::new(app.db.clone(), settings(&[0], true)).expect("worker");

    // Queued while On, turned Off before it was sent: cancelled, never sent.
    create_contact(&app, &key, "Queued").await;
    app.with_conn(|c| {
        diesel::update(webhooks::table.find(hook_id))
            .set(webhooks::status.eq("Off"))
            .execute(c)
    })
    .expect("turn off");
    worker.deliver_due().await.expect("deliver");
    assert!(receiver.received().is_empty());
    assert_eq!(
        delivery_states(&app, hook_id),
        [("cancelled".to_owned(), 0)]
    );

    // On again: it sends again.
    app.api()
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook_id}"),
            Some(json!({"status": "On"})),
        )
        .await;
    create_contact(&app, &key, "Again").await;
    worker.deliver_due().await.expect("deliver");
    assert_eq!(receiver.received().len(), 1);
}

/// Issue 16, finding 1: someone whose account is turned off receives nothing — what was
/// queued for their webhooks is cancelled, nothing new is queued — until it is turned on again.
#[actix_web::test]
async fn a_disabled_owners_webhooks_receive_nothing_until_enabled_again() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let (owner, owner_key) = app.user_with_key("Dee Departed").await;
    let hook = app
        .api()
        .create_webhook(&owner_key, &receiver.url(), "Contact", "Create")
        .await;
    let hook_id = hook["id"].as_i64().expect("id");
    let (_, writer) = app.user_with_key("Wes Writer").await;
    let worker = Worker::new(app.db.clone(), settings(&[0], true)).expect("worker");

    // Queued while the account was on, sent after it was turned off: cancelled.
    create_contact(&app, &writer, "Queued").await;
    app.set_disabled(owner.id, true);
    worker.deliver_due().await.expect("deliver");
    // Changed while the account is off: nothing is queued for the webhook at all.
    create_contact(&app, &writer, "While away").await;
    worker.deliver_due().await.expect("deliver");
    assert!(receiver.received().is_empty());
    assert_eq!(
        delivery_states(&app, hook_id),
        [("cancelled".to_owned(), 0)]
    );

    // Turned on again: the webhook sends again.
    app.set_disabled(owner.id, false);
    create_contact(&app, &writer, "Back").await;
    worker.deliver_due().await.expect("deliver");
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].body.contains("Back"), "{}", received[0].body);
}

#[actix_web::test]
async fn private_and_metadata_addresses_are_refused_by_default() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let port = receiver.server.addr().port();
    let worker = Worker::new(app.db.clone(), settings(&[], false)).expect("worker");
    let urls = [
        receiver.url(),
        format!("http://localhost:{port}/hooks"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ];
    let mut key = String::new();
    for url in &urls {
        key = app.subscriber(url).await.0;
    }
    // IPv6 literals are not web addresses keyport takes at all (see domain::web_address).
    let (status, answer) = app
        .api()
        .call(
            &key,
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": format!("http://[::1]:{port}/"), "entity": "Contact", "operation_type": "Create"})),
        )
        .await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("url")));
    create_contact(&app, &key, "Ssrf").await;
    assert_eq!(worker.deliver_due().await.expect("deliver"), urls.len());
    assert!(receiver.received().is_empty());
    let recorded = attempts(&app);
    assert_eq!(recorded.len(), 3);
    for (status, error, ok) in recorded {
        assert_eq!(status, None);
        assert!(!ok);
        assert!(
            error.as_deref().is_some_and(|e| e.contains("refused")),
            "{error:?}"
        );
    }
    // The owner learns that a name resolves only to non-public addresses, not which ones:
    // that would let any key holder map the network's internal names (issue 16, finding 6).
    let resolved = attempts(&app)
        .into_iter()
        .filter_map(|(_, error, _)| error)
        .find(|e| e.contains("localhost"))
        .expect("the attempt to localhost");
    assert!(
        resolved.contains("resolves only to addresses that are not public"),
        "{resolved}"
    );
    assert!(
        !resolved.contains("127.0.0.1") && !resolved.contains("::1"),
        "{resolved}"
    );
}

#[actix_web::test]
async fn the_status_page_shows_attempts_and_redelivers_for_owner_and_admins_only() {
    use crate::support::PASSWORD;
    use keyport::models::Role;

    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[500]);
    let (owner, browser) = app.signed_in(Role::User, "Stu Status").await;
    let key = browser
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    let (_, hook) = app
        .api()
        .call(
            &key,
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": receiver.url(), "entity": "Contact", "operation_type": "Create"})),
        )
        .await;
    let id = hook["id"].as_i64().expect("id");
    let worker = Worker::new(app.db.clone(), settings(&[], true)).expect("worker");
    create_contact(&app, &key, "First").await;
    create_contact(&app, &key, "Second").await;
    worker.deliver_due().await.expect("deliver");
    // One failed (500, no retries in this schedule), one delivered.
    let owner_page = format!("/settings/api-access/webhooks/{id}");
    let page = browser.get(&owner_page).await;
    assert_eq!(page.status, 200);
    assert!(
        page.contains("50.0 % of 2 attempts in the last 7 days"),
        "{}",
        page.body
    );
    assert!(page.contains("aria-label=\"1 delivered and 1 failed attempts, by hour\""));
    assert!(page.contains("the receiver answered 500 Internal Server Error"));
    assert!(page.contains("answered 500"), "the response body is kept");
    assert_eq!(page.body.matches("class=\"delivery\"").count(), 2);
    let failed = browser.get(&format!("{owner_page}?outcome=failed")).await;
    assert_eq!(failed.body.matches("class=\"delivery\"").count(), 1);
    assert_eq!(
        browser
            .get(&format!("{owner_page}?outcome=lost"))
            .await
            .status,
        400
    );

    // Support reads it from API Management, and can change nothing.
    let staff_page = format!("/admin/api-management/users/{}/webhooks/{id}", owner.id);
    let support = app.browser();
    let support_user = app.create_user(Role::Support, "Sam Support");
    support.sign_in(&support_user.email, PASSWORD).await;
    let page = support.get(&staff_page).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("the receiver answered 500"));
    assert!(!page.contains("Redeliver"));
    let failed_id: i64 = failed
        .body
        .split("id=\"delivery-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("delivery id");
    assert_eq!(
        support
            .post(
                &format!("{staff_page}/deliveries/{failed_id}/redeliver"),
                &[]
            )
            .await
            .status,
        403
    );

    // Another user cannot see or redeliver it.
    let (_, stranger) = app.signed_in(Role::User, "Sia Stranger").await;
    assert_eq!(stranger.get(&owner_page).await.status, 404);
    assert_eq!(
        stranger
            .post(
                &format!("/settings/api-access/webhooks/{id}/deliveries/{failed_id}/redeliver"),
                &[]
            )
            .await
            .status,
        404
    );

    // The owner redelivers the failed one: sent again with the same webhook-id.
    let done = browser
        .post(
            &format!("/settings/api-access/webhooks/{id}/deliveries/{failed_id}/redeliver"),
            &[],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        browser
            .post(
                &format!("/settings/api-access/webhooks/{id}/deliveries/{failed_id}/redeliver"),
                &[]
            )
            .await
            .status,
        409
    );
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[2].id, received[0].id);

    // An admin may redeliver too.
    let (_, admin) = app.signed_in(Role::Admin, "Ada Admin").await;
    let page = admin.get(&staff_page).await;
    assert!(page.contains("Redeliver"));
    assert_eq!(
        admin
            .post(
                &format!("{staff_page}/deliveries/{failed_id}/redeliver"),
                &[]
            )
            .await
            .status,
        303
    );
    assert_eq!(worker.deliver_due().await.expect("deliver"), 1);
    assert_eq!(receiver.received().len(), 4);

    // The owner's audit trail shows who added the webhook and who redelivered.
    let trail = admin
        .get(&format!("/admin/api-management/users/{}", owner.id))
        .await;
    assert!(trail.contains("Added a webhook"));
    assert_eq!(
        trail.body.matches("Redelivered a webhook delivery").count(),
        2
    );
    assert!(trail.contains("Ada Admin"));
}

#[actix_web::test]
async fn a_webhook_failing_for_too_long_is_turned_off_with_the_reason() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[500; 5]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let hook_id = hook["id"].as_i64().expect("id");
    let worker = Worker::new(app.db.clone(), settings(&[0, 0], true)).expect("worker");

    // It has been failing for six days (longer than the default five).
    create_contact(&app, &key, "Failing").await;
    worker.deliver_due().await.expect("deliver");
    let six_days_ago = keyport::db::now() - chrono::Duration::days(6);
    app.with_conn(|c| {
        diesel::update(webhooks::table.find(hook_id))
            .set(webhooks::failing_since.eq(six_days_ago))
            .execute(c)
    })
    .expect("backdate");
    let shown = webhook_json(&app, &key, hook_id).await;
    assert_eq!(
        shown["status"], "On",
        "one failure alone does not turn it off"
    );

    worker.deliver_due().await.expect("deliver");
    let shown = webhook_json(&app, &key, hook_id).await;
    assert_eq!(shown["status"], "Off");
    assert!(
        shown["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("kept failing")),
        "{shown}"
    );

    // Turned on again by its owner: the reason and the streak are forgotten.
    let (_, shown) = app
        .api()
        .call(
            &key,
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook_id}"),
            Some(json!({"status": "On"})),
        )
        .await;
    assert_eq!(shown["status"], "On");
    assert_eq!(shown["disabled_reason"], Value::Null);
    let since: Option<chrono::NaiveDateTime> = app
        .with_conn(|c| {
            webhooks::table
                .find(hook_id)
                .select(webhooks::failing_since)
                .first(c)
        })
        .expect("streak");
    assert_eq!(since, None);
}

#[actix_web::test]
async fn a_killed_instance_loses_nothing_and_the_next_one_delivers_the_rest() {
    const EVENTS: usize = 30;
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_slow(&[], Duration::from_millis(200));
    let (key, hook) = app.subscriber(&receiver.url()).await;
    for n in 0..EVENTS {
        create_contact(&app, &key, &format!("Crash {n}")).await;
    }
    let flags = [
        "--webhook-allow-private",
        "--webhook-timeout",
        "2s",
        "--webhook-concurrency",
        "4",
        "--webhook-poll",
        "50ms",
        "--webhook-retry-schedule",
        "1s",
    ];
    let distinct = || {
        receiver
            .received()
            .iter()
            .map(|m| m.id.clone())
            .collect::<std::collections::HashSet<_>>()
            .len()
    };

    let mut first = crate::support::serve(&app.database_url, &flags);
    first.wait_until_listening().await;
    let started = std::time::Instant::now();
    while distinct() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first instance delivered nothing"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    // kill -9, in the middle of delivering.
    first.kill();
    let at_kill = distinct();
    assert!(
        at_kill < EVENTS,
        "everything was delivered before the kill; the test proves nothing"
    );

    // Deliveries the killed instance had claimed wait out their lease; then the next instance
    // takes them. Done when keyport has recorded every one as delivered.
    let second = crate::support::serve(&app.database_url, &flags);
    second.wait_until_listening().await;
    let hook_id = hook["id"].as_i64().expect("id");
    let started = std::time::Instant::now();
    loop {
        let states = delivery_states(&app, hook_id);
        assert_eq!(states.len(), EVENTS);
        if states.iter().all(|(state, _)| state == "delivered") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not all delivered after the restart: {states:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(distinct(), EVENTS, "every event reached the receiver");
    // Repeats only for what was sent and not yet recorded at the kill: the posts in flight (at
    // most the concurrency, 4) and those answered in the last few milliseconds, whose outcome
    // waits to be recorded with others — with a receiver that takes 200 ms, one round of 4.
    let duplicates = receiver.received().len() - EVENTS;
    println!(
        "kill -9 after {at_kill} of {EVENTS} events reached the receiver: 0 lost, {duplicates} duplicates"
    );
    assert!(duplicates <= 8, "{duplicates} duplicates");
    drop(second);
}

#[actix_web::test]
async fn a_stopped_worker_finishes_its_posts_in_flight_and_hands_back_the_queued_ones() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_slow(&[], Duration::from_millis(500));
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let hook_id = hook["id"].as_i64().expect("id");
    for n in 0..6 {
        create_contact(&app, &key, &format!("Queued {n}")).await;
    }
    let worker = Worker::new(
        app.db.clone(),
        DeliverySettings {
            webhook_concurrency: 2,
            ..settings(&[5], true)
        },
    )
    .expect("worker");
    let claimed = || {
        let now = keyport::db::now();
        app.with_conn(|c| {
            deliveries::table
                .filter(deliveries::locked_until.gt(now))
                .count()
                .get_result::<i64>(c)
        })
        .expect("claimed")
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    futures_util::join!(worker.run(stopped), async {
        let started = std::time::Instant::now();
        while receiver.arrived() < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nothing was sent"
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
        // The worker claimed all six at once: two posts in flight, four queued behind them.
        assert_eq!(claimed(), 6);
        stop.send(true).expect("stop");
    });
    // The two in flight were answered and recorded; the four queued were never sent, and are
    // free for any instance to take at once instead of when the claim would have run out.
    assert_eq!(receiver.received().len(), 2);
    assert_eq!(
        delivery_states(&app, hook_id),
        [
            ("delivered", 1),
            ("delivered", 1),
            ("pending", 0),
            ("pending", 0),
            ("pending", 0),
            ("pending", 0)
        ]
        .map(|(state, attempts)| (state.to_owned(), attempts))
    );
    assert_eq!(claimed(), 0);
    assert_eq!(
        worker.deliver_due().await.expect("deliver"),
        2,
        "the queued ones are due again at once"
    );
}

/// A receiver that misbehaves at the socket level: `answer` gets each connection after the
/// request has been read.
fn hostile_receiver(answer: fn(std::net::TcpStream)) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                // Read the head and the body, so the answer comes after the whole request.
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
                answer(stream);
            });
        }
    });
    url
}

#[actix_web::test]
async fn hostile_receivers_are_bounded_by_the_timeout_and_the_read_cap() {
    use std::io::Write;
    let app = TestApp::spawn().await;
    let endless = hostile_receiver(|mut s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        let chunk = [b'x'; 64 * 1024];
        while s.write_all(&chunk).is_ok() {}
    });
    let dripping = hostile_receiver(|mut s| {
        for byte in b"HTTP/1.1 200 OK\r\n\r\n" {
            if s.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let redirecting = hostile_receiver(|mut s| {
        let _ = s.write_all(
            b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n",
        );
    });
    let busy = hostile_receiver(|mut s| {
        let _ = s.write_all(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nbusy",
        );
    });
    let mut key = String::new();
    let mut hooks = Vec::new();
    for url in [&endless, &dripping, &redirecting, &busy] {
        let (k, hook) = app.subscriber(url).await;
        key = k;
        hooks.push(hook["id"].as_i64().expect("id"));
    }
    // Records are shared, so one new contact goes to all four at once.
    let worker = Worker::new(
        app.db.clone(),
        DeliverySettings {
            webhook_timeout: Duration::from_secs(2),
            ..settings(&[1], true)
        },
    )
    .expect("worker");
    create_contact(&app, &key, "Hostile").await;
    let started = std::time::Instant::now();
    assert_eq!(worker.deliver_due().await.expect("deliver"), 4);
    // The endless body and the slow drip are cut off by the read cap and the timeout.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let recorded = attempts(&app);
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    assert!(
        recorded.iter().any(|(s, _, ok)| *s == Some(200) && *ok),
        "the endless body's 200 is kept: {recorded:?}"
    );
    let kept: Option<String> = app
        .with_conn(|c| {
            delivery_attempts::table
                .filter(delivery_attempts::response_status.eq(200))
                .select(delivery_attempts::response_body)
                .first(c)
        })
        .expect("attempt");
    assert_eq!(
        kept.map(|b| b.len()),
        Some(1024),
        "only the first 1 KB is read and kept"
    );
    assert!(
        recorded.iter().any(|(s, e, ok)| s.is_none()
            && !ok
            && e.as_deref().is_some_and(|e| e.contains("timed out"))),
        "the slow drip times out: {recorded:?}"
    );
    assert!(
        recorded.iter().any(|(s, _, ok)| *s == Some(302) && !ok),
        "the redirect is not followed: {recorded:?}"
    );
    assert!(recorded.iter().any(|(s, _, ok)| *s == Some(429) && !ok));
    let next: Option<chrono::NaiveDateTime> = app
        .with_conn(|c| {
            deliveries::table
                .filter(deliveries::webhook_id.eq(hooks[3]))
                .select(deliveries::next_attempt_at)
                .first(c)
        })
        .expect("delivery");
    let wait = next.expect("a retry is planned") - keyport::db::now();
    assert!(
        wait.num_seconds() >= 110,
        "Retry-After: 120 is honoured, {wait}"
    );
}

#[actix_web::test]
async fn sigterm_finishes_requests_and_deliveries_in_flight_then_exits_0() {
    use std::io::{Read, Write};
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_slow(&[], Duration::from_secs(2));
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let hook_id = hook["id"].as_i64().expect("id");
    let mut served = crate::support::serve(
        &app.database_url,
        &[
            "--webhook-allow-private",
            "--webhook-poll",
            "50ms",
            "--shutdown-timeout",
            "30s",
        ],
    );
    served.wait_until_listening().await;
    for n in 0..3 {
        create_contact(&app, &key, &format!("Term {n}")).await;
    }
    let started = std::time::Instant::now();
    while receiver.arrived() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "deliveries never started"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    // A request in flight: its body is only half sent when the signal comes.
    let body = json!({"first_name": "Half", "last_name": "Sent"}).to_string();
    let addr = served.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    let head = format!(
        "POST /api/v1/contacts HTTP/1.1\r\nHost: {addr}\r\nX-Api-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream
        .write_all(&body.as_bytes()[..10])
        .expect("half the body");
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;

    served.terminate();
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "keyport still takes connections after SIGTERM"
    );
    stream
        .write_all(&body.as_bytes()[10..])
        .expect("the rest of the body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let status = served.wait_for_exit(Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{status:?}");
    // The three deliveries in flight finished and were recorded before the exit; the one the
    // last request queued waits, untouched, for the next instance.
    let states = delivery_states(&app, hook_id);
    assert_eq!(
        states,
        [
            ("delivered", 1),
            ("delivered", 1),
            ("delivered", 1),
            ("pending", 0)
        ]
        .map(|(state, attempts)| (state.to_owned(), attempts))
    );
    assert_eq!(receiver.received().len(), 3);
    let saved: i64 = app
        .with_conn(|c| {
            keyport::db::schema::contacts::table
                .filter(keyport::db::schema::contacts::first_name.eq("Half"))
                .count()
                .get_result(c)
        })
        .expect("count");
    assert_eq!(saved, 1);
}

#[actix_web::test]
async fn kill_9_during_a_burst_of_writes_loses_no_acknowledged_write_nor_its_delivery() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let (key, hook) = app.subscriber(&receiver.url()).await;
    let hook_id = hook["id"].as_i64().expect("id");
    let flags = [
        "--webhook-allow-private",
        "--webhook-poll",
        "50ms",
        "--webhook-retry-schedule",
        "1s",
    ];
    let mut first = crate::support::serve(&app.database_url, &flags);
    first.wait_until_listening().await;

    // Eight programs write as fast as they can until the instance dies under them.
    let acked = Arc::new(Mutex::new(Vec::<(i64, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (base, key, acked) = (first.base.clone(), key.clone(), acked.clone());
        writers.push(actix_web::rt::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                let name = format!("Burst {w}-{n}");
                let answer = client
                    .post(format!("{base}/api/v1/contacts"))
                    .header("X-Api-Key", &key)
                    .json(&json!({"first_name": name, "last_name": "Write"}))
                    .send()
                    .await;
                let Ok(answer) = answer else { break };
                if answer.status() != 201 {
                    break;
                }
                let Ok(contact) = answer.json::<Value>().await else {
                    break;
                };
                let id = contact["id"].as_i64().expect("id");
                acked.lock().expect("acked").push((id, name));
            }
        }));
    }
    while acked.lock().expect("acked").len() < 200 {
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill();
    for writer in writers {
        writer.await.expect("writer");
    }
    let acked = acked.lock().expect("acked").clone();

    // Every acknowledged write is there after the crash, as written.
    let stored: std::collections::HashMap<i64, String> = app
        .with_conn(|c| {
            keyport::db::schema::contacts::table
                .select((
                    keyport::db::schema::contacts::id,
                    keyport::db::schema::contacts::first_name,
                ))
                .load::<(i64, String)>(c)
        })
        .expect("contacts")
        .into_iter()
        .collect();
    for (id, name) in &acked {
        assert_eq!(
            stored.get(id),
            Some(name),
            "acknowledged contact {id} is missing"
        );
    }

    // The next instance delivers every event the acknowledged writes queued.
    let second = crate::support::serve(&app.database_url, &flags);
    second.wait_until_listening().await;
    let started = std::time::Instant::now();
    loop {
        let states = delivery_states(&app, hook_id);
        if states.len() >= acked.len() && states.iter().all(|(state, _)| state == "delivered") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "not all delivered after the restart"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered: std::collections::HashSet<i64> = receiver
        .received()
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(&m.body).ok())
        .filter_map(|event| event["data"]["id"].as_i64())
        .collect();
    for (id, _) in &acked {
        assert!(
            delivered.contains(id),
            "the delivery for contact {id} never arrived"
        );
    }
    println!(
        "kill -9 after {} acknowledged writes: none lost, every delivery made",
        acked.len()
    );
    drop(second);
}

/// Issue 15: with every post held by a slow receiver and the claim queue full, the worker
/// waits for an outcome instead of spinning on a look that is already due.
#[actix_web::test]
async fn the_worker_idles_while_receivers_are_slow() {
    const EVENTS: usize = 300;
    let app = TestApp::spawn().await;
    let receiver = Receiver::start_slow(&[], Duration::from_secs(1));
    let (key, _) = app.subscriber(&receiver.url()).await;
    let names: Vec<String> = (0..EVENTS).map(|n| format!("Slow {n}")).collect();
    for chunk in names.chunks(20) {
        futures_util::future::join_all(chunk.iter().map(|name| create_contact(&app, &key, name)))
            .await;
    }
    // The default concurrency (16) and poll: 300 deliveries fill more than half of the
    // worker's queue of 256, the state in which it used to spin.
    let served = crate::support::serve(
        &app.database_url,
        &["--webhook-allow-private", "--webhook-timeout", "5s"],
    );
    served.wait_until_listening().await;
    let started = std::time::Instant::now();
    while receiver.arrived() < 16 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nothing was sent"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let (cpu_before, wall_before) = (served.cpu_time(), std::time::Instant::now());
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let busy = (served.cpu_time() - cpu_before).as_secs_f64();
    let wall = wall_before.elapsed().as_secs_f64();
    println!("keyport used {busy:.2} CPU-seconds in {wall:.2} s while receivers were slow");
    assert!(
        receiver.arrived() < EVENTS,
        "everything arrived within the window; the test proves nothing"
    );
    assert!(
        busy < 0.2 * wall,
        "the worker used {busy:.2} CPU-seconds in {wall:.2} s while waiting on slow receivers"
    );

    // The receiver recovers: every delivery arrives, once.
    receiver.set_delay(Duration::ZERO);
    let started = std::time::Instant::now();
    while receiver.received().len() < EVENTS {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {EVENTS} arrived",
            receiver.received().len()
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let ids: std::collections::HashSet<String> =
        receiver.received().into_iter().map(|m| m.id).collect();
    assert_eq!(
        receiver.received().len(),
        EVENTS,
        "no delivery arrived twice"
    );
    assert_eq!(ids.len(), EVENTS);
    drop(served);
}
