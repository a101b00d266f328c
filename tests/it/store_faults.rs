//! Loupe over a real distributed store that fails: a three-node Garage
//! cluster (every object on all three) losing a node to kill -9 while a
//! file uploads and while a job reads one, and an S3 service cut off (a
//! [`TcpSwitch`] between the worker and Garage) for less, and for longer,
//! than the jobs' retry budget. Retry settings are shortened by flags so
//! each test takes seconds; the figures are printed (`--nocapture`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::garage::{BUCKET, Garage};
use crate::harness::{Backend, JOB_QUERY, TcpSwitch, TestApp, is_terminal};

/// A CSV of `rows` rows of three columns.
fn numbers_csv(rows: usize) -> Vec<u8> {
    let mut csv = String::from("id,value,label\n");
    for row in 0..rows {
        csv.push_str(&format!("{row},{},label-{}\n", row % 1013, row % 17));
    }
    csv.into_bytes()
}

async fn job_now(app: &TestApp, job_id: &str) -> Value {
    app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone()
}

/// Waits for the job to end, for at most `limit`.
async fn ended(app: &TestApp, job_id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let job = job_now(app, job_id).await;
        if is_terminal(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "the job did not end within {limit:?}: {job:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Uploads `body` through the ticket in slices, slowly, running `midway`
/// once about a third of it is sent; returns the store's status.
async fn slow_put(app: &TestApp, url: &str, headers: &[(String, String)], body: Vec<u8>, midway: impl FnOnce()) -> u16 {
    const SLICE: usize = 256 * 1024;
    let total = body.len();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let mut request = app.http.put(url).header("content-length", total);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|slice| (slice, receiver))
    });
    let sending = tokio::spawn(request.body(reqwest::Body::wrap_stream(stream)).send());
    let mut midway = Some(midway);
    for (index, slice) in body.chunks(SLICE).enumerate() {
        if index * SLICE >= total / 3
            && let Some(midway) = midway.take()
        {
            midway();
        }
        sender.send(Ok(slice.to_vec())).await.expect("the store reads the body");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(sender);
    sending.await.unwrap().expect("the PUT is answered").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garage_node_killed_mid_upload_and_mid_processing_loses_nothing() {
    let Some(mut garage) = Garage::cluster().await else { return };
    let store = garage.store();
    let mut args: Vec<String> = store.args();
    // Garage may take a few seconds to stop asking a dead node (7.5–8 s was
    // seen on a loaded machine): attempts 0.5 s apart, doubling, up to 8.
    args.extend(
        ["--worker-concurrency", "1", "--job-retry-delay-ms", "500", "--job-max-attempts", "8"].map(String::from),
    );
    let app = TestApp::start_with(Backend::Sqlite, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let rows = 400_000;
    let csv = numbers_csv(rows);

    // Node 2 dies while the file streams in through node 0: two copies
    // are enough for Garage to accept it.
    let ticket = app.request_upload("mid-upload.csv", Some("text/csv"), csv.len() as u64).await;
    let upload_started = Instant::now();
    let node = &mut garage.nodes[2];
    let status = slow_put(&app, &ticket.url, &ticket.headers, csv.clone(), || node.kill()).await;
    let upload_time = upload_started.elapsed();
    assert_eq!(status, 200, "the upload survives a node");
    let confirmed = app.confirm(&ticket.upload_id).await;
    let first = confirmed["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let job = ended(&app, &first, Duration::from_secs(60)).await;
    let first_time = started.elapsed();
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["result"]["rowCount"], rows);
    // Nothing lost: node 1 serves the same bytes as were sent.
    let key = format!("uploads/{}", ticket.upload_id);
    let stored = garage.store_of(1).client().get_object().bucket(BUCKET).key(&key).send().await.unwrap();
    assert!(stored.body.collect().await.unwrap().into_bytes() == csv, "node 1 holds the whole file");

    // Node 2 back; node 1 dies while a job reads its file.
    garage.nodes[2].restart();
    garage.nodes[2].healthy().await;
    let second = app.submit("mid-processing.csv", Some("text/csv"), &csv).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = job_now(&app, &second).await;
        if job["status"] == "RUNNING" {
            break;
        }
        assert!(!is_terminal(&job), "the job ended before a node could be killed mid-way: {job:#}");
        assert!(Instant::now() < deadline, "the job never started: {job:#}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed_at = Instant::now();
    garage.nodes[1].kill();
    let job = ended(&app, &second, Duration::from_secs(60)).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["result"]["rowCount"], rows);
    println!(
        "garage node killed: {:.1} MB uploaded in {:.2} s with node 2 killed a third of the way; \
         its job took {:.2} s ({} attempt); node 1 killed while a job ran, which ended {:.2} s later \
         ({} attempt(s))",
        csv.len() as f64 / 1e6,
        upload_time.as_secs_f64(),
        first_time.as_secs_f64(),
        1,
        killed_at.elapsed().as_secs_f64(),
        job["attempts"],
    );
}

/// The worker is a second instance on the same database that reaches
/// Garage through a switch; the first takes uploads straight to Garage.
async fn cut_off_worker(
    garage: &Garage,
    api_args: &[&str],
    worker_args: &[&str],
) -> (TestApp, TcpSwitch, loupe::app::Server) {
    let store = garage.store();
    let mut args: Vec<String> = store.args();
    args.extend(["--worker-concurrency", "0"].map(String::from));
    args.extend(api_args.iter().map(|arg| arg.to_string()));
    let app = TestApp::start_with(Backend::Sqlite, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let switch = TcpSwitch::start().await;
    switch.connect_to(garage.nodes[0].s3);
    let mut through_switch = store.clone();
    through_switch.endpoint = format!("http://{}", switch.addr);
    let mut args: Vec<String> = through_switch.args();
    args.extend(worker_args.iter().map(|arg| arg.to_string()));
    let worker = app.start_sibling(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    (app, switch, worker)
}

async fn readyz(server: &loupe::app::Server) -> (u16, String) {
    let response = reqwest::get(format!("http://{}/readyz", server.local_addr)).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A 30 s outage, shorter than the default retry budget (3 attempts, waits
/// of 15 s then 30 s, each stretched by up to half): every job is retried
/// and finishes at its first attempt after the store is back; the worker's
/// `/readyz` says not ready meanwhile. The test takes about a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_outlast_an_s3_outage_shorter_than_their_retry_budget() {
    let Some(garage) = Garage::single().await else { return };
    let (app, switch, worker) = cut_off_worker(&garage, &[], &["--worker-concurrency", "2"]).await;
    assert_eq!(readyz(&worker).await.0, 200);
    const OUTAGE: Duration = Duration::from_secs(30);

    switch.set(false);
    let cut = Instant::now();
    let mut jobs = Vec::new();
    for i in 0..4 {
        jobs.push(app.submit(&format!("outage-{i}.csv"), None, &numbers_csv(1000)).await);
    }
    assert_eq!(readyz(&worker).await, (503, "the object storage is unreachable".to_owned()));
    assert_eq!(readyz(app.server.as_ref().unwrap()).await.0, 200, "the instance that reaches it is");
    tokio::time::sleep(OUTAGE.saturating_sub(cut.elapsed())).await;
    for job_id in &jobs {
        // Waiting for its next attempt, or in one (the S3 client's own
        // three tries make an attempt last about two seconds).
        let job = job_now(&app, job_id).await;
        assert!(!is_terminal(&job), "{job:#}");
        assert!(job["attempts"].as_i64().unwrap() >= 1, "tried during the outage: {job:#}");
    }
    switch.set(true);
    let back = Instant::now();
    let mut last = Duration::ZERO;
    let mut attempts = Vec::new();
    for job_id in &jobs {
        // The last retry waits up to 45 s after the second attempt.
        let job = ended(&app, job_id, Duration::from_secs(60)).await;
        assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
        last = back.elapsed();
        attempts.push(job["attempts"].as_i64().unwrap());
    }
    assert_eq!(readyz(&worker).await.0, 200, "ready again");
    // Every first attempt fell in the outage, so every job was retried.
    assert!(attempts.iter().all(|a| (2..=3).contains(a)), "{attempts:?}");
    println!(
        "S3 outage of {:.1} s (default retries: 15 s doubling, 3 attempts): {} jobs all SUCCEEDED, the last {:.2} s \
         after the store returned; attempts {attempts:?}",
        OUTAGE.as_secs_f64(),
        jobs.len(),
        last.as_secs_f64(),
    );
    worker.shutdown().await.unwrap();
}

/// An outage longer than the retry budget fails the job with a reason
/// after its last attempt, not at once; the worker is not ready meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_outage_past_the_retry_budget_fails_jobs_with_a_reason() {
    let Some(garage) = Garage::single().await else { return };
    let (app, switch, worker) = cut_off_worker(
        &garage,
        &["--job-max-attempts", "3"],
        &["--worker-concurrency", "1", "--job-retry-delay-ms", "500"],
    )
    .await;
    switch.set(false);
    let cut = Instant::now();
    let job_id = app.submit("doomed.csv", None, b"a\n1\n").await;
    assert_eq!(readyz(&worker).await.0, 503);
    let job = ended(&app, &job_id, Duration::from_secs(30)).await;
    let failed_after = cut.elapsed();
    assert_eq!(job["status"], "FAILED", "{job:#}");
    assert_eq!(job["error"]["code"], "STORAGE");
    let reason = job["error"]["message"].as_str().unwrap();
    assert!(!reason.is_empty(), "a reason a person can read: {job:#}");
    assert_eq!(job["attempts"], 3);
    assert!(failed_after >= Duration::from_millis(1500), "waited 0.5 s, then 1 s: {failed_after:?}");
    assert_eq!(readyz(&worker).await.0, 503, "still cut off");
    switch.set(true);
    println!(
        "S3 outage past the budget (3 attempts, 0.5 s doubling): FAILED after {:.2} s with {:?}",
        failed_after.as_secs_f64(),
        reason
    );
    worker.shutdown().await.unwrap();
}
