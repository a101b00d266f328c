//! The database: one connection pool over PostgreSQL or SQLite, the shared
//! diesel schema, its rows, and every query the rest of Loupe runs. SQL lives
//! here and nowhere else.
//!
//! Queries are written once against the portable schema and run on either
//! backend through [`db_run!`]; the few statements whose SQL really differs
//! (claiming a job) have one arm per backend.

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

use diesel::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool as DeadPool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::FutureExt;

pub use jobs::{Claim, JobFinish};
pub use metrics::{PoolFigures, QueueFigures};
pub use models::{ApiToken, Job, JobStatus, LoginAttempt, NewJob, NewUpload, Session, Upload, UploadStatus, User};

/// SQLite through diesel's synchronous driver, run on tokio's blocking pool.
type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

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
                // The default runs `SELECT 1` on every checkout (a blocking-pool
                // hop per query) to find dead connections; a SQLite file's
                // never dies. PostgreSQL's keeps the check: a restarted server
                // leaves connections that only a query reveals.
                config.recycling_method = RecyclingMethod::Fast;
                let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, config);
                Pool::Sqlite(DeadPool::builder(manager).max_size(pool_size.max(1)).build().map_err(pool_error)?)
            }
        };
        let db = Db { pool, url: url.to_owned() };
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

/// Every SQLite connection gets a busy timeout (writers queue instead of
/// failing; set first, as switching to WAL itself takes a lock), WAL (readers
/// never block the writer) and enforced foreign keys.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

async fn connect_sqlite(path: String) -> diesel::ConnectionResult<SqliteConn> {
    let mut conn = SqliteConn::establish(&path).await?;
    conn.batch_execute(SQLITE_PRAGMAS).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}
