//! The database: one code path over SQLite (embedded default) and PostgreSQL.
//! The backend is chosen from the URL; blocking diesel work runs on actix's thread pool.

pub mod schema;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs the same diesel code on the connection of whichever backend this is, each arm
/// type-checked for its own backend: for what `MultiBackend` cannot express (batch inserts).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database a URL names. `postgres://` and `postgresql://` are PostgreSQL; a `sqlite://`
/// URL or a plain path is a SQLite file. Any other `scheme://` is refused rather than silently
/// becoming a SQLite file with a strange name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("the database URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(format!(
                "unknown database URL scheme `{scheme}://`: use postgres:// or a SQLite file path"
            ));
        }
        Ok(Self::Sqlite(url.to_owned()))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// Opens connections of the right variant and prepares SQLite ones so they neither lose
/// acknowledged writes nor fail with "database is locked" under concurrent writers.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(path)
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first, so that switching to WAL waits instead of failing.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

pub type DbPool = Pool<ConnectionManager>;
pub type PooledDb = PooledConnection<ConnectionManager>;

/// The database could not be reached (pool exhausted, server down, worker cancelled).
#[derive(Debug, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct Unavailable(pub String);

/// The handle the web layer holds: a pool plus the one helper that runs blocking work.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    checkouts: Arc<AtomicU64>,
    /// SQLite's writers' queue (see `write`); None on PostgreSQL, whose writers lock rows,
    /// not the database.
    writer: Option<writer::Writer>,
}

impl Db {
    pub fn connect(url: &DatabaseUrl, max_size: u32) -> Result<Self, Unavailable> {
        let manager = ConnectionManager { url: url.clone() };
        // One connection first: on a new SQLite file it switches the database to WAL, which
        // takes an exclusive lock without waiting. The pool's connections, opened together,
        // then find WAL already set instead of racing to set it ("database is locked").
        drop(
            manager
                .connect()
                .map_err(|e| Unavailable(format!("cannot open the database: {e}")))?,
        );
        let pool = Pool::builder()
            .max_size(max_size)
            // Longer than SQLite's busy timeout, so a waiting writer fails on the lock first.
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(|e| Unavailable(e.to_string()))?;
        Ok(Self {
            writer: (!url.is_postgres()).then(|| writer::Writer::start(pool.clone())),
            pool,
            checkouts: Arc::new(AtomicU64::new(0)),
        })
    }

    /// A connection for synchronous callers (the command line, tests).
    pub fn get(&self) -> Result<PooledDb, Unavailable> {
        self.checkouts.fetch_add(1, Ordering::Relaxed);
        self.pool.get().map_err(|e| Unavailable(e.to_string()))
    }

    /// How many times a connection has been taken from the pool: lets tests prove that a
    /// request was answered without touching the database.
    pub fn checkouts(&self) -> u64 {
        self.checkouts.load(Ordering::Relaxed)
    }

    /// This instance's pool, for `/metrics`.
    pub fn pool_state(&self) -> crate::metrics::Pool {
        let state = self.pool.state();
        crate::metrics::Pool {
            max: self.pool.max_size(),
            open: state.connections,
            idle: state.idle_connections,
        }
    }

    /// Runs blocking database work off the async executor.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
    {
        let db = self.clone();
        // The request's span (its id) follows the work onto the blocking thread.
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = db.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(Unavailable(e.to_string())))?
    }

    /// Runs blocking work that writes. On SQLite it joins the queue of this process's
    /// writers, which commits waiting writes together (`writer`): writers are served in turn
    /// instead of polling SQLite's lock, and share its disk syncs. The answer comes once the
    /// write is committed. On PostgreSQL it runs like `run`.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Unavailable> + Send + 'static,
    {
        let Some(queue) = &self.writer else {
            return self.run(f).await;
        };
        let (reply, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        // The request's span (its id) follows the work onto the writer's thread.
        let span = tracing::Span::current();
        let job: writer::Job = Box::new(move |conn| {
            let result = span.in_scope(|| f(conn));
            let ok = result.is_ok();
            let answer: writer::Answer = Box::new(move |failure| {
                let result = match failure {
                    Some(why) => Err(E::from(Unavailable(why.to_owned()))),
                    None => result,
                };
                let _ = reply.send(result);
            });
            (ok, answer)
        });
        if !queue.send(job) {
            return Err(E::from(Unavailable("the SQLite writer has stopped".into())));
        }
        answered
            .await
            .map_err(|_| E::from(Unavailable("the write was not carried out".into())))?
    }

    /// How many of keyport's migrations this database has not run yet.
    pub fn pending_migrations(conn: &mut DbConnection) -> Result<usize, Unavailable> {
        let pending = match conn {
            DbConnection::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|m| m.len()),
            DbConnection::Postgresql(c) => {
                c.pending_migrations(POSTGRES_MIGRATIONS).map(|m| m.len())
            }
        };
        pending.map_err(|e| Unavailable(format!("cannot read the migrations: {e}")))
    }

    /// Brings the schema up to date for the active backend. Instances starting at the same
    /// moment take turns: the first runs what is pending, the others then find nothing to do.
    pub fn migrate(&self) -> Result<(), Unavailable> {
        let mut conn = self.get()?;
        let failed = |e: &dyn std::fmt::Display| Unavailable(format!("migrations failed: {e}"));
        match &mut *conn {
            // One writer at a time: the whole run is one `BEGIN IMMEDIATE` transaction (each
            // migration a savepoint in it), and a second instance waits for the lock.
            DbConnection::Sqlite(c) => c
                .immediate_transaction(|c| c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop))
                .map_err(|e| failed(&e)),
            // A session-level advisory lock on keyport's schema, held until the run ends (or
            // the connection dies).
            DbConnection::Postgresql(c) => {
                diesel::sql_query("SELECT pg_advisory_lock($1, hashtext(current_schema()))")
                    .bind::<diesel::sql_types::Integer, _>(MIGRATION_LOCK)
                    .execute(c)
                    .map_err(|e| failed(&e))?;
                let ran = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(drop)
                    .map_err(|e| failed(&e));
                let unlocked =
                    diesel::sql_query("SELECT pg_advisory_unlock($1, hashtext(current_schema()))")
                        .bind::<diesel::sql_types::Integer, _>(MIGRATION_LOCK)
                        .execute(c)
                        .map(drop)
                        .map_err(|e| failed(&e));
                ran.and(unlocked)
            }
        }
    }
}

