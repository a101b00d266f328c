//! Several instances on one PostgreSQL database behave as one Loupe: a
//! subscriber on one instance follows jobs run by another, a cancellation
//! or a new job reaches another instance's worker at once, an instance
//! killed mid-job loses nothing, one shutting down hands its job to
//! another, and a restarted PostgreSQL is survived.
//! Each test prints its figures (`cargo test --test it instances -- --nocapture`)
//! and asserts only generous bounds.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;
use loupe::db::{Job, JobStatus};
use serde_json::json;

use crate::harness::{JOB_QUERY, TestApp, is_terminal};

/// Each job's events as one subscriber on `app` saw them, with the moment
/// it saw each; fails the test when they end without a terminal state.
async fn follow(app: &loupe::app::App, job_id: &str) -> Vec<(Job, chrono::NaiveDateTime)> {
    let viewer = loupe::auth::Viewer::local();
    let mut updates = loupe::jobs::watch_job(app, &viewer, job_id).await.unwrap().boxed();
    let mut seen = Vec::new();
    while let Some(job) =
        tokio::time::timeout(Duration::from_secs(30), updates.next()).await.expect("an update in time")
    {
        seen.push((job, Utc::now().naive_utc()));
    }
    let statuses: Vec<_> = seen.iter().map(|(job, _)| job.status.as_str()).collect();
    assert!(seen.last().is_some_and(|(job, _)| job.status.is_terminal()), "ended on a terminal state: {statuses:?}");
    let versions: Vec<_> = seen.iter().map(|(job, _)| job.version).collect();
    assert!(versions.windows(2).all(|pair| pair[0] < pair[1]), "never backwards: {versions:?} {statuses:?}");
    seen
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn postgres_app(args: &[&str]) -> TestApp {
    TestApp::start_with(crate::harness::Backend::Postgres, args).await
}

/// A subscriber on A sees the end of each job B ran promptly: p50/p99 of
/// the delay from B's terminal write (its `finishedAt`) to A's subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_instance_follows_jobs_run_by_another() {
    const JOBS: usize = 200;
    let app = postgres_app(&["--worker-concurrency", "0"]).await;
    let runner = app.start_sibling(&["--worker-concurrency", "2"]).await;
    let started = Instant::now();
    let mut followers = tokio::task::JoinSet::new();
    for i in 0..JOBS {
        let job_id = app.submit(&format!("j{i}.csv"), None, format!("n,m\n{i},{}\n", i * 2).as_bytes()).await;
        let a = app.app().clone();
        followers.spawn(async move { follow(&a, &job_id).await });
    }
    let mut delays = Vec::new();
    let mut progress_events = 0;
    while let Some(seen) = followers.join_next().await {
        let seen = seen.unwrap();
        progress_events += seen.len();
        let (end, at) = seen.last().unwrap();
        assert_eq!(end.status, JobStatus::Succeeded, "{end:?}");
        delays.push((*at - end.finished_at.unwrap()).to_std().unwrap_or_default());
    }
    delays.sort();
    let (p50, p99, max) = (percentile(&delays, 0.5), percentile(&delays, 0.99), *delays.last().unwrap());
    println!(
        "cross-instance end of job, {JOBS} jobs run on B, subscribers on A: p50 {p50:?}, p99 {p99:?}, max {max:?} \
         ({progress_events} updates, {:?} in all)",
        started.elapsed()
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}: the relay is not relaying");
    runner.shutdown().await.unwrap();
}

/// A slow job's CSV: a debug build takes seconds over it.
fn slow_csv(bytes: usize) -> Vec<u8> {
    let mut csv = String::from("id,value\n");
    let mut i = 0u64;
    while csv.len() < bytes {
        csv.push_str(&format!("{i},{}.{}\n", i * 7 % 1000, i % 97));
        i += 1;
    }
    csv.into_bytes()
}

const CANCEL: &str = "mutation($id: ID!) { cancelJob(id: $id) { status } }";

