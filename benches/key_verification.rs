//! Benchmark 2: checking an API key in process — parse, checksum, blake3 hash and the indexed
//! lookup of the active key with its owner — against a plain primary-key lookup of the same
//! row and owner; and refusing a malformed key, which never reaches the database.
//!
//! SQLite always; PostgreSQL too when BENCH_POSTGRES_URL names a server (a database
//! keyport_bench_keys is recreated there). `cargo bench --bench key_verification`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use keyport::db::schema::{api_keys, users};
use keyport::db::{DatabaseUrl, Db, DbConnection};
use keyport::domain::accounts::{self, NewAccount};
use keyport::domain::api_access;
use keyport::domain::audit::Actor;
use keyport::domain::keys::ApiKey;
use keyport::models::{ApiKeyRow, Role, User};

/// A database with a thousand people with keys around the one measured.
fn prepared(url: &str) -> (Db, String, i64) {
    let db = Db::connect(&DatabaseUrl::parse(url).expect("URL"), 2).expect("connect");
    db.migrate().expect("migrate");
    let mut conn = db.get().expect("conn");
    keyport::domain::seed::people(&mut conn, 1_000, true, 0).expect("seed");
    let user = accounts::create_user(
        &mut conn,
        &NewAccount {
            email: "bench@example.com",
            name: "Bench Mark",
            role: Role::User,
            password: "a long bench password",
        },
    )
    .expect("user");
    let issued = api_access::enable(
        &mut conn,
        &Actor {
            id: user.id,
            ip: None,
        },
    )
    .expect("key");
    let key = issued.key.expose().to_owned();
    drop(conn);
    (db, key, issued.row.id)
}

/// What the API does with a presented key (its last use is recorded at most once a minute,
/// so that write is not part of the steady state).
fn check_key(conn: &mut DbConnection, presented: &str) -> Option<(ApiKeyRow, User)> {
    let key = ApiKey::parse(presented)?;
    ApiKeyRow::find_by_hash(conn, &key.hash()).expect("lookup")
}

/// The same row and owner, by the key's primary key.
fn by_primary_key(conn: &mut DbConnection, id: i64) -> Option<(ApiKeyRow, User)> {
    api_keys::table
        .inner_join(users::table)
        .filter(api_keys::id.eq(id))
        .select((ApiKeyRow::as_select(), User::as_select()))
        .first(conn)
        .optional()
        .expect("lookup")
}

fn backend(c: &mut Criterion, label: &str, url: &str) {
    let (db, key, id) = prepared(url);
    let mut conn = db.get().expect("conn");
    assert!(check_key(&mut conn, &key).is_some());
    let mut group = c.benchmark_group(format!("key verification ({label})"));
    group.bench_function("parse + checksum + hash + lookup", |b| {
        b.iter(|| check_key(&mut conn, black_box(&key)))
    });
    group.bench_function("primary-key lookup of the same row", |b| {
        b.iter(|| by_primary_key(&mut conn, black_box(id)))
    });
    group.finish();
}

fn key_verification(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    backend(
        c,
        "SQLite",
        &dir.path().join("keys.db").display().to_string(),
    );
    if let Ok(server) = std::env::var("BENCH_POSTGRES_URL") {
        let mut admin =
            diesel::PgConnection::establish(&format!("{server}/postgres")).expect("PostgreSQL");
        for statement in [
            "DROP DATABASE IF EXISTS keyport_bench_keys WITH (FORCE)",
            "CREATE DATABASE keyport_bench_keys",
        ] {
            diesel::connection::SimpleConnection::batch_execute(&mut admin, statement)
                .expect("database");
        }
        backend(c, "PostgreSQL", &format!("{server}/keyport_bench_keys"));
    }
}

/// Refusing what is not a keyport key: no database is open at all here.
fn malformed(c: &mut Criterion) {
    let mut group = c.benchmark_group("malformed key");
    let wrong_checksum = format!("kp_{}AAAAAA", "a".repeat(32));
    group.bench_function("wrong checksum", |b| {
        b.iter(|| assert!(ApiKey::parse(black_box(&wrong_checksum)).is_none()))
    });
    group.bench_function("not a key", |b| {
        b.iter(|| assert!(ApiKey::parse(black_box("Bearer something-else entirely")).is_none()))
    });
    group.finish();
}

criterion_group!(benches, key_verification, malformed);
criterion_main!(benches);
