//! Benchmark 5's ratio: how fast keyport's webhook worker drains a backlog of deliveries to a
//! loopback receiver, against a bare HTTP client (reqwest, the same concurrency) posting the
//! same bodies with the same headers to the same receiver from this same process. Alternated in
//! short rounds (a backlog of ROUND events each); prints each round and the median ratio
//! (target ≥ 0.5), and counts what was lost or duplicated.
//!
//! SQLite always; PostgreSQL too when BENCH_POSTGRES_URL names a server (a database
//! keyport_bench_delivery is recreated there). `cargo bench --bench delivery`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use keyport::config::DeliverySettings;
use keyport::db::{DatabaseUrl, Db, DbConnection, write_transaction};
use keyport::domain::accounts::{self, NewAccount};
use keyport::domain::audit::Actor;
use keyport::domain::delivery::Worker;
use keyport::domain::{api_access, records, webhooks};
use keyport::models::Role;
use keyport::models::contact::Contact;

const ROUNDS: usize = 5;
const ROUND: usize = 2_000;
const CONCURRENCY: usize = 16;

/// One message as the receiver got it, to be sent again by the bare client.
#[derive(Clone)]
struct Message {
    headers: Vec<(String, String)>,
    body: web::Bytes,
}

#[derive(Default)]
struct Received {
    per_id: HashMap<String, usize>,
    messages: Vec<Message>,
    arrivals: usize,
}

/// A receiver on its own thread: answers 204 at once, counts by `webhook-id`.
fn receiver() -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let shared = received.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::from(shared.clone()))
                    .default_service(web::to(receive))
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("bind");
            tx.send(server.addrs()[0]).expect("address");
            server.run().await.expect("receiver");
        })
    });
    let addr = rx.recv().expect("receiver address");
    (format!("http://{addr}/hooks"), received)
}

async fn receive(
    state: web::Data<Mutex<Received>>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    let mut state = state.lock().expect("receiver");
    state.arrivals += 1;
    *state.per_id.entry(id.clone()).or_default() += 1;
    // Kept for A and B alike, so the receiver does the same work for each.
    let headers = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .map(|name| (name.to_string(), header(name)))
        .collect();
    state.messages.push(Message { headers, body });
    HttpResponse::NoContent().finish()
}

/// A subscriber with API Access on and a Contact Create webhook to `url`.
fn subscriber(conn: &mut DbConnection, url: &str) -> Actor {
    let user = accounts::create_user(
        conn,
        &NewAccount {
            email: "deliveries@bench.example",
            name: "Bench Receiver",
            role: Role::User,
            password: "a long bench password",
        },
    )
    .expect("user");
    let actor = Actor {
        id: user.id,
        ip: None,
    };
    api_access::enable(conn, &actor).expect("key");
    let new = serde_json::from_value(
        serde_json::json!({"url": url, "entity": "Contact", "operation_type": "Create"}),
    )
    .expect("subscription");
    webhooks::create(conn, &actor, new, true).expect("webhook");
    actor
}

