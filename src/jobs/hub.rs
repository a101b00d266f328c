//! Live job events: every change to a job (claimed, progress, finished,
//! cancelled) is published here as the job's new row; subscriptions and
//! runners read it. Changes made by this instance are published by the code
//! that made them ([`JobHub::publish`], which on PostgreSQL also hands them
//! to the outbox that announces them to other instances); changes made by
//! other instances arrive through the relay (see `events`), which also
//! tells subscribers to re-read when it may have missed some
//! ([`Event::Resync`]).
//!
//! Each watched job has its own channel, created by its first subscriber
//! and dropped with its last, so an event wakes only that job's
//! subscribers: thousands of idle subscriptions to other jobs cost a running
//! job nothing, and an unwatched job's events cost one map lookup. The
//! channel also paces the periodic re-read of its job (see `watch`), so a
//! job's subscribers share one query per interval rather than one each.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;

use crate::db::{Job, JobChange};

/// Room for one job's bursts (a few events a second); a subscriber that
/// falls further behind is told it lagged and re-reads the job from the
/// database instead (see `watch`).
const CAPACITY: usize = 16;

/// What a job's subscribers receive.
#[derive(Clone, Debug)]
pub enum Event {
    /// The job's row after a change.
    Job(Arc<Job>),
    /// Changes may have been missed (the relay reconnected, or lost its
    /// connection): re-read the job.
    Resync,
}

struct Channel {
    sender: broadcast::Sender<Event>,
    /// When a subscriber last re-read the job for all; None lets the next one.
    last_reread: Option<Instant>,
    /// The newest row published (highest version), from which the relay
    /// builds progress events without a query.
    latest: Option<Arc<Job>>,
}

type Channels = HashMap<String, Channel>;

#[derive(Clone, Default)]
pub struct JobHub {
    channels: Arc<Mutex<Channels>>,
    /// True while a relay delivers every other instance's changes (see
    /// `events`); subscribers then re-read only as a safety net.
    live: Arc<AtomicBool>,
    /// Where this instance's own changes go to be announced to the others
    /// (PostgreSQL; see `events`). Bounded: should the database stop taking
    /// announcements, writers do not wait and memory does not grow; what is
    /// dropped, other instances' subscribers find when they re-read.
    outbox: Option<mpsc::Sender<JobChange>>,
}

/// What the relay should do about another instance's change.
pub enum Relayed {
    /// Nobody here watches the job, or this instance already published it.
    Nothing,
    /// Published from the last row and the change (progress alone).
    Published,
    /// More than progress changed: read the row and publish it.
    ReadRow,
}

impl JobHub {
    /// A hub whose own changes are also sent to `outbox`.
    pub fn announcing(outbox: mpsc::Sender<JobChange>) -> JobHub {
        JobHub { outbox: Some(outbox), ..JobHub::default() }
    }

    /// Publishes a change this instance made (and committed): here, and to
    /// every other instance through the outbox when there is one.
    pub fn publish(&self, job: Job) {
        if let Some(outbox) = &self.outbox
            && outbox.try_send(JobChange::from(&job)).is_err()
        {
            crate::metrics::announcements_dropped(1);
        }
        self.publish_here(job);
    }

    /// Publishes the job's row to this instance's subscribers only: for
    /// rows read from the database, which other instances can read too.
    ///
    /// The row holds no result: the channel keeps its last `CAPACITY`
    /// events for as long as nothing newer replaces them, and a result can
    /// be megabytes. Subscribers read it from the database.
    ///
    /// A row no newer than the last one published is not news (watches
    /// take only a higher version): a periodic re-read of a quiet job finds
    /// the row as it was, and sending it would wake every subscriber of
    /// the job for nothing.
    pub fn publish_here(&self, job: Job) {
        let receivers = match self.lock().get_mut(&job.id) {
            Some(channel) if channel.latest.as_ref().is_some_and(|latest| latest.version >= job.version) => return,
            Some(channel) => {
                let job = Arc::new(job);
                channel.latest = Some(job.clone());
                // An error only means the last subscriber is leaving right now.
                channel.sender.send(Event::Job(job)).unwrap_or(0)
            }
            None => 0,
        };
        crate::metrics::event_published(receivers);
    }

    /// Publishes another instance's change when it is news here: a change
    /// of progress alone is built from the last row this hub published; any
    /// other needs the row itself.
    pub fn relay(&self, change: &JobChange) -> Relayed {
        let mut channels = self.lock();
        let Some(channel) = channels.get_mut(&change.id) else { return Relayed::Nothing };
        let Some(latest) = &channel.latest else { return Relayed::ReadRow };
        if latest.version >= change.version {
            return Relayed::Nothing;
        }
        if latest.status != change.status || latest.attempts != change.attempts {
            return Relayed::ReadRow;
        }
        let mut job = Job::clone(latest);
        job.progress = change.progress;
        job.version = change.version;
        let job = Arc::new(job);
        channel.latest = Some(job.clone());
        let _ = channel.sender.send(Event::Job(job));
        Relayed::Published
    }

    /// Tells every subscriber to re-read its job (changes may have been
    /// missed), one re-read per job shared by its subscribers.
    pub fn resync(&self) {
        for channel in self.lock().values_mut() {
            channel.last_reread = None;
            let _ = channel.sender.send(Event::Resync);
        }
    }

