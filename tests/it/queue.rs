//! The queue survives crashes: nothing stays PENDING or RUNNING after a
//! restart, and a subscriber never misses the end.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::harness::{Backend, JOB_QUERY, TestApp, on_both_backends};

on_both_backends!(
    crashed_and_pending_jobs_run_after_restart,
    exhausted_jobs_fail,
    lagging_subscriber_still_sees_the_end,
    cancelled_jobs_never_run,
    instances_share_the_queue,
    a_taken_over_attempt_is_fenced,
    a_busy_hub_does_not_postpone_rereads,
    a_run_whose_job_was_taken_over_stops,
);

async fn crashed_and_pending_jobs_run_after_restart(backend: Backend) {
    // No worker: jobs are enqueued and stay put, as if the server died at once.
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let crashed = app.submit("crashed.csv", None, b"a,b\n1,2\n").await;
    let pending = app.submit("pending.csv", None, b"a,b\n3,4\n5,6\n").await;
    // A worker claimed the first job, then died: RUNNING with a lease nobody renews.
    app.execute_sql(&format!(
        "UPDATE jobs SET status = 'RUNNING', attempts = 1, lease_owner = 'worker-that-died', \
         lease_expires_at = '2000-01-01 00:00:00', started_at = '2000-01-01 00:00:00' WHERE id = '{crashed}'"
    ))
    .await;
    let before = app.ok(JOB_QUERY, json!({ "id": crashed })).await;
    assert_eq!(before["job"]["status"], "RUNNING");

    app.restart_with(&["--worker-concurrency", "2"]).await;
    let crashed_job = app.finished_job(&crashed).await;
    assert_eq!(crashed_job["status"], "SUCCEEDED", "{crashed_job:#}");
    assert_eq!(crashed_job["attempts"], 2, "the crashed attempt counts");
    assert_eq!(crashed_job["result"]["rowCount"], 1);
    let pending_job = app.finished_job(&pending).await;
    assert_eq!(pending_job["status"], "SUCCEEDED");
    assert_eq!(pending_job["attempts"], 1);
}

async fn exhausted_jobs_fail(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("doomed.csv", None, b"a\n1\n").await;
    app.execute_sql(&format!(
        "UPDATE jobs SET status = 'RUNNING', attempts = max_attempts, lease_owner = 'worker-that-died', \
         lease_expires_at = '2000-01-01 00:00:00' WHERE id = '{job_id}'"
    ))
    .await;
    // Attempts spent, yet PENDING (an older Loupe retried database errors
    // without counting): no claim may take it beyond its maximum.
    let spent = app.submit("spent.csv", None, b"a\n1\n").await;
    app.execute_sql(&format!("UPDATE jobs SET attempts = max_attempts WHERE id = '{spent}'")).await;
    app.restart_with(&[]).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "FAILED");
    assert_eq!(job["error"]["code"], "ATTEMPTS_EXHAUSTED");
    assert!(job["error"]["message"].as_str().unwrap().contains("stopped responding"));
    let job = app.finished_job(&spent).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "ATTEMPTS_EXHAUSTED");
    assert_eq!(job["attempts"], 3, "never more than the maximum");
}

/// A subscriber that falls more than the hub's capacity behind re-reads the
/// job instead of failing, and still sees the terminal state.
async fn lagging_subscriber_still_sees_the_end(backend: Backend) {
    let app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("watched.csv", None, b"a\n1\n").await;
    let viewer = loupe::auth::Viewer::local();
    let mut updates = loupe::jobs::watch_job(app.app(), &viewer, &job_id).await.unwrap().boxed();
    let first = updates.next().await.unwrap();
    assert_eq!(first.status.as_str(), "PENDING");

    // Flood the hub far past its capacity while the subscriber is not reading
    // (each event newer than the last, or the hub would drop it as no news),
    // then end the job in the database, as another instance's worker would,
    // with no event for it at all (plain SQL is not announced either).
    for i in 1..=5000 {
        let mut event = first.clone();
        event.progress = f64::from(i) / 5000.0;
        event.version = first.version + i64::from(i);
        app.app().hub.publish_here(event);
    }
    app.execute_sql(&format!(
        "UPDATE jobs SET status = 'FAILED', error_code = 'INTERNAL', error_message = 'staged', \
         finished_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP, version = version + 10000 \
         WHERE id = '{job_id}'"
    ))
    .await;
    let rest: Vec<_> = tokio::time::timeout(Duration::from_secs(20), updates.collect::<Vec<_>>())
        .await
        .expect("the watch ends by itself");
    let last = rest.last().expect("updates after the lag");
    assert_eq!(last.status.as_str(), "FAILED");
    assert_eq!(rest.iter().filter(|job| job.status.is_terminal()).count(), 1);
}

const CANCEL: &str = "mutation($id: ID!) { cancelJob(id: $id) { id status finishedAt } }";