/// A cancellation on A stops B's run at once: B's only slot is free for the
/// next job within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_on_one_instance_stops_the_run_on_another() {
    let app = postgres_app(&["--worker-concurrency", "0"]).await;
    // A long lease: a heartbeat cannot be what stops the run.
    let runner = app.start_sibling(&["--worker-concurrency", "1", "--job-lease-secs", "60"]).await;
    let long = app.submit("long.csv", None, &slow_csv(40_000_000)).await;
    app.wait_for_job(&long, |job| job["status"] == "RUNNING").await;
    let cancelled_at = Utc::now().naive_utc();
    assert_eq!(app.ok(CANCEL, json!({ "id": long })).await["cancelJob"]["status"], "CANCELLED");
    let next = app.submit("next.csv", None, b"a\n1\n").await;
    let job = app.wait_for_job(&next, is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED");
    let started: chrono::DateTime<Utc> = job["startedAt"].as_str().unwrap().parse().unwrap();
    let freed = (started.naive_utc() - cancelled_at).to_std().unwrap_or_default();
    println!("cancel on A → B's slot free for the next job: {freed:?}");
    assert!(freed < Duration::from_secs(1), "B's run went on for {freed:?}");
    let long = app.ok(JOB_QUERY, json!({ "id": long })).await["job"].clone();
    assert_eq!(long["status"], "CANCELLED", "{long:#}");
    runner.shutdown().await.unwrap();
}

/// A confirm on A wakes B's idle worker at once, though B polls only every minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_on_one_instance_wakes_another() {
    let app = postgres_app(&["--worker-concurrency", "0"]).await;
    let runner = app.start_sibling(&["--worker-concurrency", "1", "--job-poll-ms", "60000"]).await;
    let mut waits = Vec::new();
    for i in 0..5 {
        // B is idle: its worker found nothing and waits.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let confirmed_at = Utc::now().naive_utc();
        let job_id = app.submit(&format!("wake{i}.csv"), None, b"a\n1\n").await;
        let job = app.wait_for_job(&job_id, is_terminal).await;
        assert_eq!(job["status"], "SUCCEEDED");
        let started: chrono::DateTime<Utc> = job["startedAt"].as_str().unwrap().parse().unwrap();
        waits.push((started.naive_utc() - confirmed_at).to_std().unwrap_or_default());
    }
    println!("submit on A → claimed on B (5 jobs): {waits:?}");
    assert!(waits.iter().all(|wait| *wait < Duration::from_secs(2)), "{waits:?}");
    runner.shutdown().await.unwrap();
}

/// A job an instance hands back as it shuts down is announced like any
/// other change (the last announcements go out after its worker stops):
/// another instance's idle worker takes it at once, though it polls only
/// every minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_handed_back_at_shutdown_wakes_another_instance() {
    let app = postgres_app(&["--worker-concurrency", "0"]).await;
    let leaving = app.start_sibling(&["--worker-concurrency", "1", "--shutdown-grace-secs", "0"]).await;
    let job_id = app.submit("handed-back.csv", None, &slow_csv(20_000_000)).await;
    app.wait_for_job(&job_id, |job| job["status"] == "RUNNING").await;
    let staying = app.start_sibling(&["--worker-concurrency", "1", "--job-poll-ms", "60000"]).await;
    // The new instance looked for work when it started and found none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let handed_back_at = Utc::now().naive_utc();
    leaving.shutdown().await.unwrap();
    let job = app.wait_for_job(&job_id, is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["attempts"], 1, "a handed-back attempt does not count: {job:#}");
    let started: chrono::DateTime<Utc> = job["startedAt"].as_str().unwrap().parse().unwrap();
    let taken = (started.naive_utc() - handed_back_at).to_std().unwrap_or_default();
    println!("shutdown of A began → the job it handed back started on B: {taken:?}");
    assert!(taken < Duration::from_secs(5), "B took the job after {taken:?}");
    staying.shutdown().await.unwrap();
}

/// The worker id holds its process's id (`worker-<pid>-<uuid>`).
fn pid_of(lease_owner: &str) -> u32 {
    lease_owner.split('-').nth(1).and_then(|pid| pid.parse().ok()).expect("worker-<pid>-…")
}

