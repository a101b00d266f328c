//! Bad input gets a clear error with a stable code, loses nothing, and
//! leaves no job stuck.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, JOB_UPDATES, Protocol, TestApp, error_code, on_both_backends};

on_both_backends!(
    confirm_before_upload_is_upload_missing,
    wrong_size_is_rejected_and_removed,
    expired_url_is_refused,
    tampered_url_is_refused,
    unknown_and_malformed_ids,
    another_users_objects_are_not_found,
    malformed_csv_fails_with_a_reason,
    empty_file_succeeds,
    upload_limits,
    gzip_bomb_fails_with_a_reason,
);
crate::garage::on_garage!(
    confirm_before_upload_is_upload_missing,
    wrong_size_is_rejected_and_removed,
    expired_url_is_refused,
    tampered_url_is_refused,
);

async fn confirm_before_upload_is_upload_missing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ticket = app.request_upload("early.csv", None, 10).await;
    let response = app.confirm(&ticket.upload_id).await;
    assert_eq!(error_code(&response), "UPLOAD_MISSING");
    // Nothing was enqueued, and the upload can still be completed.
    let upload =
        app.ok("query($id: ID!) { upload(id: $id) { status job { id } } }", json!({ "id": ticket.upload_id })).await;
    assert_eq!(upload["upload"], json!({ "status": "AWAITING_UPLOAD", "job": null }));
    assert_eq!(app.put(&ticket, &ticket.url, b"a,b\n1,2\n3\n".to_vec()).await, 200);
    assert!(app.confirm(&ticket.upload_id).await.get("errors").is_none());
}

/// A client that writes an object of another size than it declared (here
/// straight through the S3 API) is told so on confirm, and the object goes.
async fn wrong_size_is_rejected_and_removed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ticket = app.request_upload("size.csv", None, 100).await;
    // Through the presigned URL the length is signed: the store refuses it.
    assert_eq!(app.put(&ticket, &ticket.url, b"a\n1\n".to_vec()).await, 403);

    let s3 = app.s3();
    let key = format!("uploads/{}", ticket.upload_id);
    s3.put_object().bucket("loupe").key(&key).body(b"a\n1\n".to_vec().into()).send().await.expect("direct put");
    let response = app.confirm(&ticket.upload_id).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("4 bytes") && message.contains("100"), "{message}");
    assert!(s3.head_object().bucket("loupe").key(&key).send().await.is_err(), "mismatched object removed");
}

async fn expired_url_is_refused(backend: Backend) {
    let app = TestApp::start_with(backend, &["--upload-url-ttl-secs", "1"]).await;
    let body = b"a\n1\n".to_vec();
    let ticket = app.request_upload("slow.csv", None, body.len() as u64).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.assert_refused(app.put(&ticket, &ticket.url, body).await, "an expired URL");
    assert_eq!(error_code(&app.confirm(&ticket.upload_id).await), "UPLOAD_MISSING");
}

async fn tampered_url_is_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let body = b"a\n1\n".to_vec();
    let ticket = app.request_upload("mine.csv", Some("text/csv"), body.len() as u64).await;
    let other = app.request_upload("other.csv", None, body.len() as u64).await;

    // Another key under this ticket's signature.
    let moved = ticket.url.replace(&ticket.upload_id, &other.upload_id);
    app.assert_refused(app.put(&ticket, &moved, body.clone()).await, "another key");
    // A forged signature.
    let (rest, signature) = ticket.url.rsplit_once("X-Amz-Signature=").unwrap();
    let flipped: String = signature.chars().rev().collect();
    app.assert_refused(app.put(&ticket, &format!("{rest}X-Amz-Signature={flipped}"), body.clone()).await, "a forgery");
    // A longer validity than was signed.
    let longer = ticket.url.replace("X-Amz-Expires=900", "X-Amz-Expires=9000");
    app.assert_refused(app.put(&ticket, &longer, body.clone()).await, "a longer validity");
    // Another content type than was signed.
    let mut retyped = ticket.clone();
    retyped.headers = vec![("content-type".into(), "text/html".into())];
    app.assert_refused(app.put(&retyped, &ticket.url, body.clone()).await, "another content type");

    assert_eq!(error_code(&app.confirm(&other.upload_id).await), "UPLOAD_MISSING");
    // The genuine URL still works.
    assert_eq!(app.put(&ticket, &ticket.url, body).await, 200);
}

