//! The HTTP surface, every route in one place: `/graphql` (POST to execute,
//! GET for GraphiQL), `/graphql/ws` for subscriptions, health probes, when
//! Loupe serves its own object store the bucket's S3 routes on the same
//! origin, and the web app at `/` with its files under `/assets/`. Any
//! other page a browser navigates to is the app's own route, so it gets
//! the app; explicit routes (the bucket's among them) always win over that.

mod graphql;
mod web;
mod ws;

use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::app::App;
use crate::auth::Viewer;
use crate::graphql::LoupeSchema;
use crate::storage::embedded::EmbeddedStore;

/// What the GraphQL handlers share.
#[derive(Clone)]
struct GraphqlState {
    schema: LoupeSchema,
    /// Until sign-in lands every request acts as the local user.
    viewer: Viewer,
}

pub fn router(app: App, viewer: Viewer, embedded: Option<&EmbeddedStore>) -> Router {
    let state = GraphqlState { schema: crate::graphql::schema(app.clone()), viewer };
    let pages = web::Pages::new(&app.config);
    let mut router = Router::new()
        .route("/graphql", get(web::graphiql).with_state(pages.clone()).post(graphql::execute))
        .route("/graphql/ws", get(ws::subscriptions))
        .with_state(state)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready).with_state(app))
        .merge(
            Router::new()
                .route("/", get(web::index))
                .route("/assets/{*path}", get(web::asset))
                .fallback(web::fallback)
                .with_state(pages),
        );
    if let Some(store) = embedded {
        router = router.merge(store.routes());
    }
    router
}

/// 200 once the server takes work (migrated, storage ready, worker started).
async fn ready(State(app): State<App>) -> (StatusCode, &'static str) {
    if app.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}
