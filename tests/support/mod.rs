//! `TestApp`: a keyport server on a fresh database, with a browser and an API client.

mod browser;
mod logs;
mod process;
mod receiver;
mod smtp;

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use keyport::config::{DeliverySettings, WebSettings};
use keyport::db::{DatabaseUrl, Db, DbConnection, PooledDb};
use keyport::domain::accounts::{self, NewAccount};
use keyport::models::{Role, UserId};

pub use browser::{Api, Browser, KeyIn, Page, csrf_token_in};
pub use logs::captured_logs;
pub use process::{Served, free_port, serve, serve_on, serve_with_env};
pub use receiver::{Received, Receiver};
pub use smtp::{PUBLIC_URL, ReceivedMail, SmtpServer, send_all};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub db: Db,
    pub database_url: String,
    /// The key usage the app counts in memory (`flush_usage` writes it, as `serve` does).
    pub key_usage: std::sync::Arc<keyport::domain::key_usage::KeyUsage>,
    server: actix_test::TestServer,
    _database: TestDatabase,
}

/// A person in a test, with what they sign in with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: UserId,
    pub email: String,
}

enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, schema } = self
            && let Ok(mut conn) = diesel::PgConnection::establish(admin_url)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// PostgreSQL when KEYPORT_TEST_DATABASE_URL is a postgres:// URL, SQLite otherwise.
fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("KEYPORT_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let schema = unique("kp_test_");
            let mut conn = diesel::PgConnection::establish(&url)
                .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {url}: {e}"));
            conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                .expect("create test schema");
            let sep = if url.contains('?') { '&' } else { '?' };
            let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
            (
                scoped,
                TestDatabase::Postgres {
                    admin_url: url,
                    schema,
                },
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("keyport.db").to_string_lossy().into_owned();
            (path, TestDatabase::Sqlite(dir))
        }
    }
}

/// A database no keyport has touched: no tables, no migrations.
pub struct EmptyDatabase {
    pub url: String,
    _database: TestDatabase,
}

pub fn empty_database() -> EmptyDatabase {
    let (url, database) = fresh_database();
    EmptyDatabase {
        url,
        _database: database,
    }
}

/// How a test's keyport is set up: `TestApp::builder().web(…).delivery(…).spawn()`.
pub struct TestAppBuilder {
    web: WebSettings,
    delivery: DeliverySettings,
}

impl TestAppBuilder {
    /// These web settings (secure cookies, timeouts, trusted proxies, …).
    pub fn web(self, web: WebSettings) -> Self {
        Self { web, ..self }
    }

    /// These delivery settings (by default webhooks may point at this machine, where the
    /// tests' receivers listen).
    pub fn delivery(self, delivery: DeliverySettings) -> Self {
        Self { delivery, ..self }
    }

