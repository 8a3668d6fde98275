//! Several `keyport serve` processes on one database, as a load-balanced deployment runs
//! them: sessions, revocations and sign-in limits hold across instances, and webhook
//! deliveries are made once, by one of them, even when one dies.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyport::db::schema::{contacts, deliveries, delivery_attempts};
use keyport::models::Role;
use serde_json::{Value, json};

use crate::support::{Api, Browser, KeyIn, PASSWORD, Receiver, Served, TestApp, serve};

/// Flags for instances that deliver to the test's loopback receiver, quickly.
const DELIVERING: &[&str] = &[
    "--webhook-allow-private",
    "--webhook-poll",
    "50ms",
    "--webhook-timeout",
    "2s",
    "--webhook-retry-schedule",
    "1s",
];

async fn two_instances(app: &TestApp, flags: &[&str]) -> (Served, Served) {
    let (a, b) = (
        serve(&app.database_url, flags),
        serve(&app.database_url, flags),
    );
    a.wait_until_listening().await;
    b.wait_until_listening().await;
    (a, b)
}

async fn me_status(api: &Api, key: &str, how: KeyIn) -> u16 {
    api.get_me_via(key, how).await.status().as_u16()
}

#[actix_web::test]
async fn sessions_and_revocations_hold_across_two_instances() {
    let app = TestApp::spawn().await;
    let (a, b) = two_instances(&app, &[]).await;
    let (api_a, api_b) = (Api::new(a.base.clone()), Api::new(b.base.clone()));
    let ann = app.create_user(Role::User, "Ann Across");

    // Signed in on A, the same browser is signed in on B.
    let on_a = Browser::new(a.base.clone());
    assert_eq!(on_a.sign_in(&ann.email, PASSWORD).await.status, 303);
    let on_b = on_a.on(&b.base);
    let page = on_b.get("/settings/api-access").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.contains("API Access"));

    // A key enabled on A works on B, in a header and in a link.
    let first = on_a
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    assert_eq!(me_status(&api_b, &first, KeyIn::Header).await, 200);
    assert_eq!(me_status(&api_b, &first, KeyIn::Query).await, 200);

    // Regenerate New Key on A: the old key fails on B at once, the new one works.
    let second = on_a
        .post("/settings/api-access/regenerate", &[])
        .await
        .shown_key();
    assert_eq!(me_status(&api_b, &first, KeyIn::Header).await, 401);
    assert_eq!(me_status(&api_b, &first, KeyIn::Query).await, 401);
    assert_eq!(me_status(&api_b, &second, KeyIn::Header).await, 200);

    // API Access turned off on B: the key fails on A at once.
    let off = on_b.post("/settings/api-access/disable", &[]).await;
    assert!(off.status < 400, "{}", off.body);
    assert_eq!(me_status(&api_a, &second, KeyIn::Header).await, 401);

    // Enabled again on B; an admin signed in on B clears it; it fails on A at once.
    let third = on_b
        .post("/settings/api-access/enable", &[])
        .await
        .shown_key();
    assert_eq!(me_status(&api_a, &third, KeyIn::Header).await, 200);
    let admin = app.create_user(Role::Admin, "Ada Across");
    let admin_on_b = Browser::new(b.base.clone());
    assert_eq!(admin_on_b.sign_in(&admin.email, PASSWORD).await.status, 303);
    let cleared = admin_on_b
        .post(
            &format!("/admin/api-management/users/{}/clear", ann.id.0),
            &[("reason", "Moved to another team")],
        )
        .await;
    assert!(cleared.status < 400, "{}", cleared.body);
    assert_eq!(me_status(&api_a, &third, KeyIn::Header).await, 401);
    assert_eq!(me_status(&api_b, &third, KeyIn::Query).await, 401);

    // Signing out on A ends the session on B: the cookie as it was before is refused there.
    let cookie = on_a.cookie_header();
    assert!(cookie.contains("keyport_session="), "{cookie}");
    let signed_out = on_a.post("/logout", &[]).await;
    assert_eq!(signed_out.status, 303);
    let replayed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/settings/api-access", b.base))
        .header("cookie", cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(replayed.status(), 303);
    assert_eq!(
        replayed.headers()["location"],
        "/login?next=%2Fsettings%2Fapi-access"
    );
}

