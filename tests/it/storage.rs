//! Storage failures: a missing object fails the job at once, an outage is
//! retried with growing delays and survived.

use std::time::{Duration, Instant};

use crate::harness::{Backend, TestApp, is_terminal, on_both_backends};

on_both_backends!(deleted_object_fails_upload_missing_at_once, storage_outage_is_retried_with_backoff);
crate::garage::on_garage!(deleted_object_fails_upload_missing_at_once);

async fn deleted_object_fails_upload_missing_at_once(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("gone.csv", None, b"a\n1\n").await;
    let upload = app.ok(crate::harness::JOB_QUERY, serde_json::json!({ "id": job_id })).await["job"]["upload"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.s3().delete_object().bucket("loupe").key(format!("uploads/{upload}")).send().await.unwrap();
    app.restart_with(&[]).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "UPLOAD_MISSING");
    assert_eq!(job["attempts"], 1, "not retried: retrying cannot bring the file back");
}

/// An instance whose S3 service goes away retries with growing delays and
/// finishes once the service is back; if it never comes back, the job fails
/// `STORAGE` after its last attempt, not within milliseconds.
async fn storage_outage_is_retried_with_backoff(backend: Backend) {
    // The store is this instance's embedded one; a second instance, the
    // worker, reaches it as external S3 through a switch that stages the outage.
    let (app, switch, worker) = TestApp::with_external_sibling(
        backend,
        &["--worker-concurrency", "0"],
        &["--worker-concurrency", "1", "--job-retry-delay-ms", "500"],
    )
    .await;

    switch.set(false);
    let started = Instant::now();
    let survived = app.submit("survives.csv", None, b"a\n1\n2\n").await;
    let pending_again = |job: &serde_json::Value| job["status"] == "PENDING" && job["attempts"] == 2;
    let waiting = app.wait_for_job(&survived, pending_again).await;
    assert_eq!(waiting["lastFailure"]["code"], "STORAGE", "why it waits shows: {waiting:#}");
    assert!(waiting["error"].is_null());
    assert!(started.elapsed() >= Duration::from_millis(500), "the second attempt waited");
    switch.set(true);
    let job = app.wait_for_job(&survived, is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["attempts"], 3);
    assert_eq!(job["lastFailure"]["code"], "STORAGE", "the failed attempts stay explained");
    assert!(started.elapsed() >= Duration::from_millis(1500), "waited 0.5 s, then 1 s: {:?}", started.elapsed());

    switch.set(false);
    let started = Instant::now();
    let doomed = app.submit("doomed.csv", None, b"a\n1\n").await;
    let job = app.wait_for_job(&doomed, is_terminal).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "STORAGE");
    assert_eq!(job["attempts"], 3);
    assert!(started.elapsed() >= Duration::from_millis(1500), "{:?}", started.elapsed());
    worker.shutdown().await.unwrap();
}
