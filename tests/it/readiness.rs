//! Readiness follows what the instance needs (storage, disk), the data
//! directory is private, file names cannot disguise themselves, and the
//! embedded store serves a second instance.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, TestApp, on_both_backends};

on_both_backends!(readyz_follows_the_object_store, data_is_private, bidi_controls_leave_file_names);

async fn readyz(app_url: &str) -> (u16, String) {
    let response = reqwest::get(format!("{app_url}/readyz")).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn readyz_follows_the_object_store(backend: Backend) {
    // The embedded store answers HEAD /loupe/, so another instance can use it.
    let (app, switch, other) = TestApp::with_external_sibling(backend, &["--worker-concurrency", "0"], &[]).await;
    app.s3().head_bucket().bucket("loupe").send().await.expect("HEAD of the bucket");
    let url = format!("http://{}", other.local_addr);
    assert_eq!(readyz(&url).await, (200, "ready".to_owned()));

    switch.set(false);
    let (status, reason) = readyz(&url).await;
    assert_eq!(status, 503);
    assert_eq!(reason, "the object storage is unreachable");
    assert_eq!(readyz(&app.url).await.0, 200, "the store's own instance is fine");

    switch.set(true);
    let mut recovered = readyz(&url).await;
    for _ in 0..50 {
        if recovered.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        recovered = readyz(&url).await;
    }
    assert_eq!(recovered, (200, "ready".to_owned()), "ready again once the store is back");
    other.shutdown().await.unwrap();
}

/// A data disk with less free space than required is not ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_a_full_disk() {
    let app = TestApp::start_with(Backend::Sqlite, &["--min-free-disk-bytes", &u64::MAX.to_string()]).await;
    let (status, reason) = readyz(&app.url).await;
    assert_eq!(status, 503);
    assert!(reason.starts_with("the data disk has") && reason.contains("--min-free-disk-bytes"), "{reason}");
    assert_eq!(reqwest::get(format!("{}/healthz", app.url)).await.unwrap().status(), 200, "alive all the same");
}

async fn data_is_private(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::start(backend).await;
    let job_id = app.submit("secret.csv", None, b"salary\n100\n").await;
    let job = app.finished_job(&job_id).await;
    let object = app.data_dir.join("objects/loupe/uploads").join(job["upload"]["id"].as_str().unwrap());
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&app.data_dir), 0o700);
    assert_eq!(mode(&app.data_dir.join("objects")), 0o700);
    assert_eq!(mode(&object), 0o600, "{}", object.display());
    assert_eq!(mode(&app.data_dir.join("embedded-s3.credentials")), 0o600);
    if backend == Backend::Sqlite {
        assert_eq!(mode(std::path::Path::new(&app.database.url)), 0o600);
    }
}

async fn bidi_controls_leave_file_names(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ticket = app.request_upload("invoice\u{202E}gpj.exe", None, 1).await;
    let upload = app.ok("query($id: ID!) { upload(id: $id) { filename } }", json!({ "id": ticket.upload_id })).await;
    assert_eq!(upload["upload"]["filename"], "invoicegpj.exe");
}