/// The PostgreSQL advisory lock that keyport's migrations hold ("kprt" in ASCII), with the
/// schema's hash as its second half: instances on other schemas do not wait for each other.
const MIGRATION_LOCK: i32 = 0x6b70_7274;
/// The advisory lock taken by changes that could leave no admin ("kpad").
pub const ADMINS_LOCK: i32 = 0x6b70_6164;

/// Writes a consistent copy of a live SQLite database to `path` (SQLite's `VACUUM INTO`: one
/// read transaction, so writers carry on and the copy is of one moment). PostgreSQL has
/// `pg_dump` for this.
pub fn backup(conn: &mut DbConnection, path: &std::path::Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} already exists: choose a new file for the backup",
            path.display()
        ));
    }
    let target = path
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
    match conn {
        DbConnection::Sqlite(c) => diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(target)
            .execute(c)
            .map(drop)
            .map_err(|e| format!("the backup failed: {e}")),
        DbConnection::Postgresql(_) => Err(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (for example: pg_dump --format=custom --file=keyport.dump \"$DATABASE_URL\")"
                .into(),
        ),
    }
}

/// A write transaction that takes SQLite's write lock up front (`BEGIN IMMEDIATE`): a deferred
/// transaction that reads and then writes gets SQLITE_BUSY without waiting for the lock.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let depth =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()?;
    if depth.is_some() {
        // Nested: the outer transaction already holds the lock; this becomes a savepoint.
        return conn.transaction(f);
    }
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// True when a query failed on a unique constraint (for example a second active key).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// The current time as stored: UTC, microsecond precision on both backends.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::Timelike::with_nanosecond(&now, now.and_utc().timestamp_subsec_micros() * 1000)
        .unwrap_or(now)
}

/// A random secret shared by every instance on this database, created on first use.
pub fn instance_secret(
    conn: &mut DbConnection,
    name: &str,
    len: usize,
) -> diesel::QueryResult<Vec<u8>> {
    use rand::{RngCore, TryRngCore};
    use schema::instance_secrets as s;
    let existing = s::table
        .find(name)
        .select(s::value)
        .first::<Vec<u8>>(conn)
        .optional()?;
    if let Some(value) = existing {
        return Ok(value);
    }
    let mut value = vec![0u8; len];
    rand::rngs::OsRng.unwrap_err().fill_bytes(&mut value);
    match diesel::insert_into(s::table)
        .values((s::name.eq(name), s::value.eq(&value)))
        .execute(conn)
    {
        Ok(_) => Ok(value),
        // Another instance created it first: use theirs.
        Err(e) if is_unique_violation(&e) => s::table.find(name).select(s::value).first(conn),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct Used {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        used: i32,
    }

    /// .cargo/config.toml builds the bundled SQLite with the query planner stability
    /// guarantee, without which every `LIMIT ?` query is planned again on each run, and
    /// without the mutexes that connections used by one thread at a time do not need.
    #[test]
    fn the_bundled_sqlite_keeps_its_prepared_statements_and_takes_no_needless_locks() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("SQLite");
        for (option, expected) in [
            ("ENABLE_QPSG", 1),
            ("DEFAULT_MEMSTATUS=0", 1),
            ("THREADSAFE=2", 1),
        ] {
            let used = diesel::sql_query(format!(
                "SELECT sqlite_compileoption_used('{option}') AS used"
            ))
            .get_result::<Used>(&mut conn)
            .expect("compile options");
            assert_eq!(
                used.used, expected,
                "{option}: build with the LIBSQLITE3_FLAGS of .cargo/config.toml"
            );
        }
    }
}
