//! Live job events: every change a worker makes to a job (claimed, progress,
//! finished) is published here as the job's new row; subscriptions read it.
//!
//! Each watched job has its own channel, created by its first subscriber
//! and dropped with its last, so an event wakes only that job's
//! subscribers: thousands of idle subscriptions to other jobs cost a running
//! job nothing, and an unwatched job's events cost one map lookup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast::{self, error::RecvError};

use crate::db::Job;

/// Room for one job's bursts (a few events a second); a subscriber that
/// falls further behind is told it lagged and re-reads the job from the
/// database instead (see `watch`).
const CAPACITY: usize = 16;

type Channels = HashMap<String, broadcast::Sender<Arc<Job>>>;

#[derive(Clone, Default)]
pub struct JobHub {
    channels: Arc<Mutex<Channels>>,
}

impl JobHub {
    pub fn publish(&self, job: Job) {
        if let Some(sender) = self.lock().get(&job.id) {
            // An error only means the last subscriber is leaving right now.
            let _ = sender.send(Arc::new(job));
        }
    }

    /// Events of the job `job_id` from now on.
    pub fn subscribe(&self, job_id: &str) -> JobEvents {
        let receiver =
            self.lock().entry(job_id.to_owned()).or_insert_with(|| broadcast::channel(CAPACITY).0).subscribe();
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
    receiver: broadcast::Receiver<Arc<Job>>,
}

impl JobEvents {
    pub async fn recv(&mut self) -> Result<Arc<Job>, RecvError> {
        self.receiver.recv().await
    }
}

impl Drop for JobEvents {
    fn drop(&mut self) {
        let mut channels = self.hub.lock();
        // Subscribing takes the same lock, so a count of one is this receiver alone.
        if channels.get(&self.job_id).is_some_and(|sender| sender.receiver_count() <= 1) {
            channels.remove(&self.job_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::JobStatus;

    fn job(id: &str) -> Job {
        let now = chrono::Utc::now().naive_utc();
        Job {
            id: id.to_owned(),
            owner_id: "owner".to_owned(),
            upload_id: format!("upload-{id}"),
            status: JobStatus::Running,
            progress: 0.5,
            attempts: 1,
            max_attempts: 3,
            lease_owner: None,
            lease_expires_at: None,
            error_code: None,
            error_message: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            updated_at: now,
        }
    }

    #[tokio::test]
    async fn events_reach_only_their_jobs_subscribers() {
        let hub = JobHub::default();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        hub.publish(job("a"));
        hub.publish(job("unwatched"));
        assert_eq!(a.recv().await.unwrap().id, "a");
        assert!(matches!(b.receiver.try_recv(), Err(broadcast::error::TryRecvError::Empty)));
        drop(b);
        assert_eq!(hub.watched_jobs(), 1);
    }

    #[tokio::test]
    async fn a_jobs_channel_lives_as_long_as_its_last_subscriber() {
        let hub = JobHub::default();
        let first = hub.subscribe("a");
        let mut second = hub.subscribe("a");
        drop(first);
        hub.publish(job("a"));
        assert_eq!(second.recv().await.unwrap().id, "a");
        drop(second);
        assert_eq!(hub.watched_jobs(), 0);
        let mut again = hub.subscribe("a");
        hub.publish(job("a"));
        assert_eq!(again.recv().await.unwrap().id, "a");
    }
}
