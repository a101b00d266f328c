//! Following one job: its current state first, then each change, ending
//! after a terminal state. Built so a client never misses the end: it
//! subscribes to the hub before reading the row, re-reads the row whenever
//! it lagged behind the hub or the relay may have missed changes, and
//! re-reads it periodically in case the change happened where this process
//! could not hear it. That periodic re-read is shared: one of a job's
//! subscribers reads the row and publishes it to the others (10,000 idle
//! subscriptions used to cost 5,000 queries a second).
//!
//! The period is a deadline, not a timeout of waiting for events: events
//! never postpone it, so however busy the hub is, a change that no event
//! announced is seen within the period. It is `max(--job-poll-ms, 1 s)`
//! while other instances' changes may go unheard (SQLite, whose hub hears
//! only its own instance; PostgreSQL while the relay is down), and
//! [`LIVE_REREAD`] while the relay hears every change.
//!
//! Events are ordered by the row's `version`, one more per write, never by
//! clocks: a client never sees a job move backwards, whichever instance
//! made, relayed or re-read the change.

use std::time::Duration;

use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::hub::{Event, JobEvents};
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
    /// Re-read period while changes made elsewhere may go unheard.
    reread_every: Duration,
    next_reread: Instant,
}

/// Re-read period while the relay delivers every change: only a safety net.
pub const LIVE_REREAD: Duration = Duration::from_secs(30);

/// Fails with NOT_FOUND before streaming when the viewer has no such job.
pub async fn watch_job(app: &App, viewer: &Viewer, job_id: &str) -> AppResult<impl Stream<Item = Job> + use<>> {
    let events = app.hub.subscribe(job_id);
    let current = app.db.find_job(&viewer.user_id, job_id).await?.ok_or(AppError::NotFound("job"))?;
    let reread_every = app.config.job_poll_interval().max(Duration::from_secs(1));
    let mut watch = Watch {
        app: app.clone(),
        owner_id: viewer.user_id.clone(),
        events,
        current,
        sent_first: false,
        done: false,
        reread_every,
        next_reread: Instant::now(),
    };
    watch.next_reread = Instant::now() + watch.period();
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
        let candidate = tokio::select! {
            event = watch.events.recv() => match event {
                Ok(Event::Job(job)) => Some(Job::clone(&job)),
                Ok(Event::Resync) => {
                    // The relay connected or went away: the period changes with it.
                    watch.next_reread = Instant::now() + watch.period();
                    Box::pin(watch.shared_reread()).await
                }
                Err(RecvError::Lagged(missed)) => {
                    crate::metrics::events_lagged(missed);
                    Box::pin(watch.reread()).await
                }
                Err(RecvError::Closed) => Box::pin(watch.reread()).await,
            },
            _ = tokio::time::sleep_until(watch.next_reread) => {
                watch.next_reread = Instant::now() + watch.period();
                Box::pin(watch.shared_reread()).await
            }
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
    fn period(&self) -> Duration {
        if self.app.hub.is_live() { LIVE_REREAD } else { self.reread_every }
    }

    /// Re-reads the job for all its subscribers here, unless one of them did
    /// within half the period: their deadlines drift apart, and the job is
    /// still re-read at least once per period whichever of them wakes first.
    async fn shared_reread(&mut self) -> Option<Job> {
        if !self.events.claim_reread(self.period() / 2) {
            return None;
        }
        match self.reread().await {
            Some(job) => {
                self.app.hub.publish_here(job.clone());
                Some(job)
            }
            None => {
                self.events.reopen_reread();
                None
            }
        }
    }

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
/// just before it is still queued, a relayed one behind a re-read), and a
/// runner whose lease was taken over may still publish: a stale one must
/// not move a client back. A terminal state is final whatever follows.
fn is_newer(candidate: &Job, current: &Job) -> bool {
    !current.status.is_terminal() && candidate.version > current.version
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::JobStatus;

    fn job(status: JobStatus, version: i64) -> Job {
        Job { status, version, ..Job::sample("a") }
    }

    #[test]
    fn only_later_versions_move_a_client() {
        let running = job(JobStatus::Running, 5);
        assert!(is_newer(&job(JobStatus::Running, 6), &running));
        assert!(!is_newer(&job(JobStatus::Running, 5), &running), "a duplicate");
        assert!(!is_newer(&job(JobStatus::Pending, 4), &running), "an older event");
        // A stale runner's clock may be ahead: clocks play no part.
        let mut stale = job(JobStatus::Running, 4);
        stale.updated_at = running.updated_at + chrono::TimeDelta::hours(1);
        assert!(!is_newer(&stale, &running));
        assert!(!is_newer(&job(JobStatus::Running, 9), &job(JobStatus::Cancelled, 6)), "the end is final");
    }
}
