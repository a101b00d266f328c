//! The whole journey: request URL → direct upload → confirm → job →
//! live subscription → result.

use serde_json::json;

use crate::harness::{JOB_QUERY, JOB_UPDATES, Protocol, TestApp, error_code, is_terminal, on_both_backends};

on_both_backends!(
    csv_upload_is_profiled_live,
    overrides_shape_the_profile,
    gzip_json_lines_are_profiled,
    binary_upload_is_summarised,
    late_subscriber_gets_the_end,
    confirm_is_idempotent,
    legacy_protocol_subscriptions,
    subscriptions_of_every_shape_are_answered,
    jobs_are_paginated_newest_first,
    listed_jobs_bring_upload_and_result,
    behind_a_proxy_presigned_urls_use_the_public_url,
);
crate::garage::on_garage!(
    gzip_json_lines_are_profiled,
    binary_upload_is_summarised,
    late_subscriber_gets_the_end,
    confirm_is_idempotent,
);

async fn csv_upload_is_profiled_live(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let csv = b"id,name,score\n1,ada,3.5\n2,grace,\n3,linus,7.25\n";
    let ticket = app.request_upload("scores.csv", Some("text/csv"), csv.len() as u64).await;
    assert_eq!(ticket.method, "PUT");
    assert!(ticket.url.starts_with(&app.url), "the embedded store is on the API's origin: {}", ticket.url);

    let upload =
        app.ok("query($id: ID!) { upload(id: $id) { status job { id } } }", json!({ "id": ticket.upload_id })).await;
    assert_eq!(upload["upload"], json!({ "status": "AWAITING_UPLOAD", "job": null }));

    assert_eq!(app.put(&ticket, &ticket.url, csv.to_vec()).await, 200);
    let confirmed = app.confirm(&ticket.upload_id).await;
    let job = &confirmed["data"]["confirmUpload"];
    assert_eq!(job["upload"]["status"], "UPLOADED");
    let job_id = job["id"].as_str().unwrap();

    let updates = app.subscribe_job(job_id).await;
    let first = &updates[0];
    assert_eq!(first["id"], job_id);
    let last = updates.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "updates: {updates:#?}");
    assert_eq!(last["progress"], 1.0);
    assert_eq!(updates.iter().filter(|u| is_terminal(u)).count(), 1, "exactly one terminal update, at the end");
    let progress: Vec<f64> = updates.iter().map(|u| u["progress"].as_f64().unwrap()).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {progress:?}");

    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
    assert_eq!(job["status"], "SUCCEEDED");
    assert_eq!(job["attempts"], 1);
    assert!(job["startedAt"].is_string() && job["finishedAt"].is_string());
    assert_eq!(job["upload"]["filename"], "scores.csv");
    assert_eq!(job["upload"]["size"], csv.len());
    let profile = &job["result"];
    assert_eq!(profile["__typename"], "TableProfile");
    assert_eq!(profile["format"], "CSV");
    assert_eq!(profile["delimiter"], ",");
    assert_eq!(profile["hasHeader"], true);
    assert_eq!(profile["rowCount"], 3);
    assert_eq!(profile["columnCount"], 3);
    assert_eq!(profile["malformedRowCount"], 0);
    let columns = profile["columns"].as_array().unwrap();
    let names: Vec<_> = columns.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["id", "name", "score"]);
    assert_eq!(columns[0]["inferredType"], "INTEGER");
    assert_eq!(columns[0]["numeric"], json!({ "min": 1.0, "max": 3.0, "mean": 2.0 }));
    assert_eq!(columns[1]["inferredType"], "STRING");
    assert_eq!(columns[1]["distinctCount"], 3);
    assert_eq!(columns[1]["numeric"], serde_json::Value::Null);
    assert_eq!(columns[2]["inferredType"], "FLOAT");
    assert_eq!(columns[2]["nullCount"], 1);
    assert_eq!(columns[2]["numeric"], json!({ "min": 3.5, "max": 7.25, "mean": 5.375 }));
}

async fn binary_upload_is_summarised(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..5000u32).map(|i| (i * 7 % 251) as u8));
    let job_id = app.submit("picture.png", Some("image/png"), &png).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED");
    let expected_sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&png))
    };
    assert_eq!(
        job["result"],
        json!({ "__typename": "FileSummary", "size": png.len(), "sha256": expected_sha, "mediaType": "image/png" })
    );
}

async fn late_subscriber_gets_the_end(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("late.csv", None, b"a\n1\n").await;
    app.finished_job(&job_id).await;
    // Subscribing after the end yields exactly the terminal state, then completes.
    let updates = app.subscribe_job(&job_id).await;
    assert_eq!(updates.len(), 1, "{updates:#?}");
    assert_eq!(updates[0]["status"], "SUCCEEDED");
}

