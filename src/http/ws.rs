use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use super::GraphqlState;

/// Idle subscriptions are most connections; tungstenite's default 128 KiB
/// read buffer per connection would dominate their memory. GraphQL messages
/// from clients are small, and a larger one still arrives (it just takes
/// more reads).
const READ_BUFFER_BYTES: usize = 4096;

/// Subscriptions over `graphql-transport-ws` (the graphql-ws library) or the
/// legacy `graphql-ws` (subscriptions-transport-ws), as the client asks.
pub async fn subscriptions(
    State(state): State<GraphqlState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).read_buffer_size(READ_BUFFER_BYTES).on_upgrade(move |socket| {
        let mut data = Data::default();
        data.insert(state.viewer.clone());
        GraphQLWebSocket::new(socket, state.schema.clone(), protocol).with_data(data).serve()
    })
}
