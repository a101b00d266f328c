//! The sign-in routes under `/auth/`: the public contract deployment
//! scripts and providers' settings depend on.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Auth, Callback, LoginError, ProviderError};

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /auth/providers`: the configured providers, for the sign-in page,
/// and whether sign-in is needed at all (not with the local user).
pub async fn providers(State(auth): State<Auth>) -> Response {
    let providers: Vec<_> = auth
        .provider_names()
        .into_iter()
        .map(|name| json!({ "name": name, "loginUrl": format!("/auth/login/{name}") }))
        .collect();
    Json(json!({ "providers": providers, "singleUser": auth.single_user() })).into_response()
}

/// `GET /auth/login/<name>?return_to=/path`: sends the browser to the
/// provider, with the cookie that binds the attempt to it.
pub async fn login(State(auth): State<Auth>, Path(name): Path<String>, Query(query): Query<LoginQuery>) -> Response {
    match auth.begin_login(&name, query.return_to.as_deref()).await {
        Ok((url, cookie)) => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, url.as_str())], [(header::SET_COOKIE, cookie)]).into_response()
        }
        Err(err) => failed(&name, err),
    }
}

/// `GET /auth/callback/<name>?code=…&state=…`: the provider's redirect
/// back; on success sets the session cookie and returns to where the
/// person was.
pub async fn callback(
    State(auth): State<Auth>,
    Path(name): Path<String>,
    Query(callback): Query<Callback>,
    headers: HeaderMap,
) -> Response {
    match auth.finish_login(&name, &callback, &headers).await {
        Ok(signed_in) => {
            let mut response =
                (StatusCode::SEE_OTHER, [(header::LOCATION, signed_in.return_to.as_str())]).into_response();
            let cookies = response.headers_mut();
            cookies.append(header::SET_COOKIE, signed_in.session_cookie);
            cookies.append(header::SET_COOKIE, signed_in.clear_login_cookie);
            response
        }
        Err(err) => failed(&name, err),
    }
}

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

/// A page that says why sign-in failed and offers to start again; the log
/// gets the same reason (never a code, token or secret: the errors hold none).
fn failed(provider: &str, err: LoginError) -> Response {
    let status = match &err {
        LoginError::UnknownProvider(_) => StatusCode::NOT_FOUND,
        LoginError::BadState | LoginError::Denied(_) | LoginError::Provider(ProviderError::Refused(_)) => {
            StatusCode::BAD_REQUEST
        }
        LoginError::Provider(ProviderError::Unavailable(_)) => StatusCode::BAD_GATEWAY,
        LoginError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::warn!(provider = %crate::error::echo(provider), reason = %err, "sign-in failed");
    let message = html_escape(&err.to_string());
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sign-in failed · Loupe</title>\
         <main><h1>Sign-in failed</h1><p>{message}</p><p><a href=\"/\">Back to Loupe</a></p></main></html>"
    );
    (status, Html(page)).into_response()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
