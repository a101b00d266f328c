//! Shutdown (SIGTERM, Ctrl-C) closes open subscriptions with 1001 (going
//! away) so clients reconnect at once, and does not wait past its deadline.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::harness::{Backend, JOB_UPDATES, Protocol, Socket, TestApp, on_both_backends};

on_both_backends!(shutdown_closes_websockets_with_going_away, sigterm_closes_websockets_with_going_away);

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
