//! The authorization matrix, generated from the schema: every root field
//! (query, mutation, subscription) is tried by an anonymous caller, who
//! must get UNAUTHENTICATED, and by user B on user A's objects, who must
//! get NOT_FOUND or only B's own things; A's objects must be unchanged
//! afterwards. A field the schema gains without a case here fails the test.

use serde_json::{Value, json};

use crate::harness::{Backend, Caller, JOB_QUERY, JOB_UPDATES, Protocol, TestApp, error_code, on_both_backends};

on_both_backends!(every_root_field_is_scoped_to_its_owner);

/// What user A owns, for B to try.
struct Owned {
    alice: Caller,
    /// A finished job (with its upload and result).
    job: String,
    upload: String,
    /// An upload requested but not yet sent.
    pending_upload: String,
    token_id: String,
    token: Caller,
}

const ROOT_FIELDS: &str = "{ __schema {
    queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }";

async fn every_root_field_is_scoped_to_its_owner(backend: Backend) {
    let mut app = TestApp::start_signed_in(backend, &[]).await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    app.caller = alice.clone();
    let job = app.submit("alice.csv", Some("text/csv"), b"a,b\n1,2\n").await;
    assert_eq!(app.finished_job(&job).await["status"], "SUCCEEDED");
    let upload = app.ok(JOB_QUERY, json!({ "id": job })).await["job"]["upload"]["id"].as_str().unwrap().to_owned();
    let pending_upload = app.request_upload("later.csv", Some("text/csv"), 10).await.upload_id;
    let created =
        app.ok("mutation { createApiToken(input: {name: \"alice's\"}) { secret token { id } } }", json!({})).await;
    let owned = Owned {
        alice: alice.clone(),
        job,
        upload,
        pending_upload,
        token_id: created["createApiToken"]["token"]["id"].as_str().unwrap().to_owned(),
        token: Caller::Bearer(created["createApiToken"]["secret"].as_str().unwrap().to_owned()),
    };
    app.caller = Caller::Anonymous;
    let before = snapshot(&app, &owned).await;

    let schema = app.ok(ROOT_FIELDS, json!({})).await;
    let mut tried = 0;
    for (root, kind) in [("queryType", "query"), ("mutationType", "mutation"), ("subscriptionType", "subscription")] {
        for field in schema["__schema"][root]["fields"].as_array().unwrap() {
            let field = field["name"].as_str().unwrap();
            try_field(&app, &owned, &bob, kind, field).await;
            tried += 1;
        }
    }
    assert!(tried >= 13, "the schema's root fields were all tried ({tried})");
    assert_eq!(snapshot(&app, &owned).await, before, "nothing of alice's changed");
}

/// One field, anonymously and as bob on alice's objects.
async fn try_field(app: &TestApp, owned: &Owned, bob: &Caller, kind: &str, field: &str) {
    let (operation, variables) = operation(owned, field);
    if kind == "subscription" {
        let mut socket = app.open_socket_as(&Caller::Anonymous, Protocol::TransportWs, &[]).await.unwrap();
        assert_eq!(crate::auth::init(&mut socket, json!({})).await, Err(4401), "{field} anonymously");
        let mut socket = app.open_socket_as(bob, Protocol::TransportWs, &[]).await.unwrap();
        let payloads = crate::harness::operate(&mut socket, Protocol::TransportWs, operation, variables).await;
        assert_eq!(payloads[0]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{field} as bob: {payloads:?}");
        return;
    }
    let anonymous = app.graphql_as(&Caller::Anonymous, operation, variables.clone()).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{field} anonymously: {anonymous:#}");
    let as_bob = app.graphql_as(bob, operation, variables).await;
    let data = &as_bob["data"][field];
    match field {
        "viewer" => assert_eq!(data["login"], "bob"),
        "upload" | "job" | "confirmUpload" | "cancelJob" | "revokeApiToken" => {
            assert_eq!(error_code(&as_bob), "NOT_FOUND", "{field} as bob: {as_bob:#}")
        }
        "jobs" => assert_eq!(data["edges"], json!([]), "bob's jobs: {as_bob:#}"),
        "apiTokens" => assert_eq!(data, &json!([]), "bob's tokens: {as_bob:#}"),
        "limits" => assert!(data["maxUploadBytes"].is_number(), "{as_bob:#}"),
        // Idempotent: the id comes back, and alice's upload stays (checked at the end).
        "deleteUpload" => assert_eq!(data, &json!(owned.upload)),
        // B makes their own, which A never sees (checked at the end).
        "requestUpload" => assert!(data["upload"]["id"].is_string(), "{as_bob:#}"),
        "createApiToken" => assert!(data["secret"].is_string(), "{as_bob:#}"),
        other => unreachable!("{other} was given an operation but no check"),
    }
}

/// The operation that tries `field` on alice's objects.
fn operation(owned: &Owned, field: &str) -> (&'static str, Value) {
    match field {
        "viewer" => ("{ viewer { id login } }", json!({})),
        "upload" => ("query($id: ID!) { upload(id: $id) { id } }", json!({ "id": owned.upload })),
        "job" => ("query($id: ID!) { job(id: $id) { id } }", json!({ "id": owned.job })),
        "jobs" => ("{ jobs { edges { node { id } } } }", json!({})),
        "limits" => ("{ limits { maxUploadBytes } }", json!({})),
        "apiTokens" => ("{ apiTokens { id } }", json!({})),
        "requestUpload" => (
            "mutation { requestUpload(input: {filename: \"b.csv\", contentType: \"text/csv\", size: 3}) { upload { id } } }",
            json!({}),
        ),
        "deleteUpload" => ("mutation($id: ID!) { deleteUpload(id: $id) }", json!({ "id": owned.upload })),
        "confirmUpload" => {
            ("mutation($id: ID!) { confirmUpload(uploadId: $id) { id } }", json!({ "id": owned.pending_upload }))
        }
        "cancelJob" => ("mutation($id: ID!) { cancelJob(id: $id) { id } }", json!({ "id": owned.job })),
        "createApiToken" => ("mutation { createApiToken(input: {name: \"bob's\"}) { secret } }", json!({})),
        "revokeApiToken" => ("mutation($id: ID!) { revokeApiToken(id: $id) }", json!({ "id": owned.token_id })),
        "jobUpdates" => (JOB_UPDATES, json!({ "jobId": owned.job })),
        other => {
            panic!("the schema's root field {other} has no authorization case: add one to tests/it/authorization.rs")
        }
    }
}

/// Everything of alice's, as she sees it.
async fn snapshot(app: &TestApp, owned: &Owned) -> Value {
    let mine = "query($job: ID!, $upload: ID!, $pending: ID!) {
        viewer { login }
        job(id: $job) { id status result { __typename } }
        upload(id: $upload) { id status }
        pending: upload(id: $pending) { id status }
        jobs { edges { node { id } } }
        apiTokens { id name } }";
    let variables = json!({ "job": owned.job, "upload": owned.upload, "pending": owned.pending_upload });
    let seen = app.graphql_as(&owned.alice, mine, variables).await;
    assert!(seen.get("errors").is_none(), "{seen:#}");
    let by_token = app.graphql_as(&owned.token, "{ viewer { login } }", json!({})).await;
    json!({ "alice": seen["data"], "token": by_token["data"] })
}