async fn confirm_is_idempotent(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let body = b"x,y\n1,2\n";
    let ticket = app.request_upload("twice.csv", Some("text/csv"), body.len() as u64).await;
    assert_eq!(app.put(&ticket, &ticket.url, body.to_vec()).await, 200);
    let (a, b) = tokio::join!(app.confirm(&ticket.upload_id), app.confirm(&ticket.upload_id));
    let c = app.confirm(&ticket.upload_id).await;
    let id = |r: &serde_json::Value| r["data"]["confirmUpload"]["id"].as_str().map(str::to_owned);
    assert!(id(&a).is_some(), "{a:#}");
    assert_eq!(id(&a), id(&b));
    assert_eq!(id(&a), id(&c));
    let jobs = app.ok("{ jobs { edges { node { id } } } }", json!({})).await;
    assert_eq!(jobs["jobs"]["edges"].as_array().unwrap().len(), 1, "one job for one upload");
}

/// On PostgreSQL the confirm is one statement, whose snapshot predates a
/// job that a concurrent confirm of the same upload commits while it waits
/// for the upload's row: it must still return that job, and add none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_that_waited_for_another_returns_its_job() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let app = TestApp::start_with(crate::harness::Backend::Postgres, &["--worker-concurrency", "0"]).await;
    let body = b"x,y\n1,2\n";
    let ticket = app.request_upload("raced.csv", Some("text/csv"), body.len() as u64).await;
    assert_eq!(app.put(&ticket, &ticket.url, body.to_vec()).await, 200);
    let upload = ticket.upload_id.clone();
    let owner = loupe::auth::Viewer::local().user_id;
    // The other confirm: its upload marked and its job inserted, not yet committed.
    let mut other = AsyncPgConnection::establish(&app.database.url).await.unwrap();
    other
        .batch_execute(&format!(
            "BEGIN; UPDATE uploads SET status = 'UPLOADED', uploaded_at = now() WHERE id = '{upload}'; \
             INSERT INTO jobs (id, upload_id, owner_id, status, max_attempts, created_at, updated_at) \
             VALUES ('the-other-job', '{upload}', '{owner}', 'PENDING', 3, now(), now());"
        ))
        .await
        .unwrap();
    let db = app.app().db.clone();
    let confirming = tokio::spawn(async move {
        let now = chrono::Utc::now().naive_utc();
        let job = loupe::db::NewJob {
            id: "this-job",
            upload_id: &upload,
            owner_id: &owner,
            status: loupe::db::JobStatus::Pending,
            max_attempts: 3,
            created_at: now,
            updated_at: now,
        };
        db.confirm_upload(&upload, None, &job, now).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!confirming.is_finished(), "the confirm waits for the upload's row");
    other.batch_execute("COMMIT").await.unwrap();
    let job = confirming.await.unwrap().expect("the confirm answers");
    assert_eq!(job.id, "the-other-job");
    assert_eq!(app.count_rows("jobs").await, 1);
}

async fn legacy_protocol_subscriptions(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("legacy.csv", None, b"a,b\n1,2\n").await;
    let payloads = app.subscribe(Protocol::Legacy, JOB_UPDATES, json!({ "jobId": job_id })).await;
    let last = &payloads.last().expect("updates")["data"]["jobUpdates"];
    assert_eq!(last["status"], "SUCCEEDED", "{payloads:#?}");
}

/// A socket holds `jobUpdates` in a lean form of its own (see
/// `graphql/job_updates.rs`); every shape of query still gets the schema's answer.
async fn subscriptions_of_every_shape_are_answered(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("shapes.csv", None, b"a\n1\n").await;
    app.finished_job(&job_id).await;
    for protocol in [Protocol::TransportWs, Protocol::Legacy] {
        // An alias, the id inline and a fragment.
        let query = format!(
            r#"subscription {{ latest: jobUpdates(jobId: "{job_id}") {{ ...state }} }} fragment state on Job {{ id status }}"#
        );
        let payloads = app.subscribe(protocol, &query, json!({})).await;
        assert_eq!(payloads.len(), 1, "{payloads:#?}");
        assert_eq!(payloads[0]["data"]["latest"], json!({ "id": job_id, "status": "SUCCEEDED" }), "{payloads:#?}");

        // A field the schema does not have: its error once, and the end.
        let unknown = "subscription($id: ID!) { jobUpdates(jobId: $id) { status nope } }";
        let payloads = app.subscribe(protocol, unknown, json!({ "id": job_id })).await;
        assert_eq!(payloads.len(), 1, "{payloads:#?}");
        assert!(payloads[0]["errors"][0]["message"].as_str().unwrap().contains("nope"), "{payloads:#?}");

        // Not an id, and nobody's job.
        let payloads = app.subscribe(protocol, JOB_UPDATES, json!({ "jobId": "x" })).await;
        assert_eq!(error_code(&payloads[0]), "BAD_USER_INPUT", "{payloads:#?}");
        let nobodys = uuid::Uuid::now_v7().to_string();
        let payloads = app.subscribe(protocol, JOB_UPDATES, json!({ "jobId": nobodys })).await;
        assert_eq!(error_code(&payloads[0]), "NOT_FOUND", "{payloads:#?}");
    }
}

