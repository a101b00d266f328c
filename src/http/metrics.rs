//! `GET /metrics` for Prometheus. It needs `Authorization: Bearer <token>`
//! with `--metrics-token`, and does not exist without one: the figures
//! (jobs, users' requests, connections) say how Loupe is used, and a public
//! bind or a proxy on loopback would otherwise show them to anyone.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::app::App;

pub async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(expected) = app.config.metrics_token.as_deref() else {
        return (StatusCode::NOT_FOUND, "metrics are off; set --metrics-token to serve them").into_response();
    };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Comparing digests takes the same time wherever the offered token differs.
    if Sha256::digest(offered.trim()) != Sha256::digest(expected) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send the metrics token as Authorization: Bearer <token>",
        )
            .into_response();
    }
    let body = crate::metrics::render(&app).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
