//! No page of another site reaches a user's data: a foreign `Origin` cannot
//! open the websocket or send a mutation, the websocket runs subscriptions
//! only, and a foreign `Host` (DNS rebinding) is refused on every route.

use serde_json::json;

use crate::harness::{Backend, Protocol, TestApp, error_code, on_both_backends, operate};

on_both_backends!(foreign_origins_are_refused, websocket_runs_subscriptions_only, foreign_hosts_are_refused);

const REQUEST_UPLOAD: &str = "mutation { requestUpload(input: {filename: \"x.csv\", size: 1}) { url } }";

async fn foreign_origins_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    for protocol in [Protocol::TransportWs, Protocol::Legacy] {
        let refused = app.open_socket(protocol, &[("origin", "http://evil.example")]).await;
        match refused {
            Err(crate::harness::WsError::Http(response)) => assert_eq!(response.status(), 403),
            other => panic!("a foreign origin opened the websocket: {other:?}"),
        }
        // Loupe's own pages and clients that are not browsers (no Origin) may.
        let own = app.url.clone();
        assert!(app.open_socket(protocol, &[("origin", &own)]).await.is_ok());
        assert!(app.open_socket(protocol, &[]).await.is_ok());
    }

    let url = format!("{}/graphql", app.url);
    let body = json!({ "query": REQUEST_UPLOAD });
    let foreign = app.http.post(&url).header("origin", "http://evil.example").json(&body).send().await.unwrap();
    assert_eq!(foreign.status(), 403);
    let own = app.http.post(&url).header("origin", &app.url).json(&body).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(app.count_rows("uploads").await, 1, "only the same-origin mutation ran");

    // The embedded store refuses a foreign page's PUT as well.
    let ticket = app.request_upload("a.csv", None, 4).await;
    let put = app
        .http
        .put(&ticket.url)
        .header("origin", "http://evil.example")
        .header("content-length", 4)
        .body("a\n1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 403);
}

async fn websocket_runs_subscriptions_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let job_id = app.submit("seen.csv", None, b"a\n1\n").await;
    for protocol in [Protocol::TransportWs, Protocol::Legacy] {
        let mut socket = app.open_socket(protocol, &[("origin", &app.url)]).await.unwrap();
        let mutation = operate(&mut socket, protocol, REQUEST_UPLOAD, json!({})).await;
        assert_eq!(mutation.len(), 1, "{mutation:?}");
        assert_eq!(error_code(&mutation[0]), "BAD_USER_INPUT");
        assert!(mutation[0]["errors"][0]["message"].as_str().unwrap().contains("only subscriptions"));

        let mut socket = app.open_socket(protocol, &[]).await.unwrap();
        let query = operate(&mut socket, protocol, "{ jobs { edges { node { id } } } }", json!({})).await;
        assert_eq!(error_code(&query[0]), "BAD_USER_INPUT");
        assert!(query[0].get("data").is_none_or(|data| data.is_null()), "{query:?}");
    }
    assert_eq!(app.count_rows("uploads").await, 1, "no mutation ran over the websocket");
    // Subscriptions still do.
    assert_eq!(app.subscribe_job(&job_id).await.last().unwrap()["status"], "SUCCEEDED");
}

async fn foreign_hosts_are_refused(backend: Backend) {
    let app = TestApp::start_with(backend, &["--allowed-hosts", "loupe.internal,proxy.example:8443"]).await;
    let port = app.url.rsplit(':').next().unwrap().to_owned();
    let get =
        |path: &str, host: &str| app.http.get(format!("{}{path}", app.url)).header("host", host.to_owned()).send();
    for path in ["/healthz", "/readyz", "/graphql", "/graphql/ws", "/loupe/uploads/x", "/no-such-route"] {
        for host in ["evil.example", &format!("evil.example:{port}"), "localhost:1", "proxy.example:9999"] {
            assert_eq!(get(path, host).await.unwrap().status(), 403, "{path} for {host}");
        }
    }
    let post = app
        .http
        .post(format!("{}/graphql", app.url))
        .header("host", "evil.example")
        .json(&json!({ "query": REQUEST_UPLOAD }))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    assert_eq!(app.count_rows("uploads").await, 0);

    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("LOCALHOST:{port}"),
        "loupe.internal".to_owned(),
        "loupe.internal:8080".to_owned(),
        "proxy.example:8443".to_owned(),
    ] {
        assert_eq!(get("/healthz", &host).await.unwrap().status(), 200, "{host}");
    }
    let refused = app.open_socket(Protocol::TransportWs, &[("host", "evil.example")]).await;
    assert!(matches!(refused, Err(crate::harness::WsError::Http(ref r)) if r.status() == 403), "{refused:?}");
}

/// Behind a proxy, the public URL's host and origin are Loupe's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_url_is_allowed() {
    let app = TestApp::start_with(Backend::Sqlite, &["--public-url", "https://loupe.example.com"]).await;
    let response = app.http.get(format!("{}/healthz", app.url)).header("host", "loupe.example.com").send().await;
    assert_eq!(response.unwrap().status(), 200);
    let socket = app
        .open_socket(Protocol::TransportWs, &[("host", "loupe.example.com"), ("origin", "https://loupe.example.com")])
        .await;
    assert!(socket.is_ok(), "{socket:?}");
}
