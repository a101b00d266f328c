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

use super::hub::Event;
use super::policy::{self, ErrorCode, Next};
use super::process::{ProcessError, process};
use crate::app::App;
use crate::db::{Claim, Fence, Job, JobFinish, JobStatus};
use crate::storage::StorageError;
use crate::uploads;

/// How often a running job's progress is published (at most).
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Runs the worker until `shutdown` turns true: it then claims no more, and
/// the jobs it runs may finish within `--shutdown-grace-secs`; those still
/// running then are handed back to the queue, their attempt not counted.
pub async fn run(app: App, mut shutdown: watch::Receiver<bool>) {
    let concurrency = app.config.worker_concurrency;
    if concurrency == 0 {
        return;
    }
    // The process id tells an operator (and the crash tests) which process holds a job.
    let worker_id = format!("worker-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    tracing::info!(%worker_id, concurrency, "worker started");
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    let mut exhausted_checked: Option<Instant> = None;
    loop {
        while running.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot { Ok(slot) => slot, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        // Leases run out in seconds; looking for exhausted ones on every
        // claim would add a write per job under load.
        if exhausted_checked.is_none_or(|checked| checked.elapsed() >= app.config.job_poll_interval()) {
            fail_exhausted(&app).await;
            exhausted_checked = Some(Instant::now());
        }
        match claim(&app, &worker_id).await {
            Some(job) => {
                let span = tracing::info_span!("job", job_id = %job.id);
                let run = run_job(app.clone(), worker_id.clone(), job, slot, shutdown.clone());
                running.spawn(tracing::Instrument::instrument(run, span));
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

async fn fail_exhausted(app: &App) {
    let lost = "the worker running this job stopped responding on its last attempt";
    let spent = "the job has no attempts left";
    let exhausted = app.db.fail_exhausted_jobs(now(), lost, spent).await;
    match exhausted {
        Ok(jobs) => jobs.into_iter().for_each(|job| {
            crate::metrics::attempt_ended(&job);
            app.hub.publish(job)
        }),
        Err(err) => tracing::error!(error = %err, "failing exhausted jobs"),
    }
}

async fn claim(app: &App, worker_id: &str) -> Option<Job> {
    let claim = Claim { worker_id, now: now(), lease_until: lease_until(app) };
    match app.db.claim_job(&claim).await {
        Ok(Some(job)) => {
            tracing::info!(job = %job.id, attempt = job.attempts, "job claimed");
            crate::metrics::job_claimed();
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

/// How a run ended before the policy has its say.
enum Ending {
    Processed(Result<super::JobOutput, ProcessError>),
    LeaseLost,
    Cancelled,
    Shutdown,
}

/// Runs one claimed attempt to its end. Every write is fenced on this
/// attempt (worker and attempt number): once the job was cancelled or taken
/// over, the first write that fails stops the run, and no later write of
/// this run lands.
async fn run_job(
    app: App,
    worker_id: String,
    mut job: Job,
    _slot: OwnedSemaphorePermit,
    mut shutdown: watch::Receiver<bool>,
) {
    let fence = Fence { worker_id: &worker_id, attempt: job.attempts };
    let upload = match app.db.find_upload(&job.owner_id, &job.upload_id).await {
        Ok(Some(upload)) => upload,
        Ok(None) => {
            let failure = Failure::new(ErrorCode::UploadMissing, "the upload no longer exists");
            return end(&app, fence, &job, Err(failure)).await;
        }
        Err(err) => {
            tracing::warn!(job = %job.id, error = %err, "reading the job's upload failed");
            let failure = Failure::new(ErrorCode::Database, "the database did not answer");
            return end(&app, fence, &job, Err(failure)).await;
        }
    };
    // A cancellation reaches the hub at once from this instance, and through
    // the relay from others; a lost lease shows at the next fenced write.
    let mut events = app.hub.subscribe(&job.id);
    let bytes_read = Arc::new(AtomicU64::new(0));
    let options = uploads::profile_options(&upload, &app.config);
    let work = process(&app.storage, &upload, options, bytes_read.clone());
    tokio::pin!(work);
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    let heartbeat_every = app.config.job_lease() / 3;
    let mut last_heartbeat = Instant::now();
    // Set once the instance is shutting down: the run may finish until then.
    let mut deadline: Option<tokio::time::Instant> = None;
    let ending = loop {
        tokio::select! {
            output = &mut work => break Ending::Processed(output),
            // The guard `wait_for` returns is not Send: drop it where it is made.
            _ = async { drop(shutdown.wait_for(|stop| *stop).await) }, if deadline.is_none() => {
                deadline = Some(tokio::time::Instant::now() + app.config.shutdown_grace());
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)), if deadline.is_some() => {
                break Ending::Shutdown;
            }
            Ok(event) = events.recv() => {
                if let Event::Job(event) = event && event.status == JobStatus::Cancelled {
                    break Ending::Cancelled;
                }
            }
            _ = ticker.tick() => {
                let progress = fraction(bytes_read.load(Ordering::Relaxed), upload.size);
                let beat = last_heartbeat.elapsed() >= heartbeat_every;
                if progress <= job.progress && !beat {
                    continue;
                }
                let lease = beat.then(|| lease_until(&app));
                match app.db.record_progress(&job.id, fence, progress.max(job.progress), lease, now()).await {
                    Ok(Some(row)) => {
                        if beat {
                            last_heartbeat = Instant::now();
                        }
                        job = row;
                        app.hub.publish(job.clone());
                    }
                    Ok(None) => break Ending::LeaseLost,
                    // The lease outlives a few missed beats; keep going.
                    Err(err) => tracing::warn!(error = %err, job = %job.id, "recording progress failed"),
                }
            }
        }
    };
    let outcome = match ending {
        Ending::Processed(Ok(output)) => match serde_json::to_string(&output) {
            Ok(result) => Ok(Some(result)),
            Err(err) => Err(Failure::new(ErrorCode::Internal, format!("storing the result failed: {err}"))),
        },
        Ending::Processed(Err(ProcessError::Unreadable(reason))) => {
            Err(Failure::new(ErrorCode::UnreadableFile, reason))
        }
        Ending::Processed(Err(err @ ProcessError::Crashed(_))) => {
            tracing::error!(job = %job.id, error = %err, "processor crashed");
            Err(Failure::new(ErrorCode::Internal, "processing failed unexpectedly"))
        }
        Ending::Processed(Err(ProcessError::Storage(StorageError::Missing(key)))) => {
            tracing::warn!(job = %job.id, %key, "the upload's object is gone");
            Err(Failure::new(ErrorCode::UploadMissing, "the uploaded file is no longer in storage"))
        }
        Ending::Processed(Err(ProcessError::Storage(StorageError::Changed(key)))) => {
            tracing::warn!(job = %job.id, %key, "the upload's object changed after it was confirmed");
            Err(Failure::new(ErrorCode::UploadChanged, "the uploaded file changed after it was confirmed"))
        }
        Ending::Processed(Err(err @ ProcessError::Storage(_))) => {
            tracing::warn!(job = %job.id, error = %err, "attempt failed");
            Err(Failure::new(ErrorCode::Storage, err.to_string()))
        }
        Ending::LeaseLost => return tracing::warn!(job = %job.id, "the job was taken over or cancelled; stopped"),
        Ending::Cancelled => return tracing::info!(job = %job.id, "job cancelled; stopped"),
        // A run stops by itself only when dropped, so Stopped is never awaited here.
        Ending::Shutdown | Ending::Processed(Err(ProcessError::Stopped)) => Ok(None),
    };
    end(&app, fence, &job, outcome).await
}

/// Why an attempt failed: a stable code and a reason for people.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}

/// Records the attempt's end as the policy decides: `Ok(Some(result))` a
/// success, `Ok(None)` an interrupted attempt, `Err` a failure.
async fn end(app: &App, fence: Fence<'_>, job: &Job, outcome: Result<Option<String>, Failure>) {
    let ending = match &outcome {
        Ok(Some(_)) => policy::Ending::Succeeded,
        Ok(None) => policy::Ending::Interrupted,
        Err(failure) => policy::Ending::Failed(failure.code),
    };
    let next =
        policy::next_step(ending, job.attempts, job.max_attempts, app.config.job_retry_delay(), policy::jitter());
    let message = outcome.as_ref().err().map(|failure| failure.message.as_str()).unwrap_or_default();
    let finish = match (next, &outcome) {
        (Next::Succeed, Ok(Some(result))) => JobFinish::Succeeded { result },
        (Next::Fail(code), _) => JobFinish::Failed { code: code.as_str(), message },
        (Next::RetryAfter(delay), Err(failure)) => {
            tracing::info!(job = %job.id, ?delay, "job will be retried");
            crate::metrics::job_retried();
            let wake = app.wake.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                wake.notify_one();
            });
            JobFinish::Retry { code: failure.code.as_str(), message, run_after: now() + delay }
        }
        _ => JobFinish::Release,
    };
    match app.db.finish_job(&job.id, fence, finish, now()).await {
        Ok(Some(job)) => {
            tracing::info!(job = %job.id, status = job.status.as_str(), "job attempt ended");
            crate::metrics::attempt_ended(&job);
            app.hub.publish(job);
        }
        Ok(None) => tracing::warn!(job = %job.id, "job was taken over before it finished"),
        // The lease will expire and another attempt will run.
        Err(err) => tracing::error!(job = %job.id, error = %err, "recording the job's end failed"),
    }
}

/// Progress while running stays below 1: 1 means the result is stored.
fn fraction(done: u64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    (done as f64 / total as f64).clamp(0.0, 0.99)
}
