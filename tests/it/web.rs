//! The web app and GraphiQL as the binary serves them: caching, content
//! types, compression, the app's own routes, and the API, probes and bucket
//! beside them.

use reqwest::header;
use serde_json::json;

use crate::harness::{Backend, TestApp};

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

#[cfg(feature = "web")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_pages_and_assets() {
    use std::io::Read;

    let app = TestApp::start(Backend::Sqlite).await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.url)).header(header::ACCEPT, HTML);

    let index = get("/").send().await.unwrap();
    assert_eq!(index.status(), 200);
    let headers = index.headers().clone();
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("connect-src 'self'"), "{csp}");
    let html = index.text().await.unwrap();

    // The same page again is not sent again.
    let etag = headers[header::ETAG].clone();
    let again = get("/").header(header::IF_NONE_MATCH, etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // Client-side routes get the app; a missing asset never does.
    for route in ["/jobs/0195d2a4-7f1e-7000-8000-000000000000", "/uploads"] {
        let page = get(route).send().await.unwrap();
        assert_eq!(page.status(), 200, "{route}");
        assert_eq!(page.text().await.unwrap(), html, "{route}");
    }
    assert_eq!(get("/assets/nope.js").send().await.unwrap().status(), 404);
    let script_fetch = app.http.get(format!("{}/nope.js", app.url)).header(header::ACCEPT, "*/*").send().await;
    assert_eq!(script_fetch.unwrap().status(), 404);
    let post = app.http.post(format!("{}/jobs/x", app.url)).header(header::ACCEPT, HTML).send().await;
    assert_eq!(post.unwrap().status(), 404);

    // Hashed assets are kept for a year, gzipped for clients that take it.
    let script = html.split('"').find(|part| part.starts_with("/assets/") && part.ends_with(".js")).expect("a script");
    let plain = app.http.get(format!("{}{script}", app.url)).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(plain.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.headers()[header::VARY], "Accept-Encoding");
    let plain = plain.bytes().await.unwrap();
    let zipped =
        app.http.get(format!("{}{script}", app.url)).header(header::ACCEPT_ENCODING, "gzip, br").send().await.unwrap();
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[header::VARY], "Accept-Encoding");
    let zipped = zipped.bytes().await.unwrap();
    assert!(zipped.len() < plain.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, plain);
    let refused =
        app.http.get(format!("{}{script}", app.url)).header(header::ACCEPT_ENCODING, "gzip;q=0").send().await.unwrap();
    assert!(refused.headers().get(header::CONTENT_ENCODING).is_none());

    // GraphiQL is a page of the build, under the same policy.
    let graphiql = get("/graphql").send().await.unwrap();
    assert_eq!(graphiql.status(), 200);
    assert!(graphiql.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'self'"));
    assert_eq!(graphiql.headers()[header::CACHE_CONTROL], "no-cache");
    let page = graphiql.text().await.unwrap();
    assert!(page.to_lowercase().contains("graphiql") && page != html, "{page}");
}

#[cfg(not(feature = "web"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_web_build_pages_point_to_the_api() {
    let app = TestApp::start(Backend::Sqlite).await;
    for path in ["/", "/graphql"] {
        let page = app.http.get(format!("{}{path}", app.url)).header(header::ACCEPT, HTML).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.text().await.unwrap().contains("POST /graphql"), "{path}");
    }
}

/// The app's fallback never shadows the API, the probes or the bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_probes_and_bucket_beside_the_app() {
    let app = TestApp::start(Backend::Sqlite).await;
    for path in ["/healthz", "/readyz"] {
        let response = app.http.get(format!("{}{path}", app.url)).header(header::ACCEPT, HTML).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(!response.text().await.unwrap().contains("<"), "{path} is not the app");
    }
    assert!(app.ok("{ viewer { id } }", json!({})).await["viewer"]["id"].is_string());

    let ticket = app.request_upload("a.csv", Some("text/csv"), 4).await;
    assert!(ticket.url.contains("/loupe/uploads/"), "{}", ticket.url);
    assert_eq!(app.put(&ticket, &ticket.url, b"a\n1\n".to_vec()).await, 200);
    // An unsigned read reaches the store, which refuses it, rather than the app.
    let unsigned = ticket.url.split('?').next().unwrap().to_owned();
    let read = app.http.get(&unsigned).header(header::ACCEPT, HTML).send().await.unwrap();
    assert_eq!(read.status(), 403);
    assert!(read.headers()[header::CONTENT_TYPE].to_str().unwrap().contains("xml"));
}
