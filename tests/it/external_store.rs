//! Loupe on Garage, what only an external store needs: browsers upload
//! straight to the bucket from Loupe's pages, another origin, so the
//! bucket needs a CORS rule admitting Loupe's origin (README, "An external
//! S3 service"); without it the browser's preflight fails. The journey and
//! storage tests themselves run on Garage through `garage::on_garage!`.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};

use crate::garage::{BUCKET, Garage};
use crate::harness::{Backend, TestApp, Ticket};

/// What a browser asks before a cross-origin PUT with the ticket's headers.
async fn preflight(app: &TestApp, ticket: &Ticket, origin: &str) -> reqwest::Response {
    let headers: Vec<&str> = ticket
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| !name.eq_ignore_ascii_case("content-length"))
        .collect();
    app.http
        .request(reqwest::Method::OPTIONS, &ticket.url)
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", headers.join(","))
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<&str> {
    response.headers().get("access-control-allow-origin").and_then(|value| value.to_str().ok())
}

/// A browser sends the upload only after a preflight answered 2xx that
/// names the page's origin (Garage's refusals carry `*`, for error pages).
fn admits(response: &reqwest::Response, origin: &str) -> bool {
    response.status().is_success() && allowed_origin(response) == Some(origin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buckets_cors_rule_admits_loupes_pages_only() {
    let Some(garage) = Garage::single().await else { return };
    let store = garage.store();
    let app = TestApp::start_with(Backend::Sqlite, &store.args().iter().map(String::as_str).collect::<Vec<_>>()).await;
    let origin = app.url.clone();
    let body = b"a,b\n1,2\n".to_vec();
    let ticket = app.request_upload("cors.csv", Some("text/csv"), body.len() as u64).await;
    assert!(ticket.url.starts_with(&store.endpoint), "browsers upload to the store itself: {}", ticket.url);

    let before = preflight(&app, &ticket, &origin).await;
    assert!(!admits(&before, &origin), "no rule, no cross-origin upload: {:?}", before.status());

    // The rule the README gives, set through the S3 API (as `aws s3api put-bucket-cors` does).
    let rule = CorsRule::builder()
        .allowed_origins(&origin)
        .allowed_methods("PUT")
        .allowed_headers("content-type")
        .allowed_headers("if-none-match")
        .expose_headers("ETag")
        .max_age_seconds(3600)
        .build()
        .unwrap();
    let cors = CorsConfiguration::builder().cors_rules(rule).build().unwrap();
    store.client().put_bucket_cors().bucket(BUCKET).cors_configuration(cors).send().await.expect("PutBucketCors");

    let admitted = preflight(&app, &ticket, &origin).await;
    assert!(admits(&admitted, &origin), "{:?} {:?}", admitted.status(), admitted.headers());
    let methods = admitted.headers()["access-control-allow-methods"].to_str().unwrap().to_ascii_uppercase();
    assert!(methods.contains("PUT"), "{methods}");

    let foreign = preflight(&app, &ticket, "https://elsewhere.example").await;
    assert!(!admits(&foreign, "https://elsewhere.example"), "another site's pages may not upload");
    assert_eq!(foreign.status(), 403);

    // The upload itself, as the browser sends it after the preflight.
    let mut put = app.http.put(&ticket.url).header("origin", &origin).body(body);
    for (name, value) in &ticket.headers {
        put = put.header(name, value);
    }
    let put = put.send().await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(allowed_origin(&put), Some(origin.as_str()), "the browser may read the answer");
    let confirmed = app.confirm(&ticket.upload_id).await;
    let job_id = confirmed["data"]["confirmUpload"]["id"].as_str().unwrap().to_owned();
    let job = app.finished_job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED", "{job:#}");
}
