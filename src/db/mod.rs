//! The database: one connection pool over PostgreSQL or SQLite, the shared
//! diesel schema, its rows, and every query the rest of Loupe runs. SQL lives
//! here and nowhere else.
//!
//! Queries are written once against the portable schema and run on either
//! backend through [`db_run!`]; the few statements whose SQL really differs
//! (claiming a job) have one arm per backend.
//!
//! A lookup by a unique key ends in `get_result`, not `first`: `first` adds
//! `LIMIT ?`, and SQLite re-prepares a statement whose LIMIT is a bound
//! parameter every time it is bound again (the planner may use the value),
//! which cost 6% of the server's CPU on the small-file journey.

mod announcements;
mod cached;
mod jobs;
mod logins;
mod metrics;
pub mod migrations;
mod models;
mod schema;
mod sessions;
mod tokens;
mod uploads;
mod users;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::{Connection, SqliteConnection};
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

pub use announcements::{Announcer, JobChange, Listener, Notice};
pub use jobs::{Claim, Fence, JobFinish};
pub use metrics::{PoolFigures, QueueFigures};
pub use models::{ApiToken, Job, JobStatus, LoginAttempt, NewJob, NewUpload, Session, Upload, UploadStatus, User};

/// SQLite through diesel's synchronous driver, run where it is called.
type SqliteConn = SyncConnectionWrapper<SqliteConnection, Inline>;

/// Runs a SQLite statement on the task that awaits it, instead of handing
/// it to the blocking pool: Loupe's statements take microseconds, and the
/// hand-off (a thread woken there and another back) cost more than the
/// statements themselves; inline, a journey costs 40% less CPU. Statements
/// of this process never wait for one another: there is one connection
/// (see [`Db::connect`]), and the fsyncs of checkpoints happen in the
/// [`Checkpointer`]. Only another process writing the same file (a second
/// instance on one SQLite file) can make a statement wait for its lock, up
/// to the busy timeout, and then it holds a runtime thread while it waits
/// (on a 2-core machine the only one: see `Config::runtime_threads`).
struct Inline;

impl SpawnBlocking for Inline {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> BoxFuture<'a, Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        std::future::ready(Ok(task())).boxed()
    }

    fn get_runtime() -> Self {
        Inline
    }
}

/// Errors from this layer. Callers turn them into `INTERNAL`: a database
/// failure is never the user's fault, and its details belong in the log.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("listening to the database failed: {0}")]
    Listen(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// Which database a `DATABASE_URL` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// A pool of connections to the configured database. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    url: String,
    /// SQLite's, stopped with the last clone of the pool.
    _checkpointer: Option<Arc<Checkpointer>>,
}

#[derive(Clone)]
enum Pool {
    Postgres(DeadPool<AsyncPgConnection>),
    Sqlite(DeadPool<SqliteConn>),
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever
/// backend `$db` uses; the body is compiled once per backend. The two-arm
/// form gives each backend its own body where the SQL differs.
macro_rules! db_run {
    ($db:expr, |$conn:ident| $body:block) => {
        $crate::db::db_run!($db, postgres | $conn | $body, sqlite | $conn | $body)
    };
    ($db:expr, postgres |$pg:ident| $pg_body:block, sqlite |$lite:ident| $lite_body:block) => {
        match &$db.pool {
            $crate::db::Pool::Postgres(pool) => {
                let mut conn = pool.get().await.map_err(|e| $crate::db::DbError::Pool(e.to_string()))?;
                let $pg = &mut *conn;
                $pg_body
            }
            $crate::db::Pool::Sqlite(pool) => {
                let mut conn = pool.get().await.map_err(|e| $crate::db::DbError::Pool(e.to_string()))?;
                let $lite = &mut *conn;
                $lite_body
            }
        }
    };
}
pub(crate) use db_run;

impl Db {
    /// Opens a pool for `url`: a `postgres://` URL, or a SQLite file path
    /// (optionally prefixed `sqlite://`), created if missing.
    pub async fn connect(url: &str, pool_size: usize) -> DbResult<Db> {
        Db::connect_with(url, pool_size, Cadence::DEFAULT).await
    }

