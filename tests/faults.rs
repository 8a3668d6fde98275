//! Faults: many writers at once, and a backup of a live database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyport::db::schema::{api_keys, audit_events, users, webhooks};
use keyport::db::{DatabaseUrl, Db};
use keyport::models::Role;
use serde_json::json;

use crate::support::{Browser, PASSWORD, TestApp, captured_logs};

/// How long the writers hammer (20 s unless KEYPORT_HAMMER_SECONDS says otherwise).
fn hammer_time() -> Duration {
    let secs = std::env::var("KEYPORT_HAMMER_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

#[actix_web::test]
async fn eight_writers_for_20_seconds_meet_no_locked_database_and_no_server_error() {
    let app = TestApp::spawn().await;
    let admin = app.browser();
    let admin_account = app.create_user(Role::Admin, "Hana Hammer");
    assert_eq!(
        admin.sign_in(&admin_account.email, PASSWORD).await.status,
        303
    );
    let admin = Arc::new(admin);
    let mut people = Vec::new();
    for n in 0..8 {
        let user = app.create_user(Role::User, &format!("Writer {n}"));
        let browser = app.browser();
        assert_eq!(browser.sign_in(&user.email, PASSWORD).await.status, 303);
        let key = browser
            .post("/settings/api-access/enable", &[])
            .await
            .shown_key();
        let hook = app
            .api()
            .create_webhook(
                &key,
                &format!("https://hooks.example.com/{n}"),
                "Job",
                "Update",
            )
            .await;
        people.push((user, Arc::new(browser), hook["id"].as_i64().expect("id")));
    }
    let ids: Vec<_> = people.iter().map(|(user, _, _)| user.id).collect();
    let until = Instant::now() + hammer_time();
    let mut writers = Vec::new();
    for (n, (_, browser, hook)) in people.into_iter().enumerate() {
        let admin = admin.clone();
        let neighbour = ids[(n + 1) % ids.len()];
        writers.push(actix_web::rt::spawn(async move {
            let mut statuses: Vec<u16> = Vec::new();
            let mut round = 0;
            while Instant::now() < until {
                round += 1;
                statuses.push(hammer(&browser, "/settings/api-access/regenerate", &[]).await);
                let status = if round % 2 == 0 { "On" } else { "Off" };
                let path = format!("/settings/api-access/webhooks/{hook}/status");
                statuses.push(hammer(&browser, &path, &[("status", status)]).await);
                // Every third round the admin clears the neighbour's key, who enables it again.
                if round % 3 == 0 {
                    let clear = format!("/admin/api-management/users/{neighbour}/clear");
                    statuses.push(hammer(&admin, &clear, &[("reason", "hammer")]).await);
                    statuses.push(hammer(&browser, "/settings/api-access/enable", &[]).await);
                }
            }
            statuses
        }));
    }
    let mut statuses = Vec::new();
    for writer in writers {
        statuses.extend(writer.await.expect("writer"));
    }
    let server_errors = statuses.iter().filter(|s| **s >= 500).count();
    let ok = statuses.iter().filter(|s| **s < 400).count();
    println!(
        "{} writes in {:?}: {ok} done, {} refused (already on or off), {server_errors} server errors",
        statuses.len(),
        hammer_time(),
        statuses.len() - ok - server_errors
    );
    assert_eq!(server_errors, 0, "{statuses:?}");
    assert!(
        ok > statuses.len() / 2,
        "most writes succeed: {ok} of {}",
        statuses.len()
    );
    let locked: Vec<String> = captured_logs()
        .lines()
        .filter(|line| line.contains("database is locked"))
        .map(str::to_owned)
        .collect();
    assert!(locked.is_empty(), "{}", locked.join("\n"));
    // One active key per user, whatever the interleaving.
    let active: Vec<(i64, i64)> = app
        .with_conn(|c| {
            api_keys::table
                .filter(api_keys::revoked_at.is_null())
                .group_by(api_keys::user_id)
                .select((api_keys::user_id, diesel::dsl::count_star()))
                .load(c)
        })
        .expect("active keys");
    assert!(active.iter().all(|(_, n)| *n == 1), "{active:?}");
}

/// Rows of the tables a backup must keep: contacts, users, key hashes, webhooks, audit events.
fn count(db: &Db) -> (i64, i64, Vec<Vec<u8>>, i64, i64) {
    let mut c = db.get().expect("connection");
    let contacts: i64 = keyport::db::schema::contacts::table
        .count()
        .get_result(&mut c)
        .expect("contacts");
    let users: i64 = users::table.count().get_result(&mut c).expect("users");
    let keys: Vec<Vec<u8>> = api_keys::table
        .select(api_keys::key_hash)
        .order(api_keys::id)
        .load(&mut c)
        .expect("keys");
    let hooks: i64 = webhooks::table
        .count()
        .get_result(&mut c)
        .expect("webhooks");
    let audit: i64 = audit_events::table
        .count()
        .get_result(&mut c)
        .expect("audit");
    (contacts, users, keys, hooks, audit)
}

/// One htmx post; the status it got.
/// Issue 15 writers' case: 16 programs creating contacts at once, each change with its webhook
/// delivery queued. Every write is answered 201, nothing meets "database is locked", and what
/// was acknowledged is exactly what the database holds, with a delivery for each.
#[actix_web::test]
async fn sixteen_concurrent_api_writers_are_all_answered_and_all_kept() {
    use keyport::db::schema::{contacts, deliveries};
    const WRITERS: usize = 16;
    const EACH: usize = 25;
    let app = TestApp::spawn().await;
    let receiver = crate::support::Receiver::start(&[]);
    let (key, _) = app.subscriber(&receiver.url()).await;
    let started = Instant::now();
    let writers = (0..WRITERS).map(|w| {
        let api = app.api();
        let key = key.clone();
        async move {
            let mut ids = Vec::new();
            for n in 0..EACH {
                let (status, body) = api
                    .call(
                        &key,
                        reqwest::Method::POST,
                        "/api/v1/contacts",
                        Some(json!({"first_name": format!("Writer {w}"), "last_name": format!("No {n}")})),
                    )
                    .await;
                assert_eq!(status, 201, "{body}");
                ids.push(body["id"].as_i64().expect("id"));
            }
            ids
        }
    });
    let mut acknowledged: Vec<i64> = futures_util::future::join_all(writers)
        .await
        .into_iter()
        .flatten()
        .collect();
    println!(
        "{} writes by {WRITERS} writers in {:?}",
        acknowledged.len(),
        started.elapsed()
    );
    acknowledged.sort_unstable();
    let (mut stored, queued): (Vec<i64>, i64) = app.with_conn(|c| {
        (
            contacts::table
                .select(contacts::id)
                .load(c)
                .expect("contacts"),
            deliveries::table.count().get_result(c).expect("deliveries"),
        )
    });
    stored.sort_unstable();
    assert_eq!(stored, acknowledged);
    assert_eq!(queued, (WRITERS * EACH) as i64, "one delivery per change");
    let locked = captured_logs()
        .lines()
        .filter(|line| line.contains("database is locked"))
        .count();
    assert_eq!(locked, 0);
}

async fn hammer(browser: &Browser, path: &str, fields: &[(&str, &str)]) -> u16 {
    browser.post_htmx_form(path, fields).await.status
}

#[actix_web::test]
async fn a_backup_of_a_live_database_restores_every_row() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("Bea Backup").await;
    for n in 0..50 {
        app.api()
            .create_contact(&key, &format!("Kept {n}"), "Row")
            .await;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("copy.db");
    // A program keeps writing while the backup runs.
    let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let (api, key, writing) = (app.api(), key.clone(), writing.clone());
        actix_web::rt::spawn(async move {
            let mut n = 0;
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let body = json!({"first_name": format!("During {n}"), "last_name": "Row"});
                let (status, _) = api
                    .call(&key, reqwest::Method::POST, "/api/v1/contacts", Some(body))
                    .await;
                assert_eq!(status, 201);
            }
            n
        })
    };
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    let before = count(&app.db);
    let output = actix_web::web::block({
        let (url, target) = (app.database_url.clone(), target.clone());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_keyport"))
                .args(["backup", target.to_str().expect("path")])
                .env("DATABASE_URL", url)
                .env("KEYPORT_LOG", "warn")
                .output()
                .expect("run keyport backup")
        }
    })
    .await
    .expect("backup");
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    let during = writer.await.expect("writer");
    assert!(during > 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if app.database_url.starts_with("postgres") {
        // PostgreSQL has its own tool, and keyport says so.
        assert!(!output.status.success());
        assert!(stderr.contains("use pg_dump"), "{stderr}");
        return;
    }
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("backed up to"), "{stdout}");

    // Writing to the same path again is refused rather than overwriting.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_keyport"))
        .args(["backup", target.to_str().expect("path")])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .expect("run keyport backup");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Restored, the copy has every row that was there when the backup began, and is one
    // consistent moment: contacts are numbered without a gap.
    let copy = Db::connect(
        &DatabaseUrl::parse(target.to_str().expect("path")).expect("url"),
        1,
    )
    .expect("open the copy");
    let copied = count(&copy);
    assert!(
        copied.0 >= before.0 && copied.0 < before.0 + during,
        "{} of {}+",
        copied.0,
        before.0
    );
    assert_eq!(
        (copied.1, &copied.2, copied.3),
        (before.1, &before.2, before.3)
    );
    let max_id: Option<i64> = copy
        .get()
        .expect("connection")
        .transaction(|c| {
            keyport::db::schema::contacts::table
                .select(diesel::dsl::max(keyport::db::schema::contacts::id))
                .first(c)
        })
        .expect("max id");
    assert_eq!(
        max_id,
        Some(copied.0),
        "a gap: the copy is not of one moment"
    );
    // The copy is a working keyport database: the key still authenticates against it.
    let restored = crate::support::serve(target.to_str().expect("path"), &[]);
    restored.wait_until_listening().await;
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", restored.base))
        .header("X-Api-Key", &key)
        .send()
        .await
        .expect("GET /api/v1/me");
    assert_eq!(me.status(), 200);
}

#[actix_web::test]
async fn opening_a_new_sqlite_database_with_a_full_pool_meets_no_lock() {
    crate::support::TestApp::spawn().await; // installs the log capture
    let dir = tempfile::tempdir().expect("temp dir");
    for n in 0..40 {
        let path = dir.path().join(format!("fresh-{n}.db"));
        let url = DatabaseUrl::parse(path.to_str().expect("path")).expect("url");
        let db = Db::connect(&url, 8).expect("connect");
        let mode: Vec<String> = {
            #[derive(QueryableByName)]
            struct Mode {
                #[diesel(sql_type = diesel::sql_types::Text)]
                journal_mode: String,
            }
            let mut c = db.get().expect("connection");
            diesel::sql_query("PRAGMA journal_mode")
                .load::<Mode>(&mut c)
                .expect("journal mode")
                .into_iter()
                .map(|m| m.journal_mode)
                .collect()
        };
        assert_eq!(mode, ["wal"]);
    }
    let log = captured_logs();
    let locked: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("database is locked"))
        .collect();
    assert!(locked.is_empty(), "{}", locked.join("\n"));
}
