//! `GET /metrics`, scraped over real HTTP from a `loupe` process of its own
//! (the recorder is process-wide: in-process instances would share it):
//! only with the token, and its figures move with what the server did.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Backend, JOB_UPDATES, Protocol, TestApp, on_both_backends};

const TOKEN: &str = "metrics-token-for-tests-0123456789";

on_both_backends!(a_journey_moves_the_figures, waiting_work_shows_in_the_gauges);

/// One sample of a scrape: the value of the series named `name` whose
/// labels include every one of `labels`; None when there is no such series.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, series_labels) = match series.split_once('{') {
            Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let matches = series_name == name
            && labels
                .iter()
                .all(|(key, value)| series_labels.split(',').any(|pair| pair == format!("{key}=\"{value}\"")));
        matches.then(|| value.parse().unwrap())
    })
}

async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(format!("{}/metrics", app.url)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    response.text().await.unwrap()
}

/// Scrapes until `holds` is true of the text (gauges of closed sockets
/// fall a moment after the client closed); fails after 10 s.
async fn scrape_until(app: &TestApp, what: &str, holds: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(app).await;
        if holds(&text) {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "{what} never showed:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_journey_moves_the_figures(backend: Backend) {
    let app = TestApp::spawn(backend, &["--metrics-token", TOKEN]).await;
    let before = scrape(&app).await;
    assert_eq!(sample(&before, "loupe_job_attempts_total", &[]), None, "nothing ran yet");

    let job_id = app.submit("counted.csv", Some("text/csv"), b"a,b\n1,2\n3,4\n").await;
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    // A path nobody routes: counted under a fixed label, never its own.
    app.http.get(format!("{}/no/such/page-x7q", app.url)).send().await.unwrap();

    let text = scrape_until(&app, "the closed websocket", |text| {
        sample(text, "loupe_websockets_open", &[]) == Some(0.0)
            && sample(text, "loupe_subscriptions_active", &[]) == Some(0.0)
    })
    .await;
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample(&text, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} in\n{text}"))
    };
    let graphql = [("method", "POST"), ("route", "/graphql"), ("status", "200")];
    assert!(value("loupe_http_requests_total", &graphql) >= 3.0, "request, confirm, job query");
    assert!(value("loupe_http_request_duration_seconds_count", &graphql) >= 3.0);
    assert_eq!(value("loupe_http_requests_total", &[("route", "/graphql/ws"), ("status", "101")]), 1.0);
    assert_eq!(value("loupe_http_requests_total", &[("route", "/loupe/{*key}"), ("method", "PUT")]), 1.0);
    assert!(value("loupe_http_requests_total", &[("route", "unmatched"), ("method", "GET")]) >= 1.0);
    assert!(!text.contains("page-x7q"), "raw paths never become labels");
    assert_eq!(value("loupe_job_attempts_total", &[]), 1.0);
    assert_eq!(value("loupe_jobs_ended_total", &[("status", "succeeded")]), 1.0);
    assert_eq!(value("loupe_job_duration_seconds_count", &[("ended", "succeeded")]), 1.0);
    assert!(value("loupe_job_duration_seconds_bucket", &[("ended", "succeeded"), ("le", "+Inf")]) == 1.0);
    assert!(value("loupe_events_published_total", &[]) >= 2.0, "claimed, succeeded");
    // Whether the subscriber got the end as an event or read it first depends on timing.
    assert!(text.contains("loupe_events_delivered_total"));
    assert_eq!(value("loupe_jobs", &[("state", "pending")]), 0.0);
    assert_eq!(value("loupe_jobs", &[("state", "running")]), 0.0);
    assert_eq!(value("loupe_job_queue_lag_seconds", &[]), 0.0);
    // SQLite has one connection whatever the pool size says (see db::Db::connect).
    let max = if backend == Backend::Sqlite { 1.0 } else { 10.0 };
    assert_eq!(value("loupe_db_pool_max_connections", &[]), max);
    let in_use = value("loupe_db_pool_connections", &[("state", "in_use")]);
    let idle = value("loupe_db_pool_connections", &[("state", "idle")]);
    assert!(in_use + idle >= 1.0 && in_use + idle <= max, "in use {in_use}, idle {idle}");
    println!(
        "metrics after one journey ({backend:?}): {} series, {} bytes",
        text.lines().filter(|l| !l.starts_with('#')).count(),
        text.len()
    );
}

