//! Time from `confirmUpload` to the terminal `jobUpdates` message for a
//! 1 KB CSV on the embedded default (SQLite + embedded S3), over real HTTP
//! and a real websocket. `cargo bench --bench journey [-- RUNS]`.

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../tests/it/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{Backend, TestApp};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let app = TestApp::start(Backend::Sqlite).await;
    let csv = one_kilobyte_csv();

    let mut times = Vec::with_capacity(runs);
    // One warm-up run: connection pools, page cache, lazy statics.
    for run in 0..=runs {
        let ticket = app.request_upload("bench.csv", Some("text/csv"), csv.len() as u64).await;
        assert_eq!(app.put(&ticket, &ticket.url, csv.clone()).await, 200);
        let started = Instant::now();
        let confirmed = app.confirm(&ticket.upload_id).await;
        let job_id = confirmed["data"]["confirmUpload"]["id"].as_str().expect("confirmed").to_owned();
        let updates = app.subscribe_job(&job_id).await;
        let elapsed = started.elapsed();
        assert_eq!(updates.last().unwrap()["status"], "SUCCEEDED");
        if run > 0 {
            times.push(elapsed);
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "confirmUpload -> terminal jobUpdates, {} B CSV, {runs} runs: median {:.2} ms, min {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        csv.len(),
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() * 9 / 10]),
        ms(times[times.len() - 1]),
    );
}

fn one_kilobyte_csv() -> Vec<u8> {
    let mut csv = String::from("id,city,temperature,observed_at\n");
    let cities = ["Lisbon", "Oslo", "Nairobi", "Lima", "Osaka"];
    let mut i = 0;
    while csv.len() < 1000 {
        csv.push_str(&format!(
            "{i},{},{:.1},2026-11-{:02}T12:00:00Z\n",
            cities[i % 5],
            (i * 37 % 400) as f64 / 10.0,
            i % 28 + 1
        ));
        i += 1;
    }
    csv.into_bytes()
}