#[actix_web::test]
async fn sign_in_limits_count_guesses_made_at_every_instance() {
    let app = TestApp::spawn().await;
    let (a, b) = two_instances(&app, &[]).await;
    let ann = app.create_user(Role::User, "Ann Guessed");
    // Five wrong passwords at once are allowed, wherever they are sent …
    for n in 0..5 {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        let guess = Browser::new(base.clone())
            .sign_in(&ann.email, "not the password at all")
            .await;
        assert_eq!(guess.status, 401, "guess {n}: {}", guess.body);
    }
    // … and the sixth is refused by either instance, even with the right password.
    for base in [&a.base, &b.base] {
        let refused = Browser::new(base.clone())
            .sign_in(&ann.email, PASSWORD)
            .await;
        assert_eq!(refused.status, 429, "{}", refused.body);
        assert!(refused.contains("Too many sign-in attempts."));
        let wait: u64 = refused.header("retry-after").parse().expect("Retry-After");
        assert!((1..=12).contains(&wait), "{wait}");
    }
}

#[actix_web::test]
async fn two_instances_starting_at_once_on_a_new_database_migrate_it_once() {
    let empty = crate::support::empty_database();
    let (a, b) = (serve(&empty.url, &[]), serve(&empty.url, &[]));
    a.wait_until_listening().await;
    b.wait_until_listening().await;
    for instance in [&a, &b] {
        let ready = reqwest::get(format!("{}/readyz", instance.base))
            .await
            .expect("GET /readyz");
        assert_eq!(ready.status(), 200);
    }
    let db = keyport::db::Db::connect(
        &keyport::db::DatabaseUrl::parse(&empty.url).expect("URL"),
        1,
    )
    .expect("connect");
    let mut conn = db.get().expect("conn");
    let versions: Vec<String> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<MigrationVersion>(&mut conn)
            .expect("migrations")
            .into_iter()
            .map(|m| m.version)
            .collect();
    let shipped = std::fs::read_dir("migrations/sqlite")
        .expect("migrations")
        .count();
    assert_eq!(versions.len(), shipped, "{versions:?}");
    assert_eq!(
        keyport::db::Db::pending_migrations(&mut conn).expect("pending"),
        0
    );
}