#[derive(diesel::QueryableByName)]
struct Owner {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    lease_owner: Option<String>,
}

async fn lease_owner(app: &TestApp, job_id: &str) -> Option<String> {
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let mut conn = diesel_async::AsyncPgConnection::establish(&app.database.url).await.unwrap();
    let query = diesel::sql_query(format!("SELECT lease_owner FROM jobs WHERE id = '{job_id}'"));
    query.get_result::<Owner>(&mut conn).await.unwrap().lease_owner
}

/// Three instances share the queue; twenty times, the one running a job is
/// killed with SIGKILL mid-job. Every job still ends SUCCEEDED, once: its
/// subscriber sees one end, and the job took exactly one more attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_killed_mid_job_lose_nothing() {
    const ROUNDS: usize = 20;
    let app = postgres_app(&["--worker-concurrency", "0"]).await;
    let args = ["--worker-concurrency", "1", "--job-lease-secs", "1"];
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(app.spawn_sibling(&args).await);
    }
    let csv = slow_csv(6_000_000);
    let started = Instant::now();
    let mut takeovers = Vec::new();
    for round in 0..ROUNDS {
        let job_id = app.submit(&format!("victim{round}.csv"), None, &csv).await;
        let a = app.app().clone();
        let follower = {
            let job_id = job_id.clone();
            tokio::spawn(async move { follow(&a, &job_id).await })
        };
        let owner = loop {
            if let Some(owner) = lease_owner(&app, &job_id).await {
                break owner;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let victim = instances.iter().position(|i| i.pid() == pid_of(&owner)).expect("one of ours runs it");
        instances.swap_remove(victim).kill();
        let killed_at = Utc::now().naive_utc();
        // A replacement starts while the others take the job over.
        let (replacement, seen) = tokio::join!(app.spawn_sibling(&args), follower);
        instances.push(replacement);
        let seen = seen.unwrap();
        let ends: Vec<_> = seen.iter().filter(|(job, _)| job.status.is_terminal()).collect();
        assert_eq!(ends.len(), 1);
        let (end, _) = ends[0];
        assert_eq!(end.status, JobStatus::Succeeded, "{end:?}");
        assert_eq!(end.attempts, 2, "taken over once: {end:?}");
        let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
        assert_eq!(job["lastFailure"]["code"], "WORKER_LOST", "{job:#}");
        takeovers.push((end.started_at.unwrap() - killed_at).to_std().unwrap_or_default());
    }
    takeovers.sort();
    println!(
        "kill -9 mid-job ×{ROUNDS}, 3 instances, 1 s lease: takeover p50 {:?}, max {:?} ({:?} in all)",
        percentile(&takeovers, 0.5),
        takeovers.last().unwrap(),
        started.elapsed()
    );
    assert!(takeovers.iter().all(|t| *t < Duration::from_secs(10)), "{takeovers:?}");
}

/// A PostgreSQL server of the test's own (initdb + pg_ctl on a free port,
/// run as the `postgres` user when the test runs as root), so it can be
/// restarted without disturbing other tests; stopped when dropped.
struct PrivateCluster {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    port: u16,
}

impl PrivateCluster {
    fn start() -> PrivateCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries under /usr/lib/postgresql")
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .find(|bin| bin.join("pg_ctl").exists())
            .expect("pg_ctl");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = PrivateCluster { dir, bin, port };
        if rustix::process::geteuid().is_root() {
            let status = std::process::Command::new("chown").arg("postgres").arg(cluster.dir.path()).status().unwrap();
            assert!(status.success());
        }
        let initdb = cluster.bin.join("initdb");
        cluster.pg(&[initdb.as_os_str(), "-D".as_ref(), cluster.data().as_os_str(), "-A".as_ref(), "trust".as_ref()]);
        cluster.ctl("start");
        cluster
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// A PostgreSQL program's command, as `postgres` when root (PostgreSQL refuses root).
    fn command(args: &[&std::ffi::OsStr]) -> std::process::Command {
        if rustix::process::geteuid().is_root() {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).args(args);
            command
        } else {
            let mut command = std::process::Command::new(args[0]);
            command.args(&args[1..]);
            command
        }
    }

    fn pg(&self, args: &[&std::ffi::OsStr]) {
        let output = PrivateCluster::command(args).output().expect("a PostgreSQL program runs");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// `pg_ctl start` or `stop` (fast: clients are cut off, as in a crash of the server).
    fn ctl(&self, action: &str) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let (data, log, pg_ctl) = (self.data(), self.dir.path().join("log"), self.bin.join("pg_ctl"));
        let mut args =
            vec![pg_ctl.as_os_str(), "-D".as_ref(), data.as_os_str(), "-w".as_ref(), "-t".as_ref(), "30".as_ref()];
        if action == "start" {
            args.extend([
                std::ffi::OsStr::new("-o"),
                options.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "start".as_ref(),
            ]);
        } else {
            args.extend(["-m", "fast", "stop"].map(std::ffi::OsStr::new));
        }
        self.pg(&args);
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let (pg_ctl, data) = (self.bin.join("pg_ctl"), self.data());
        let args =
            [pg_ctl.as_os_str(), "-D".as_ref(), data.as_os_str(), "-m".as_ref(), "immediate".as_ref(), "stop".as_ref()];
        let _ = PrivateCluster::command(&args).output();
    }
}