/// With no worker, a confirmed job waits: the deployment-wide gauges (read
/// from the database) and the open socket and subscription show it.
async fn waiting_work_shows_in_the_gauges(backend: Backend) {
    let app = TestApp::spawn(backend, &["--metrics-token", TOKEN, "--worker-concurrency", "0"]).await;
    let job_id = app.submit("waits.csv", None, b"a\n1\n").await;
    let mut socket = app.open_socket(Protocol::TransportWs, &[]).await.unwrap();
    let watched = job_id.clone();
    let waiting = tokio::spawn(async move {
        let payloads =
            crate::harness::operate(&mut socket, Protocol::TransportWs, JOB_UPDATES, json!({ "jobId": watched }));
        tokio::time::timeout(Duration::from_secs(20), payloads).await
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let text = scrape_until(&app, "the open subscription", |text| {
        sample(text, "loupe_subscriptions_active", &[]) == Some(1.0)
    })
    .await;
    assert_eq!(sample(&text, "loupe_websockets_open", &[]), Some(1.0));
    assert_eq!(sample(&text, "loupe_jobs", &[("state", "pending")]), Some(1.0));
    assert_eq!(sample(&text, "loupe_jobs", &[("state", "running")]), Some(0.0));
    let lag = sample(&text, "loupe_job_queue_lag_seconds", &[]).unwrap();
    assert!((1.0..60.0).contains(&lag), "the job has waited over a second: {lag}");
    // Periodic re-reads of the quiet job may have been delivered already.
    let delivered_before = sample(&text, "loupe_events_delivered_total", &[]).unwrap_or(0.0);

    // Cancelling it reaches the subscriber as an event, which ends its subscription.
    app.ok("mutation($id: ID!) { cancelJob(id: $id) { status } }", json!({ "id": job_id })).await;
    let updates = waiting.await.unwrap().expect("the subscription ends");
    assert_eq!(updates.last().unwrap()["data"]["jobUpdates"]["status"], "CANCELLED", "{updates:#?}");
    let text = scrape_until(&app, "the socket closing", |text| {
        sample(text, "loupe_websockets_open", &[]) == Some(0.0)
            && sample(text, "loupe_subscriptions_active", &[]) == Some(0.0)
    })
    .await;
    let delivered = sample(&text, "loupe_events_delivered_total", &[]).unwrap();
    assert!(delivered > delivered_before, "the cancellation reached its subscriber: {delivered_before} → {delivered}");
    assert_eq!(sample(&text, "loupe_jobs_ended_total", &[("status", "cancelled")]), Some(1.0));
    assert_eq!(sample(&text, "loupe_jobs", &[("state", "pending")]), Some(0.0));
}

/// Without `--metrics-token` there is no /metrics; with one, only its
/// bearer reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_token_reads_metrics() {
    let off = TestApp::start(Backend::Sqlite).await;
    let response = off.http.get(format!("{}/metrics", off.url)).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("--metrics-token"));

    let on = TestApp::start_with(Backend::Sqlite, &["--metrics-token", TOKEN]).await;
    let url = format!("{}/metrics", on.url);
    let none = on.http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = on.http.get(&url).bearer_auth(format!("{TOKEN}x")).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let basic = on.http.get(&url).basic_auth("prometheus", Some(TOKEN)).send().await.unwrap();
    assert_eq!(basic.status(), 401);
    let right = on.http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("# TYPE loupe_jobs gauge"));

    let short = loupe::config::Config::from_args(["--metrics-token", "short"]).unwrap();
    assert!(short.validate().unwrap_err().contains("at least 16"));
}