    /// keyport on a fresh database, served on a free port.
    pub async fn spawn(self) -> TestApp {
        logs::install();
        let (database_url, database) = fresh_database();
        let url = DatabaseUrl::parse(&database_url).expect("test database URL");
        let db = Db::connect(&url, 8).expect("connect to the test database");
        db.migrate().expect("migrate the test database");
        let state = keyport::AppState::new(db.clone(), self.web)
            .expect("app state")
            .with_delivery(self.delivery);
        let key_usage = state.key_usage.clone();
        let server = actix_test::start(move || keyport::app(state.clone()));
        TestApp {
            key_usage,
            db,
            database_url,
            server,
            _database: database,
        }
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            web: WebSettings::default(),
            delivery: DeliverySettings {
                webhook_allow_private: true,
                ..DeliverySettings::default()
            },
        }
    }

    /// keyport with the default settings.
    /// keyport behind a reverse proxy on this machine (127.0.0.1 is a trusted proxy).
    pub async fn behind_trusted_proxy() -> Self {
        Self::builder()
            .web(WebSettings {
                trusted_proxies: keyport::config::AddressRanges::parse("127.0.0.1")
                    .expect("ranges"),
                ..WebSettings::default()
            })
            .spawn()
            .await
    }

    pub async fn spawn() -> Self {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.url(""))
    }

    /// A browser behind a proxy that says it forwards for `addr`.
    pub fn browser_from(&self, addr: &str) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", addr.parse().expect("a header value"));
        Browser::with_headers(self.url(""), headers)
    }

    /// Moves a timestamp kept in every session of `user` (`signed_in_at`, `password_at`)
    /// `secs` into the past, as if that much time had gone by.
    pub fn backdate_sessions(&self, user: UserId, field: &str, secs: i64) {
        use diesel::prelude::*;
        use keyport::db::schema::sessions;
        self.with_conn(|c| {
            let rows: Vec<(Vec<u8>, String)> = sessions::table
                .filter(sessions::user_id.eq(user))
                .select((sessions::key_hash, sessions::state))
                .load(c)
                .expect("sessions");
            assert!(!rows.is_empty(), "the user has no session to backdate");
            for (hash, state) in rows {
                // actix-session keeps each value JSON-encoded within a map of strings.
                let mut state: std::collections::HashMap<String, String> =
                    serde_json::from_str(&state).expect("session state");
                let at: i64 = state
                    .get(field)
                    .unwrap_or_else(|| panic!("no {field} in the session"))
                    .parse()
                    .expect("a timestamp");
                state.insert(field.to_owned(), (at - secs).to_string());
                diesel::update(sessions::table.filter(sessions::key_hash.eq(hash)))
                    .set(sessions::state.eq(serde_json::to_string(&state).expect("json")))
                    .execute(c)
                    .expect("backdate");
            }
        });
    }

    pub fn api(&self) -> Api {
        Api::new(self.url(""))
    }

    pub fn conn(&self) -> PooledDb {
        self.db.get().expect("database connection")
    }

    pub fn create_user(&self, role: Role, name: &str) -> TestUser {
        let email = format!(
            "{}@example.com",
            unique(&name.to_lowercase().replace(' ', "."))
        );
        let mut conn = self.conn();
        let user = accounts::create_user(
            &mut conn,
            &NewAccount {
                email: &email,
                name,
                role,
                password: PASSWORD,
            },
        )
        .expect("create user");
        TestUser {
            id: user.id,
            email: user.email,
        }
    }

    /// A browser signed in as a new user with this role.
    pub async fn signed_in(&self, role: Role, name: &str) -> (TestUser, Browser) {
        let user = self.create_user(role, name);
        let browser = self.browser();
        let page = browser.sign_in(&user.email, PASSWORD).await;
        assert_eq!(page.status, 303, "sign-in failed: {}", page.body);
        (user, browser)
    }

    /// A user with API Access on, and their key.
    pub async fn user_with_key(&self, name: &str) -> (TestUser, String) {
        let (user, browser) = self.signed_in(Role::User, name).await;
        let key = browser
            .post("/settings/api-access/enable", &[])
            .await
            .shown_key();
        (user, key)
    }

    /// A user who subscribes `url` to Contact Create; returns their key and the webhook.
    pub async fn subscriber(&self, url: &str) -> (String, serde_json::Value) {
        let (_, key) = self.user_with_key("Sue Subscriber").await;
        let hook = self
            .api()
            .create_webhook(&key, url, "Contact", "Create")
            .await;
        (key, hook)
    }

    /// Writes the key usage counted so far, as `serve` does every few seconds.
    pub async fn flush_usage(&self) -> keyport::domain::key_usage::Flushed {
        self.key_usage.flush(&self.db).await.expect("flush usage")
    }

    /// The id of the person with this name (made by the test).
    pub fn user_named(&self, name: &str) -> UserId {
        use diesel::prelude::*;
        use keyport::db::schema::users;
        self.with_conn(|c| {
            users::table
                .filter(users::name.eq(name))
                .select(users::id)
                .first::<i64>(c)
        })
        .map(UserId)
        .unwrap_or_else(|e| panic!("nobody named {name}: {e}"))
    }

    /// Turns a person's account off or on, as `keyport user disable`/`enable` does.
    pub fn set_disabled(&self, user: UserId, disabled: bool) {
        use keyport::domain::{audit::By, people};
        self.with_conn(|c| people::set_disabled(c, By::CommandLine, user, disabled))
            .expect("turn the account off or on");
    }

    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        f(&mut self.conn())
    }
}

/// The Standard Webhooks check, written here from the specification, not taken from keyport:
/// HMAC-SHA256 of `id.timestamp.body` under the base64 part of the `whsec_` secret, compared
/// with each space-separated `v1,` signature.
pub fn verify_signature(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &str,
    signatures: &str,
) -> bool {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use hmac::{Hmac, KeyInit, Mac};
    let Ok(key) = BASE64.decode(secret.trim_start_matches("whsec_")) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return false;
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|s| s == expected)
}