async fn jobs_are_paginated_newest_first(backend: crate::harness::Backend) {
    let app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.submit(&format!("f{i}.csv"), None, b"a\n1\n").await);
    }
    ids.reverse();
    let query = "query($after: String) { jobs(first: 2, after: $after) {
        edges { cursor node { id status } } pageInfo { hasNextPage } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let page = app.ok(query, json!({ "after": after })).await["jobs"].clone();
        let edges = page["edges"].as_array().unwrap();
        seen.extend(edges.iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()));
        assert!(edges.iter().all(|e| e["node"]["status"] == "PENDING"), "no worker runs: jobs stay PENDING");
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = edges.last().unwrap()["cursor"].clone();
    }
    assert_eq!(seen, ids);
}

/// Lists read no results and one query's worth of uploads, yet each still
/// answers when asked.
async fn listed_jobs_bring_upload_and_result(backend: crate::harness::Backend) {
    let mut app = TestApp::start(backend).await;
    let done = app.submit("done.csv", Some("text/csv"), b"a,b\n1,x\n2,y\n").await;
    assert_eq!(app.finished_job(&done).await["status"], "SUCCEEDED");
    app.restart_with(&["--worker-concurrency", "0"]).await;
    let waiting = app.submit("waiting.csv", None, b"a\n1\n").await;
    let query = "{ jobs { edges { node { id status upload { filename }
        result { ... on TableProfile { rowCount columnCount } } } } } }";
    let page = app.ok(query, json!({})).await;
    let nodes: Vec<_> = page["jobs"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect();
    assert_eq!(
        nodes,
        [
            json!({ "id": waiting, "status": "PENDING", "upload": { "filename": "waiting.csv" }, "result": null }),
            json!({
                "id": done,
                "status": "SUCCEEDED",
                "upload": { "filename": "done.csv" },
                "result": { "rowCount": 2, "columnCount": 2 }
            }),
        ]
    );
}

async fn overrides_shape_the_profile(backend: crate::harness::Backend) {
    let app = TestApp::start(backend).await;
    let body = b"a,b\tc\n1,2\t3\n4,5\t6\n";
    let request = "mutation($input: RequestUploadInput!) { requestUpload(input: $input) { upload { id format delimiter } url method headers { name value } } }";
    let data = app
        .ok(
            request,
            json!({ "input": { "filename": "odd.txt", "size": body.len(), "format": "TSV", "delimiter": "\t" } }),
        )
        .await;
    let upload = &data["requestUpload"]["upload"];
    assert_eq!(upload["format"], "TSV");
    assert_eq!(upload["delimiter"], "\t");
    let ticket = crate::harness::Ticket {
        upload_id: upload["id"].as_str().unwrap().to_owned(),
        url: data["requestUpload"]["url"].as_str().unwrap().to_owned(),
        method: "PUT".into(),
        headers: data["requestUpload"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["name"].as_str().unwrap().to_owned(), h["value"].as_str().unwrap().to_owned()))
            .collect(),
    };
    assert_eq!(app.put(&ticket, &ticket.url, body.to_vec()).await, 200);
    let job_id = app.confirm(&ticket.upload_id).await["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    let job = app.finished_job(&job_id).await;
    let profile = &job["result"];
    assert_eq!(profile["format"], "TSV", "{job:#}");
    let names: Vec<_> = profile["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a,b", "c"]);

    let bad = app
        .graphql(
            request,
            json!({ "input": { "filename": "x.jsonl", "size": 1, "format": "JSON_LINES", "delimiter": "," } }),
        )
        .await;
    assert_eq!(crate::harness::error_code(&bad), "BAD_USER_INPUT");
}

async fn gzip_json_lines_are_profiled(backend: crate::harness::Backend) {
    use std::io::Write;
    let app = TestApp::start(backend).await;
    let mut lines = String::new();
    for i in 0..200 {
        lines.push_str(&format!("{{\"n\": {i}, \"tag\": \"t{}\", \"nested\": {{\"x\": [1, 2]}}}}\n", i % 3));
    }
    lines.push_str("{\"n\": 200, \"extra\": true}\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lines.as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    let job_id = app.submit("events.jsonl.gz", Some("application/gzip"), &body).await;
    let job = app.finished_job(&job_id).await;
    let profile = &job["result"];
    assert_eq!(profile["format"], "JSON_LINES", "{job:#}");
    assert_eq!(profile["rowCount"], 201);
    let columns = profile["columns"].as_array().unwrap();
    let column = |name: &str| columns.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("column {name}"));
    assert_eq!(column("n")["numeric"], json!({ "min": 0.0, "max": 200.0, "mean": 100.0 }));
    assert_eq!(column("tag")["nullCount"], 1, "a missing key is null");
    assert_eq!(column("extra")["nullCount"], 200);
    assert_eq!(column("nested")["inferredType"], "STRING");
}

