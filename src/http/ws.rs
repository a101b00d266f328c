use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;

use super::GraphqlState;
use crate::graphql::OverWebSocket;

/// Subscriptions are most connections and mostly idle; a 4 KiB read buffer
/// (tungstenite's default is 128 KiB) keeps one that receives a burst from
/// holding on to more. Client messages are small, and a larger one still
/// arrives, in more reads. `benches/idle_subscriptions.rs` measures the
/// memory per idle subscription.
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
        data.insert(OverWebSocket);
        GraphQLWebSocket::new(socket, state.schema.clone(), protocol).with_data(data).serve()
    })
}
