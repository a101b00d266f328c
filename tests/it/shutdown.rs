//! Shutdown (SIGTERM, Ctrl-C) closes open subscriptions with 1001 (going
//! away) so clients reconnect at once, lets running jobs finish within its
//! grace or hands them back uncounted, and does not wait past its deadline.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::harness::{Backend, JOB_QUERY, JOB_UPDATES, Protocol, Socket, TestApp, on_both_backends};

on_both_backends!(
    shutdown_closes_websockets_with_going_away,
    sigterm_closes_websockets_with_going_away,
    sigterm_lets_a_running_job_finish,
    sigterm_hands_back_a_job_past_the_grace,
);

async fn shutdown_closes_websockets_with_going_away(backend: Backend) {
    let mut app = TestApp::start_with(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("waiting.csv", None, b"a\n1\n").await;
    let mut sockets = Vec::new();
    for protocol in [Protocol::TransportWs, Protocol::Legacy] {
        let mut socket = app.open_socket(protocol, &[]).await.unwrap();
        let first = first_update(&mut socket, protocol, &job_id).await;
        assert_eq!(first["data"]["jobUpdates"]["status"], "PENDING");
        sockets.push(socket);
    }
    // A socket that never got as far as subscribing is closed too.
    sockets.push(app.open_socket(Protocol::TransportWs, &[]).await.unwrap());

    let started = Instant::now();
    app.stop().await;
    assert!(started.elapsed() < Duration::from_secs(3), "shutdown waited {:?}", started.elapsed());
    for mut socket in sockets {
        let closing = tokio::time::timeout(Duration::from_secs(2), socket.next()).await.expect("a close frame");
        match closing {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away, "{frame:?}"),
            other => panic!("expected a close frame with 1001, got {other:?}"),
        }
    }
}

/// The same through a real SIGTERM to a `loupe` process.
async fn sigterm_closes_websockets_with_going_away(backend: Backend) {
    let mut app = TestApp::spawn(backend, &["--worker-concurrency", "0"]).await;
    let job_id = app.submit("waiting.csv", None, b"a\n1\n").await;
    let mut socket = app.open_socket(Protocol::TransportWs, &[]).await.unwrap();
    assert_eq!(
        first_update(&mut socket, Protocol::TransportWs, &job_id).await["data"]["jobUpdates"]["status"],
        "PENDING"
    );
    let (clean, took) = app.terminate().await;
    assert!(clean, "exited cleanly");
    assert!(took < Duration::from_secs(3), "did not wait for the drain deadline: {took:?}");
    let closing = tokio::time::timeout(Duration::from_secs(2), socket.next()).await.expect("a close frame");
    match closing {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away, "{frame:?}"),
        other => panic!("expected a close frame with 1001, got {other:?}"),
    }
}

/// A CSV that takes a debug build a few seconds to profile.
fn slow_csv() -> Vec<u8> {
    let mut csv = String::from("id,value,label\n");
    let mut i = 0u64;
    while csv.len() < 60_000_000 {
        csv.push_str(&format!("{i},{}.{},label-{}\n", i * 7 % 1000, i % 97, i % 13));
        i += 1;
    }
    csv.into_bytes()
}

/// Submits a slow job to a `loupe` process and sends SIGTERM once it runs;
/// returns the job's id, whether the process exited 0, and how long that took.
async fn terminate_mid_job(app: &mut TestApp) -> (String, bool, Duration) {
    let job_id = app.submit("slow.csv", None, &slow_csv()).await;
    app.wait_for_job(&job_id, |job| job["status"] == "RUNNING").await;
    let (clean, took) = app.terminate().await;
    (job_id, clean, took)
}

async fn sigterm_lets_a_running_job_finish(backend: Backend) {
    let mut app = TestApp::spawn(backend, &["--worker-concurrency", "1", "--shutdown-grace-secs", "60"]).await;
    let (job_id, clean, took) = terminate_mid_job(&mut app).await;
    assert!(clean, "exited 0");
    eprintln!("SIGTERM mid-job: the job finished and the process exited after {took:?}");
    // The process is gone; read what it left in the database.
    app.restart_with(&["--worker-concurrency", "0"]).await;
    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
    assert_eq!(job["status"], "SUCCEEDED", "finished within the grace: {job:#}");
    assert_eq!(job["attempts"], 1);
}

async fn sigterm_hands_back_a_job_past_the_grace(backend: Backend) {
    let mut app = TestApp::spawn(backend, &["--worker-concurrency", "1", "--shutdown-grace-secs", "0"]).await;
    let (job_id, clean, took) = terminate_mid_job(&mut app).await;
    assert!(clean, "exited 0");
    assert!(took < Duration::from_secs(3), "did not wait for the job: {took:?}");
    app.restart_with(&["--worker-concurrency", "0"]).await;
    let job = app.ok(JOB_QUERY, json!({ "id": job_id })).await["job"].clone();
    assert_eq!(job["status"], "PENDING", "handed back: {job:#}");
    assert_eq!(job["attempts"], 0, "the interrupted attempt does not count");
    app.restart_with(&["--worker-concurrency", "1"]).await;
    let job = app.wait_for_job(&job_id, crate::harness::is_terminal).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
    assert_eq!(job["attempts"], 1);
}

/// Initialises the socket, subscribes to the job and returns its first update.
async fn first_update(socket: &mut Socket, protocol: Protocol, job_id: &str) -> Value {
    let start = match protocol {
        Protocol::TransportWs => "subscribe",
        Protocol::Legacy => "start",
    };
    socket.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else { panic!("the socket ended") };
        let message: Value = serde_json::from_str(&text).unwrap();
        match message["type"].as_str().unwrap() {
            "connection_ack" => {
                let payload = json!({ "query": JOB_UPDATES, "variables": { "jobId": job_id } });
                let subscribe = json!({ "id": "1", "type": start, "payload": payload });
                socket.send(Message::text(subscribe.to_string())).await.unwrap();
            }
            "next" | "data" => return message["payload"].clone(),
            "ka" => {}
            other => panic!("unexpected {other}: {message}"),
        }
    }
}