async fn wait_for(received: &Mutex<Received>, arrivals: usize) {
    let started = Instant::now();
    while received.lock().expect("receiver").arrivals < arrivals {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "deliveries stalled"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// With BENCH_PHASES set, each timed phase is written to standard error on the monotonic clock
/// that `perf record -k mono` stamps samples with: bench/profile-delivery splits a profile by it.
struct Phase {
    label: String,
    /// None without BENCH_PHASES.
    start: Option<f64>,
}

impl Phase {
    fn start(backend: &str, side: &str) -> Self {
        Phase {
            label: format!("{backend} {side}"),
            start: std::env::var_os("BENCH_PHASES").map(|_| monotonic()),
        }
    }

    fn end(self) {
        if let Some(start) = self.start {
            eprintln!("phase {} {start:.6} {:.6} {ROUND}", self.label, monotonic());
        }
    }
}

fn monotonic() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// Deliveries not recorded as made.
fn undelivered(db: &Db) -> i64 {
    use diesel::prelude::*;
    use keyport::db::schema::deliveries;
    deliveries::table
        .filter(deliveries::state.ne("delivered"))
        .count()
        .get_result(&mut db.get().expect("conn"))
        .expect("count")
}

async fn backend(label: &str, url: &str) {
    let db = Db::connect(&DatabaseUrl::parse(url).expect("URL"), 4).expect("connect");
    db.migrate().expect("migrate");
    let (hook_url, received) = receiver();
    let actor = subscriber(&mut db.get().expect("conn"), &hook_url);
    let settings = DeliverySettings {
        webhook_allow_private: true,
        webhook_concurrency: CONCURRENCY,
        webhook_timeout: Duration::from_secs(5),
        ..DeliverySettings::default()
    };
    let worker = Worker::new(db.clone(), settings).expect("worker");
    let bare = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        // A backlog, in one transaction (not timed; it keeps a profile of the run about the
        // worker and the client rather than about writing records).
        let mut conn = db.get().expect("conn");
        write_transaction(&mut conn, |conn| {
            for n in 0..ROUND {
                let fields = serde_json::from_value(serde_json::json!({
                    "first_name": format!("Round {round}"), "last_name": format!("Change {n}")
                }))
                .expect("fields");
                records::create::<Contact>(conn, actor.id, fields)?;
            }
            Ok::<_, keyport::domain::Error>(())
        })
        .expect("backlog");
        drop(conn);
        let before = received.lock().expect("receiver").arrivals;

        // A: keyport's worker, as `keyport serve` runs it, claims, signs, posts and records
        // every one; timed until it has stopped with everything recorded.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let started = Instant::now();
        let phase = Phase::start(label, "keyport");
        futures_util::join!(worker.run(stopped), async {
            wait_for(&received, before + ROUND).await;
            let _ = stop.send(true);
        });
        let keyport = started.elapsed();
        phase.end();
        assert_eq!(
            undelivered(&db),
            0,
            "the worker stopped with deliveries not recorded as made"
        );

        // B: the same bodies and headers, posted by a bare client, as many at once.
        let messages: Vec<Message> = {
            let state = received.lock().expect("receiver");
            state.messages[state.messages.len() - ROUND..].to_vec()
        };
        let started = Instant::now();
        let phase = Phase::start(label, "bare");
        futures_util::stream::iter(messages.into_iter().enumerate())
            .for_each_concurrent(CONCURRENCY, |(n, message)| {
                let (bare, hook_url) = (bare.clone(), hook_url.clone());
                async move {
                    let mut post = bare
                        .post(&hook_url)
                        .header("content-type", "application/json")
                        .body(message.body);
                    for (name, value) in message.headers {
                        let value = if name == "webhook-id" {
                            format!("bare-{round}-{n}")
                        } else {
                            value
                        };
                        post = post.header(name, value);
                    }
                    let answer = post.send().await.expect("bare POST");
                    assert_eq!(answer.status(), 204);
                }
            })
            .await;
        let plain = started.elapsed();
        phase.end();
        let ratio = plain.as_secs_f64() / keyport.as_secs_f64();
        println!(
            "{label} round {round}: keyport {:.0} deliveries/s, bare client {:.0} posts/s, ratio {ratio:.3}",
            ROUND as f64 / keyport.as_secs_f64(),
            ROUND as f64 / plain.as_secs_f64()
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    let state = received.lock().expect("receiver");
    let keyport_ids: Vec<usize> = state
        .per_id
        .iter()
        .filter(|(id, _)| !id.starts_with("bare-"))
        .map(|(_, n)| *n)
        .collect();
    let lost = ROUNDS * ROUND - keyport_ids.len();
    let duplicated: usize = keyport_ids.iter().map(|n| n - 1).sum();
    println!(
        "{label} webhook delivery: ratio {:.3} (median of {ROUNDS} rounds of {ROUND}; target >= 0.5: {}); {lost} lost, {duplicated} duplicated",
        ratios[ROUNDS / 2],
        if ratios[ROUNDS / 2] >= 0.5 {
            "met"
        } else {
            "MISSED"
        },
    );
}

fn main() {
    // `cargo bench` passes `--bench`; there are no options to read.
    actix_web::rt::System::new().block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        backend(
            "SQLite",
            &dir.path().join("delivery.db").display().to_string(),
        )
        .await;
        if let Ok(server) = std::env::var("BENCH_POSTGRES_URL") {
            let status = std::process::Command::new("psql")
                .args([
                    &format!("{server}/postgres"),
                    "-qc",
                    "DROP DATABASE IF EXISTS keyport_bench_delivery WITH (FORCE)",
                    "-c",
                    "CREATE DATABASE keyport_bench_delivery",
                ])
                .status()
                .expect("psql");
            assert!(status.success());
            backend("PostgreSQL", &format!("{server}/keyport_bench_delivery")).await;
        }
    });
}