#[derive(QueryableByName)]
struct MigrationVersion {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// What reached the receiver against what keyport committed.
struct Tally {
    changes: usize,
    arrivals: usize,
    lost: usize,
    duplicates: usize,
    /// Attempts keyport recorded: one per delivery when no two workers attempted the same.
    attempts: i64,
    /// Deliveries each instance made, as its `/metrics` counts them.
    delivered_by: (Option<usize>, usize),
}

/// Writes `changes` contacts through both instances (eight programs, alternating), each
/// subscribed to a loopback receiver; with `kill_after`, kills A with -9 once that many
/// deliveries have arrived. Waits until keyport has recorded every delivery as made.
async fn changes_through_two_instances(
    changes: usize,
    kill_after: Option<usize>,
) -> (Tally, Option<usize>) {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]);
    let (key, _) = app.subscriber(&receiver.url()).await;
    let (mut a, b) = two_instances(&app, DELIVERING).await;

    let next = Arc::new(Mutex::new(0..changes));
    let mut writers = Vec::new();
    for w in 0..8 {
        let bases = [a.base.clone(), b.base.clone()];
        let (key, next) = (key.clone(), next.clone());
        writers.push(actix_web::rt::spawn(async move {
            let client = reqwest::Client::new();
            let mut turn = w;
            loop {
                let Some(n) = next.lock().expect("next").next() else {
                    break;
                };
                // Alternate instances; a write to a dead one is made again at the other.
                loop {
                    turn += 1;
                    let answer = client
                        .post(format!("{}/api/v1/contacts", bases[turn % 2]))
                        .header("X-Api-Key", &key)
                        .json(&json!({"first_name": format!("Change {n}"), "last_name": "Twice"}))
                        .send()
                        .await;
                    match answer {
                        Ok(answer) => {
                            assert_eq!(answer.status(), 201);
                            break;
                        }
                        Err(_) => continue,
                    }
                }
            }
        }));
    }

    let mut in_flight_at_kill = None;
    if let Some(after) = kill_after {
        let started = Instant::now();
        while receiver.arrived() < after {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "deliveries stalled"
            );
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        a.kill();
        // Claimed and not yet recorded: what A may have sent without keyport knowing.
        let now = keyport::db::now();
        in_flight_at_kill = Some(app.with_conn(|c| {
            deliveries::table
                .filter(deliveries::state.eq("pending"))
                .filter(deliveries::locked_until.gt(now))
                .count()
                .get_result::<i64>(c)
                .expect("claimed") as usize
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }

    // Done when every committed change has a delivery recorded as made.
    let started = Instant::now();
    loop {
        let (contacts, delivered): (i64, i64) = app.with_conn(|c| {
            (
                contacts::table.count().get_result(c).expect("contacts"),
                deliveries::table
                    .filter(deliveries::state.eq("delivered"))
                    .count()
                    .get_result(c)
                    .expect("delivered"),
            )
        });
        if contacts as usize >= changes && delivered == contacts {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{delivered} of {contacts} delivered after 180 s"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    // Which instance made them, from each one's /metrics (a killed one has none to read).
    let delivered_by = |text: &str| {
        crate::metrics::sample(
            text,
            r#"keyport_webhook_delivery_attempts_total{outcome="delivered"}"#,
        ) as usize
    };
    let delivered_by_b = delivered_by(&crate::metrics::scrape(&b.base).await);
    let delivered_by_a = match kill_after {
        None => Some(delivered_by(&crate::metrics::scrape(&a.base).await)),
        Some(_) => None,
    };
    drop(b);

    let committed: HashSet<i64> = app.with_conn(|c| {
        contacts::table
            .select(contacts::id)
            .load::<i64>(c)
            .expect("contacts")
            .into_iter()
            .collect()
    });
    let received = receiver.received();
    let mut per_message: HashMap<String, usize> = HashMap::new();
    let mut arrived_contacts = HashSet::new();
    for message in &received {
        *per_message.entry(message.id.clone()).or_default() += 1;
        let event: Value = serde_json::from_str(&message.body).expect("JSON event");
        arrived_contacts.insert(event["data"]["id"].as_i64().expect("contact id"));
    }
    let tally = Tally {
        changes: committed.len(),
        arrivals: received.len(),
        lost: committed.difference(&arrived_contacts).count(),
        duplicates: per_message.values().map(|n| n - 1).sum(),
        attempts: app.with_conn(|c| {
            delivery_attempts::table
                .count()
                .get_result(c)
                .expect("attempts")
        }),
        delivered_by: (delivered_by_a, delivered_by_b),
    };
    (tally, in_flight_at_kill)
}

#[actix_web::test]
async fn five_thousand_changes_through_two_instances_arrive_exactly_once() {
    let (tally, _) = changes_through_two_instances(5_000, None).await;
    let (by_a, by_b) = (
        tally.delivered_by.0.expect("A's metrics"),
        tally.delivered_by.1,
    );
    println!(
        "two instances, {} changes: {} arrivals, {} lost, {} duplicates; A delivered {by_a}, B {by_b}",
        tally.changes, tally.arrivals, tally.lost, tally.duplicates
    );
    // Both workers took part, and together made each delivery once.
    assert!(by_a > 0 && by_b > 0, "A delivered {by_a}, B {by_b}");
    assert_eq!(by_a + by_b, 5_000);
    assert_eq!(tally.changes, 5_000);
    assert_eq!(tally.lost, 0);
    assert_eq!(tally.duplicates, 0);
    assert_eq!(tally.arrivals, 5_000);
    assert_eq!(
        tally.attempts, 5_000,
        "one attempt per delivery, by one worker"
    );
}

#[actix_web::test]
async fn kill_9_of_one_of_two_instances_loses_nothing_and_repeats_only_what_was_in_flight() {
    let (tally, in_flight) = changes_through_two_instances(5_000, Some(1_500)).await;
    let in_flight = in_flight.expect("killed");
    println!(
        "two instances, one killed with -9 after 1,500 arrivals: {} changes, {} arrivals, {} lost, {} duplicates ({in_flight} deliveries were claimed at the kill)",
        tally.changes, tally.arrivals, tally.lost, tally.duplicates
    );
    assert!(tally.changes >= 5_000);
    assert_eq!(tally.lost, 0);
    assert!(
        tally.duplicates <= in_flight,
        "{} duplicates, {in_flight} in flight",
        tally.duplicates
    );
}
