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
//! The writer announces, not a trigger on `jobs`. Every write to a job
//! already ends in [`JobHub::publish`] on the writing instance (that is how
//! its own subscribers hear of it), and on PostgreSQL that hands the change
//! to the [`announce`] task, which sends it after the write has committed,
//! batched with whatever else is waiting, from its own connection. A
//! trigger announced from inside the writing transaction; that made every
//! notifying commit of every instance wait for the disk in single file
//! (the numbers are in `db::Announcer`) and capped a deployment at a few
//! hundred small jobs a second however many instances it had. The cost of
//! the writer announcing: a change made by plain SQL (an operator, a test)
//! is not announced, and a crash between a commit and its announcement
//! loses the announcement; in both cases other instances' subscribers see
//! the change at their next periodic re-read ([`super::watch`]), and their
//! workers at their next poll.
//!
//! The relay skips what the hub already has (by version), so an instance
//! hearing its own announcements back publishes nothing twice.
//!
//! While the listening connection is down, the relay reconnects with
//! backoff and subscribers fall back to re-reading their jobs every
//! `max(--job-poll-ms, 1 s)` (see `watch`); on every connect and every loss
//! they re-read at once, as changes may have gone unheard.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::hub::{JobHub, Relayed};
use crate::app::App;
use crate::db::{Announcer, Backend, Db, JobChange, Listener, Notice};

/// First wait before reconnecting; doubles per failure up to `MAX_BACKOFF`.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often an idle listening connection proves it is alive.
const PING_EVERY: Duration = Duration::from_secs(5);
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Announcements waiting to be sent; more than a burst's worth means the
/// database is not taking them.
const OUTBOX: usize = 4096;
/// Announcements sent in one statement at most.
const BATCH: usize = 256;

/// This instance's changes on their way to the other instances.
pub struct Outbox(mpsc::Receiver<JobChange>);

/// The hub of an instance on `backend`, and the outbox it fills when other
/// instances must hear of its changes.
pub fn hub_for(backend: Backend) -> (JobHub, Option<Outbox>) {
    match backend {
        Backend::Sqlite => (JobHub::default(), None),
        Backend::Postgres => {
            let (sender, receiver) = mpsc::channel(OUTBOX);
            (JobHub::announcing(sender), Some(Outbox(receiver)))
        }
    }
}

/// Announces what the outbox receives until `stop`, then what is left in
/// it (the worker has stopped by then: nothing more comes).
///
/// A batch that fails is tried once more on a new connection (listeners
/// take only what is newer than what they have, so a change heard twice
/// does no harm), then dropped: a database that refuses it twice is down
/// or restarting, and every listener re-reads what it watches when its own
/// connection comes back. While stopping, the first failure ends it.
pub async fn announce(db: Db, outbox: Outbox, mut stop: watch::Receiver<bool>) {
    let Outbox(mut outbox) = outbox;
    let mut announcer: Option<Announcer> = None;
    let mut batch = Vec::with_capacity(BATCH);
    let mut failures = 0;
    let mut backoff = MIN_BACKOFF;
    let mut stopping = false;
    loop {
        if batch.is_empty() {
            tokio::select! {
                received = outbox.recv_many(&mut batch, BATCH) => if received == 0 { return },
                // Err: the server was dropped without a shutdown, and its tasks go on.
                Ok(_) = stop.wait_for(|stop| *stop), if !stopping => {
                    stopping = true;
                    outbox.close();
                    continue;
                }
            }
        }
        let sent = match &announcer {
            Some(announcer) => announcer.announce(&batch).await,
            None => match db.announcer().await {
                Ok(connected) => {
                    announcer = Some(connected);
                    continue;
                }
                Err(err) => Err(err),
            },
        };
        let Err(err) = sent else {
            batch.clear();
            failures = 0;
            backoff = MIN_BACKOFF;
            continue;
        };
        announcer = None;
        failures += 1;
        crate::metrics::notify_reconnect();
        if stopping || failures >= 2 {
            tracing::warn!(error = %err, changes = batch.len(), "announcing job changes failed; they are dropped");
            crate::metrics::announcements_dropped(batch.len());
            batch.clear();
            failures = 0;
            if stopping {
                return;
            }
        } else {
            tracing::warn!(error = %err, changes = batch.len(), ?backoff, "announcing job changes failed; retrying");
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            Ok(_) = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                outbox.close();
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

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
            Ok(Some(job)) => app.hub.publish_here(job),
            // Deleted since: its subscribers find out when they re-read.
            Ok(None) => {}
            // Its subscribers re-read it themselves within their interval.
            Err(err) => tracing::warn!(error = %err, job = %change.id, "reading an announced job failed"),
        },
    }
}
