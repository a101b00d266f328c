//! What `/metrics` reads from the database at each scrape. Both queries
//! touch unfinished jobs only, through the `jobs_claimable (status,
//! created_at)` index, so a scrape costs the same however many finished
//! jobs the table holds.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use super::schema::jobs;
use super::{Db, DbResult, JobStatus, Pool, db_run};

/// Unfinished jobs of the whole deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueueFigures {
    pub pending: i64,
    pub running: i64,
    /// How long the oldest job that could run now has waited since it could
    /// (since it was created, or since its retry time); zero when none waits.
    pub lag: Duration,
}

/// This instance's connection pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolFigures {
    pub in_use: usize,
    pub idle: usize,
    pub max: usize,
}

impl Db {
    pub async fn queue_figures(&self, now: NaiveDateTime) -> DbResult<QueueFigures> {
        db_run!(self, |conn| {
            let counts: Vec<(JobStatus, i64)> = jobs::table
                .filter(jobs::status.eq_any([JobStatus::Pending, JobStatus::Running]))
                .group_by(jobs::status)
                .select((jobs::status, count_star()))
                .load(conn)
                .await?;
            let oldest: Option<(NaiveDateTime, Option<NaiveDateTime>)> = jobs::table
                .filter(jobs::status.eq(JobStatus::Pending))
                .filter(jobs::lease_expires_at.is_null().or(jobs::lease_expires_at.le(now)))
                .order((jobs::created_at, jobs::id))
                .select((jobs::created_at, jobs::lease_expires_at))
                .first(conn)
                .await
                .optional()?;
            let count = |status| counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
            let waiting_since = oldest.map(|(created, run_after)| run_after.map_or(created, |at| at.max(created)));
            let lag = waiting_since.and_then(|since| (now - since).to_std().ok()).unwrap_or_default();
            Ok(QueueFigures { pending: count(JobStatus::Pending), running: count(JobStatus::Running), lag })
        })
    }

    pub fn pool_figures(&self) -> PoolFigures {
        let status = match &self.pool {
            Pool::Postgres(pool) => pool.status(),
            Pool::Sqlite(pool) => pool.status(),
        };
        // `available` counts idle connections, less the callers waiting for one.
        let idle = status.available;
        PoolFigures { in_use: status.size.saturating_sub(idle), idle, max: status.max_size }
    }
}
