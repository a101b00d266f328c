//! Jobs: the queue (a database table), the worker that runs them, the hub
//! that publishes their changes, what callers can ask of them, and the
//! sweeper that removes abandoned and expired uploads.

pub mod events;
mod hub;
mod output;
mod policy;
mod process;
pub mod sweeper;
mod watch;
pub mod worker;

pub use events::Relay;
pub use hub::{Event, JobHub};
pub use output::JobOutput;
pub use watch::watch_job;

use crate::app::App;
use crate::auth::Viewer;
use crate::db::{Job, JobStatus, Upload};
use crate::error::{AppError, AppResult};

/// Largest page of `jobs`.
pub const MAX_PAGE: usize = 100;

pub async fn get_job(app: &App, viewer: &Viewer, id: &str) -> AppResult<Job> {
    app.db.find_job(&viewer.user_id, id).await?.ok_or(AppError::NotFound("job"))
}

/// Stops the job: a pending one never runs, a running one is abandoned by
/// its worker. Cancelling a cancelled job returns it; a finished one cannot be.
pub async fn cancel_job(app: &App, viewer: &Viewer, id: &str) -> AppResult<Job> {
    if let Some(job) = app.db.cancel_job(&viewer.user_id, id, chrono::Utc::now().naive_utc()).await? {
        crate::metrics::job_cancelled();
        app.hub.publish(job.clone());
        return Ok(job);
    }
    let job = get_job(app, viewer, id).await?;
    match job.status {
        JobStatus::Cancelled => Ok(job),
        status => Err(AppError::Conflict(format!("the job has already ended: it is {}", status.as_str()))),
    }
}

/// The job's output, read from the database (it is not part of the row);
/// None until the job has SUCCEEDED.
pub async fn job_output(app: &App, job: &Job) -> AppResult<Option<JobOutput>> {
    if job.status != JobStatus::Succeeded {
        return Ok(None);
    }
    let Some(json) = app.db.find_job_result(&job.owner_id, &job.id).await? else { return Ok(None) };
    let output = serde_json::from_str(&json).map_err(|e| {
        tracing::error!(job = %job.id, error = %e, "stored result does not parse");
        AppError::Internal(e.to_string())
    })?;
    Ok(Some(output))
}

/// A page of the viewer's jobs with their uploads, newest first, after the
/// job `after` (at most [`MAX_PAGE`]), and whether more follow.
pub async fn list_jobs(
    app: &App,
    viewer: &Viewer,
    after: Option<&str>,
    first: usize,
) -> AppResult<(Vec<(Job, Upload)>, bool)> {
    let first = first.min(MAX_PAGE);
    // One more than asked tells whether there is a next page.
    let mut jobs = app.db.list_jobs(&viewer.user_id, after, first as i64 + 1).await?;
    let has_next = jobs.len() > first;
    jobs.truncate(first);
    Ok((jobs, has_next))
}
