use async_graphql::BatchRequest;
use async_graphql_axum::GraphQLResponse;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::GraphqlState;
use crate::auth::Authenticated;

/// Executes queries and mutations. Only POST with a JSON body: a browser
/// cannot send that cross-site without a CORS preflight, so a page on
/// another site cannot make a signed-in user's browser run a mutation
/// (GET, `text/plain` and form bodies are refused: 405 / 415). Bodies are
/// at most `--max-request-bytes` (413), batches at most
/// `--max-batch-operations` operations (400), before anything runs.
///
/// The request acts for its [`Authenticated`] viewer; without one every
/// field that needs one answers `UNAUTHENTICATED`.
pub async fn execute(
    State(state): State<GraphqlState>,
    Authenticated(viewer): Authenticated,
    Json(request): Json<BatchRequest>,
) -> Response {
    if let BatchRequest::Batch(operations) = &request
        && operations.len() > state.max_batch_operations
    {
        let message = format!(
            "a batch holds at most {} operations, not {}; send fewer per request",
            state.max_batch_operations,
            operations.len()
        );
        let body = json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let request = match viewer {
        Some(viewer) => request.data(viewer),
        None => request,
    };
    GraphQLResponse::from(state.schema.execute_batch(request).await).into_response()
}
