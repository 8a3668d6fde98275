//! SQLite's writers, in one queue with group commit.
//!
//! SQLite has one write lock. A writer that meets it taken waits in the busy handler, which
//! sleeps and polls (up to 100 ms a sleep), so under load an unlucky writer slept again and
//! again while others got in: with 16 writers the p99 was over a second. Here every write of
//! this process is queued, first come first served, to one thread with one connection. It
//! takes what is waiting (up to `MOST_IN_A_GROUP`), runs each in its own savepoint of one
//! `BEGIN IMMEDIATE` transaction, commits once — one disk sync for the whole group — and only
//! then answers each writer: nothing is acknowledged before it is durable. A writer whose work
//! fails rolls back its savepoint alone; a failed commit fails the whole group.
//!
//! Checkpoints (copying the write-ahead log into the database, with a sync) run on a thread of
//! their own, not in the committing writer, so a group never waits for one. Other processes on
//! the same file still meet the busy handler; PostgreSQL, whose writers lock rows rather than
//! the database, does not use this.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::connection::{
    AnsiTransactionManager, Connection, SimpleConnection, TransactionManager,
};

use super::{DbConnection, DbPool, PooledDb};

/// How often the log is copied into the database (see `checkpoint_while`).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The most writes one transaction carries: enough to share a sync among many writers, few
/// enough that a group is not held up long by its slowest member.
const MOST_IN_A_GROUP: usize = 64;

/// One queued write. It runs on the writer's connection and says whether it succeeded; the
/// returned `Answer` hands its result to the waiting writer once the group's commit is known.
pub type Job = Box<dyn FnOnce(&mut DbConnection) -> (bool, Answer) + Send>;
/// Given the commit's failure (if it failed), answers the writer.
pub type Answer = Box<dyn FnOnce(Option<&str>) + Send>;

/// The queue's sending end; the writer and checkpointer threads end once every sender is gone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Alive while any sender is: the checkpointer watches it.
    _alive: std::sync::Arc<()>,
}

impl Writer {
    pub fn start(pool: DbPool) -> Self {
        let (send, jobs) = mpsc::channel::<Job>();
        let alive = std::sync::Arc::new(());
        let watched = std::sync::Arc::downgrade(&alive);
        let checkpoints = pool.clone();
        let started = std::thread::Builder::new()
            .name("keyport-sqlite-writer".into())
            .spawn(move || write_in_groups(&pool, &jobs))
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("keyport-sqlite-checkpoints".into())
                    .spawn(move || checkpoint_while(&checkpoints, &watched))
            });
        if let Err(e) = started {
            tracing::error!(error = %e, "cannot start the SQLite writer");
        }
        Self {
            jobs: send,
            _alive: alive,
        }
    }

    /// Queues a write; false when the writer thread is gone.
    pub fn send(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

fn write_in_groups(pool: &DbPool, jobs: &mpsc::Receiver<Job>) {
    let mut conn = None;
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MOST_IN_A_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = writer_connection(pool);
        }
        match &mut conn {
            Some(conn) => commit_group(conn, group),
            None => {
                // Dropping the jobs unrun answers each writer that the database is unavailable.
                tracing::error!(
                    writes = group.len(),
                    "queued writes could not get a connection"
                );
                drop(group);
            }
        }
    }
}

/// The writer's own connection, kept while the writer runs. It leaves checkpoints to the
/// checkpointer: run by the committing connection, a checkpoint (copying the log into the
/// database and syncing it) would hold up every writer queued behind it.
fn writer_connection(pool: &DbPool) -> Option<PooledDb> {
    let mut conn = pool
        .get()
        .map_err(|e| tracing::error!(error = %e, "the SQLite writer has no connection"))
        .ok()?;
    conn.batch_execute("PRAGMA wal_autocheckpoint = 0")
        .map_err(|e| tracing::error!(error = %e, "the SQLite writer cannot hand checkpoints off"))
        .ok()?;
    Some(conn)
}

/// Copies the write-ahead log into the database every `CHECKPOINT_EVERY`, beside the writer
/// (a passive checkpoint takes no lock writers wait for), until the writer is gone.
fn checkpoint_while(pool: &DbPool, writer: &std::sync::Weak<()>) {
    while writer.upgrade().is_some() {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Ok(mut conn) = pool.get()
            && let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")
        {
            tracing::warn!(error = %e, "a checkpoint of the SQLite log failed");
        }
    }
}

