//! Both backends migrate up, down and up again cleanly.

use loupe::db::Db;
use loupe::db::migrations::{Direction, run};

use crate::harness::{Backend, TestDatabase, on_both_backends};

on_both_backends!(migrate_up_down_up);

async fn migrate_up_down_up(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, dir.path()).await;
    let db = Db::connect(&database.url, 2).await.unwrap();
    let up = run(&db, Direction::Up).await.unwrap();
    assert!(!up.is_empty());
    assert!(run(&db, Direction::Up).await.unwrap().is_empty(), "nothing pending after migrating");
    let down = run(&db, Direction::DownAll).await.unwrap();
    assert_eq!(down.len(), up.len());
    assert_eq!(run(&db, Direction::Up).await.unwrap(), up);
    // The schema works after the round trip.
    assert!(db.list_jobs("nobody", None, 1).await.unwrap().is_empty());
}
