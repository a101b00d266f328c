//! PostgreSQL's announcements of job changes between instances: an
//! [`Announcer`] sends this instance's (`NOTIFY`), a [`Listener`] hears
//! everyone's (`LISTEN`). Each is one dedicated connection outside the
//! pool: a pooled connection would be handed to queries and recycled, a
//! listening one must stay put, and an announcing one runs with a setting
//! no query should inherit (see [`Announcer`]).
//!
//! tokio-postgres directly (already in the tree under diesel-async), because
//! diesel-async's connection does not surface notifications.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{DbError, DbResult, Job, JobStatus};

/// The channel of every job change; its payload is a [`JobChange`].
const JOB_CHANGED: &str = "loupe_job_changed";
/// The channel of "a job became PENDING"; no payload.
const JOBS_AVAILABLE: &str = "loupe_jobs_available";

/// How long announcing a batch, or connecting to announce, may take before
/// the connection counts as lost.
const ANNOUNCE_TIMEOUT: Duration = Duration::from_secs(5);

/// A job's change as announced: never the result, whose size has no bound
/// (NOTIFY payloads stop at 8,000 bytes; ids are UUIDs, so this one stays
/// near 200).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobChange {
    pub id: String,
    #[serde(rename = "owner")]
    pub owner_id: String,
    #[serde(serialize_with = "status_text", deserialize_with = "status")]
    pub status: JobStatus,
    pub progress: f64,
    pub attempts: i32,
    pub version: i64,
}

impl From<&Job> for JobChange {
    fn from(job: &Job) -> JobChange {
        JobChange {
            id: job.id.clone(),
            owner_id: job.owner_id.clone(),
            status: job.status,
            progress: job.progress,
            attempts: job.attempts,
            version: job.version,
        }
    }
}

fn status<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<JobStatus, D::Error> {
    let text = String::deserialize(deserializer)?;
    JobStatus::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown job status {text:?}")))
}

fn status_text<S: serde::Serializer>(status: &JobStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(status.as_str())
}

/// The connection that announces this instance's job changes, each after
/// the transaction that made it has committed, in a transaction of its own
/// that does not wait for its commit to reach the disk
/// (`synchronous_commit = off`; an announcement lost in a database crash is
/// covered by subscribers' re-reads, a committed change is not lost).
///
/// Not inside the writing transaction: a transaction that notifies takes
/// PostgreSQL's one notification lock at commit and holds it until its
/// commit record is flushed, so every notifying commit of every instance
/// waited for the disk in single file. Measured with pgbench, 16 clients,
/// on the development machine: an UPDATE alone 4,100 transactions/s; with a
/// NOTIFY in its transaction 1,130; followed by a NOTIFY in its own
/// asynchronously committed transaction 3,020.
pub struct Announcer {
    client: tokio_postgres::Client,
    statement: tokio_postgres::Statement,
    driver: tokio::task::JoinHandle<()>,
}

impl Announcer {
    pub async fn connect(url: &str) -> DbResult<Announcer> {
        tokio::time::timeout(ANNOUNCE_TIMEOUT, async {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(listen_error)?;
            let driver = tokio::spawn(async move {
                let _ = connection.await;
            });
            client.batch_execute("SET synchronous_commit = off").await.map_err(listen_error)?;
            // One statement for a whole batch: one round trip, one transaction.
            let statement = client
                .prepare("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)")
                .await
                .map_err(listen_error)?;
            Ok(Announcer { client, statement, driver })
        })
        .await
        .unwrap_or_else(|_| Err(DbError::Listen("connecting to announce timed out".into())))
    }

    /// Announces the changes, and that jobs are available when one of them
    /// is PENDING. All or none: on an error the caller may send them again
    /// (a listener takes only what is newer than what it has).
    pub async fn announce(&self, changes: &[JobChange]) -> DbResult<()> {
        let mut channels = Vec::with_capacity(changes.len() + 1);
        let mut payloads = Vec::with_capacity(changes.len() + 1);
        for change in changes {
            channels.push(JOB_CHANGED);
            payloads.push(serde_json::to_string(change).map_err(listen_error)?);
        }
        if changes.iter().any(|change| change.status == JobStatus::Pending) {
            channels.push(JOBS_AVAILABLE);
            payloads.push(String::new());
        }
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&channels, &payloads];
        let sent = self.client.execute(&self.statement, &params);
        match tokio::time::timeout(ANNOUNCE_TIMEOUT, sent).await {
            Ok(sent) => sent.map(drop).map_err(listen_error),
            Err(_) => Err(DbError::Listen("announcing timed out".into())),
        }
    }
}

impl Drop for Announcer {
    fn drop(&mut self) {
        self.driver.abort();
    }
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
    fn an_announced_change_reads_back_as_sent() {
        let mut job = Job::sample("job");
        job.progress = 0.25;
        job.version = 7;
        let change = JobChange::from(&job);
        let payload = serde_json::to_string(&change).unwrap();
        assert!(payload.contains(r#""status":"RUNNING""#), "{payload}");
        assert!(payload.contains(r#""owner":"owner""#), "{payload}");
        assert_eq!(serde_json::from_str::<JobChange>(&payload).unwrap(), change);
    }

    #[test]
    fn a_payload_parses() {
        let payload =
            r#"{"id" : "j", "owner" : "o", "status" : "RUNNING", "progress" : 0.25, "attempts" : 2, "version" : 7}"#;
        let change: JobChange = serde_json::from_str(payload).unwrap();
        assert_eq!(change.status, JobStatus::Running);
        assert_eq!((change.owner_id.as_str(), change.progress, change.attempts, change.version), ("o", 0.25, 2, 7));
        assert!(serde_json::from_str::<JobChange>(&payload.replace("RUNNING", "LOST")).is_err());
    }
}
