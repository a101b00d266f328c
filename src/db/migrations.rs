//! Embedded migrations for both backends, run at start (and reverted by the
//! migration test). On PostgreSQL an advisory lock serialises instances that
//! start together.

use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{Backend, Db, DbError, DbResult, SqliteConn, sqlite_path};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An arbitrary constant naming Loupe's migration lock among advisory locks.
const PG_LOCK_KEY: i64 = 0x4c6f_7570_655f_6d69;

pub enum Direction {
    Up,
    DownAll,
}

/// Applies pending migrations (or reverts all) on a dedicated connection.
/// Returns the versions that ran.
pub async fn run(db: &Db, direction: Direction) -> DbResult<Vec<String>> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match db.backend() {
        Backend::Postgres => {
            let mut conn =
                AsyncPgConnection::establish(&db.url).await.map_err(|e| DbError::Migration(e.to_string()))?;
            conn.batch_execute(&format!("SELECT pg_advisory_lock({PG_LOCK_KEY})")).await?;
            let mut harness = AsyncMigrationHarness::new(conn);
            let ran = apply(&mut harness, POSTGRES, direction).map_err(fail);
            let mut conn = harness.into_inner();
            conn.batch_execute(&format!("SELECT pg_advisory_unlock({PG_LOCK_KEY})")).await?;
            ran
        }
        Backend::Sqlite => {
            let conn =
                SqliteConn::establish(sqlite_path(&db.url)).await.map_err(|e| DbError::Migration(e.to_string()))?;
            let mut harness = AsyncMigrationHarness::new(conn);
            apply(&mut harness, SQLITE, direction).map_err(fail)
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
