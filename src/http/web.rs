//! The web app and GraphiQL, built from `web/` by `build.rs` and embedded in
//! the binary. Hashed files under `/assets/` never change, so browsers keep
//! them for a year; the HTML pages name them and are revalidated on every
//! load (`no-cache` with an ETag), so a new release shows at once. Files
//! gzip made smaller were compressed at build time and are sent that way
//! to clients that accept gzip.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::config::Config;

/// One file of the web build.
struct Asset {
    /// URL path, e.g. `/assets/index-4f2a9c.js`.
    path: &'static str,
    content_type: &'static str,
    /// Under `/assets/`: its name carries a hash of its content.
    immutable: bool,
    /// A hash of `body`, in hex.
    etag: &'static str,
    body: &'static [u8],
    /// `body` gzipped, when that is smaller.
    gzip: Option<&'static [u8]>,
}

/// Sorted by path; empty without the `web` feature.
static ASSETS: &[Asset] = &include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Served at `/` and `GET /graphql` when the binary has no web build.
const NOT_BUILT: &str = "<!doctype html>\n<meta charset=\"utf-8\">\n<title>Loupe</title>\n\
<p>The web app was not built into this binary (it was built with <code>--no-default-features</code>).\n\
<p>The GraphQL API is at <code>POST /graphql</code>, subscriptions at <code>/graphql/ws</code>.\n";

/// What the page handlers share: the Content-Security-Policy of HTML pages.
#[derive(Clone)]
pub struct Pages {
    csp: HeaderValue,
}

impl Pages {
    pub fn new(config: &Config) -> Pages {
        let csp = content_security_policy(config);
        let csp = HeaderValue::from_str(&csp).unwrap_or_else(|_| {
            tracing::warn!(%csp, "LOUPE_S3_ENDPOINT cannot be part of a header; pages may not reach the store");
            HeaderValue::from_static(BASE_CSP)
        });
        Pages { csp }
    }
}

/// Pages load nothing from another origin, so the app and GraphiQL work
/// offline and injected markup cannot pull in scripts.
const BASE_CSP: &str = "default-src 'self'; img-src 'self' data:; font-src 'self' data:; \
style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; \
form-action 'self'; frame-ancestors 'none'; connect-src 'self'";

/// Browsers PUT uploads straight to an external S3 endpoint, so it joins
/// `connect-src`: its own origin, or `bucket.host` for virtual-hosted
/// buckets.
fn content_security_policy(config: &Config) -> String {
    let Some((scheme, host)) = config.s3_endpoint.as_deref().and_then(|endpoint| endpoint.split_once("://")) else {
        return BASE_CSP.to_owned();
    };
    let host = host.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    if config.s3_path_style {
        format!("{BASE_CSP} {scheme}://{host}")
    } else {
        format!("{BASE_CSP} {scheme}://{}.{host}", config.s3_bucket)
    }
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.binary_search_by(|asset| asset.path.cmp(path)).ok().map(|i| &ASSETS[i])
}

/// `GET /`: the app.
pub async fn index(State(pages): State<Pages>, headers: HeaderMap) -> Response {
    page(&pages, "/index.html", &headers)
}

/// `GET /graphql`: GraphiQL, its own entry of the web build (the app never
/// loads React or Monaco). It never executes an operation.
pub async fn graphiql(State(pages): State<Pages>, headers: HeaderMap) -> Response {
    page(&pages, "/graphiql.html", &headers)
}

/// `GET /assets/…`: a missing file is a 404, never the app's HTML, which a
/// browser would try to run as a script after a deploy replaced it.
pub async fn asset(State(pages): State<Pages>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    match find(&format!("/assets/{path}")) {
        Some(asset) => serve(&pages, asset, &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Any other path: a file of the build (favicon…), or, for a page the
/// browser navigates to, the app, whose router shows it (`/jobs/<id>`).
pub async fn fallback(
    State(pages): State<Pages>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(asset) = find(uri.path()) {
        return serve(&pages, asset, &headers);
    }
    if accepts_html(&headers) {
        return page(&pages, "/index.html", &headers);
    }
    StatusCode::NOT_FOUND.into_response()
}

fn page(pages: &Pages, path: &str, headers: &HeaderMap) -> Response {
    match find(path) {
        Some(asset) => serve(pages, asset, headers),
        None => ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], NOT_BUILT)
            .into_response(),
    }
}

fn serve(pages: &Pages, asset: &'static Asset, request: &HeaderMap) -> Response {
    let gzip = asset.gzip.filter(|_| accepts_gzip(request));
    let etag = format!("\"{}{}\"", asset.etag, if gzip.is_some() { "-gz" } else { "" });
    let mut response = if matches_etag(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(gzip.unwrap_or(asset.body)));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        if gzip.is_some() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if asset.content_type.starts_with("text/html") {
            headers.insert(header::CONTENT_SECURITY_POLICY, pages.csp.clone());
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex etag"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if asset.immutable { "public, max-age=31536000, immutable" } else { "no-cache" }),
    );
    if asset.gzip.is_some() {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Navigations ask for HTML; scripts, images and API clients do not.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("text/html"))
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(accepts_gzip_value)
}

/// Whether an `Accept-Encoding` value allows gzip: listed (or `x-gzip`, or
/// covered by `*`) with a non-zero quality. An explicit `gzip;q=0` wins over `*`.
fn accepts_gzip_value(value: &str) -> bool {
    let mut gzip = None;
    let mut any = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|param| param.split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, q)| q.trim().parse::<f32>().ok());
        let Some(quality) = quality else { continue };
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(quality > 0.0),
            "*" => any = Some(quality > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::{accepts_gzip_value, content_security_policy};
    use crate::config::Config;

    #[test]
    fn policy_admits_only_the_external_store() {
        let policy = |args: &[&str]| {
            let store = ["--s3-access-key-id", "id", "--s3-secret-access-key", "secret"];
            content_security_policy(&Config::from_args(args.iter().chain(&store)).unwrap())
        };
        assert!(policy(&[]).ends_with("connect-src 'self'"));
        let garage = policy(&["--s3-endpoint", "http://garage.internal:3900/", "--s3-path-style"]);
        assert!(garage.ends_with("connect-src 'self' http://garage.internal:3900"), "{garage}");
        let aws = policy(&["--s3-endpoint", "https://s3.eu-west-1.amazonaws.com", "--s3-bucket", "files"]);
        assert!(aws.ends_with("connect-src 'self' https://files.s3.eu-west-1.amazonaws.com"), "{aws}");
    }

    #[test]
    fn accept_encoding() {
        for yes in
            ["gzip", "gzip, deflate, br, zstd", "br;q=1.0, gzip;q=0.8", "x-gzip", "GZIP", "*", "identity, *;q=0.5"]
        {
            assert!(accepts_gzip_value(yes), "{yes}");
        }
        for no in ["", "identity", "br", "gzip;q=0", "gzip; q=0.000", "*;q=0", "gzip;q=0, *", "*, gzip;q=0", "gzip;q=x"]
        {
            assert!(!accepts_gzip_value(no), "{no}");
        }
    }
}
