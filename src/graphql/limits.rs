//! What the schema refuses whatever the resolvers would do: the transport
//! rules of the websocket. Every GraphQL limit is set up in the schema
//! builder (`graphql::builder`) and lives here or there.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ServerError, ServerResult, Variables};

/// Connection data of every websocket, so the schema knows the transport.
pub struct OverWebSocket;

/// Only subscriptions run over the websocket. Queries and mutations go
/// through `POST /graphql`, where the body limits, the JSON content type
/// and the Origin check apply; a socket is long-lived and its messages
/// bypass all three.
pub struct WebSocketRules;

impl ExtensionFactory for WebSocketRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(WebSocketRules)
    }
}

#[async_trait::async_trait]
impl Extension for WebSocketRules {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let over_websocket = ctx.data_opt::<OverWebSocket>().is_some();
        if over_websocket && document.operations.iter().any(|(_, op)| op.node.ty != OperationType::Subscription) {
            return Err(ServerError::new(
                "only subscriptions run over the websocket; send queries and mutations as POST /graphql",
                None,
            ));
        }
        Ok(document)
    }
}