    async fn connect_with(url: &str, pool_size: usize, cadence: Cadence) -> DbResult<Db> {
        let mut checkpointer = None;
        let pool = match Backend::of_url(url) {
            Backend::Postgres => {
                let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
                Pool::Postgres(DeadPool::builder(manager).max_size(pool_size.max(1)).build().map_err(pool_error)?)
            }
            Backend::Sqlite => {
                let path = sqlite_path(url);
                if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| DbError::Pool(format!("cannot create {}: {e}", dir.display())))?;
                }
                let mut config = ManagerConfig::<SqliteConn>::default();
                config.custom_setup = Box::new(|url| connect_sqlite(url.to_owned()).boxed());
                // The default runs `SELECT 1` on every checkout to find dead
                // connections; a SQLite file's never dies.
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, config);
                // One connection: SQLite has one writer anyway, its statements
                // run inline (see `Inline`), and one connection keeps one warm
                // page cache. Tasks queue for it without blocking a thread.
                let pool = DeadPool::builder(manager).max_size(1).build().map_err(pool_error)?;
                checkpointer = Some(Arc::new(Checkpointer::start(path.to_owned(), pool.clone(), cadence).await?));
                Pool::Sqlite(pool)
            }
        };
        let db = Db { pool, url: url.to_owned(), _checkpointer: checkpointer };
        // Fail at start, not on the first request, when the database is unreachable.
        db.ping().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Postgres(_) => Backend::Postgres,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// A dedicated connection that hears of every job change (PostgreSQL
    /// only; a SQLite file has one instance, whose changes it publishes itself).
    pub async fn listen(&self) -> DbResult<Listener> {
        Listener::connect(&self.url).await
    }

    /// A dedicated connection that announces this instance's job changes
    /// to every instance (PostgreSQL only).
    pub async fn announcer(&self) -> DbResult<Announcer> {
        Announcer::connect(&self.url).await
    }

    pub async fn ping(&self) -> DbResult<()> {
        db_run!(self, |conn| { Ok(conn.batch_execute("SELECT 1").await?) })
    }
}