async fn cancelled_jobs_never_run(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("unwanted.csv", None, b"a\n1\n").await;
    let cancelled = app.ok(CANCEL, json!({ "id": job_id })).await;
    assert_eq!(cancelled["cancelJob"]["status"], "CANCELLED");
    assert!(cancelled["cancelJob"]["finishedAt"].is_string());
    let again = app.ok(CANCEL, json!({ "id": job_id })).await;
    assert_eq!(again["cancelJob"]["status"], "CANCELLED", "cancelling twice is harmless");
    let updates = app.subscribe_job(&job_id).await;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["status"], "CANCELLED");

    app.restart_with(&[]).await;
    let other = app.submit("wanted.csv", None, b"a\n1\n").await;
    assert_eq!(app.finished_job(&other).await["status"], "SUCCEEDED");
    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
    assert_eq!(job["status"], "CANCELLED", "a worker never picked it up");
    assert_eq!(job["attempts"], 0);

    let finished = app.graphql(CANCEL, json!({ "id": other })).await;
    assert_eq!(crate::harness::error_code(&finished), "CONFLICT");
    let unknown = app.graphql(CANCEL, json!({ "id": uuid::Uuid::now_v7().to_string() })).await;
    assert_eq!(crate::harness::error_code(&unknown), "NOT_FOUND");
}

/// Cancelling a running job stops its worker; the job stays CANCELLED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_running_job_stops_it() {
    let app = TestApp::start_with(Backend::Sqlite, &["--worker-concurrency", "1"]).await;
    let mut csv = String::from("id,value\n");
    while csv.len() < 20_000_000 {
        csv.push_str("12345,67.89\n");
    }
    let job_id = app.submit("long.csv", None, csv.as_bytes()).await;
    let viewer = loupe::auth::Viewer::local();
    let mut updates = loupe::jobs::watch_job(app.app(), &viewer, &job_id).await.unwrap().boxed();
    let mut statuses = Vec::new();
    while let Some(job) = tokio::time::timeout(Duration::from_secs(30), updates.next()).await.expect("updates") {
        statuses.push(job.status.as_str());
        if job.status.as_str() == "RUNNING" && statuses.iter().filter(|s| **s == "RUNNING").count() == 1 {
            assert_eq!(app.ok(CANCEL, json!({ "id": job_id })).await["cancelJob"]["status"], "CANCELLED");
        }
    }
    assert_eq!(statuses.last(), Some(&"CANCELLED"), "{statuses:?}");
    // The worker stopped rather than finishing: the job never turns SUCCEEDED.
    let next = app.submit("after.csv", None, b"a\n1\n").await;
    assert_eq!(app.finished_job(&next).await["status"], "SUCCEEDED", "the worker's slot was freed");
    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
    assert_eq!(job["status"], "CANCELLED");
    assert!(job["result"].is_null());
}

/// Instances share one database: two workers racing for the same queued
/// jobs run each exactly once.
async fn instances_share_the_queue(backend: Backend) {
    let app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(app.submit(&format!("shared{i}.csv"), None, format!("n\n{i}\n").as_bytes()).await);
    }
    let (first, second) = tokio::join!(
        app.start_sibling(&["--worker-concurrency", "2"]),
        app.start_sibling(&["--worker-concurrency", "2"])
    );
    for id in &ids {
        let job = app.finished_job(id).await;
        assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
        assert_eq!(job["attempts"], 1, "claimed once: {job:#}");
    }
    first.shutdown().await.unwrap();
    second.shutdown().await.unwrap();
}

/// Events carry job rows, which hold no result (up to megabytes; `db::Job`
/// has no such field), yet a subscriber asking for the result gets it with
/// the terminal state, read from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_the_result_from_the_database() {
    let app = TestApp::start(Backend::Sqlite).await;
    let job_id = app.submit("kept.csv", None, b"a\n1\n").await;
    let query = "subscription($jobId: ID!) { jobUpdates(jobId: $jobId) { status result { __typename } } }";
    let updates = app.subscribe(crate::harness::Protocol::TransportWs, query, json!({ "jobId": job_id })).await;
    let last = &updates.last().unwrap()["data"]["jobUpdates"];
    assert_eq!(last["status"], "SUCCEEDED");
    assert_eq!(last["result"]["__typename"], "TableProfile", "the subscriber got the result");
}