/// A file large enough to take a while reports progress while it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_reaches_the_subscriber() {
    // One job at a time: the second file waits behind the first, so its
    // subscription is surely open before it starts.
    let app = TestApp::start_with(crate::harness::Backend::Sqlite, &["--worker-concurrency", "1"]).await;
    let mut csv = String::from("id,value,label\n");
    let mut rows = 0u64;
    while csv.len() < 6_000_000 {
        csv.push_str(&format!("{rows},{}.{},\"label {}, with comma\"\n", rows * 7919 % 10007, rows % 100, rows % 13));
        rows += 1;
    }
    let _ahead = app.submit("ahead.csv", Some("text/csv"), csv.as_bytes()).await;
    let job_id = app.submit("big.csv", Some("text/csv"), csv.as_bytes()).await;
    let updates = app.subscribe_job(&job_id).await;
    assert_eq!(updates[0]["status"], "PENDING", "{:#?}", updates[0]);
    let running: Vec<f64> =
        updates.iter().filter(|u| u["status"] == "RUNNING").map(|u| u["progress"].as_f64().unwrap()).collect();
    assert!(running.iter().any(|&p| p > 0.0 && p < 1.0), "progress between 0 and 1 while running: {updates:#?}");
    assert_eq!(updates.last().unwrap()["status"], "SUCCEEDED");
    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await;
    assert_eq!(job["job"]["result"]["rowCount"], rows);
}

/// Behind a reverse proxy browsers reach Loupe at its public URL, while Loupe
/// reaches its own store over loopback.
async fn behind_a_proxy_presigned_urls_use_the_public_url(backend: crate::harness::Backend) {
    let app = TestApp::start_with(backend, &["--public-url", "http://loupe.invalid:9"]).await;
    let listening = app.server.as_ref().unwrap().local_addr;
    let body = b"a,b\n1,2\n".to_vec();
    let ticket = app.request_upload("proxied.csv", Some("text/csv"), body.len() as u64).await;
    assert!(ticket.url.starts_with("http://loupe.invalid:9/loupe/uploads/"), "{}", ticket.url);
    // What the proxy does: forward to Loupe, keeping the Host the URL was signed for.
    let forwarded = ticket.url.replace("loupe.invalid:9", &listening.to_string());
    let status = app
        .http
        .put(forwarded)
        .header("host", "loupe.invalid:9")
        .header("content-type", "text/csv")
        .header("if-none-match", "*")
        .header("content-length", body.len())
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let job_id = app.confirm(&ticket.upload_id).await["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["result"]["rowCount"], 1);
}

/// A full page of the largest size still says whether more follow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn largest_page_reports_the_next_one() {
    let app = TestApp::start_with(crate::harness::Backend::Sqlite, &["--worker-concurrency", "0"]).await;
    for i in 0..101 {
        app.submit(&format!("p{i}.csv"), None, b"a\n1\n").await;
    }
    let page = app.ok("{ jobs(first: 100) { edges { cursor } pageInfo { hasNextPage } } }", json!({})).await;
    assert_eq!(page["jobs"]["edges"].as_array().unwrap().len(), 100);
    assert_eq!(page["jobs"]["pageInfo"]["hasNextPage"], true);
}

/// Against an external S3 service (here another Loupe's embedded store) the
/// worker streams the object through the S3 client, in blocks, to the same end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_of_an_external_store_are_streamed() {
    let store = TestApp::start_with(crate::harness::Backend::Sqlite, &["--worker-concurrency", "0"]).await;
    let keys = std::fs::read_to_string(store.data_dir.join("embedded-s3.credentials")).unwrap();
    let (id, secret) = keys.trim().split_once(':').unwrap();
    let app = TestApp::start_with(
        crate::harness::Backend::Sqlite,
        &["--s3-endpoint", &store.url, "--s3-path-style", "--s3-access-key-id", id, "--s3-secret-access-key", secret],
    )
    .await;
    let mut csv = String::from("id,value\n");
    let mut rows = 0u64;
    // Several blocks of the stream, the last one partial.
    while csv.len() < 2_500_000 {
        csv.push_str(&format!("{rows},{}\n", rows % 97));
        rows += 1;
    }
    let job_id = app.submit("far.csv", Some("text/csv"), csv.as_bytes()).await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["result"]["rowCount"], rows);
}
