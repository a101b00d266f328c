//! The sign-in routes under `/auth/`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Auth;

/// `POST /auth/logout`: ends the request's session (deleted from the
/// database, so every instance refuses it; this instance's websockets on it
/// close) and removes the cookie. POST only, so a link or an image on
/// another site cannot sign anyone out; `guard` checks its Origin.
pub async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Response {
    match auth.end_session(&headers).await {
        Ok(clear) => (StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}
