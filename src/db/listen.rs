//! PostgreSQL's announcements of job changes (`LISTEN`), on one dedicated
//! connection outside the pool: a pooled connection would be handed to
//! queries and recycled, and a listening one must stay put. The trigger that
//! sends them is in `migrations/postgres/00000000000005_job_versions`.
//!
//! tokio-postgres directly (already in the tree under diesel-async), because
//! diesel-async's connection does not surface notifications.

use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{DbError, DbResult, JobStatus};

/// The channel of every job change; its payload is a [`JobChange`].
const JOB_CHANGED: &str = "loupe_job_changed";
/// The channel of "a job became PENDING"; no payload.
const JOBS_AVAILABLE: &str = "loupe_jobs_available";

/// A job's change as announced: never the result, whose size has no bound
/// (NOTIFY payloads stop at 8,000 bytes).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct JobChange {
    pub id: String,
    #[serde(rename = "owner")]
    pub owner_id: String,
    #[serde(deserialize_with = "status")]
    pub status: JobStatus,
    pub progress: f64,
    pub attempts: i32,
    pub version: i64,
}

fn status<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<JobStatus, D::Error> {
    let text = String::deserialize(deserializer)?;
    JobStatus::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown job status {text:?}")))
}

#[derive(Debug, PartialEq)]
pub enum Notice {
    JobChanged(JobChange),
    JobsAvailable,
}

/// A listening connection. Dropping it closes the connection.
pub struct Listener {
    client: tokio_postgres::Client,
    notices: mpsc::UnboundedReceiver<Result<Notice, DbError>>,
    driver: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Connects to the PostgreSQL database at `url` and listens to job changes.
    pub async fn connect(url: &str) -> DbResult<Listener> {
        let (client, mut connection) = tokio_postgres::connect(url, NoTls).await.map_err(listen_error)?;
        let (sender, notices) = mpsc::unbounded_channel();
        // The connection does its I/O only while polled, queries included.
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                let notice = match message {
                    Ok(AsyncMessage::Notification(n)) if n.channel() == JOBS_AVAILABLE => Ok(Notice::JobsAvailable),
                    Ok(AsyncMessage::Notification(n)) => serde_json::from_str(n.payload())
                        .map(Notice::JobChanged)
                        .map_err(|e| DbError::Listen(format!("unreadable job change {:?}: {e}", n.payload()))),
                    Ok(_) => continue,
                    Err(err) => Err(listen_error(err)),
                };
                let failed = notice.is_err();
                if sender.send(notice).is_err() || failed {
                    break;
                }
            }
        });
        client.batch_execute(&format!("LISTEN {JOB_CHANGED}; LISTEN {JOBS_AVAILABLE}")).await.map_err(listen_error)?;
        Ok(Listener { client, notices, driver })
    }

    /// The next announcement; an error or None when the connection is gone.
    /// A payload that does not parse is an error too, and ends the
    /// connection like any other: the caller re-reads what it watches.
    pub async fn next(&mut self) -> Option<DbResult<Notice>> {
        self.notices.recv().await
    }

    /// A round trip on the connection: a connection whose server vanished
    /// without a word (a cut network) otherwise looks idle forever.
    pub async fn ping(&self) -> DbResult<()> {
        self.client.simple_query("").await.map(drop).map_err(listen_error)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

fn listen_error(err: impl std::fmt::Display) -> DbError {
    DbError::Listen(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triggers_payload_parses() {
        let payload =
            r#"{"id" : "j", "owner" : "o", "status" : "RUNNING", "progress" : 0.25, "attempts" : 2, "version" : 7}"#;
        let change: JobChange = serde_json::from_str(payload).unwrap();
        assert_eq!(change.status, JobStatus::Running);
        assert_eq!((change.owner_id.as_str(), change.progress, change.attempts, change.version), ("o", 0.25, 2, 7));
        assert!(serde_json::from_str::<JobChange>(&payload.replace("RUNNING", "LOST")).is_err());
    }
}
