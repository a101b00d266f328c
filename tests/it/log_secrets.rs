//! The server's log, at debug level for every crate, holds none of the
//! secrets that passed through a whole sign-in and an API token's life:
//! the client secret, the authorization code, state and nonce, the session
//! cookie, the token's secret, and no JSON Web Token (ID tokens) at all.

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, Caller, Protocol, TestApp};
use crate::provider::{Browser, CLIENT_ID, TestProvider, session_cookie};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sign_in_logs_no_secret() {
    let provider = TestProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("loupe.log");
    let env = [
        ("RUST_LOG", "debug"),
        ("LOUPE_OIDC_TEST_ISSUER", provider.issuer.as_str()),
        ("LOUPE_OIDC_TEST_CLIENT_ID", CLIENT_ID),
        ("LOUPE_OIDC_TEST_CLIENT_SECRET", provider.client_secret.as_str()),
    ];
    let mut app = TestApp::spawn_logging(Backend::Sqlite, &[], &env, Some(&log)).await;

    let browser = Browser::new();
    let authorization = browser.start_sign_in(&app.url, "/").await;
    let callback = browser.through_provider(&authorization, "alice").await;
    let landed = browser.get(&callback).await;
    let cookie = session_cookie(&landed).expect("signed in");
    let alice = Caller::Cookie(cookie.clone());

    // A refused callback too: its reasons are logged.
    assert_eq!(browser.get(&callback).await.status(), 400);

    let created = app
        .graphql_as(&alice, "mutation { createApiToken(input: {name: \"ci\"}) { secret token { id } } }", json!({}))
        .await;
    let token = created["data"]["createApiToken"]["secret"].as_str().unwrap().to_owned();
    let token_id = created["data"]["createApiToken"]["token"]["id"].as_str().unwrap().to_owned();
    app.caller = Caller::Bearer(token.clone());
    assert_eq!(app.ok("{ viewer { login } }", json!({})).await["viewer"]["login"], "alice");
    let mut socket = app.open_socket_as(&Caller::Anonymous, Protocol::TransportWs, &[]).await.unwrap();
    crate::auth::init(&mut socket, json!({ "token": token })).await.unwrap();
    socket.send(Message::Close(None)).await.unwrap();
    let bad = app.graphql_as(&Caller::Bearer(format!("{token}x")), "{ viewer { login } }", json!({})).await;
    assert!(bad.get("errors").is_some());
    app.graphql_as(&alice, "mutation($id: ID!) { revokeApiToken(id: $id) }", json!({ "id": token_id })).await;
    let logout = app.http.post(format!("{}/auth/logout", app.url)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    app.terminate().await;

    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("signed in"), "the log was captured: {} bytes", text.len());
    let param = |url: &str, name: &str| {
        url.split(['?', '&']).find_map(|pair| pair.strip_prefix(&format!("{name}="))).unwrap().to_owned()
    };
    let secrets = [
        ("the client secret", provider.client_secret.clone()),
        ("the authorization code", param(&callback, "code")),
        ("the state", param(&callback, "state")),
        ("the nonce", param(&authorization, "nonce")),
        ("the session cookie", cookie.split_once('=').unwrap().1.to_owned()),
        ("the API token", token.clone()),
        ("the API token's hex", token.trim_start_matches("loupe_").to_owned()),
    ];
    for (what, secret) in secrets {
        assert!(secret.len() >= 16, "{what} is a real secret");
        assert!(!text.contains(&secret), "the log holds {what}");
    }
    assert!(!text.contains("eyJ"), "the log holds a JSON Web Token");
}
