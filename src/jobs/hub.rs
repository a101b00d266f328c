//! Live job events: every change a worker makes to a job (claimed, progress,
//! finished) is published here as the job's new row; subscriptions read it.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::db::Job;

/// Room for bursts; a subscriber that falls further behind is told it lagged
/// and re-reads the job from the database instead (see `watch`).
const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct JobHub {
    sender: broadcast::Sender<Arc<Job>>,
}

impl Default for JobHub {
    fn default() -> Self {
        JobHub { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl JobHub {
    /// Publishes the job's row, which holds no result: the channel keeps its
    /// last `CAPACITY` events for as long as nothing newer replaces them,
    /// and a result can be megabytes. Subscribers read it from the database.
    pub fn publish(&self, job: Job) {
        // An error only means nobody is listening right now.
        let _ = self.sender.send(Arc::new(job));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Job>> {
        self.sender.subscribe()
    }
}
