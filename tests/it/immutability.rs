//! A confirmed upload's bytes never change under its job: the upload URL
//! creates the object once (signed `If-None-Match: *`), and the job reads
//! only the version confirmed (its ETag), on the embedded store and on an
//! external S3 API.

use serde_json::json;

use crate::harness::{Backend, JOB_QUERY, TestApp, on_both_backends};

on_both_backends!(upload_urls_write_once, a_changed_object_fails_the_job, external_store_writes_once);
crate::garage::on_garage!(a_changed_object_fails_the_job);

async fn upload_urls_write_once(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let original = b"n\n1\n2\n".to_vec();
    let forged = b"n\nx\ny\n".to_vec();
    let ticket = app.request_upload("numbers.csv", None, original.len() as u64).await;
    assert!(ticket.headers.iter().any(|(name, value)| name == "if-none-match" && value == "*"), "{:?}", ticket.headers);

    // Two uses of the URL at once: exactly one stores its bytes.
    let (first, second) =
        tokio::join!(app.put(&ticket, &ticket.url, original.clone()), app.put(&ticket, &ticket.url, forged.clone()));
    let mut statuses = [first, second];
    statuses.sort();
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(statuses[1] == 409 || statuses[1] == 412, "{statuses:?}");
    let stored = app.s3().get_object().bucket("loupe").key(format!("uploads/{}", ticket.upload_id)).send().await;
    let stored = stored.unwrap().body.collect().await.unwrap().into_bytes().to_vec();
    let job_id = {
        let confirmed = app.confirm(&ticket.upload_id).await;
        confirmed["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned()
    };

    // While the job waits the URL cannot replace the bytes (nor after it
    // ended: see external_store_writes_once, which keeps its port).
    assert_eq!(app.put(&ticket, &ticket.url, forged.clone()).await, 412);
    app.restart_with(&[]).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    let expected_type = if stored == original { "INTEGER" } else { "STRING" };
    assert_eq!(job["result"]["columns"][0]["inferredType"], expected_type, "the job profiled what was stored");
    let after = app.s3().get_object().bucket("loupe").key(format!("uploads/{}", ticket.upload_id)).send().await;
    assert_eq!(after.unwrap().body.collect().await.unwrap().into_bytes().to_vec(), stored);
}

/// Bytes replaced behind Loupe's back (with the store's own keys, which no
/// client has) are not profiled as if they were the confirmed file.
async fn a_changed_object_fails_the_job(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("numbers.csv", None, b"n\n1\n2\n").await;
    let upload = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"]["upload"]["id"].as_str().unwrap().to_owned();
    let body = b"n\nx\ny\n".to_vec();
    app.s3().put_object().bucket("loupe").key(format!("uploads/{upload}")).body(body.into()).send().await.unwrap();
    app.restart_with(&[]).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "UPLOAD_CHANGED");
    assert_eq!(job["attempts"], 1);
}

/// The same through the external-S3 path: an instance presigning for, and
/// reading from, an S3 API it does not serve itself.
async fn external_store_writes_once(backend: Backend) {
    let (mut app, switch, external) =
        TestApp::with_external_sibling(backend, &["--worker-concurrency", "0"], &[]).await;
    let endpoint = format!("http://{}", switch.addr);
    let own_url = std::mem::replace(&mut app.url, format!("http://{}", external.local_addr));
    let ticket = app.request_upload("numbers.csv", None, 6).await;
    assert!(ticket.url.starts_with(&endpoint), "{}", ticket.url);
    assert_eq!(app.put(&ticket, &ticket.url, b"n\n1\n2\n".to_vec()).await, 200);
    assert_eq!(app.put(&ticket, &ticket.url, b"n\nx\ny\n".to_vec()).await, 412);
    let confirmed = app.confirm(&ticket.upload_id).await;
    let job_id = confirmed["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.put(&ticket, &ticket.url, b"n\nx\ny\n".to_vec()).await, 412);
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["result"]["columns"][0]["inferredType"], "INTEGER");
    assert_eq!(app.put(&ticket, &ticket.url, b"n\nx\ny\n".to_vec()).await, 412, "nor once the job ended");
    app.url = own_url;
    external.shutdown().await.unwrap();
}
