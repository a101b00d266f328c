//! Sign-in through a real OpenID Connect provider (oidc-provider on Node):
//! the whole redirect flow with its login and consent pages, then the
//! upload journey as the user it vouched for; and every way a callback can
//! be forged or replayed, refused.

use serde_json::json;

use crate::harness::{Backend, Caller, TestApp, on_both_backends};
use crate::provider::{Browser, TestProvider, location, session_cookie};

on_both_backends!(signs_in_through_a_real_provider);

const VIEWER: &str = "{ viewer { id login name email avatarUrl authenticatedBy } }";

async fn signs_in_through_a_real_provider(backend: Backend) {
    let provider = TestProvider::start();
    let mut app = TestApp::start_with_providers(backend, &[], vec![provider.config()]).await;

    let providers: serde_json::Value =
        app.http.get(format!("{}/auth/providers", app.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        providers,
        json!({ "providers": [{ "name": "test", "loginUrl": "/auth/login/test" }], "singleUser": false })
    );

    let browser = Browser::new();
    let authorization = browser.start_sign_in(&app.url, "/jobs?page=2").await;
    assert!(authorization.starts_with(&provider.issuer), "{authorization}");
    for parameter in ["state=", "nonce=", "code_challenge=", "code_challenge_method=S256", "scope=openid"] {
        assert!(authorization.contains(parameter), "{parameter} in {authorization}");
    }
    let callback = browser.through_provider(&authorization, "alice").await;
    let landed = browser.get(&callback).await;
    assert_eq!(landed.status(), 303);
    assert_eq!(location(&landed, &app.url), format!("{}/jobs?page=2", app.url), "back to where the person was");
    let alice = Caller::Cookie(session_cookie(&landed).expect("a session cookie"));

    let viewer = app.graphql_as(&alice, VIEWER, json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({
            "id": viewer["data"]["viewer"]["id"],
            "login": "alice",
            "name": "alice Example",
            "email": "alice@example.com",
            "avatarUrl": "https://avatars.example.com/alice.png",
            "authenticatedBy": "SESSION",
        })
    );

    // The upload journey, as alice.
    app.caller = alice.clone();
    let job = app.submit("signed-in.csv", Some("text/csv"), b"a,b\n1,2\n3,4\n").await;
    let finished = app.finished_job(&job).await;
    assert_eq!(finished["status"], "SUCCEEDED", "{finished:#}");
    assert_eq!(finished["result"]["rowCount"], 2);

    // Signing in again is the same user; another login is another user,
    // who sees none of alice's jobs.
    let again = Browser::new();
    let callback = again.through_provider(&again.start_sign_in(&app.url, "/").await, "alice").await;
    let same = Caller::Cookie(session_cookie(&again.get(&callback).await).unwrap());
    assert_eq!(app.graphql_as(&same, VIEWER, json!({})).await["data"]["viewer"]["id"], viewer["data"]["viewer"]["id"]);
    let other = Browser::new();
    let callback = other.through_provider(&other.start_sign_in(&app.url, "/").await, "bob").await;
    let bob = Caller::Cookie(session_cookie(&other.get(&callback).await).unwrap());
    let bobs = app.graphql_as(&bob, "{ viewer { login } jobs { edges { node { id } } } }", json!({})).await;
    assert_eq!(bobs["data"], json!({ "viewer": { "login": "bob" }, "jobs": { "edges": [] } }));
    assert_eq!(app.count_rows("users WHERE provider = 'test'").await, 2);
    assert_eq!(app.count_rows("login_attempts").await, 0, "every attempt was used up");
}

/// A provider that rotates its signing key after Loupe fetched its keys:
/// the next ID token's signature fails against the cached keys, Loupe
/// refetches them once, and the sign-in goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_signing_key_is_fetched() {
    let provider = TestProvider::start();
    let app = TestApp::start_with_providers(Backend::Sqlite, &[], vec![provider.config()]).await;
    let browser = Browser::new();
    let authorization = browser.start_sign_in(&app.url, "/").await;
    provider.tamper("rotate").await;
    let callback = browser.through_provider(&authorization, "alice").await;
    assert!(session_cookie(&browser.get(&callback).await).is_some(), "signed in with the rotated key");
}

/// A callback whose state is not the one this browser started with, or
/// that was already used (with its code, or its code with a fresh state).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_replayed_callbacks_are_refused() {
    let provider = TestProvider::start();
    let app = TestApp::start_with_providers(Backend::Sqlite, &[], vec![provider.config()]).await;
    let browser = Browser::new();
    let callback = browser.through_provider(&browser.start_sign_in(&app.url, "/").await, "alice").await;

    let forged = callback.replace("state=", "state=x");
    assert_refused(browser.get(&forged).await, "already used").await;
    let elsewhere = Browser::new();
    assert_refused(elsewhere.get(&callback).await, "another browser").await;

    let landed = browser.get(&callback).await;
    assert!(session_cookie(&landed).is_some(), "the genuine callback still works once");
    assert_refused(browser.get(&callback).await, "already used").await;

    // The used code under a fresh attempt's state: the provider refuses it.
    let fresh = browser.start_sign_in(&app.url, "/").await;
    let fresh_state = query_param(&fresh, "state");
    let code = query_param(&callback, "code");
    let replayed = format!("{}/auth/callback/test?code={code}&state={fresh_state}", app.url);
    assert_refused(browser.get(&replayed).await, "code was not accepted").await;

    // The provider's own refusal (the person said no) is shown too.
    let denied = browser.start_sign_in(&app.url, "/").await;
    let denied = format!("{}/auth/callback/test?error=access_denied&state={}", app.url, query_param(&denied, "state"));
    assert_refused(browser.get(&denied).await, "access_denied").await;
    assert_eq!(app.count_rows("sessions").await, 1);
}

/// ID tokens that do not hold: another nonce than the attempt's, another
/// audience, expired, or signed with a key the provider never published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_that_do_not_hold_are_refused() {
    let provider = TestProvider::start();
    let app = TestApp::start_with_providers(Backend::Sqlite, &[], vec![provider.config()]).await;

    let browser = Browser::new();
    let authorization = browser.start_sign_in(&app.url, "/").await;
    let nonce = query_param(&authorization, "nonce");
    let swapped = authorization.replace(&format!("nonce={nonce}"), "nonce=someone-elses-nonce");
    let callback = browser.through_provider(&swapped, "alice").await;
    assert_refused(browser.get(&callback).await, "nonce").await;

    for (mode, reason) in [("wrong-audience", "audience"), ("expired", "xpired"), ("wrong-key", "ignature")] {
        provider.tamper(mode).await;
        let browser = Browser::new();
        let callback = browser.through_provider(&browser.start_sign_in(&app.url, "/").await, "alice").await;
        assert_refused(browser.get(&callback).await, reason).await;
    }
    assert_eq!(app.count_rows("sessions").await, 0);
    assert_eq!(app.count_rows("users WHERE provider = 'test'").await, 0);

    // The provider is fine again: the next sign-in works.
    let browser = Browser::new();
    let callback = browser.through_provider(&browser.start_sign_in(&app.url, "/").await, "alice").await;
    assert!(session_cookie(&browser.get(&callback).await).is_some());
}

/// A refusal page (400, no session) that gives the reason.
async fn assert_refused(response: reqwest::Response, reason: &str) {
    assert_eq!(response.status(), 400, "refused");
    assert!(session_cookie(&response).is_none(), "no session for a refused callback");
    let page = response.text().await.unwrap();
    assert!(page.contains(reason), "{reason:?} in {page}");
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, query)| query).unwrap_or_default();
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in {url}"))
        .to_owned()
}
