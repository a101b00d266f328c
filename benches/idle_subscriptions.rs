//! Server memory per idle subscription: starts the `loupe` binary, opens N
//! websockets (graphql-transport-ws) each following a job that stays
//! PENDING, and reads the server's resident memory before and after.
//! `cargo bench --bench idle_subscriptions [-- N]` (default 500).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_loupe"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--worker-concurrency", "0"])
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start loupe"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    while http.get(format!("{base}/readyz")).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let job_id = pending_job(&http, &base).await;

    let mut sockets = vec![subscribe(port, &job_id).await];
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib();
    for _ in 1..n {
        sockets.push(subscribe(port, &job_id).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = server.rss_kib();
    println!(
        "{n} idle jobUpdates subscriptions: server RSS {before} KiB -> {after} KiB, {:.1} KiB per subscription",
        (after - before) as f64 / (n - 1) as f64
    );
    drop(sockets);
    server.0.kill().ok();
}

struct Server(Child);

impl Server {
    fn rss_kib(&self) -> i64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
    }
}

async fn graphql(http: &reqwest::Client, base: &str, query: &str, variables: Value) -> Value {
    let response: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(response.get("errors").is_none(), "{response}");
    response["data"].clone()
}

/// A confirmed upload whose job stays PENDING (the server runs no worker).
async fn pending_job(http: &reqwest::Client, base: &str) -> String {
    let body = b"a,b\n1,2\n".to_vec();
    let ticket = graphql(
        http,
        base,
        "mutation($size: Int64!) { requestUpload(input: {filename: \"idle.csv\", size: $size}) { upload { id } url } }",
        json!({ "size": body.len() }),
    )
    .await;
    let url = ticket["requestUpload"]["url"].as_str().unwrap();
    let put = http
        .put(url)
        .header("content-length", body.len())
        .header("if-none-match", "*")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let upload = ticket["requestUpload"]["upload"]["id"].clone();
    let job =
        graphql(http, base, "mutation($id: ID!) { confirmUpload(uploadId: $id) { id } }", json!({ "id": upload }))
            .await;
    job["confirmUpload"]["id"].as_str().unwrap().to_owned()
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a websocket and subscribes; returns once the first update arrived.
async fn subscribe(port: u16, job_id: &str) -> Socket {
    let mut request = format!("ws://127.0.0.1:{port}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    let query = "subscription($id: ID!) { jobUpdates(jobId: $id) { status } }";
    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "id": job_id } } });
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else { continue };
        match serde_json::from_str::<Value>(&text).unwrap()["type"].as_str() {
            Some("connection_ack") => socket.send(Message::text(subscribe.to_string())).await.unwrap(),
            Some("next") => break,
            other => panic!("unexpected {other:?}: {text}"),
        }
    }
    socket
}
