use async_graphql::BatchRequest;
use async_graphql_axum::GraphQLResponse;
use axum::Json;
use axum::extract::State;

use super::GraphqlState;

/// Executes queries and mutations. Only POST with a JSON body: a browser
/// cannot send that cross-site without a CORS preflight, so a page on
/// another site cannot make a signed-in user's browser run a mutation
/// (GET, `text/plain` and form bodies are refused: 405 / 415).
pub async fn execute(State(state): State<GraphqlState>, Json(request): Json<BatchRequest>) -> GraphQLResponse {
    let request = request.data(state.viewer.clone());
    state.schema.execute_batch(request).await.into()
}
