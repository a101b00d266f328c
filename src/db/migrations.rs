//! Embedded migrations for both backends, run at start (and reverted by the
//! migration test). On PostgreSQL an advisory lock serialises instances that
//! start together.
//!
//! Migrations run on a blocking thread with diesel's synchronous harness:
//! diesel-async's own harness uses `block_in_place`, which hung when two
//! instances started in one task (`join!`).

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{Backend, Db, DbError, DbResult, SQLITE_PRAGMAS, sqlite_path};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An arbitrary constant naming Loupe's migration lock among advisory locks.
const PG_LOCK_KEY: i64 = 0x4c6f_7570_655f_6d69;

#[derive(Clone, Copy)]
pub enum Direction {
    Up,
    DownAll,
}

/// Applies pending migrations (or reverts all) on a dedicated connection.
/// Returns the versions that ran.
pub async fn run(db: &Db, direction: Direction) -> DbResult<Vec<String>> {
    let (backend, url) = (db.backend(), db.url.clone());
    tokio::task::spawn_blocking(move || run_blocking(backend, &url, direction))
        .await
        .map_err(|e| DbError::Migration(e.to_string()))?
}

fn run_blocking(backend: Backend, url: &str, direction: Direction) -> DbResult<Vec<String>> {
    let failed = |e: &dyn std::fmt::Display| DbError::Migration(e.to_string());
    match backend {
        Backend::Postgres => {
            let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(url).map_err(|e| failed(&e))?;
            conn.batch_execute(&format!("SELECT pg_advisory_lock({PG_LOCK_KEY})"))?;
            let ran = apply(&mut conn, POSTGRES, direction).map_err(|e| failed(&e));
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({PG_LOCK_KEY})"))?;
            ran
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::establish(sqlite_path(url)).map_err(|e| failed(&e))?;
            conn.batch_execute(SQLITE_PRAGMAS)?;
            apply(&mut conn, SQLITE, direction).map_err(|e| failed(&e))
        }
    }
}

fn apply<H: MigrationHarness<B>, B: diesel::backend::Backend>(
    harness: &mut H,
    migrations: EmbeddedMigrations,
    direction: Direction,
) -> diesel::migration::Result<Vec<String>> {
    let versions = match direction {
        Direction::Up => harness.run_pending_migrations(migrations)?,
        Direction::DownAll => harness.revert_all_migrations(migrations)?,
    };
    Ok(versions.into_iter().map(|v| v.to_string()).collect())
}
