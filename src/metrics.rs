//! What the service reports at `GET /metrics`, in Prometheus' text format.
//!
//! Counters, histograms and in-process gauges go through the `metrics`
//! facade as things happen (each a map lookup and an atomic add); the
//! recorder behind it is process-wide, installed once by [`install`]. What
//! belongs to the whole deployment rather than one instance (jobs waiting
//! and running, the queue's lag) is read from the database when scraped,
//! with two indexed queries over the unfinished jobs only: keeping such
//! gauges up to date in each instance would count only that instance's
//! share, and one instance's restart would lose it. Finished jobs are
//! counted per instance as they end (`loupe_jobs_ended_total`), which
//! Prometheus sums over instances, instead of counting a table that grows
//! forever at every scrape.
//!
//! Labels take bounded values only: an HTTP route is its template
//! (`/auth/login/{name}`), never the raw path, and an unknown method is
//! `other`, so no client can mint new series.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::app::App;
use crate::db::{Job, JobStatus};

/// Upper bounds of the request duration buckets, in seconds.
const HTTP_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Upper bounds of the job attempt duration buckets, in seconds: from a
/// small file to a gigabyte and beyond.
const JOB_BUCKETS: &[f64] = &[0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0];
/// How often histograms are folded into their buckets between scrapes, so
/// an instance nobody scrapes does not hold every observation.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same
/// handle, as when tests start several instances in one process).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("loupe_http_request_duration_seconds".into()), HTTP_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full("loupe_job_duration_seconds".into()), JOB_BUCKETS)
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(err) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %err, "another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "starting the metrics upkeep thread");
        }
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("loupe_http_requests_total", "HTTP requests answered, by method, route template and status");
    describe_histogram!(
        "loupe_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request (to the upgrade, for a websocket)"
    );
    describe_gauge!("loupe_websockets_open", "Websockets open on this instance");
    describe_gauge!("loupe_subscriptions_active", "GraphQL subscriptions running on this instance");
    describe_gauge!("loupe_jobs", "Unfinished jobs of the whole deployment, by state (read from the database)");
    describe_gauge!(
        "loupe_job_queue_lag_seconds",
        Unit::Seconds,
        "How long the oldest job that could run now has been waiting (0: none waits)"
    );
    describe_counter!("loupe_jobs_ended_total", "Jobs this instance ended, by final status");
    describe_histogram!(
        "loupe_job_duration_seconds",
        Unit::Seconds,
        "Time from claim to end of one attempt, by how it ended (succeeded, failed, requeued)"
    );
    describe_counter!("loupe_job_attempts_total", "Job attempts this instance started (claims)");
    describe_counter!("loupe_job_retries_total", "Attempts that failed and were put back to be retried");
    describe_counter!(
        "loupe_notify_reconnects_total",
        "Times a PostgreSQL connection carrying job announcements (hearing or sending them) was lost or refused"
    );
    describe_counter!(
        "loupe_announcements_dropped_total",
        "Job changes of this instance not announced to other instances (PostgreSQL refused them, or took none for a while)"
    );
    describe_counter!("loupe_events_published_total", "Job changes published to this instance's subscribers");
    describe_counter!("loupe_events_delivered_total", "Job changes handed to a subscriber's queue");
    describe_counter!("loupe_events_lagged_total", "Job changes a slow subscriber missed (it re-read the job instead)");
    describe_gauge!("loupe_db_pool_connections", "Database connections of this instance's pool, by state");
    describe_gauge!("loupe_db_pool_max_connections", "Largest size of this instance's database pool");
}

