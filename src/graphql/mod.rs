//! The GraphQL schema: one file per domain type with its queries, mutations
//! and subscriptions, merged here. Resolvers are thin: they read the viewer,
//! call one domain function and wrap the rows it returns.

mod errors;
mod job;
mod job_updates;
mod limits;
mod parsed;
mod profile;
mod result;
mod scalars;
mod token;
mod upload;
mod viewer;
mod websocket;

use async_graphql::{Context, MergedObject, MergedSubscription, Schema};

use crate::app::App;
use crate::auth::Viewer;
use crate::error::{AppError, AppResult};

pub use errors::ErrorCodes;
pub use job_updates::SocketExecutor;
pub use websocket::OverWebSocket;

#[derive(MergedObject, Default)]
pub struct Query(viewer::ViewerQuery, upload::UploadQuery, job::JobQuery, limits::LimitsQuery, token::ApiTokenQuery);

#[derive(MergedObject, Default)]
pub struct Mutation(upload::UploadMutation, job::JobMutation, token::ApiTokenMutation);

#[derive(MergedSubscription, Default)]
pub struct Subscription(job::JobSubscription);

pub type LoupeSchema = Schema<Query, Mutation, Subscription>;

/// Deeper than any legitimate query, shallow enough to stop abuse.
const MAX_DEPTH: usize = 16;
const MAX_COMPLEXITY: usize = 2_000;

/// The schema with `app` available to resolvers; each request adds its [`Viewer`].
pub fn schema(app: App) -> LoupeSchema {
    builder(app.config.max_subscriptions_per_connection).data(app).finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    builder(0).finish().sdl()
}

fn builder(max_subscriptions: usize) -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription::default())
        .extension(ErrorCodes)
        .extension(parsed::ParsedQueries::default())
        .extension(websocket::WebSocketRules { max_subscriptions })
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

fn app<'a>(ctx: &Context<'a>) -> AppResult<&'a App> {
    ctx.data::<App>().map_err(|e| AppError::Internal(format!("schema built without the app: {}", e.message)))
}

fn viewer<'a>(ctx: &Context<'a>) -> AppResult<&'a Viewer> {
    ctx.data::<Viewer>().map_err(|_| AppError::Unauthenticated)
}

/// Ids are UUIDs; anything else is the caller's mistake, not a missing object.
fn parse_id(id: &str, what: &str) -> AppResult<String> {
    uuid::Uuid::parse_str(id)
        .map(|uuid| uuid.hyphenated().to_string())
        .map_err(|_| AppError::BadUserInput(format!("{} is not a valid {what} id", crate::error::echo(id))))
}
