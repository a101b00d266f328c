//! The websocket's rules, which the schema enforces whatever the resolvers
//! would do. Every GraphQL limit is set up in the schema builder
//! (`graphql::builder`: depth, complexity, these) and lives here or there.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextSubscribe};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerError, ServerResult, Variables};
use futures_util::StreamExt;

/// Connection data of every websocket, so the schema knows the transport;
/// counts the connection's open subscriptions.
#[derive(Default)]
pub struct OverWebSocket {
    open: Arc<AtomicUsize>,
}

/// Only subscriptions run over the websocket. Queries and mutations go
/// through `POST /graphql`, where the body limits, the JSON content type
/// and the Origin check apply; a socket is long-lived and its messages
/// bypass all three. And one socket holds at most `max_subscriptions`:
/// each costs memory for as long as it is open.
pub struct WebSocketRules {
    pub max_subscriptions: usize,
}

impl ExtensionFactory for WebSocketRules {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(WebSocketRules { max_subscriptions: self.max_subscriptions })
    }
}

/// One open subscription; counted down when its stream is dropped
/// (completed, stopped by the client, or the socket closed).
pub(super) struct Open(Arc<AtomicUsize>);

impl OverWebSocket {
    /// Counts one more subscription on this socket, unless `max` are open.
    pub(super) fn admit(&self, max: usize) -> Result<Open, ServerError> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= max {
            self.open.fetch_sub(1, Ordering::AcqRel);
            let message = format!("at most {max} subscriptions may be open on one connection; complete one first");
            return Err(ServerError::new(message, None));
        }
        Ok(Open(self.open.clone()))
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait::async_trait]
impl Extension for WebSocketRules {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let Some(socket) = ctx.data_opt::<OverWebSocket>() else { return next.run(ctx, stream) };
        let open = match socket.admit(self.max_subscriptions) {
            Ok(open) => open,
            Err(refused) => {
                return futures_util::stream::once(async move { Response::from_errors(vec![refused]) }).boxed();
            }
        };
        next.run(ctx, stream)
            .map(move |response| {
                let _counted = &open;
                response
            })
            .boxed()
    }

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