/// The current figures, in Prometheus' text format: the deployment-wide
/// gauges are read from the database first (left out, with a warning, when
/// it does not answer: a scrape must not fail because one source did).
pub async fn render(app: &App) -> String {
    let handle = install();
    match app.db.queue_figures(chrono::Utc::now().naive_utc()).await {
        Ok(figures) => {
            metrics::gauge!("loupe_jobs", "state" => "pending").set(figures.pending as f64);
            metrics::gauge!("loupe_jobs", "state" => "running").set(figures.running as f64);
            metrics::gauge!("loupe_job_queue_lag_seconds").set(figures.lag.as_secs_f64());
        }
        Err(err) => tracing::warn!(error = %err, "reading queue figures for /metrics"),
    }
    let pool = app.db.pool_figures();
    metrics::gauge!("loupe_db_pool_connections", "state" => "in_use").set(pool.in_use as f64);
    metrics::gauge!("loupe_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("loupe_db_pool_max_connections").set(pool.max as f64);
    handle.render()
}

/// A route's label: its template, or `unmatched` for the web app's fallback
/// (any path a browser navigates to) and anything else no route took.
pub fn http_request(method: &axum::http::Method, route: Option<&str>, status: u16, elapsed: Duration) {
    use axum::http::Method;
    let method = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    };
    let route = route.unwrap_or("unmatched").to_owned();
    let status = status.to_string();
    let labels = [("method", method.to_owned()), ("route", route), ("status", status)];
    metrics::counter!("loupe_http_requests_total", &labels).increment(1);
    metrics::histogram!("loupe_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
}

/// Counts one open websocket or subscription while it lives.
pub struct Open(&'static str);

impl Open {
    pub fn websocket() -> Open {
        Open::gauge("loupe_websockets_open")
    }

    pub fn subscription() -> Open {
        Open::gauge("loupe_subscriptions_active")
    }

    fn gauge(name: &'static str) -> Open {
        metrics::gauge!(name).increment(1.0);
        Open(name)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

/// A worker claimed a job for an attempt.
pub fn job_claimed() {
    metrics::counter!("loupe_job_attempts_total").increment(1);
}

/// An attempt at `job` ended, leaving it as it is now. Its length comes from
/// the row (claimed at `started_at`, changed at `updated_at`, both written
/// by this instance's clock).
pub fn attempt_ended(job: &Job) {
    let how = match job.status {
        JobStatus::Succeeded => "succeeded",
        JobStatus::Failed => "failed",
        // Cancelled by a user (counted by `job_cancelled`), seen by its worker.
        JobStatus::Cancelled => "cancelled",
        // Back in the queue: to be retried, or handed back at shutdown.
        JobStatus::Pending | JobStatus::Running => "requeued",
    };
    if let Some(started) = job.started_at {
        let seconds = (job.updated_at - started).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!("loupe_job_duration_seconds", "ended" => how).record(seconds);
    }
    if matches!(job.status, JobStatus::Succeeded | JobStatus::Failed) {
        metrics::counter!("loupe_jobs_ended_total", "status" => how).increment(1);
    }
}

/// A user cancelled a job before it ended.
pub fn job_cancelled() {
    metrics::counter!("loupe_jobs_ended_total", "status" => "cancelled").increment(1);
}

/// An attempt failed and the job was put back to be retried.
pub fn job_retried() {
    metrics::counter!("loupe_job_retries_total").increment(1);
}

/// A job change was published (watched or not); `receivers` subscribers got it.
pub fn event_published(receivers: usize) {
    metrics::counter!("loupe_events_published_total").increment(1);
    metrics::counter!("loupe_events_delivered_total").increment(receivers as u64);
}

/// `changes` job changes were not announced to other instances (the outbox
/// was full, or PostgreSQL refused them twice).
pub fn announcements_dropped(changes: usize) {
    metrics::counter!("loupe_announcements_dropped_total").increment(changes as u64);
}

/// A subscriber fell `missed` events behind.
pub fn events_lagged(missed: u64) {
    metrics::counter!("loupe_events_lagged_total").increment(missed);
}

/// A PostgreSQL connection that hears or sends job announcements was lost
/// (or never came up) and is being re-established.
pub fn notify_reconnect() {
    metrics::counter!("loupe_notify_reconnects_total").increment(1);
}
