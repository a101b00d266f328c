use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::job_updates::Snapshot;
use super::result::JobResult;
use super::upload::Upload;
use crate::db;
use crate::error::{AppError, AppResult};
use crate::jobs;
use crate::uploads;

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::db::JobStatus")]
pub enum JobStatus {
    /// Waiting for a worker.
    Pending,
    /// A worker is processing the file.
    Running,
    /// Done: `result` holds the output.
    Succeeded,
    /// Done: `error` says why.
    Failed,
    /// Stopped by `cancelJob`.
    Cancelled,
}

/// Why a job failed.
#[derive(SimpleObject)]
pub struct JobError {
    /// Stable: `UNREADABLE_FILE`, `UPLOAD_MISSING`, `UPLOAD_CHANGED`, `STORAGE`, `DATABASE`,
    /// `WORKER_LOST` (an attempt's worker stopped responding), `ATTEMPTS_EXHAUSTED` or `INTERNAL`.
    code: String,
    /// For people, e.g. "line 3812: unclosed quote".
    message: String,
}

/// The processing of one upload.
pub struct Job {
    row: db::Job,
    /// Its upload when read with it: a page of `jobs` reads them all in
    /// its one query rather than one query per job.
    upload: Option<db::Upload>,
}

impl From<db::Job> for Job {
    fn from(row: db::Job) -> Job {
        Job { row, upload: None }
    }
}

#[Object]
impl Job {
    async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }

    async fn upload(&self, ctx: &Context<'_>) -> AppResult<Upload> {
        if let Some(upload) = &self.upload {
            return Ok(Upload(upload.clone()));
        }
        let app = super::app(ctx)?;
        let viewer = super::viewer(ctx)?;
        Ok(Upload(uploads::get_upload(app, viewer, &self.row.upload_id).await?))
    }

    async fn status(&self) -> JobStatus {
        self.row.status.into()
    }

    /// From 0 to 1: the share of the file read so far; 1 once the result is stored.
    async fn progress(&self) -> f64 {
        self.row.progress
    }

    /// Attempts started so far (a job is retried when its worker dies or
    /// storage fails).
    async fn attempts(&self) -> i32 {
        self.row.attempts
    }

    async fn error(&self) -> Option<JobError> {
        if self.row.status != db::JobStatus::Failed {
            return None;
        }
        Some(JobError {
            code: self.row.error_code.clone().unwrap_or_else(|| "INTERNAL".to_owned()),
            message: self.row.error_message.clone().unwrap_or_default(),
        })
    }

    /// Why the latest failed attempt failed, also while the job waits for
    /// its retry and after a later attempt succeeded; null while no attempt
    /// has failed.
    async fn last_failure(&self) -> Option<JobError> {
        let code = self.row.error_code.clone()?;
        Some(JobError { code, message: self.row.error_message.clone().unwrap_or_default() })
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at.and_utc()
    }

    /// When the latest attempt started.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.row.started_at.map(|t| t.and_utc())
    }

    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.row.finished_at.map(|t| t.and_utc())
    }

    /// The processor's output; null until the job has SUCCEEDED. Read only
    /// when asked for: a result can be megabytes, so each counts 50 toward
    /// the query's complexity (one query reads at most about 40).
    #[graphql(complexity = "RESULT_COMPLEXITY + child_complexity")]
    async fn result(&self, ctx: &Context<'_>) -> AppResult<Option<JobResult>> {
        Ok(jobs::job_output(super::app(ctx)?, &self.row).await?.map(Into::into))
    }
}

/// What reading one job's result costs in complexity (see `result`).
const RESULT_COMPLEXITY: usize = 50;

#[derive(Default)]
pub struct JobQuery;

/// Default page size of `jobs`.
const DEFAULT_PAGE: usize = 20;

#[Object]
impl JobQuery {
    /// One of the viewer's jobs.
    async fn job(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Job>> {
        let id = super::parse_id(&id, "job")?;
        Ok(Some(jobs::get_job(super::app(ctx)?, super::viewer(ctx)?, &id).await?.into()))
    }

    /// The viewer's jobs, newest first. `first` is at most 100. Each job
    /// asked for counts toward the query's complexity limit, so one query
    /// cannot ask for whole pages of full profiles many times over.
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE as i32).clamp(1, jobs::MAX_PAGE as i32) as usize * child_complexity"
    )]
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<String, Job, EmptyFields, EmptyFields>> {
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if (1..=jobs::MAX_PAGE as i32).contains(&n) => n as usize,
            Some(n) => {
                return Err(AppError::BadUserInput(format!("first must be between 1 and {}, not {n}", jobs::MAX_PAGE)));
            }
        };
        let after = after.map(|cursor| super::parse_id(&cursor, "cursor")).transpose()?;
        let (rows, has_next) = jobs::list_jobs(super::app(ctx)?, super::viewer(ctx)?, after.as_deref(), first).await?;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection
            .edges
            .extend(rows.into_iter().map(|(row, upload)| Edge::new(row.id.clone(), Job { row, upload: Some(upload) })));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct JobMutation;

#[Object]
impl JobMutation {
    /// Stops a pending or running job (it ends CANCELLED). Cancelling a
    /// cancelled job returns it; a job that already ended answers CONFLICT.
    async fn cancel_job(&self, ctx: &Context<'_>, id: ID) -> AppResult<Job> {
        let id = super::parse_id(&id, "job")?;
        Ok(jobs::cancel_job(super::app(ctx)?, super::viewer(ctx)?, &id).await?.into())
    }
}

#[derive(Default)]
pub struct JobSubscription;

#[Subscription]
impl JobSubscription {
    /// The job's current state, then every change of status or progress;
    /// completes after a terminal state (at once if the job already ended).
    async fn job_updates(&self, ctx: &Context<'_>, job_id: ID) -> async_graphql::Result<BoxStream<'static, Job>> {
        // A websocket renders each event of a job it follows itself (see `job_updates`).
        if let Some(Snapshot(job)) = ctx.data_opt::<Snapshot>() {
            return Ok(futures_util::stream::once(std::future::ready(Job::from(job.clone()))).boxed());
        }
        let job_id = super::parse_id(&job_id, "job")?;
        let updates = jobs::watch_job(super::app(ctx)?, super::viewer(ctx)?, &job_id).await?;
        let counted = crate::metrics::Open::subscription();
        Ok(updates
            .map(move |job| {
                let _counted_while_streaming = &counted;
                Job::from(job)
            })
            .boxed())
    }
}
