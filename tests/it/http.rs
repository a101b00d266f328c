//! The GraphQL endpoint over HTTP: batches, and no way to run a mutation
//! cross-site.

use serde_json::json;

use crate::harness::{Backend, TestApp};

const MUTATION: &str = "mutation { requestUpload(input: {filename: \"x.csv\", size: 1}) { url } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_need_a_json_post() {
    let app = TestApp::start(Backend::Sqlite).await;
    let url = format!("{}/graphql", app.url);

    // GET never executes an operation: it only serves GraphiQL.
    let get = app.http.get(&url).query(&[("query", MUTATION)]).send().await.unwrap();
    assert!(get.headers()["content-type"].to_str().unwrap().starts_with("text/html"));

    // Bodies a cross-site form or fetch can send without a preflight are refused.
    let body = json!({ "query": MUTATION }).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let response =
            app.http.post(&url).header("content-type", content_type).body(body.clone()).send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    let none = app.http.post(&url).body(body).send().await.unwrap();
    assert_eq!(none.status(), 415);

    assert_eq!(app.count_rows("uploads").await, 0, "no refused request created an upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_viewer() {
    let app = TestApp::start(Backend::Sqlite).await;
    let response: serde_json::Value = app
        .http
        .post(format!("{}/graphql", app.url))
        .json(&json!([{ "query": "{ viewer { login } }" }, { "query": "{ viewer { id } }" }]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response[0]["data"]["viewer"]["login"], "local");
    assert!(response[1]["data"]["viewer"]["id"].is_string());
}
