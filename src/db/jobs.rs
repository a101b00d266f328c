use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use diesel_async::RunQueryDsl;

use super::cached::Cached;
use super::schema::{jobs, uploads};
use super::{Backend, Db, DbResult, Job, JobStatus, Upload, db_run};

/// What a worker asks for when it claims a job.
pub struct Claim<'a> {
    pub worker_id: &'a str,
    pub now: NaiveDateTime,
    pub lease_until: NaiveDateTime,
}

/// The fencing token of one attempt: every write a runner makes holds only
/// while the job is RUNNING under this worker *and* this attempt. The
/// worker id alone would let a runner whose lease expired and whose job
/// the same worker claimed again (same process) overwrite the new attempt.
#[derive(Clone, Copy, Debug)]
pub struct Fence<'a> {
    pub worker_id: &'a str,
    pub attempt: i32,
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
    /// is nobody's until then. `code` and `message` stay on the job as the
    /// reason of its last failed attempt.
    Retry {
        code: &'a str,
        message: &'a str,
        run_after: NaiveDateTime,
    },
    /// The worker is shutting down: hand the job back without counting the attempt.
    Release,
}

/// Why a rescued job's previous attempt ended, kept on the job.
const WORKER_LOST: &str = "the worker running the previous attempt stopped responding";

