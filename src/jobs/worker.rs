//! The in-process worker: claims jobs from the database (the queue), runs up
//! to `worker_concurrency` at once as tokio tasks, keeps each claim alive with
//! a heartbeat, and records and publishes every change.
//!
//! Several instances can share one database: claims are atomic, a lease that
//! is not renewed expires and the job is claimed again (so a crash loses no
//! job), and a worker that finds its lease gone stops its run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use super::process::{ProcessError, process};
use crate::app::App;
use crate::db::{Claim, Job, JobFinish, JobStatus};
use crate::uploads;

/// How often a running job's progress is published (at most).
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Runs the worker until `shutdown` turns true; jobs still running then are
/// handed back to the queue for another worker.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let concurrency = app.config.worker_concurrency;
    if concurrency == 0 {
        return;
    }
    let worker_id = format!("worker-{}", uuid::Uuid::new_v4());
    tracing::info!(%worker_id, concurrency, "worker started");
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot { Ok(slot) => slot, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        match claim(&app, &worker_id).await {
            Some(job) => {
                running.spawn(run_job(app.clone(), worker_id.clone(), job, slot, shutdown.clone()));
                continue;
            }
            None => drop(slot),
        }
        tokio::select! {
            _ = app.wake.notified() => {}
            _ = tokio::time::sleep(app.config.job_poll_interval()) => {}
            _ = shutdown.changed() => break,
        }
    }
    while running.join_next().await.is_some() {}
    tracing::info!(%worker_id, "worker stopped");
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn lease_until(app: &App) -> NaiveDateTime {
    now() + app.config.job_lease()
}

async fn claim(app: &App, worker_id: &str) -> Option<Job> {
    let exhausted =
        app.db.fail_exhausted_jobs(now(), "the worker running this job stopped responding on its last attempt").await;
    match exhausted {
        Ok(jobs) => jobs.into_iter().for_each(|job| app.hub.publish(job)),
        Err(err) => tracing::error!(error = %err, "failing exhausted jobs"),
    }
    let claim = Claim { worker_id, now: now(), lease_until: lease_until(app) };
    match app.db.claim_job(&claim).await {
        Ok(Some(job)) => {
            tracing::info!(job = %job.id, attempt = job.attempts, "job claimed");
            app.hub.publish(job.clone());
            Some(job)
        }
        Ok(None) => None,
        Err(err) => {
            tracing::error!(error = %err, "claiming a job");
            None
        }
    }
}

enum Ending {
    Processed(Result<super::JobOutput, ProcessError>),
    LeaseLost,
    Cancelled,
    Shutdown,
}

async fn run_job(
    app: App,
    worker_id: String,
    mut job: Job,
    _slot: OwnedSemaphorePermit,
    mut shutdown: watch::Receiver<bool>,
) {
    let upload = match app.db.find_upload(&job.owner_id, &job.upload_id).await {
        Ok(Some(upload)) => upload,
        Ok(None) => {
            return finish(
                &app,
                &worker_id,
                &job,
                JobFinish::Failed { code: "UPLOAD_MISSING", message: "the upload no longer exists" },
            )
            .await;
        }
        Err(err) => return finish(&app, &worker_id, &job, JobFinish::Retry { message: &err.to_string() }).await,
    };
    // Cancellation here is published on the hub, and seen at once; elsewhere
    // it shows as a lost lease at the next heartbeat.
    let mut events = app.hub.subscribe(&job.id);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let options = uploads::profile_options(&upload, &app.config);
    let work = process(&app.storage, &upload, options, bytes_read.clone());
    tokio::pin!(work);
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    let heartbeat_every = app.config.job_lease() / 3;
    let mut last_heartbeat = Instant::now();
    let ending = loop {
        tokio::select! {
            output = &mut work => break Ending::Processed(output),
            _ = shutdown.changed() => break Ending::Shutdown,
            Ok(event) = events.recv() => {
                if event.status == JobStatus::Cancelled {
                    break Ending::Cancelled;
                }
            }
            _ = ticker.tick() => {
                let progress = fraction(bytes_read.load(Ordering::Relaxed), upload.size);
                if progress > job.progress {
                    job.progress = progress;
                    job.updated_at = now();
                    app.hub.publish(job.clone());
                }
                if last_heartbeat.elapsed() >= heartbeat_every {
                    last_heartbeat = Instant::now();
                    match app.db.heartbeat_job(&job.id, &worker_id, lease_until(&app), job.progress, now()).await {
                        Ok(true) => {}
                        Ok(false) => break Ending::LeaseLost,
                        // The lease outlives a few missed beats; keep going.
                        Err(err) => tracing::warn!(error = %err, job = %job.id, "heartbeat failed"),
                    }
                }
            }
        }
    };
    match ending {
        Ending::Processed(Ok(output)) => match serde_json::to_string(&output) {
            Ok(result) => finish(&app, &worker_id, &job, JobFinish::Succeeded { result: &result }).await,
            Err(err) => {
                finish(
                    &app,
                    &worker_id,
                    &job,
                    JobFinish::Failed { code: "INTERNAL", message: &format!("storing the result failed: {err}") },
                )
                .await
            }
        },
        Ending::Processed(Err(ProcessError::Unreadable(reason))) => {
            finish(&app, &worker_id, &job, JobFinish::Failed { code: "UNREADABLE_FILE", message: &reason }).await
        }
        Ending::Processed(Err(err @ ProcessError::Crashed(_))) => {
            tracing::error!(job = %job.id, error = %err, "processor crashed");
            finish(
                &app,
                &worker_id,
                &job,
                JobFinish::Failed { code: "INTERNAL", message: "processing failed unexpectedly" },
            )
            .await
        }
        Ending::Processed(Err(err @ ProcessError::Storage(_))) => {
            tracing::warn!(job = %job.id, error = %err, "attempt failed");
            let message = err.to_string();
            if job.attempts >= job.max_attempts {
                finish(&app, &worker_id, &job, JobFinish::Failed { code: "STORAGE", message: &message }).await
            } else {
                finish(&app, &worker_id, &job, JobFinish::Retry { message: &message }).await;
                app.wake.notify_one();
            }
        }
        Ending::LeaseLost => tracing::warn!(job = %job.id, "the job was taken over or cancelled; stopped"),
        Ending::Cancelled => tracing::info!(job = %job.id, "job cancelled; stopped"),
        // A run stops by itself only when dropped, so Stopped is never awaited here.
        Ending::Shutdown | Ending::Processed(Err(ProcessError::Stopped)) => {
            finish(&app, &worker_id, &job, JobFinish::Release).await
        }
    }
}

/// Progress while running stays below 1: 1 means the result is stored.
fn fraction(done: u64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    (done as f64 / total as f64).clamp(0.0, 0.99)
}

async fn finish(app: &App, worker_id: &str, job: &Job, how: JobFinish<'_>) {
    match app.db.finish_job(&job.id, worker_id, how, now()).await {
        Ok(Some(job)) => {
            tracing::info!(job = %job.id, status = job.status.as_str(), "job attempt ended");
            app.hub.publish(job);
        }
        Ok(None) => tracing::warn!(job = %job.id, "job was taken over before it finished"),
        // The lease will expire and another attempt will run.
        Err(err) => tracing::error!(job = %job.id, error = %err, "recording the job's end failed"),
    }
}
