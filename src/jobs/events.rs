//! How job events cross instances, chosen at start like the database pool:
//!
//! - **In-process** (SQLite): a SQLite file has one instance, so the code
//!   that changes a job publishes it on the hub and that is all.
//! - **PostgreSQL**: every change to a job is also announced with `NOTIFY`
//!   (a small payload: id, owner, status, progress, attempts, version).
//!   Each instance holds one `LISTEN` connection outside the pool and
//!   relays what it hears to its own hub, and wakes its worker when a job
//!   becomes PENDING anywhere.
//!
//! The `NOTIFY` comes from a trigger on `jobs`, not from the code that
//! writes: every path that changes a job announces it, including ones that
//! do not exist yet, the SQL of tests and operators, and cascades; it is
//! part of the writing transaction by construction (sent at commit, never on
//! rollback) with no extra round trip; and a forgotten `notify` call cannot
//! leave another instance's subscriber waiting. The cost is a notification
//! per heartbeat too, which is small (one per job per few seconds).
//!
//! The writer still publishes on its own hub at once; the relay skips what
//! the hub already has (by version), so local subscribers hear of local
//! changes without a round trip through PostgreSQL.
//!
//! While the listening connection is down, the relay reconnects with
//! backoff and subscribers fall back to re-reading their jobs every
//! `max(--job-poll-ms, 1 s)` (see `watch`); on every connect and every loss
//! they re-read at once, as changes may have gone unheard.

use std::time::Duration;

use tokio::sync::watch;

use super::hub::Relayed;
use crate::app::App;
use crate::db::{Backend, JobChange, Listener, Notice};

/// First wait before reconnecting; doubles per failure up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often an idle listening connection proves it is alive.
const PING_EVERY: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Where this instance hears of job changes made by others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relay {
    InProcess,
    Postgres,
}

impl Relay {
    pub fn for_backend(backend: Backend) -> Relay {
        match backend {
            Backend::Sqlite => Relay::InProcess,
            Backend::Postgres => Relay::Postgres,
        }
    }

    /// Relays other instances' changes to this instance until `stop`.
    pub async fn run(self, app: App, mut stop: watch::Receiver<bool>) {
        if self == Relay::InProcess {
            return;
        }
        let mut backoff = MIN_BACKOFF;
        loop {
            let connected = tokio::select! {
                connected = app.db.listen() => connected,
                _ = stop.wait_for(|stop| *stop) => return,
            };
            match connected {
                Ok(listener) => {
                    backoff = MIN_BACKOFF;
                    app.hub.set_live(true);
                    // Whatever changed while nobody listened: re-read, and look for jobs.
                    app.hub.resync();
                    app.wake.notify_one();
                    let ended = tokio::select! {
                        ended = relay(&app, listener) => ended,
                        _ = stop.wait_for(|stop| *stop) => None,
                    };
                    app.hub.set_live(false);
                    let Some(err) = ended else { return };
                    tracing::warn!(error = %err, "lost the database's job announcements; reconnecting");
                    crate::metrics::notify_reconnect();
                    // Subscribers switch to periodic re-reads until the relay is back.
                    app.hub.resync();
                }
                Err(err) => {
                    tracing::warn!(error = %err, ?backoff, "listening to job announcements failed");
                    crate::metrics::notify_reconnect();
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

/// Relays until the connection fails; returns why.
async fn relay(app: &App, mut listener: Listener) -> Option<crate::db::DbError> {
    loop {
        let notice = match tokio::time::timeout(PING_EVERY, listener.next()).await {
            Ok(Some(Ok(notice))) => notice,
            Ok(Some(Err(err))) => return Some(err),
            Ok(None) => return Some(crate::db::DbError::Listen("the connection closed".into())),
            Err(_) => match tokio::time::timeout(PING_TIMEOUT, listener.ping()).await {
                Ok(Ok(())) => continue,
                Ok(Err(err)) => return Some(err),
                Err(_) => return Some(crate::db::DbError::Listen("the connection stopped answering".into())),
            },
        };
        match notice {
            Notice::JobsAvailable => app.wake.notify_one(),
            Notice::JobChanged(change) => publish(app, &change).await,
        }
    }
}

async fn publish(app: &App, change: &JobChange) {
    match app.hub.relay(change) {
        Relayed::Nothing | Relayed::Published => {}
        Relayed::ReadRow => match app.db.find_job(&change.owner_id, &change.id).await {
            Ok(Some(job)) => app.hub.publish(job),
            // Deleted since: its subscribers find out when they re-read.
            Ok(None) => {}
            // Its subscribers re-read it themselves within their interval.
            Err(err) => tracing::warn!(error = %err, job = %change.id, "reading an announced job failed"),
        },
    }
}