/// A runner whose lease ran out and whose job was taken over, here by the
/// same worker (as when one process claims its own expired job again), can
/// write nothing more: not progress, not a heartbeat, not an ending. Every
/// write moves the job's version on.
async fn a_taken_over_attempt_is_fenced(backend: Backend) {
    use loupe::db::{Claim, Fence, JobFinish};
    let app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("fenced.csv", None, b"a\n1\n").await;
    let db = &app.app().db;
    let now = chrono::Utc::now().naive_utc();
    let second = chrono::TimeDelta::seconds(1);
    let worker = "worker-under-test";
    let first = db.claim_job(&Claim { worker_id: worker, now, lease_until: now + second }).await.unwrap().unwrap();
    assert_eq!((first.id.as_str(), first.attempts), (job_id.as_str(), 1));
    let old = Fence { worker_id: worker, attempt: 1 };
    let beat = db.record_progress(&job_id, old, 0.25, None, now).await.unwrap().expect("the fence holds");
    assert!(beat.version > first.version);

    // The lease runs out; the same worker takes the job over.
    let later = now + second * 10;
    let claim = Claim { worker_id: worker, now: later, lease_until: later + second * 30 };
    let taken = db.claim_job(&claim).await.unwrap().expect("the expired job is claimable");
    assert_eq!(taken.attempts, 2);
    assert!(taken.version > beat.version);
    assert_eq!(taken.error_code.as_deref(), Some("WORKER_LOST"), "the lost attempt is explained");

    let lease = Some(later + second * 60);
    assert!(db.record_progress(&job_id, old, 0.9, lease, later).await.unwrap().is_none(), "stale heartbeat");
    assert!(db.record_progress(&job_id, old, 0.9, None, later).await.unwrap().is_none(), "stale progress");
    for finish in [
        JobFinish::Succeeded { result: "{}" },
        JobFinish::Failed { code: "INTERNAL", message: "stale" },
        JobFinish::Retry { code: "STORAGE", message: "stale", run_after: later },
        JobFinish::Release,
    ] {
        assert!(db.finish_job(&job_id, old, finish, later).await.unwrap().is_none(), "a stale ending");
    }
    let stranger = Fence { worker_id: "another-worker", attempt: 2 };
    assert!(db.record_progress(&job_id, stranger, 0.9, None, later).await.unwrap().is_none());

    let current = Fence { worker_id: worker, attempt: 2 };
    let progressed = db.record_progress(&job_id, current, 0.5, lease, later).await.unwrap().expect("holds");
    assert_eq!((progressed.progress, progressed.attempts), (0.5, 2));
    assert!(progressed.version > taken.version);
    let ended = JobFinish::Failed { code: "UNREADABLE_FILE", message: "staged" };
    let done = db.finish_job(&job_id, current, ended, later).await.unwrap().expect("holds");
    assert!(done.version > progressed.version);
    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
    assert_eq!(job["status"], "FAILED");
    assert_eq!(job["error"]["message"], "staged", "nothing of the stale attempt landed: {job:#}");
    assert_eq!(job["progress"], 0.5);
}

/// A change no event announces (another instance's, with no relay) is seen
/// within the re-read period however many events the job's channel
/// carries: events used to restart the re-read timer, so a steady stream
/// of them postponed it for ever.
async fn a_busy_hub_does_not_postpone_rereads(backend: Backend) {
    let app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("busy.csv", None, b"a\n1\n").await;
    let viewer = loupe::auth::Viewer::local();
    let mut updates = loupe::jobs::watch_job(app.app(), &viewer, &job_id).await.unwrap().boxed();
    let first = updates.next().await.unwrap();
    // As when the PostgreSQL relay goes down: subscribers re-read at once,
    // then every period. (On SQLite there is no relay.)
    app.app().hub.set_live(false);
    app.app().hub.resync();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let hub = app.app().hub.clone();
    let noise = tokio::spawn(async move {
        loop {
            hub.publish_here(first.clone());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let staged = std::time::Instant::now();
    // Plain SQL: no announcement, on either backend.
    app.execute_sql(&format!(
        "UPDATE jobs SET status = 'FAILED', error_code = 'INTERNAL', error_message = 'staged', \
         finished_at = CURRENT_TIMESTAMP, version = version + 1 WHERE id = '{job_id}'"
    ))
    .await;
    let end = tokio::time::timeout(Duration::from_secs(10), updates.next()).await;
    noise.abort();
    let seen_after = staged.elapsed();
    let end = end.expect("the re-read was postponed").expect("the end");
    assert_eq!(end.status.as_str(), "FAILED");
    // The period is max(--job-poll-ms, 1 s) = 1 s here; the bound leaves room for a loaded machine.
    assert!(seen_after < Duration::from_secs(3), "seen after {seen_after:?}");
}

/// The same through a real run: while the worker runs a job, its attempt
/// is taken over as its own worker would after the lease ran out (same
/// worker id, one more attempt). The stale run stops at its next write and
/// records nothing; the worker then runs the job again, and only that
/// attempt ends it. Fenced on the worker id alone, the stale run would
/// have gone on to succeed as attempt 2.
async fn a_run_whose_job_was_taken_over_stops(backend: Backend) {
    let app = TestApp::start_with(backend, &["--worker-concurrency", "1"]).await;
    let mut csv = String::from("id,value\n");
    while csv.len() < 20_000_000 {
        csv.push_str("12345,67.89\n");
    }
    let job_id = app.submit("taken.csv", None, csv.as_bytes()).await;
    app.wait_for_job(&job_id, |job| job["status"] == "RUNNING").await;
    app.execute_sql(&format!(
        "UPDATE jobs SET attempts = attempts + 1, version = version + 1, \
         lease_expires_at = '2000-01-01 00:00:00' WHERE id = '{job_id}' AND status = 'RUNNING'"
    ))
    .await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["attempts"], 3, "the stale run stopped; a third attempt ended the job: {job:#}");
    assert_eq!(job["lastFailure"]["code"], "WORKER_LOST");
}