/// PostgreSQL restarts while jobs run and subscribers wait: the instance
/// reconnects (pool and relay), the jobs finish, and every subscriber sees
/// the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_survived() {
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};
    let cluster = tokio::task::spawn_blocking(PrivateCluster::start).await.unwrap();
    let mut admin = diesel_async::AsyncPgConnection::establish(&cluster.url("postgres")).await.unwrap();
    admin.batch_execute("CREATE DATABASE loupe").await.unwrap();
    drop(admin);
    let app =
        TestApp::start_on_postgres(&cluster.url("loupe"), &["--worker-concurrency", "1", "--job-lease-secs", "2"])
            .await;
    // Half the subscribers on another instance: they hear of the ends only
    // if the runner's announcements come back with the database too.
    let sibling = app.start_sibling(&["--worker-concurrency", "0"]).await;
    let csv = slow_csv(8_000_000);
    let mut followers = tokio::task::JoinSet::new();
    for i in 0..4 {
        let job_id = app.submit(&format!("through{i}.csv"), None, &csv).await;
        let on = if i % 2 == 0 { app.app().clone() } else { sibling.app.clone() };
        followers.spawn(async move { follow(&on, &job_id).await });
    }
    // The first job is under way when the server goes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = Instant::now();
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.ctl("stop");
        std::thread::sleep(Duration::from_secs(2));
        cluster.ctl("start");
        cluster
    })
    .await
    .unwrap();
    let back = Instant::now();
    let relay_back = loop {
        if app.app().hub.is_live() && sibling.app.hub.is_live() {
            break back.elapsed();
        }
        assert!(back.elapsed() < Duration::from_secs(20), "the relay never reconnected");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let mut ends = Vec::new();
    let mut delays = Vec::new();
    while let Some(seen) = followers.join_next().await {
        let seen = seen.unwrap();
        let (end, at) = seen.last().unwrap();
        assert_eq!(end.status, JobStatus::Succeeded, "{end:?}");
        ends.push(back.elapsed());
        delays.push((*at - end.finished_at.unwrap()).to_std().unwrap_or_default());
    }
    let latest = *delays.iter().max().unwrap();
    println!(
        "PostgreSQL down {:?}: relays listening again {relay_back:?} after it was back; the 4 jobs ended \
         within {:?} of it, each seen by its subscriber (2 on another instance) within {latest:?} of its end",
        back - stopped,
        ends.iter().max().unwrap(),
    );
    // Without announcements, the other instance's subscribers would wait for their 30 s safety re-read.
    assert!(latest < Duration::from_secs(5), "an end was seen {latest:?} late");
    sibling.shutdown().await.unwrap();
    drop(app);
    drop(cluster);
}
