use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use diesel_async::RunQueryDsl;

use super::schema::{jobs, uploads};
use super::{Backend, Db, DbResult, Job, JobStatus, Upload, db_run};

/// What a worker asks for when it claims a job.
pub struct Claim<'a> {
    pub worker_id: &'a str,
    pub now: NaiveDateTime,
    pub lease_until: NaiveDateTime,
}

/// How an attempt ended.
pub enum JobFinish<'a> {
    Succeeded {
        result: &'a str,
    },
    Failed {
        code: &'a str,
        message: &'a str,
    },
    /// The attempt failed for a reason that may pass (storage unreachable…):
    /// the job goes back to PENDING for another attempt, not before
    /// `run_after`. A PENDING job keeps that time in `lease_expires_at`: it
    /// is nobody's until then.
    Retry {
        message: &'a str,
        run_after: NaiveDateTime,
    },
    /// The worker is shutting down: hand the job back without counting the attempt.
    Release,
}

impl Db {
    pub async fn find_job(&self, owner_id: &str, id: &str) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            Ok(jobs::table
                .filter(jobs::id.eq(id).and(jobs::owner_id.eq(owner_id)))
                .select(Job::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    pub async fn find_job_for_upload(&self, upload_id: &str) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            Ok(jobs::table
                .filter(jobs::upload_id.eq(upload_id))
                .select(Job::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// The stored output of the owner's job, if it has one.
    pub async fn find_job_result(&self, owner_id: &str, id: &str) -> DbResult<Option<String>> {
        db_run!(self, |conn| {
            Ok(jobs::table
                .filter(jobs::id.eq(id).and(jobs::owner_id.eq(owner_id)))
                .select(jobs::result)
                .first::<Option<String>>(conn)
                .await
                .optional()?
                .flatten())
        })
    }

    /// The owner's jobs with their uploads, newest first, starting after the
    /// job `after` (ids are UUIDv7 strings, so their order is creation order).
    pub async fn list_jobs(&self, owner_id: &str, after: Option<&str>, limit: i64) -> DbResult<Vec<(Job, Upload)>> {
        db_run!(self, |conn| {
            let mut query = jobs::table
                .inner_join(uploads::table)
                .filter(jobs::owner_id.eq(owner_id))
                .select((Job::as_select(), Upload::as_select()))
                .order(jobs::id.desc())
                .limit(limit)
                .into_boxed();
            if let Some(after) = after {
                query = query.filter(jobs::id.lt(after));
            }
            Ok(query.load(conn).await?)
        })
    }

    /// Atomically takes the oldest claimable job: one PENDING (past its retry
    /// delay, if it has one), or one whose
    /// worker's lease ran out (that worker died) and that has attempts left.
    /// PostgreSQL skips rows other instances are claiming at the same moment.
    pub async fn claim_job(&self, claim: &Claim<'_>) -> DbResult<Option<Job>> {
        // The one statement whose SQL differs: only PostgreSQL has (and needs)
        // row locks; SQLite's single writer makes its UPDATE exclusive anyway.
        let (param, lock) = match self.backend() {
            Backend::Postgres => ("$", "FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => ("?", ""),
        };
        let sql = format!(
            "UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1, lease_owner = {p}1, \
             lease_expires_at = {p}2, progress = 0, started_at = {p}3, updated_at = {p}3 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (status = 'PENDING' AND (lease_expires_at IS NULL OR lease_expires_at <= {p}3)) \
                    OR (status = 'RUNNING' AND lease_expires_at < {p}3 AND attempts < max_attempts) \
                 ORDER BY created_at, id LIMIT 1 {lock}) \
             RETURNING *",
            p = param
        );
        let query = diesel::sql_query(sql)
            .bind::<Text, _>(claim.worker_id)
            .bind::<Timestamp, _>(claim.lease_until)
            .bind::<Timestamp, _>(claim.now);
        db_run!(self, |conn| { Ok(query.get_result::<Job>(conn).await.optional()?) })
    }

    /// Cancels the owner's job if it has not ended; returns it, or None when
    /// there is no such unfinished job. A worker running it loses its claim
    /// (its heartbeat and its finish both require RUNNING).
    pub async fn cancel_job(&self, owner_id: &str, id: &str, now: NaiveDateTime) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            Ok(diesel::update(jobs::table)
                .filter(jobs::id.eq(id).and(jobs::owner_id.eq(owner_id)))
                .filter(jobs::status.eq_any([JobStatus::Pending, JobStatus::Running]))
                .set((
                    jobs::status.eq(JobStatus::Cancelled),
                    jobs::lease_owner.eq(None::<String>),
                    jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                    jobs::finished_at.eq(now),
                    jobs::updated_at.eq(now),
                ))
                .returning(Job::as_returning())
                .get_result(conn)
                .await
                .optional()?)
        })
    }

    /// Fails the jobs whose lease ran out on their last attempt: each of their
    /// workers died while running them, so running them again is unlikely to help.
    pub async fn fail_exhausted_jobs(&self, now: NaiveDateTime, message: &str) -> DbResult<Vec<Job>> {
        db_run!(self, |conn| {
            Ok(diesel::update(jobs::table)
                .filter(jobs::status.eq(JobStatus::Running))
                .filter(jobs::lease_expires_at.lt(now))
                .filter(jobs::attempts.ge(jobs::max_attempts))
                .set((
                    jobs::status.eq(JobStatus::Failed),
                    jobs::error_code.eq("ATTEMPTS_EXHAUSTED"),
                    jobs::error_message.eq(message),
                    jobs::lease_owner.eq(None::<String>),
                    jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                    jobs::finished_at.eq(now),
                    jobs::updated_at.eq(now),
                ))
                .returning(Job::as_returning())
                .get_results(conn)
                .await?)
        })
    }

    /// Extends the worker's lease and records progress. False when the worker
    /// no longer holds the job (its lease expired and another worker took it),
    /// in which case it must stop.
    pub async fn heartbeat_job(
        &self,
        id: &str,
        worker_id: &str,
        lease_until: NaiveDateTime,
        progress: f64,
        now: NaiveDateTime,
    ) -> DbResult<bool> {
        db_run!(self, |conn| {
            let updated = diesel::update(jobs::table.find(id))
                .filter(jobs::status.eq(JobStatus::Running))
                .filter(jobs::lease_owner.eq(worker_id))
                .set((jobs::lease_expires_at.eq(lease_until), jobs::progress.eq(progress), jobs::updated_at.eq(now)))
                .execute(conn)
                .await?;
            Ok(updated == 1)
        })
    }

    /// Records how an attempt ended, if the worker still holds the job.
    /// Returns the updated row, or None when the lease was lost.
    pub async fn finish_job(
        &self,
        id: &str,
        worker_id: &str,
        finish: JobFinish<'_>,
        now: NaiveDateTime,
    ) -> DbResult<Option<Job>> {
        let held = jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::status.eq(JobStatus::Running))
            .filter(jobs::lease_owner.eq(worker_id));
        let no_lease = (
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_expires_at.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now),
        );
        db_run!(self, |conn| {
            let update = diesel::update(held);
            let row = match &finish {
                JobFinish::Succeeded { result } => {
                    update
                        .set((
                            jobs::status.eq(JobStatus::Succeeded),
                            jobs::progress.eq(1.0),
                            jobs::result.eq(*result),
                            jobs::error_code.eq(None::<String>),
                            jobs::error_message.eq(None::<String>),
                            jobs::finished_at.eq(now),
                            no_lease,
                        ))
                        .returning(Job::as_returning())
                        .get_result(conn)
                        .await
                }
                JobFinish::Failed { code, message } => {
                    update
                        .set((
                            jobs::status.eq(JobStatus::Failed),
                            jobs::error_code.eq(*code),
                            jobs::error_message.eq(*message),
                            jobs::finished_at.eq(now),
                            no_lease,
                        ))
                        .returning(Job::as_returning())
                        .get_result(conn)
                        .await
                }
                JobFinish::Retry { message, run_after } => {
                    update
                        .set((
                            jobs::status.eq(JobStatus::Pending),
                            jobs::progress.eq(0.0),
                            jobs::error_message.eq(*message),
                            jobs::lease_owner.eq(None::<String>),
                            jobs::lease_expires_at.eq(*run_after),
                            jobs::updated_at.eq(now),
                        ))
                        .returning(Job::as_returning())
                        .get_result(conn)
                        .await
                }
                JobFinish::Release => {
                    update
                        .set((
                            jobs::status.eq(JobStatus::Pending),
                            jobs::progress.eq(0.0),
                            jobs::attempts.eq(jobs::attempts - 1),
                            no_lease,
                        ))
                        .returning(Job::as_returning())
                        .get_result(conn)
                        .await
                }
            };
            Ok(row.optional()?)
        })
    }
}
