//! Generated people for trying keyport at scale and for benchmarks (`keyport seed`): realistic
//! names, emails under `people.example`, and optionally API Access on. They share one password
//! that nobody is told, so nobody signs in as them.

use super::Result;
use super::accounts::hash_password;
use super::keys::ApiKey;
use crate::db::{DbConnection, now, write_transaction};
use crate::models::user::normalize;
use crate::models::{NewApiKey, NewUser, Role};

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
/// Rows written per transaction.
const BATCH: u64 = 1_000;

/// How many were added.
pub struct Seeded {
    pub users: u64,
    pub keys: u64,
}

/// Adds `count` people after those already there; with `with_keys`, each gets API Access on.
pub fn people(conn: &mut DbConnection, count: u64, with_keys: bool) -> Result<Seeded> {
    let password: String = ApiKey::generate().expose().to_owned();
    let password_hash = hash_password(&password)?;
    let first = crate::models::User::count(conn)? as u64;
    let mut added = Seeded { users: 0, keys: 0 };
    let mut n = first;
    while n < first + count {
        let end = (n + BATCH).min(first + count);
        write_transaction(conn, |conn| {
            for i in n..end {
                let given = FIRST[(i % FIRST.len() as u64) as usize];
                let family = LAST[(i / FIRST.len() as u64 % LAST.len() as u64) as usize];
                let name = format!("{given} {family}");
                let email = format!(
                    "{}.{}{i}@people.example",
                    given.to_lowercase(),
                    family.to_lowercase()
                );
                let user = NewUser {
                    email: &email,
                    email_normalized: &normalize(&email),
                    name: &name,
                    password_hash: &password_hash,
                    role: Role::User,
                    created_at: now(),
                }
                .insert(conn)?;
                if with_keys {
                    let key = ApiKey::generate();
                    NewApiKey {
                        user_id: user.id,
                        prefix: key.prefix(),
                        key_hash: &key.hash(),
                        created_at: now(),
                    }
                    .insert(conn)?;
                }
            }
            Ok::<_, super::Error>(())
        })?;
        added.users += end - n;
        if with_keys {
            added.keys += end - n;
        }
        n = end;
    }
    Ok(added)
}