/// Runs a group in one transaction, each write in a savepoint, and answers every writer.
fn commit_group(conn: &mut DbConnection, group: Vec<Job>) {
    let begun = match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c),
    };
    if let Err(e) = begun {
        // Dropping the jobs unrun answers each writer that the database is unavailable.
        tracing::error!(error = %e, writes = group.len(), "cannot begin a group of writes");
        return;
    }
    let answers: Vec<Answer> = group
        .into_iter()
        .map(|job| in_savepoint(conn, job))
        .collect();
    let committed = <DbConnection as Connection>::TransactionManager::commit_transaction(conn);
    match committed {
        Ok(()) => answer_all(answers, None),
        Err(e) => {
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            let failure = format!("the write could not be committed: {e}");
            tracing::error!(error = %failure, writes = answers.len(), "a group of writes failed");
            answer_all(answers, Some(&failure));
        }
    }
}

/// Runs one job in its own savepoint: kept if it succeeded, rolled back if it failed or
/// panicked (a panic loses only its own savepoint, not the group).
fn in_savepoint(conn: &mut DbConnection, job: Job) -> Answer {
    type Manager = <DbConnection as Connection>::TransactionManager;
    if let Err(e) = Manager::begin_transaction(conn) {
        tracing::error!(error = %e, "cannot begin a write's savepoint");
        // Dropped unrun: its writer hears that the database is unavailable.
        return Box::new(|_: Option<&str>| {});
    }
    let (ok, answer) = catch_unwind(AssertUnwindSafe(|| job(conn)))
        .unwrap_or_else(|_| (false, Box::new(|_: Option<&str>| {}) as Answer));
    let settled = if ok {
        Manager::commit_transaction(conn)
    } else {
        Manager::rollback_transaction(conn)
    };
    if let Err(e) = settled {
        tracing::error!(error = %e, "a write's savepoint could not be settled");
    }
    answer
}

fn answer_all(answers: Vec<Answer>, failure: Option<&str>) {
    for answer in answers {
        answer(failure);
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::db::{DatabaseUrl, Db, Unavailable};

    #[derive(Debug)]
    enum WriteError {
        Refused,
        Unavailable(String),
    }

    impl From<Unavailable> for WriteError {
        fn from(e: Unavailable) -> Self {
            Self::Unavailable(e.0)
        }
    }

    /// Many writers at once: each is answered with its own result, a failed write rolls back
    /// only its own changes, and every acknowledged write is in the database.
    #[tokio::test]
    async fn writers_at_once_are_committed_together_but_fail_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::parse(&dir.path().join("w.db").to_string_lossy()).expect("url");
        let db = Db::connect(&url, 4).expect("connect");
        db.get()
            .expect("conn")
            .batch_execute("CREATE TABLE notes (n INTEGER NOT NULL)")
            .expect("table");
        let writes = (0..60i64).map(|n| {
            let db = db.clone();
            async move {
                db.write(move |c| {
                    diesel::sql_query(format!("INSERT INTO notes (n) VALUES ({n})"))
                        .execute(c)
                        .map_err(|e| WriteError::Unavailable(e.to_string()))?;
                    // Every third write fails after writing: its row must not stay.
                    if n % 3 == 0 {
                        return Err(WriteError::Refused);
                    }
                    if n == 7 {
                        panic!("a write that panics loses only its own savepoint");
                    }
                    Ok(n)
                })
                .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        let mut kept = Vec::new();
        for (n, result) in results.into_iter().enumerate() {
            match result {
                Ok(m) => kept.push(m),
                Err(WriteError::Refused) => assert_eq!(n % 3, 0),
                Err(WriteError::Unavailable(why)) => assert_eq!(n, 7, "{why}"),
            }
        }
        #[derive(QueryableByName)]
        struct Note {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut stored: Vec<i64> = diesel::sql_query("SELECT n FROM notes ORDER BY n")
            .load::<Note>(&mut db.get().expect("conn"))
            .expect("notes")
            .into_iter()
            .map(|note| note.n)
            .collect();
        stored.sort_unstable();
        kept.sort_unstable();
        assert_eq!(stored, kept);
        assert_eq!(kept.len(), 60 - 20 - 1);
    }
}