impl Db {
    pub async fn find_job(&self, owner_id: &str, id: &str) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            Ok(jobs::table
                .filter(jobs::id.eq(id).and(jobs::owner_id.eq(owner_id)))
                .select(Job::as_select())
                .get_result(conn)
                .await
                .optional()?)
        })
    }

    pub async fn find_job_for_upload(&self, upload_id: &str) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            Ok(jobs::table
                .filter(jobs::upload_id.eq(upload_id))
                .select(Job::as_select())
                .get_result(conn)
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
    /// delay, if it has one), or one whose worker's lease ran out (that
    /// worker died; the job keeps that as its last failure), either with
    /// attempts left.
    /// PostgreSQL skips rows other instances are claiming at the same moment.
    pub async fn claim_job(&self, claim: &Claim<'_>) -> DbResult<Option<Job>> {
        // The one statement whose SQL differs: only PostgreSQL has (and needs)
        // row locks; SQLite's single writer makes its UPDATE exclusive anyway.
        let (param, lock) = match self.backend() {
            Backend::Postgres => ("$", "FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => ("?", ""),
        };
        let sql = format!(
            "UPDATE jobs SET \
                 error_code = CASE WHEN status = 'RUNNING' THEN 'WORKER_LOST' ELSE error_code END, \
                 error_message = CASE WHEN status = 'RUNNING' THEN {p}4 ELSE error_message END, \
                 status = 'RUNNING', attempts = attempts + 1, lease_owner = {p}1, \
                 lease_expires_at = {p}2, progress = 0, started_at = {p}3, updated_at = {p}3, version = version + 1 \
             WHERE id = (SELECT id FROM jobs \
                 WHERE (status = 'PENDING' AND attempts < max_attempts \
                        AND (lease_expires_at IS NULL OR lease_expires_at <= {p}3)) \
                    OR (status = 'RUNNING' AND lease_expires_at < {p}3 AND attempts < max_attempts) \
                 ORDER BY created_at, id LIMIT 1 {lock}) \
             RETURNING *",
            p = param
        );
        let query = Cached(
            diesel::sql_query(sql)
                .bind::<Text, _>(claim.worker_id)
                .bind::<Timestamp, _>(claim.lease_until)
                .bind::<Timestamp, _>(claim.now)
                .bind::<Text, _>(WORKER_LOST),
        );
        db_run!(self, |conn| { Ok(query.get_result::<Job>(conn).await.optional()?) })
    }

    /// Cancels the owner's job if it has not ended; returns it, or None when
    /// there is no such unfinished job. A worker running it loses its claim
    /// (its heartbeat and its finish both require RUNNING).
    pub async fn cancel_job(&self, owner_id: &str, id: &str, now: NaiveDateTime) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            Ok(Cached(
                diesel::update(jobs::table)
                    .filter(jobs::id.eq(id).and(jobs::owner_id.eq(owner_id)))
                    .filter(jobs::status.eq_any([JobStatus::Pending, JobStatus::Running]))
                    .set((
                        jobs::status.eq(JobStatus::Cancelled),
                        jobs::lease_owner.eq(None::<String>),
                        jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                        jobs::finished_at.eq(now),
                        jobs::updated_at.eq(now),
                        jobs::version.eq(jobs::version + 1),
                    ))
                    .returning(Job::as_returning()),
            )
            .get_result(conn)
            .await
            .optional()?)
        })
    }

    /// Fails the jobs with no attempt left that no worker will end: those
    /// whose lease ran out on their last attempt (each of their workers died
    /// while running them, so running them again is unlikely to help;
    /// `lost` says so), and PENDING ones whose attempts are spent (`spent`;
    /// an older Loupe retried some without counting), which no claim takes.
    pub async fn fail_exhausted_jobs(&self, now: NaiveDateTime, lost: &str, spent: &str) -> DbResult<Vec<Job>> {
        let fail = |message| {
            (
                jobs::status.eq(JobStatus::Failed),
                jobs::error_code.eq("ATTEMPTS_EXHAUSTED"),
                jobs::error_message.eq(message),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                jobs::finished_at.eq(now),
                jobs::updated_at.eq(now),
                jobs::version.eq(jobs::version + 1),
            )
        };
        let exhausted = jobs::attempts.ge(jobs::max_attempts);
        db_run!(self, |conn| {
            let mut failed: Vec<Job> = diesel::update(jobs::table)
                .filter(jobs::status.eq(JobStatus::Running))
                .filter(jobs::lease_expires_at.lt(now))
                .filter(exhausted)
                .set(fail(lost))
                .returning(Job::as_returning())
                .get_results(conn)
                .await?;
            failed.extend(
                diesel::update(jobs::table)
                    .filter(jobs::status.eq(JobStatus::Pending))
                    .filter(exhausted)
                    .set(fail(spent))
                    .returning(Job::as_returning())
                    .get_results::<Job>(conn)
                    .await?,
            );
            Ok(failed)
        })
    }

    /// Records the attempt's progress and, with `lease_until`, extends its
    /// lease (the heartbeat). Returns the row, or None when `fence` no longer
    /// holds (the job was cancelled, or taken over after the lease ran
    /// out), in which case the runner must stop.
    pub async fn record_progress(
        &self,
        id: &str,
        fence: Fence<'_>,
        progress: f64,
        lease_until: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> DbResult<Option<Job>> {
        db_run!(self, |conn| {
            let held = diesel::update(jobs::table.find(id))
                .filter(jobs::status.eq(JobStatus::Running))
                .filter(jobs::lease_owner.eq(fence.worker_id))
                .filter(jobs::attempts.eq(fence.attempt));
            let row = match lease_until {
                Some(lease_until) => {
                    Cached(
                        held.set((
                            jobs::lease_expires_at.eq(lease_until),
                            jobs::progress.eq(progress),
                            jobs::updated_at.eq(now),
                            jobs::version.eq(jobs::version + 1),
                        ))
                        .returning(Job::as_returning()),
                    )
                    .get_result(conn)
                    .await
                }
                None => {
                    Cached(
                        held.set((
                            jobs::progress.eq(progress),
                            jobs::updated_at.eq(now),
                            jobs::version.eq(jobs::version + 1),
                        ))
                        .returning(Job::as_returning()),
                    )
                    .get_result(conn)
                    .await
                }
            };
            Ok(row.optional()?)
        })
    }

    /// Records how an attempt ended, if `fence` still holds. Returns the
    /// updated row, or None when the attempt lost the job. A success keeps
    /// the reason of an earlier failed attempt (see `Job.lastFailure`).
    pub async fn finish_job(
        &self,
        id: &str,
        fence: Fence<'_>,
        finish: JobFinish<'_>,
        now: NaiveDateTime,
    ) -> DbResult<Option<Job>> {
        let held = jobs::table
            .filter(jobs::id.eq(id))
            .filter(jobs::status.eq(JobStatus::Running))
            .filter(jobs::lease_owner.eq(fence.worker_id))
            .filter(jobs::attempts.eq(fence.attempt));
        let no_lease = (
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_expires_at.eq(None::<NaiveDateTime>),
            jobs::updated_at.eq(now),
            jobs::version.eq(jobs::version + 1),
        );
        db_run!(self, |conn| {
            let update = diesel::update(held);
            let row = match &finish {
                JobFinish::Succeeded { result } => {
                    Cached(
                        update
                            .set((
                                jobs::status.eq(JobStatus::Succeeded),
                                jobs::progress.eq(1.0),
                                jobs::result.eq(*result),
                                jobs::finished_at.eq(now),
                                no_lease,
                            ))
                            .returning(Job::as_returning()),
                    )
                    .get_result(conn)
                    .await
                }
                JobFinish::Failed { code, message } => {
                    Cached(
                        update
                            .set((
                                jobs::status.eq(JobStatus::Failed),
                                jobs::error_code.eq(*code),
                                jobs::error_message.eq(*message),
                                jobs::finished_at.eq(now),
                                no_lease,
                            ))
                            .returning(Job::as_returning()),
                    )
                    .get_result(conn)
                    .await
                }
                JobFinish::Retry { code, message, run_after } => {
                    Cached(
                        update
                            .set((
                                jobs::status.eq(JobStatus::Pending),
                                jobs::progress.eq(0.0),
                                jobs::error_code.eq(*code),
                                jobs::error_message.eq(*message),
                                jobs::lease_owner.eq(None::<String>),
                                jobs::lease_expires_at.eq(*run_after),
                                jobs::updated_at.eq(now),
                                jobs::version.eq(jobs::version + 1),
                            ))
                            .returning(Job::as_returning()),
                    )
                    .get_result(conn)
                    .await
                }
                JobFinish::Release => {
                    Cached(
                        update
                            .set((
                                jobs::status.eq(JobStatus::Pending),
                                jobs::progress.eq(0.0),
                                jobs::attempts.eq(jobs::attempts - 1),
                                no_lease,
                            ))
                            .returning(Job::as_returning()),
                    )
                    .get_result(conn)
                    .await
                }
            };
            Ok(row.optional()?)
        })
    }
}
