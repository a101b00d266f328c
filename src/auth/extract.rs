//! The axum side: the [`Authenticated`] extractor reads a request's
//! credential and resolves it through [`Auth`].

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Auth, Viewer};

/// Who the request acts for; None when it must sign in first. Handlers pass
/// it on to the schema, where resolvers answer `UNAUTHENTICATED` without one.
pub struct Authenticated(pub Option<Viewer>);

impl<S> FromRequestParts<S> for Authenticated
where
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        let bearer = bearer_token(&parts.headers);
        let session = auth.cookie().read(&parts.headers);
        match auth.resolve(bearer, session).await {
            Ok(viewer) => Ok(Authenticated(viewer)),
            // Already logged where it happened (the database layer).
            Err(_) => Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()),
        }
    }
}

/// The secret of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}