async fn unknown_and_malformed_ids(backend: Backend) {
    let app = TestApp::start(backend).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for (query, variables) in [
        ("query($id: ID!) { job(id: $id) { id } }", json!({ "id": unknown })),
        ("query($id: ID!) { upload(id: $id) { id } }", json!({ "id": unknown })),
        ("mutation($id: ID!) { confirmUpload(uploadId: $id) { id } }", json!({ "id": unknown })),
    ] {
        let response = app.graphql(query, variables).await;
        assert_eq!(error_code(&response), "NOT_FOUND", "{query}");
        let malformed = app.graphql(query, json!({ "id": "not-an-id" })).await;
        assert_eq!(error_code(&malformed), "BAD_USER_INPUT", "{query}");
    }
    let response = app.graphql("{ jobs(after: \"nope\") { edges { cursor } } }", json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    let response = app.graphql("{ jobs(first: 1000) { edges { cursor } } }", json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");

    let payloads = app.subscribe(Protocol::TransportWs, JOB_UPDATES, json!({ "jobId": unknown })).await;
    assert_eq!(payloads.len(), 1, "{payloads:#?}");
    assert_eq!(payloads[0]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{payloads:#?}");

    let response = app.graphql("{ nope }", json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
}

/// Another user's upload and job answer exactly as missing ones do.
async fn another_users_objects_are_not_found(backend: Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("mine.csv", None, b"a\n1\n").await;
    let upload_id = app.ok("query($id: ID!) { job(id: $id) { upload { id } } }", json!({ "id": job_id })).await["job"]
        ["upload"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.finished_job(&job_id).await;
    app.execute_sql(
        "INSERT INTO users (id, login, created_at, provider, subject) \
         VALUES ('someone-else', 'someone', CURRENT_TIMESTAMP, 'test', 'someone'); \
         UPDATE uploads SET owner_id = 'someone-else'; UPDATE jobs SET owner_id = 'someone-else';",
    )
    .await;

    for (query, variables) in [
        ("query($id: ID!) { job(id: $id) { id } }", json!({ "id": job_id })),
        ("query($id: ID!) { upload(id: $id) { id } }", json!({ "id": upload_id })),
        ("mutation($id: ID!) { confirmUpload(uploadId: $id) { id } }", json!({ "id": upload_id })),
    ] {
        let response = app.graphql(query, variables).await;
        assert_eq!(error_code(&response), "NOT_FOUND", "{query}: {response:#}");
        assert_eq!(response["errors"][0]["message"].as_str().unwrap().split(' ').nth(1), Some("not"));
    }
    let jobs = app.ok("{ jobs { edges { node { id } } } }", json!({})).await;
    assert_eq!(jobs["jobs"]["edges"], json!([]));
    let payloads = app.subscribe(Protocol::TransportWs, JOB_UPDATES, json!({ "jobId": job_id })).await;
    assert_eq!(payloads[0]["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

async fn malformed_csv_fails_with_a_reason(backend: Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("broken.csv", Some("text/csv"), b"a,b\n1,\"unclosed\n2,3\n").await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "UNREADABLE_FILE");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("line 2") && message.contains("quote"), "{message}");
    assert!(job["result"].is_null());
    // The server carries on.
    let next = app.submit("fine.csv", None, b"a\n1\n").await;
    assert_eq!(app.finished_job(&next).await["status"], "SUCCEEDED");
}

async fn empty_file_succeeds(backend: Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("empty.csv", Some("text/csv"), b"").await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert!(job["result"]["__typename"].is_string());
}

async fn upload_limits(backend: Backend) {
    let app = TestApp::start_with(backend, &["--max-upload-bytes", "1000", "--upload-url-ttl-secs", "60"]).await;
    // Clients learn the limits before they upload.
    let limits = app.ok("{ limits { maxUploadBytes uploadUrlTtlSeconds } }", json!({})).await;
    assert_eq!(limits["limits"], json!({ "maxUploadBytes": 1000, "uploadUrlTtlSeconds": 60 }));
    let request = "mutation($input: RequestUploadInput!) { requestUpload(input: $input) { url } }";
    let too_big = app.graphql(request, json!({ "input": { "filename": "big.csv", "size": 1001 } })).await;
    assert_eq!(error_code(&too_big), "PAYLOAD_TOO_LARGE");
    let negative = app.graphql(request, json!({ "input": { "filename": "neg.csv", "size": -1 } })).await;
    assert_eq!(error_code(&negative), "BAD_USER_INPUT");
    let nameless = app.graphql(request, json!({ "input": { "filename": " / ", "size": 1 } })).await;
    assert_eq!(error_code(&nameless), "BAD_USER_INPUT");
    let bad_type = app
        .graphql(request, json!({ "input": { "filename": "a.csv", "contentType": "text/csv\r\nx: y", "size": 1 } }))
        .await;
    assert_eq!(error_code(&bad_type), "BAD_USER_INPUT");
    // 64-bit sizes are accepted as numbers or strings, and checked against the limit.
    let huge = app.graphql(request, json!({ "input": { "filename": "huge.csv", "size": "9007199254740993" } })).await;
    assert_eq!(error_code(&huge), "PAYLOAD_TOO_LARGE");

    // The store itself refuses a body over the limit, signed or not.
    let ticket = app.request_upload("ok.csv", None, 1000).await;
    assert_eq!(app.put(&ticket, &ticket.url, vec![b'a'; 1001]).await, 413);
}

/// A small gzip that expands past the configured limit fails the job
/// instead of being decompressed without end.
async fn gzip_bomb_fails_with_a_reason(backend: Backend) {
    use std::io::Write;
    let app = TestApp::start_with(backend, &["--max-decompressed-bytes", "1000000"]).await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"a,b\n").unwrap();
    for _ in 0..500_000 {
        gz.write_all(b"1,2\n").unwrap();
    }
    let body = gz.finish().unwrap();
    assert!(body.len() < 20_000, "a small file: {} bytes", body.len());
    let job_id = app.submit("bomb.csv.gz", None, &body).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "UNREADABLE_FILE");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("1000000"), "the reason names the limit: {message}");
}
