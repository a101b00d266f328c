//! Following one job: its current state first, then each change, ending
//! after a terminal state. Built so a client never misses the end: it
//! subscribes to the hub before reading the row, re-reads the row whenever
//! it lagged behind the hub, and re-reads it periodically in case the change
//! happened where this process could not see it. That periodic re-read is
//! shared: when a job was quiet for a while, one of its subscribers reads
//! the row and publishes it to the others (10,000 idle subscriptions used to
//! cost 5,000 queries a second).

use std::time::Duration;

use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::hub::JobEvents;
use crate::app::App;
use crate::auth::Viewer;
use crate::db::Job;
use crate::error::{AppError, AppResult};

struct Watch {
    app: App,
    owner_id: String,
    events: JobEvents,
    current: Job,
    sent_first: bool,
    done: bool,
    reread_every: Duration,
}

/// Fails with NOT_FOUND before streaming when the viewer has no such job.
pub async fn watch_job(app: &App, viewer: &Viewer, job_id: &str) -> AppResult<impl Stream<Item = Job> + use<>> {
    let events = app.hub.subscribe(job_id);
    let current = app.db.find_job(&viewer.user_id, job_id).await?.ok_or(AppError::NotFound("job"))?;
    let watch = Watch {
        app: app.clone(),
        owner_id: viewer.user_id.clone(),
        events,
        current,
        sent_first: false,
        done: false,
        reread_every: app.config.job_poll_interval().max(Duration::from_secs(1)),
    };
    Ok(futures_util::stream::unfold(watch, next))
}

async fn next(mut watch: Watch) -> Option<(Job, Watch)> {
    if watch.done {
        return None;
    }
    if !watch.sent_first {
        watch.sent_first = true;
        watch.done = watch.current.status.is_terminal();
        return Some((watch.current.clone(), watch));
    }
    loop {
        let candidate = match tokio::time::timeout(watch.reread_every, watch.events.recv()).await {
            Ok(Ok(job)) => Some(Job::clone(&job)),
            Ok(Err(RecvError::Lagged(missed))) => {
                crate::metrics::events_lagged(missed);
                Box::pin(watch.reread()).await
            }
            Ok(Err(RecvError::Closed)) => Box::pin(watch.reread()).await,
            // Half the interval: subscribers' timers drift apart, and the job is still
            // re-read at least once per interval whichever of them wakes first.
            Err(_) if watch.events.claim_reread(watch.reread_every / 2) => match Box::pin(watch.reread()).await {
                Some(job) => {
                    watch.app.hub.publish(job.clone());
                    Some(job)
                }
                None => {
                    watch.events.reopen_reread();
                    None
                }
            },
            Err(_) => continue,
        };
        match candidate {
            Some(job) if is_newer(&job, &watch.current) => {
                watch.done = job.status.is_terminal();
                watch.current = job;
                return Some((watch.current.clone(), watch));
            }
            Some(_) => {}
            // The job is gone (its upload was deleted): nothing more will come.
            None if watch.done => return None,
            None => {}
        }
    }
}

impl Watch {
    /// The stored row; None when it vanished (which ends the watch) or the
    /// database is briefly unreachable (the next re-read tries again). Boxed
    /// where it is awaited: a query's future takes kilobytes, and a watch
    /// spends its life waiting for events, not reading.
    async fn reread(&mut self) -> Option<Job> {
        match self.app.db.find_job(&self.owner_id, &self.current.id).await {
            Ok(Some(job)) => Some(job),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                tracing::warn!(error = %err, job = %self.current.id, "re-reading a watched job failed");
                None
            }
        }
    }
}

/// Events can arrive out of order relative to the first read (an event sent
/// just before it is still queued); a stale one must not move a client back.
fn is_newer(candidate: &Job, current: &Job) -> bool {
    if current.status.is_terminal() {
        return false;
    }
    candidate.status.is_terminal() || candidate.updated_at > current.updated_at
}
