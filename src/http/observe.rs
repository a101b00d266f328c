//! What every request leaves behind: a request id (the caller's
//! `X-Request-Id` when it is a sane one, else a new one), echoed in the
//! response and carried by every log line the request writes (with one
//! `answered` line per request at debug level), and its count and duration
//! under its route's template in `/metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a caller; longer ones are replaced.
const MAX_REQUEST_ID: usize = 64;

pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_sane(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_owned());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = route.as_deref().unwrap_or("unmatched"),
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let (status, elapsed) = (response.status().as_u16(), started.elapsed());
    span.in_scope(|| tracing::debug!(status, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "answered"));
    crate::metrics::http_request(&method, route.as_deref(), status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A caller's id is kept when it cannot forge log lines or bloat them:
/// short, and only letters, digits and `-_.:`.
fn is_sane(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn request_ids_from_callers_are_short_and_plain() {
        assert!(is_sane("0b0e9c1a-5f7e-4c55-9d0a-2f1c3e4d5a6b"));
        assert!(is_sane("lb:1234.abc_DEF"));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(65)));
        assert!(!is_sane("id\nlevel=ERROR forged"));
        assert!(!is_sane("id with spaces"));
        assert!(!is_sane("{\"json\":1}"));
    }
}
