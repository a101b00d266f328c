//! Users delete what they uploaded; abandoned uploads and, with a retention
//! period, finished ones are swept: rows and objects.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, JOB_QUERY, TestApp, error_code, on_both_backends};

on_both_backends!(
    deleting_an_upload_removes_everything,
    deleting_cancels_an_unfinished_job,
    abandoned_uploads_are_swept,
    finished_uploads_are_swept_after_retention,
);
crate::garage::on_garage!(deleting_an_upload_removes_everything, abandoned_uploads_are_swept);

const DELETE: &str = "mutation($id: ID!) { deleteUpload(id: $id) }";

async fn object_exists(app: &TestApp, upload_id: &str) -> bool {
    app.s3().head_object().bucket("loupe").key(format!("uploads/{upload_id}")).send().await.is_ok()
}

async fn upload_of(app: &TestApp, job_id: &str) -> String {
    app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"]["upload"]["id"].as_str().unwrap().to_owned()
}

async fn deleting_an_upload_removes_everything(backend: Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("mine.csv", None, b"a\n1\n").await;
    assert_eq!(app.finished_job(&job_id).await["status"], "SUCCEEDED");
    let upload_id = upload_of(&app, &job_id).await;
    assert!(object_exists(&app, &upload_id).await);

    // Another user's upload is out of reach: deleting it changes nothing.
    app.execute_sql(
        "INSERT INTO users (id, login, created_at, provider, subject)
         VALUES ('other-user', 'other', CURRENT_TIMESTAMP, 'test', 'other');
         INSERT INTO uploads (id, owner_id, filename, size, object_key, status, created_at, url_expires_at)
         VALUES ('0192f0c4-0000-7000-8000-000000000001', 'other-user', 'theirs.csv', 1, 'uploads/theirs',
                 'AWAITING_UPLOAD', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);",
    )
    .await;
    app.ok(DELETE, json!({ "id": "0192f0c4-0000-7000-8000-000000000001" })).await;
    assert_eq!(app.count_rows("uploads").await, 2);

    assert_eq!(app.ok(DELETE, json!({ "id": upload_id })).await["deleteUpload"], upload_id);
    assert!(!object_exists(&app, &upload_id).await, "the object is gone");
    assert_eq!(app.count_rows("uploads").await, 1);
    assert_eq!(app.count_rows("jobs").await, 0, "the job and its result went with it");
    let upload = app.graphql("query($id: ID!) { upload(id: $id) { id } }", json!({ "id": upload_id })).await;
    assert_eq!(error_code(&upload), "NOT_FOUND");
    assert_eq!(error_code(&app.graphql(JOB_QUERY, json!({ "id": job_id })).await), "NOT_FOUND");
    // Idempotent.
    assert_eq!(app.ok(DELETE, json!({ "id": upload_id })).await["deleteUpload"], upload_id);
}

async fn deleting_cancels_an_unfinished_job(backend: Backend) {
    let app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("waiting.csv", None, b"a\n1\n").await;
    let upload_id = upload_of(&app, &job_id).await;
    let viewer = loupe::auth::Viewer::local();
    let mut updates = Box::pin(loupe::jobs::watch_job(app.app(), &viewer, &job_id).await.unwrap());
    use futures_util::StreamExt;
    assert_eq!(updates.next().await.unwrap().status.as_str(), "PENDING");
    app.ok(DELETE, json!({ "id": upload_id })).await;
    let last = tokio::time::timeout(Duration::from_secs(10), updates.collect::<Vec<_>>()).await.unwrap();
    assert_eq!(last.last().unwrap().status.as_str(), "CANCELLED", "subscribers see the end");
    assert_eq!(app.count_rows("jobs").await, 0);
    assert!(!object_exists(&app, &upload_id).await);
}

async fn abandoned_uploads_are_swept(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        &["--upload-url-ttl-secs", "3", "--upload-grace-secs", "1", "--sweep-interval-secs", "1"],
    )
    .await;
    let put_only = app.request_upload("put-only.csv", None, 4).await;
    assert_eq!(app.put(&put_only, &put_only.url, b"a\n1\n".to_vec()).await, 200);
    let never = app.request_upload("never.csv", None, 4).await;
    let kept = app.submit("kept.csv", None, b"a\n1\n").await;
    assert_eq!(app.count_rows("uploads").await, 3);

    let mut left = 3;
    for _ in 0..150 {
        left = app.count_rows("uploads").await;
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 1, "both abandoned uploads were swept");
    assert!(!object_exists(&app, &put_only.upload_id).await, "with the object that was put");
    assert!(!object_exists(&app, &never.upload_id).await);
    let job = app.ok(JOB_QUERY, json!({ "id": kept })).await;
    assert_eq!(job["job"]["upload"]["filename"], "kept.csv", "the confirmed upload stays");
}

async fn finished_uploads_are_swept_after_retention(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--sweep-interval-secs", "1"]).await;
    let job_id = app.submit("old.csv", None, b"a\n1\n").await;
    assert_eq!(app.finished_job(&job_id).await["status"], "SUCCEEDED");
    let upload_id = upload_of(&app, &job_id).await;
    // Without a retention period, finished uploads stay.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count_rows("uploads").await, 1);

    app.execute_sql(&format!("UPDATE jobs SET finished_at = '2000-01-01 00:00:00' WHERE id = '{job_id}'")).await;
    app.restart_with(&["--sweep-interval-secs", "1", "--retention-days", "30", "--worker-concurrency", "0"]).await;
    let recent = app.submit("recent.csv", None, b"a\n1\n").await;
    app.execute_sql(&format!(
        "UPDATE jobs SET status = 'SUCCEEDED', finished_at = CURRENT_TIMESTAMP WHERE id = '{recent}'"
    ))
    .await;
    let mut left = 2;
    for _ in 0..60 {
        left = app.count_rows("uploads").await;
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 1, "the upload past retention was swept");
    assert!(!object_exists(&app, &upload_id).await);
    assert_eq!(app.ok(JOB_QUERY, json!({ "id": recent })).await["job"]["upload"]["filename"], "recent.csv");
}
