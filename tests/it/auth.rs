//! Sign-in state: who a request acts for (session cookie, API token, the
//! local user), sessions ending, API tokens' lifecycle over HTTP and
//! websockets, and the cross-site rules cookies rely on.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, Caller, JOB_UPDATES, Protocol, Socket, TestApp, error_code, on_both_backends};

on_both_backends!(
    sign_in_is_required_once_a_provider_is_configured,
    without_a_provider_everyone_is_the_local_user,
    api_token_lifecycle,
    sign_out_ends_the_session_everywhere,
    sessions_expire,
    sessions_and_tokens_survive_a_restart,
    a_revocation_on_another_instance_closes_sockets_within_the_recheck,
);

const VIEWER: &str = "{ viewer { id login name email authenticatedBy } }";

const CREATE_TOKEN: &str = "mutation($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { secret token { id name createdAt lastUsedAt expiresAt } } }";

async fn sign_in_is_required_once_a_provider_is_configured(backend: Backend) {
    let app = TestApp::start_signed_in(backend, &[]).await;
    let anonymous = app.graphql_as(&Caller::Anonymous, VIEWER, json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    let alice = app.sign_in("alice").await;
    let viewer = app.graphql_as(&alice, VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["login"], "alice", "{viewer:#}");
    assert_eq!(viewer["data"]["viewer"]["email"], "alice@example.com");
    assert_eq!(viewer["data"]["viewer"]["authenticatedBy"], "SESSION");

    // A credential that does not hold is refused, never taken for another.
    for caller in [Caller::Cookie("loupe-session=0123abcd".into()), Caller::Bearer("loupe_0123abcd".into())] {
        let refused = app.graphql_as(&caller, VIEWER, json!({})).await;
        assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{caller:?}");
    }

    // Signing in again as the same identity is the same user.
    let again = app.sign_in("alice").await;
    let same = app.graphql_as(&again, VIEWER, json!({})).await;
    assert_eq!(same["data"]["viewer"]["id"], viewer["data"]["viewer"]["id"]);

    // A websocket without a credential is refused at connection_init, in
    // either protocol.
    for protocol in [Protocol::TransportWs, Protocol::Legacy] {
        let mut socket = app.open_socket_as(&Caller::Anonymous, protocol, &[]).await.unwrap();
        assert_eq!(init(&mut socket, json!({})).await, Err(4401));
    }
}

async fn without_a_provider_everyone_is_the_local_user(backend: Backend) {
    let app = TestApp::start(backend).await;
    let viewer = app.ok(VIEWER, json!({})).await;
    assert_eq!(viewer["viewer"]["login"], "local");
    assert_eq!(viewer["viewer"]["authenticatedBy"], "LOCAL");
    // A bad token does not fall back to the local user.
    let refused = app.graphql_as(&Caller::Bearer("loupe_nope".into()), VIEWER, json!({})).await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED");
    // The local user's tokens work, as a script would use them.
    let created = app.ok(CREATE_TOKEN, json!({ "input": { "name": "script" } })).await;
    let token = Caller::Bearer(created["createApiToken"]["secret"].as_str().unwrap().to_owned());
    let viewer = app.graphql_as(&token, VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["authenticatedBy"], "API_TOKEN", "{viewer:#}");
}

async fn api_token_lifecycle(backend: Backend) {
    let mut app = TestApp::start_signed_in(backend, &["--worker-concurrency", "0"]).await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;

    let created = app.graphql_as(&alice, CREATE_TOKEN, json!({ "input": { "name": "nightly import" } })).await;
    let created = &created["data"]["createApiToken"];
    let secret = created["secret"].as_str().unwrap().to_owned();
    let token_id = created["token"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("loupe_") && secret.len() > 60, "{secret}");
    assert_eq!(created["token"]["lastUsedAt"], Value::Null);
    let token = Caller::Bearer(secret.clone());

    // Used over HTTP: acts as alice, and the use is recorded.
    let viewer = app.graphql_as(&token, VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["login"], "alice");
    assert_eq!(viewer["data"]["viewer"]["authenticatedBy"], "API_TOKEN");
    let listed = app.graphql_as(&alice, "{ apiTokens { id name lastUsedAt } }", json!({})).await;
    assert_eq!(listed["data"]["apiTokens"][0]["id"], token_id.as_str());
    assert_ne!(listed["data"]["apiTokens"][0]["lastUsedAt"], Value::Null);
    assert!(!listed.to_string().contains(&secret[6..]), "a listing never shows the secret");
    // Only a hash is stored.
    assert_eq!(app.count_rows(&format!("api_tokens WHERE secret_hash = '{secret}'")).await, 0);

    // Bob neither sees nor revokes it.
    let bobs = app.graphql_as(&bob, "{ apiTokens { id } }", json!({})).await;
    assert_eq!(bobs["data"]["apiTokens"], json!([]));
    let revoke = "mutation($id: ID!) { revokeApiToken(id: $id) }";
    let refused = app.graphql_as(&bob, revoke, json!({ "id": token_id })).await;
    assert_eq!(error_code(&refused), "NOT_FOUND");

    // Used over a websocket (in connection_init), with a subscription open.
    app.caller = token.clone();
    let ticket = app.request_upload("a.csv", Some("text/csv"), 4).await;
    assert_eq!(app.put(&ticket, &ticket.url, b"a\n1\n".to_vec()).await, 200);
    let job = app.confirm(&ticket.upload_id).await["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    app.caller = Caller::Anonymous;
    let mut socket = app.open_socket_as(&Caller::Anonymous, Protocol::TransportWs, &[]).await.unwrap();
    init(&mut socket, json!({ "authorization": format!("Bearer {secret}") })).await.unwrap();
    let first = subscribe(&mut socket, &job).await;
    assert_eq!(first["data"]["jobUpdates"]["status"], "PENDING", "{first:#}");

    // Revoked: the open subscription's socket closes, and the token is refused.
    let revoked = app.graphql_as(&alice, revoke, json!({ "id": token_id })).await;
    assert_eq!(revoked["data"]["revokeApiToken"], token_id.as_str(), "{revoked:#}");
    assert_eq!(close_code(&mut socket).await, 4401);
    assert_eq!(error_code(&app.graphql_as(&token, VIEWER, json!({})).await), "UNAUTHENTICATED");
    let mut socket = app.open_socket_as(&Caller::Anonymous, Protocol::TransportWs, &[]).await.unwrap();
    assert_eq!(init(&mut socket, json!({ "token": secret })).await, Err(4401));
    let again = app.graphql_as(&alice, revoke, json!({ "id": token_id })).await;
    assert_eq!(error_code(&again), "NOT_FOUND");

    // Expiry: in the past is refused; a token past its expiry stops working.
    let past = app
        .graphql_as(&alice, CREATE_TOKEN, json!({ "input": { "name": "x", "expiresAt": "2020-01-01T00:00:00Z" } }))
        .await;
    assert_eq!(error_code(&past), "BAD_USER_INPUT");
    let soon = (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
    let short = app.graphql_as(&alice, CREATE_TOKEN, json!({ "input": { "name": "short", "expiresAt": soon } })).await;
    let short = Caller::Bearer(short["data"]["createApiToken"]["secret"].as_str().unwrap().to_owned());
    assert_eq!(app.graphql_as(&short, VIEWER, json!({})).await["data"]["viewer"]["login"], "alice");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(error_code(&app.graphql_as(&short, VIEWER, json!({})).await), "UNAUTHENTICATED");
}

async fn sign_out_ends_the_session_everywhere(backend: Backend) {
    let mut app = TestApp::start_signed_in(backend, &["--worker-concurrency", "0"]).await;
    let alice = app.sign_in("alice").await;
    app.caller = alice.clone();
    let ticket = app.request_upload("a.csv", Some("text/csv"), 4).await;
    assert_eq!(app.put(&ticket, &ticket.url, b"a\n1\n".to_vec()).await, 200);
    let job = app.confirm(&ticket.upload_id).await["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    let mut socket = app.open_socket(Protocol::TransportWs, &[]).await.unwrap();
    init(&mut socket, json!({})).await.unwrap();
    subscribe(&mut socket, &job).await;

    // A second instance on the same database knows the session too.
    let sibling = app.start_sibling(&["--worker-concurrency", "0"]).await;
    let sibling_url = format!("http://{}/graphql", sibling.local_addr);
    let on_sibling = |caller: Caller| {
        let request = caller.apply(app.http.post(&sibling_url)).json(&json!({ "query": VIEWER }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(on_sibling(alice.clone()).await["data"]["viewer"]["login"], "alice");

    let Caller::Cookie(cookie) = &alice else { unreachable!() };
    let response = app.http.post(format!("{}/auth/logout", app.url)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("loupe-session=;") && cleared.contains("Max-Age=0"), "{cleared}");

    assert_eq!(close_code(&mut socket).await, 4401);
    assert_eq!(error_code(&app.graphql(VIEWER, json!({})).await), "UNAUTHENTICATED");
    assert_eq!(error_code(&on_sibling(alice.clone()).await), "UNAUTHENTICATED");
    assert_eq!(app.count_rows("sessions").await, 0);
    sibling.shutdown().await.unwrap();
}

async fn sessions_expire(backend: Backend) {
    // Idle: a session unused for longer than the idle limit is over.
    let app = TestApp::start_signed_in(backend, &["--session-idle-secs", "2"]).await;
    let alice = app.sign_in("alice").await;
    assert_eq!(app.graphql_as(&alice, VIEWER, json!({})).await["data"]["viewer"]["login"], "alice");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(error_code(&app.graphql_as(&alice, VIEWER, json!({})).await), "UNAUTHENTICATED");

    // Absolute: however active, a session ends at its maximum age, and the
    // cookie says so to the browser.
    let app = TestApp::start_signed_in(backend, &["--session-max-secs", "4"]).await;
    let user = app.app().db.upsert_identity(&loupe::auth::local_user()).await.unwrap();
    let set_cookie = app.app().auth.start_session(&user).await.unwrap();
    let set_cookie = set_cookie.to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=4"] {
        assert!(set_cookie.contains(attribute), "{attribute} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let session = Caller::Cookie(set_cookie.split(';').next().unwrap().to_owned());
    for _ in 0..4 {
        assert_eq!(app.graphql_as(&session, VIEWER, json!({})).await["data"]["viewer"]["login"], "local");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(error_code(&app.graphql_as(&session, VIEWER, json!({})).await), "UNAUTHENTICATED");
    // The next sign-in clears sessions past their expiry away.
    assert_eq!(app.count_rows("sessions").await, 1);
    app.sign_in("bob").await;
    assert_eq!(app.count_rows("sessions").await, 1);
}

async fn sessions_and_tokens_survive_a_restart(backend: Backend) {
    let mut app = TestApp::start_signed_in(backend, &[]).await;
    let alice = app.sign_in("alice").await;
    let created = app.graphql_as(&alice, CREATE_TOKEN, json!({ "input": { "name": "ci" } })).await;
    let token = Caller::Bearer(created["data"]["createApiToken"]["secret"].as_str().unwrap().to_owned());
    app.restart_with(&[]).await;
    for caller in [alice, token] {
        assert_eq!(app.graphql_as(&caller, VIEWER, json!({})).await["data"]["viewer"]["login"], "alice");
    }
}

async fn a_revocation_on_another_instance_closes_sockets_within_the_recheck(backend: Backend) {
    let mut app = TestApp::start_signed_in(backend, &["--worker-concurrency", "0"]).await;
    let alice = app.sign_in("alice").await;
    app.caller = alice.clone();
    let ticket = app.request_upload("a.csv", Some("text/csv"), 4).await;
    assert_eq!(app.put(&ticket, &ticket.url, b"a\n1\n".to_vec()).await, 200);
    let job = app.confirm(&ticket.upload_id).await["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    let created = app.ok(CREATE_TOKEN, json!({ "input": { "name": "watcher" } })).await;
    let secret = created["createApiToken"]["secret"].as_str().unwrap().to_owned();
    let token_id = created["createApiToken"]["token"]["id"].as_str().unwrap().to_owned();

    // The socket is on a sibling that re-checks every second; the token is
    // revoked on the first instance, which cannot tell the sibling.
    let sibling = app.start_sibling(&["--worker-concurrency", "0", "--auth-recheck-secs", "1"]).await;
    let url = format!("ws://{}/graphql/ws", sibling.local_addr);
    let mut request = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    init(&mut socket, json!({ "token": secret })).await.unwrap();
    subscribe(&mut socket, &job).await;

    let revoke = "mutation($id: ID!) { revokeApiToken(id: $id) }";
    app.ok(revoke, json!({ "id": token_id })).await;
    let revoked_at = std::time::Instant::now();
    assert_eq!(close_code(&mut socket).await, 4401);
    assert!(revoked_at.elapsed() < Duration::from_secs(5), "closed within the re-check: {:?}", revoked_at.elapsed());
    sibling.shutdown().await.unwrap();
}

/// Behind an HTTPS public URL the cookie is `Secure` with the `__Host-` prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_behind_https_are_host_only_and_secure() {
    let app = TestApp::start_signed_in(Backend::Sqlite, &["--public-url", "https://loupe.example.com"]).await;
    let user = app.app().db.upsert_identity(&loupe::auth::local_user()).await.unwrap();
    let set_cookie = app.app().auth.start_session(&user).await.unwrap();
    let set_cookie = set_cookie.to_str().unwrap();
    assert!(set_cookie.starts_with("__Host-loupe-session="), "{set_cookie}");
    assert!(set_cookie.contains("; Secure") && set_cookie.contains("Path=/") && !set_cookie.contains("Domain"));
}

/// A page of another site cannot ride on a signed-in browser's cookie: not
/// with a form, not with a mutation in a URL, not with a websocket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_requests_cannot_use_the_session() {
    let app = TestApp::start_signed_in(Backend::Sqlite, &[]).await;
    let Caller::Cookie(cookie) = app.sign_in("alice").await else { unreachable!() };
    let mutation = r#"mutation { requestUpload(input: {filename: "x.csv", size: 1}) { url } }"#;

    let form = app
        .http
        .post(format!("{}/graphql", app.url))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("query={mutation}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let get = app
        .http
        .get(format!("{}/graphql", app.url))
        .query(&[("query", mutation)])
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(!get.text().await.unwrap().contains("\"data\""), "GET never executes an operation");
    let foreign = app
        .http
        .post(format!("{}/graphql", app.url))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .json(&json!({ "query": mutation }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let logout = app
        .http
        .post(format!("{}/auth/logout", app.url))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 403, "another site cannot sign anyone out");
    assert_eq!(app.count_rows("uploads").await, 0);
    assert_eq!(app.count_rows("sessions").await, 1);

    let socket = app
        .open_socket_as(&Caller::Cookie(cookie.clone()), Protocol::TransportWs, &[("origin", "https://evil.example")])
        .await;
    assert!(socket.is_err(), "a websocket from another site with the cookie is refused");
    let own_origin = app.url.clone();
    let mut socket =
        app.open_socket_as(&Caller::Cookie(cookie), Protocol::TransportWs, &[("origin", &own_origin)]).await.unwrap();
    init(&mut socket, json!({})).await.unwrap();
}

/// Sends `connection_init`; Ok on `connection_ack`, Err(code) when the server closes.
pub async fn init(socket: &mut Socket, payload: Value) -> Result<(), u16> {
    socket.send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())).await.unwrap();
    loop {
        match next(socket).await {
            Message::Text(text) if text.contains("connection_ack") => return Ok(()),
            Message::Close(frame) => return Err(frame.map_or(0, |frame| frame.code.into())),
            _ => {}
        }
    }
}

/// Subscribes to the job's updates; returns the first.
async fn subscribe(socket: &mut Socket, job_id: &str) -> Value {
    let payload = json!({ "query": JOB_UPDATES, "variables": { "jobId": job_id } });
    socket
        .send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": payload }).to_string()))
        .await
        .unwrap();
    loop {
        if let Message::Text(text) = next(socket).await {
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] == "next" {
                return message["payload"].clone();
            }
            panic!("unexpected {message}");
        }
    }
}

/// Waits for the server to close the socket; returns the close code.
async fn close_code(socket: &mut Socket) -> u16 {
    loop {
        match next(socket).await {
            Message::Close(frame) => return frame.map_or(0, |frame| frame.code.into()),
            Message::Text(text) => assert!(!text.contains("\"next\""), "no update after revocation: {text}"),
            _ => {}
        }
    }
}

async fn next(socket: &mut Socket) -> Message {
    tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("the server answers within 10 s")
        .expect("the socket is open")
        .expect("a websocket message")
}

/// With no provider, Loupe refuses to listen beyond loopback and says what
/// to configure, unless told the network is trusted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_provider_beyond_loopback_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_loupe"))
        .args(["--listen", "0.0.0.0:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    for hint in ["LOUPE_OIDC_<NAME>_ISSUER", "LOUPE_GITHUB_CLIENT_ID", "--insecure-single-user"] {
        assert!(said.contains(hint), "{hint} in {said}");
    }

    let trusted = dir.path().join("trusted");
    let database = trusted.join("loupe.sqlite3");
    let (trusted, database) = (trusted.to_str().unwrap(), database.to_str().unwrap());
    let args = ["--listen", "0.0.0.0:0", "--insecure-single-user", "--data-dir", trusted, "--database-url", database];
    let config = loupe::config::Config::from_args(args).unwrap();
    let server = loupe::app::start(config).await.expect("starts when forced");
    server.shutdown().await.unwrap();
}
