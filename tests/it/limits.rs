//! One request cannot exhaust the server: bodies, batches, page work,
//! subscriptions per connection and idle sockets are bounded, and the
//! caller's input is never echoed back whole.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::harness::{Backend, JOB_UPDATES, Protocol, TestApp, error_code, on_both_backends};

on_both_backends!(batches_and_bodies_are_bounded, subscriptions_per_connection_are_bounded, long_input_is_not_echoed);

const REQUEST_UPLOAD: &str = "mutation { requestUpload(input: {filename: \"x.csv\", size: 1}) { url } }";

async fn batches_and_bodies_are_bounded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let url = format!("{}/graphql", app.url);
    let batch = |n: usize| Value::Array(vec![json!({ "query": REQUEST_UPLOAD }); n]);

    let refused = app.http.post(&url).json(&batch(11)).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 10"), "{body}");
    assert_eq!(app.count_rows("uploads").await, 0, "nothing of a refused batch ran");

    let accepted: Value = app.http.post(&url).json(&batch(10)).send().await.unwrap().json().await.unwrap();
    assert_eq!(accepted.as_array().unwrap().len(), 10);
    assert_eq!(app.count_rows("uploads").await, 10);

    // The 2 MB batch of the report: refused before it is parsed.
    let mut huge = Vec::new();
    while huge.len() < 2_000_000 {
        huge.extend_from_slice(br#"{"query":"{ jobs(first: 100) { edges { cursor } } }"},"#);
    }
    let huge = format!("[{}]", String::from_utf8(huge).unwrap().trim_end_matches(','));
    // Its own client: the server answers before reading the body and drops
    // the connection, which a pooled client could hand to the next request;
    // the client may also be cut off while still writing, so it tries again
    // until it reads the answer.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut status = None;
    for _ in 0..5 {
        let sent = client.post(&url).header("content-type", "application/json").body(huge.clone()).send().await;
        if let Ok(response) = sent {
            status = Some(response.status().as_u16());
            break;
        }
    }
    assert_eq!(status, Some(413));

    // Page work counts toward complexity: many full pages in one query are refused…
    let pages: String = (0..5)
        .map(|i| format!("p{i}: jobs(first: 100) {{ edges {{ node {{ id status progress attempts createdAt }} }} }} "))
        .collect();
    let response = app.graphql(&format!("{{ {pages} }}"), json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("complex"), "{response}");
    // …one is not.
    app.ok("{ jobs(first: 100) { edges { node { id status progress attempts createdAt } } } }", json!({})).await;
    // Results are heavy: a page of them is refused, a few are not.
    let response = app.graphql("{ jobs(first: 100) { edges { node { result { __typename } } } } }", json!({})).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    app.ok("{ jobs(first: 20) { edges { node { id result { __typename } } } } }", json!({})).await;
}

async fn subscriptions_per_connection_are_bounded(backend: Backend) {
    let app =
        TestApp::start_with(backend, &["--worker-concurrency", "0", "--max-subscriptions-per-connection", "3"]).await;
    let job_id = app.submit("watched.csv", None, b"a\n1\n").await;
    let mut socket = app.open_socket(Protocol::TransportWs, &[]).await.unwrap();
    let send = async |socket: &mut crate::harness::Socket, message: Value| {
        socket.send(Message::text(message.to_string())).await.unwrap();
    };
    let subscribe = |id: &str| json!({ "id": id, "type": "subscribe", "payload": { "query": JOB_UPDATES, "variables": { "jobId": job_id } } });
    send(&mut socket, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    for id in ["1", "2", "3"] {
        send(&mut socket, subscribe(id)).await;
        let first = next(&mut socket).await;
        assert_eq!((first["id"].as_str(), first["type"].as_str()), (Some(id), Some("next")), "{first}");
    }
    send(&mut socket, subscribe("4")).await;
    let refused = next(&mut socket).await;
    assert_eq!(refused["id"], "4");
    let errors =
        if refused["type"] == "error" { json!({ "errors": refused["payload"] }) } else { refused["payload"].clone() };
    assert_eq!(error_code(&errors), "BAD_USER_INPUT");
    assert!(errors["errors"][0]["message"].as_str().unwrap().contains("at most 3"), "{errors}");

    // Completing one frees its place.
    send(&mut socket, json!({ "id": "1", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&mut socket, subscribe("5")).await;
    loop {
        let message = next(&mut socket).await;
        if message["id"] == "5" {
            assert_eq!(message["type"], "next", "{message}");
            break;
        }
    }
}

/// A socket that never initialises is closed with 4408.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninitialised_sockets_are_closed() {
    let app = TestApp::start_with(Backend::Sqlite, &["--ws-init-timeout-secs", "1"]).await;
    for protocol in [Protocol::TransportWs, Protocol::Legacy] {
        let mut socket = app.open_socket(protocol, &[]).await.unwrap();
        let closed = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("closed in time");
        match closed {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::from(4408)),
            other => panic!("expected a close frame with 4408, got {other:?}"),
        }
    }
    // An initialised one stays open past the timeout.
    let mut socket = app.open_socket(Protocol::TransportWs, &[]).await.unwrap();
    socket.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    assert_eq!(next(&mut socket).await["type"], "connection_ack");
    assert!(tokio::time::timeout(Duration::from_millis(1500), socket.next()).await.is_err(), "still open");
}

async fn long_input_is_not_echoed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let long = "x".repeat(200_000);
    let response = app.graphql("query($id: ID!) { upload(id: $id) { id } }", json!({ "id": long })).await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert!(response.to_string().len() < 2_000, "{} bytes", response.to_string().len());

    let input = json!({ "filename": "a.csv", "size": 1, "contentType": format!("text/{long}") });
    let response = app
        .graphql(
            "mutation($input: RequestUploadInput!) { requestUpload(input: $input) { url } }",
            json!({ "input": input }),
        )
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("longer than 255 bytes"), "{response}");
    assert!(response.to_string().len() < 2_000);

    let input = json!({ "filename": "a.csv", "size": 1, "delimiter": long });
    let response = app
        .graphql(
            "mutation($input: RequestUploadInput!) { requestUpload(input: $input) { url } }",
            json!({ "input": input }),
        )
        .await;
    assert_eq!(error_code(&response), "BAD_USER_INPUT");
    assert!(response.to_string().len() < 2_000);
    assert_eq!(app.count_rows("uploads").await, 0);
}

async fn next(socket: &mut crate::harness::Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message");
        match message {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// An instance holds at most --max-websockets sockets; a closed one frees
/// its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_websockets_are_bounded() {
    let app = TestApp::start_with(Backend::Sqlite, &["--max-websockets", "2"]).await;
    let first = app.open_socket(Protocol::TransportWs, &[]).await.unwrap();
    let _second = app.open_socket(Protocol::Legacy, &[]).await.unwrap();
    let refused = app.open_socket(Protocol::TransportWs, &[]).await;
    assert!(matches!(refused, Err(crate::harness::WsError::Http(ref r)) if r.status() == 503), "{refused:?}");
    drop(first);
    let mut reopened = app.open_socket(Protocol::TransportWs, &[]).await;
    for _ in 0..50 {
        if reopened.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        reopened = app.open_socket(Protocol::TransportWs, &[]).await;
    }
    assert!(reopened.is_ok(), "a closed socket frees its place: {reopened:?}");
}
