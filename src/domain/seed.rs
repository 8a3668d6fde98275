//! Generated people for trying keyport at scale and for benchmarks (`keyport seed`): realistic
//! names, emails under `people.example`, and optionally API Access on. They share one password
//! that nobody is told, so nobody signs in as them.

use super::Result;
use super::accounts::hash_password;
use super::keys::{ApiKey, webhook_secret};
use crate::db::{DbConnection, now, write_transaction};
use crate::models::user::normalize;
use crate::models::{
    Entity, NewApiKey, NewUser, NewWebhook, OperationType, Role, User, UserId, WebhookStatus,
};

const FIRST: &[&str] = &[
    "Ada",
    "Alan",
    "Barbara",
    "Claude",
    "Dennis",
    "Donald",
    "Edsger",
    "Frances",
    "Grace",
    "Hedy",
    "John",
    "Katherine",
    "Ken",
    "Leslie",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Shafi",
    "Tim",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Liskov",
    "Shannon",
    "Ritchie",
    "Knuth",
    "Dijkstra",
    "Allen",
    "Hopper",
    "Lamarr",
    "Backus",
    "Johnson",
    "Thompson",
    "Lamport",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Goldwasser",
    "Berners-Lee",
];
/// People written per transaction (each a few multi-row statements).
const BATCH: u64 = 1_000;

/// How many were added.
pub struct Seeded {
    pub users: u64,
    pub keys: u64,
    pub webhooks: u64,
}

/// Adds `count` people after those already there; with `with_keys`, each gets API Access on;
/// `webhooks` webhooks are spread over them, one per person from the first (Off, so they send
/// nothing: they are there to be listed). Bulk inserts, a thousand people per transaction.
pub fn people(
    conn: &mut DbConnection,
    count: u64,
    with_keys: bool,
    webhooks: u64,
) -> Result<Seeded> {
    let password: String = ApiKey::generate().expose().to_owned();
    let password_hash = hash_password(&password)?;
    let first = crate::models::User::count(conn)? as u64;
    let mut added = Seeded {
        users: 0,
        keys: 0,
        webhooks: 0,
    };
    let mut n = first;
    while n < first + count {
        let end = (n + BATCH).min(first + count);
        let at = now();
        let people: Vec<(String, String)> = (n..end).map(person).collect();
        let normalized: Vec<String> = people.iter().map(|(email, _)| normalize(email)).collect();
        let rows: Vec<NewUser> = people
            .iter()
            .zip(&normalized)
            .map(|((email, name), email_normalized)| NewUser {
                email,
                email_normalized,
                name,
                password_hash: &password_hash,
                role: Role::User,
                created_at: at,
                invited_at: None,
            })
            .collect();
        let keys: Vec<ApiKey> = if with_keys {
            (n..end).map(|_| ApiKey::generate()).collect()
        } else {
            Vec::new()
        };
        let hashes: Vec<[u8; 32]> = keys.iter().map(ApiKey::hash).collect();
        // Webhooks go to the first `webhooks` people, one each: by position in this batch.
        let hooks: Vec<(usize, u64, String)> = (n..end)
            .enumerate()
            .map(|(j, i)| (j, i - first))
            .filter(|(_, nth)| *nth < webhooks)
            .map(|(j, nth)| (j, nth, webhook_secret()))
            .collect();
        let urls: Vec<String> = hooks
            .iter()
            .map(|(_, nth, _)| format!("https://hooks.people.example/{nth}"))
            .collect();
        write_transaction(conn, |conn| {
            let ids = NewUser::insert_all(conn, &rows)?;
            let user_ids: Vec<UserId> = normalized.iter().map(|email| ids[email]).collect();
            let key_rows: Vec<NewApiKey> = keys
                .iter()
                .zip(&hashes)
                .zip(&user_ids)
                .map(|((key, hash), user_id)| NewApiKey {
                    prefix: key.prefix(),
                    key_hash: hash,
                    ..NewApiKey::default_key(*user_id, at)
                })
                .collect();
            if !key_rows.is_empty() {
                NewApiKey::insert_all(conn, &key_rows)?;
                User::turn_on_api_access(conn, &user_ids, at)?;
            }
            let hook_rows: Vec<NewWebhook> = hooks
                .iter()
                .zip(&urls)
                .map(|((j, nth, secret), url)| NewWebhook {
                    user_id: user_ids[*j],
                    url,
                    entity: Entity::ALL[(nth % 3) as usize],
                    operation_type: OperationType::ALL[(nth / 3 % 3) as usize],
                    status: WebhookStatus::Off,
                    secret,
                    created_at: at,
                })
                .collect();
            if !hook_rows.is_empty() {
                NewWebhook::insert_all(conn, &hook_rows)?;
            }
            Ok::<_, super::Error>(())
        })?;
        added.users += end - n;
        added.keys += keys.len() as u64;
        added.webhooks += hooks.len() as u64;
        n = end;
    }
    // What autovacuum would do in time, done now: fresh statistics, so the query planner knows
    // the tables' new sizes (without them a search at a million people plans as if the tables
    // were empty); and on PostgreSQL the visibility map, so index-only scans need not visit
    // the table to see whether a row is live.
    let finish = match conn {
        DbConnection::Postgresql(_) => "VACUUM ANALYZE",
        DbConnection::Sqlite(_) => "ANALYZE",
    };
    diesel::connection::SimpleConnection::batch_execute(conn, finish)?;
    Ok(added)
}

/// The `i`th generated person: their email and name.
fn person(i: u64) -> (String, String) {
    let given = FIRST[(i % FIRST.len() as u64) as usize];
    let family = LAST[(i / FIRST.len() as u64 % LAST.len() as u64) as usize];
    let email = format!(
        "{}.{}{i}@people.example",
        given.to_lowercase(),
        family.to_lowercase()
    );
    (email, format!("{given} {family}"))
}
