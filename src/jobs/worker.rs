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
use crate::storage::StorageError;
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
    let exhausted =
        app.db.fail_exhausted_jobs(now(), "the worker running this job stopped responding on its last attempt").await;
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
        Err(err) => return retry(&app, &worker_id, &job, &err.to_string()).await,
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
        Ending::Processed(Err(ProcessError::Storage(StorageError::Missing(key)))) => {
            tracing::warn!(job = %job.id, %key, "the upload's object is gone");
            let message = "the uploaded file is no longer in storage";
            finish(&app, &worker_id, &job, JobFinish::Failed { code: "UPLOAD_MISSING", message }).await
        }
        Ending::Processed(Err(ProcessError::Storage(StorageError::Changed(key)))) => {
            tracing::warn!(job = %job.id, %key, "the upload's object changed after it was confirmed");
            let message = "the uploaded file changed after it was confirmed";
            finish(&app, &worker_id, &job, JobFinish::Failed { code: "UPLOAD_CHANGED", message }).await
        }
        Ending::Processed(Err(err @ ProcessError::Storage(_))) => {
            tracing::warn!(job = %job.id, error = %err, "attempt failed");
            let message = err.to_string();
            if job.attempts >= job.max_attempts {
                finish(&app, &worker_id, &job, JobFinish::Failed { code: "STORAGE", message: &message }).await
            } else {
                retry(&app, &worker_id, &job, &message).await
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

/// Hands the job back to the queue for another attempt after a backoff,
/// and wakes a worker when it is due.
async fn retry(app: &App, worker_id: &str, job: &Job, message: &str) {
    let delay = retry_delay(app.config.job_retry_delay(), job.attempts, jitter());
    tracing::info!(job = %job.id, ?delay, "job will be retried");
    crate::metrics::job_retried();
    finish(app, worker_id, job, JobFinish::Retry { message, run_after: now() + delay }).await;
    let wake = app.wake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        wake.notify_one();
    });
}

/// No attempt waits longer than this after the previous one.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// How long a job waits after its `attempts`-th attempt failed: `base`,
/// doubled for each earlier failure, stretched by up to half by `jitter`
/// (0..1) so jobs that failed together (one outage) do not all come back
/// at the same moment.
fn retry_delay(base: Duration, attempts: i32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let delay = base.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY);
    delay.mul_f64(1.0 + 0.5 * jitter.clamp(0.0, 1.0)).min(MAX_RETRY_DELAY)
}

/// A number in 0..1 that differs per call; std's randomly keyed hasher is
/// random enough to spread retries.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
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
            crate::metrics::attempt_ended(&job);
            app.hub.publish(job);
        }
        Ok(None) => tracing::warn!(job = %job.id, "job was taken over before it finished"),
        // The lease will expire and another attempt will run.
        Err(err) => tracing::error!(job = %job.id, error = %err, "recording the job's end failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially() {
        let base = Duration::from_secs(15);
        assert_eq!(retry_delay(base, 1, 0.0), base);
        assert_eq!(retry_delay(base, 2, 0.0), base * 2);
        assert_eq!(retry_delay(base, 3, 0.0), base * 4);
        assert_eq!(retry_delay(base, 1, 1.0), base.mul_f64(1.5));
        assert_eq!(retry_delay(base, 40, 0.0), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(base, 40, 1.0), MAX_RETRY_DELAY);
    }

    /// With the default settings, the last attempt comes after a
    /// 30-second outage has ended, whatever the jitter.
    #[test]
    fn defaults_outlast_a_30_second_outage() {
        let config = crate::config::Config::from_args(Vec::<String>::new()).unwrap();
        let waited: Duration = (1..config.job_max_attempts as i32)
            .map(|attempt| retry_delay(config.job_retry_delay(), attempt, 0.0))
            .sum();
        assert!(waited > Duration::from_secs(30), "{waited:?}");
    }

    #[test]
    fn jitter_spreads() {
        let values: Vec<f64> = (0..100).map(|_| jitter()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.iter().any(|v| *v < 0.5) && values.iter().any(|v| *v >= 0.5));
    }
}