fn pool_error(err: impl std::fmt::Display) -> DbError {
    DbError::Pool(err.to_string())
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Every SQLite connection gets a busy timeout (another process's writer
/// makes ours wait instead of failing; set first, as switching to WAL itself
/// takes a lock), WAL (readers never block the writer), enforced foreign
/// keys, and no automatic checkpoints: a commit would then copy the log into
/// the database file and fsync it on the task that committed, stalling a
/// runtime thread; the `Checkpointer` does it instead. A log that grew past
/// 64 MiB (a burst of writes) is cut back to that when it starts over.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; \
     PRAGMA journal_size_limit = 67108864;";

async fn connect_sqlite(path: String) -> diesel::ConnectionResult<SqliteConn> {
    let mut conn = SqliteConn::establish(&path).await?;
    conn.batch_execute(SQLITE_PRAGMAS).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// When the [`Checkpointer`] works.
#[derive(Clone, Copy)]
struct Cadence {
    /// How often the write-ahead log is copied into the database file.
    every: Duration,
    /// Log frames (pages of about 4 KiB) past which the log is restarted.
    restart_frames: i64,
}

impl Cadence {
    /// Often enough that the log stays a few megabytes under a steady load
    /// (its pages are read from there until copied), rarely enough to cost
    /// nothing idle.
    const DEFAULT: Cadence = Cadence { every: Duration::from_millis(500), restart_frames: 4096 };
}

/// Checkpoints SQLite's write-ahead log from its own connection on the
/// blocking pool, where the fsyncs can wait without holding up requests. A
/// PASSIVE checkpoint never waits for the writer; it copies what it can
/// and the next one copies the rest.
///
/// Copying is not enough to bound the log: SQLite writes it from the start
/// again only when a write begins with every frame copied, and under a
/// steady load a write always comes first. The log then grew by 60 MB per
/// 800 small-file journeys, for as long as the load lasted, and every
/// frame appended to it cost more than one written over. So once the log
/// passes [`Cadence::restart_frames`], the checkpointer takes the app's
/// connection from the pool (statements wait for it without holding a
/// thread) and runs a RESTART checkpoint, which copies the few frames the
/// PASSIVE one left: a pause of a few milliseconds, and the next write
/// starts the log over.
struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

/// What `PRAGMA wal_checkpoint` answers.
#[derive(diesel::QueryableByName)]
struct Checkpointed {
    /// Frames in the log.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
}

impl Checkpointer {
    async fn start(path: String, app_pool: DeadPool<SqliteConn>, cadence: Cadence) -> DbResult<Checkpointer> {
        let mut conn = tokio::task::spawn_blocking(move || {
            let mut conn = SqliteConnection::establish(&path)?;
            // Only RESTART waits for locks; giving up soon lets the pool go.
            diesel::connection::SimpleConnection::batch_execute(&mut conn, "PRAGMA busy_timeout = 200;")?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(conn)
        })
        .await
        .map_err(pool_error)?
        .map_err(pool_error)?;
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(cadence.every).await;
                let Ok((back, passive)) = checkpoint(conn, "PASSIVE").await else { return };
                conn = back;
                let log = match passive {
                    Ok(checkpointed) => checkpointed.log,
                    Err(err) => {
                        tracing::warn!(error = %err, "SQLite checkpoint failed; retrying");
                        continue;
                    }
                };
                if log < cadence.restart_frames {
                    continue;
                }
                let Ok(held) = app_pool.get().await else { continue };
                let restarted = checkpoint(conn, "RESTART").await;
                drop(held);
                let Ok((back, restarted)) = restarted else { return };
                conn = back;
                if let Err(err) = restarted {
                    tracing::warn!(error = %err, "restarting SQLite's log failed; retrying");
                }
            }
        });
        Ok(Checkpointer { task })
    }
}

/// Runs `PRAGMA wal_checkpoint(<mode>)` on the blocking pool; the
/// connection comes back unless the runtime is shutting down.
async fn checkpoint(
    mut conn: SqliteConnection,
    mode: &'static str,
) -> Result<(SqliteConnection, diesel::QueryResult<Checkpointed>), tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || {
        use diesel::RunQueryDsl;
        let result = diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(&mut conn);
        (conn, result)
    })
    .await
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn write(db: &Db, sql: &str) -> DbResult<()> {
        db_run!(db, |conn| { Ok(conn.batch_execute(sql).await?) })
    }

    /// Writes that never pause (as 16 clients make) would grow the log by
    /// every frame they write; restarted, it stays near what one period
    /// between checkpoints fills.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_write_load_does_not_grow_the_log_forever() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steady.sqlite3");
        let cadence = Cadence { every: Duration::from_millis(20), restart_frames: 64 };
        let db = Db::connect_with(path.to_str().unwrap(), 1, cadence).await.unwrap();
        write(&db, "CREATE TABLE pad (body BLOB)").await.unwrap();
        let wal = dir.path().join("steady.sqlite3-wal");
        let started = std::time::Instant::now();
        let mut writes = 0_u64;
        while writes < 10_000 || started.elapsed() < Duration::from_millis(500) {
            // Each one changes a page, so each adds a 4 KiB frame to the log.
            write(&db, "INSERT INTO pad VALUES (randomblob(100))").await.unwrap();
            writes += 1;
        }
        // Never restarted, the log would hold a frame of each write.
        let log = std::fs::metadata(&wal).unwrap().len();
        assert!(log < writes * 4096 / 4, "a log of {log} bytes after {writes} writes");
    }
}