    pub fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
    }

    /// Whether every change made elsewhere reaches this hub (see `live`).
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Events of the job `job_id` from now on.
    pub fn subscribe(&self, job_id: &str) -> JobEvents {
        // The first subscriber reads the row right after this, so the job counts as just re-read.
        let receiver = self
            .lock()
            .entry(job_id.to_owned())
            .or_insert_with(|| Channel {
                sender: broadcast::channel(CAPACITY).0,
                last_reread: Some(Instant::now()),
                latest: None,
            })
            .sender
            .subscribe();
        JobEvents { hub: self.clone(), job_id: job_id.to_owned(), receiver }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Channels> {
        // The map stays consistent whatever panicked while holding it.
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn watched_jobs(&self) -> usize {
        self.lock().len()
    }
}

/// One subscriber's events of one job; the job's channel goes when the last
/// of these does.
pub struct JobEvents {
    hub: JobHub,
    job_id: String,
    receiver: broadcast::Receiver<Event>,
}

impl JobEvents {
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        self.receiver.recv().await
    }

    /// True when this subscriber should re-read the job for all of its
    /// subscribers (and publish what it finds): nobody did for `gap`.
    pub fn claim_reread(&self, gap: Duration) -> bool {
        let mut channels = self.hub.lock();
        let Some(channel) = channels.get_mut(&self.job_id) else { return true };
        if channel.last_reread.is_some_and(|at| at.elapsed() < gap) {
            return false;
        }
        channel.last_reread = Some(Instant::now());
        true
    }

    /// A claimed re-read found nothing to share (the row vanished, or the
    /// database did not answer): the next subscriber to wake tries itself.
    pub fn reopen_reread(&self) {
        if let Some(channel) = self.hub.lock().get_mut(&self.job_id) {
            channel.last_reread = None;
        }
    }
}

impl Drop for JobEvents {
    fn drop(&mut self) {
        let mut channels = self.hub.lock();
        // Subscribing takes the same lock, so a count of one is this receiver alone.
        if channels.get(&self.job_id).is_some_and(|channel| channel.sender.receiver_count() <= 1) {
            channels.remove(&self.job_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::JobStatus;

    fn received(event: Result<Event, RecvError>) -> Arc<Job> {
        match event {
            Ok(Event::Job(job)) => job,
            other => panic!("expected a job, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn events_reach_only_their_jobs_subscribers() {
        let hub = JobHub::default();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        hub.publish(Job::sample("a"));
        hub.publish(Job::sample("unwatched"));
        assert_eq!(received(a.recv().await).id, "a");
        assert!(matches!(b.receiver.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
        drop(b);
        assert_eq!(hub.watched_jobs(), 1);
    }

    #[tokio::test]
    async fn a_row_no_newer_than_the_last_is_not_sent() {
        let hub = JobHub::default();
        let mut events = hub.subscribe("a");
        hub.publish(Job::sample("a"));
        hub.publish(Job::sample("a"));
        hub.publish(Job { version: 0, ..Job::sample("a") });
        hub.publish(Job { version: 2, ..Job::sample("a") });
        assert_eq!(received(events.recv().await).version, 1);
        assert_eq!(received(events.recv().await).version, 2);
        assert!(matches!(events.receiver.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
    }

    #[tokio::test]
    async fn one_subscriber_rereads_for_all_per_gap() {
        let hub = JobHub::default();
        let first = hub.subscribe("a");
        let second = hub.subscribe("a");
        let gap = Duration::from_millis(50);
        assert!(!first.claim_reread(gap), "the first subscriber just read the row");
        tokio::time::sleep(gap).await;
        assert!(second.claim_reread(gap));
        assert!(!first.claim_reread(gap));
        second.reopen_reread();
        assert!(first.claim_reread(gap));
    }

    #[tokio::test]
    async fn a_jobs_channel_lives_as_long_as_its_last_subscriber() {
        let hub = JobHub::default();
        let first = hub.subscribe("a");
        let mut second = hub.subscribe("a");
        drop(first);
        hub.publish(Job::sample("a"));
        assert_eq!(received(second.recv().await).id, "a");
        drop(second);
        assert_eq!(hub.watched_jobs(), 0);
        let mut again = hub.subscribe("a");
        hub.publish(Job::sample("a"));
        assert_eq!(received(again.recv().await).id, "a");
    }

    #[tokio::test]
    async fn relayed_progress_needs_no_query_but_other_changes_do() {
        let hub = JobHub::default();
        let mut events = hub.subscribe("a");
        let change = |status, progress, version| JobChange {
            id: "a".into(),
            owner_id: "owner".into(),
            status,
            progress,
            attempts: 1,
            version,
        };
        assert!(matches!(hub.relay(&change(JobStatus::Running, 0.1, 2)), Relayed::ReadRow), "no row yet");
        hub.publish(Job::sample("a"));
        received(events.recv().await);
        assert!(matches!(hub.relay(&change(JobStatus::Running, 0.7, 1)), Relayed::Nothing), "already published");
        assert!(matches!(hub.relay(&change(JobStatus::Running, 0.7, 2)), Relayed::Published));
        let relayed = received(events.recv().await);
        assert_eq!((relayed.progress, relayed.version), (0.7, 2));
        assert!(matches!(hub.relay(&change(JobStatus::Succeeded, 1.0, 3)), Relayed::ReadRow));
        assert!(matches!(
            hub.relay(&JobChange { id: "b".into(), ..change(JobStatus::Running, 0.5, 9) }),
            Relayed::Nothing
        ));
    }

    #[tokio::test]
    async fn resync_reaches_every_subscriber_and_reopens_rereads() {
        let hub = JobHub::default();
        let mut first = hub.subscribe("a");
        let second = hub.subscribe("a");
        assert!(!second.claim_reread(Duration::from_secs(60)));
        hub.resync();
        assert!(matches!(first.recv().await, Ok(Event::Resync)));
        assert!(second.claim_reread(Duration::from_secs(60)), "a resync re-reads at once");
    }
}
