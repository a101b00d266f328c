//! The HTTP surface, every route in one place: `/graphql` (POST to execute,
//! GET for GraphiQL), `/graphql/ws` for subscriptions, health probes, when
//! Loupe serves its own object store the bucket's S3 routes on the same
//! origin, `/metrics` for Prometheus, and the web app at `/` with its files
//! under `/assets/`. Any other page a browser navigates to is the app's own
//! route, so it gets the app; explicit routes (the bucket's among them)
//! always win over that.

mod auth;
mod graphql;
mod guard;
mod metrics;
mod observe;
mod web;
mod ws;

pub use guard::Sites;
pub use ws::{Sockets, SocketsClosed};

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};

use crate::app::App;
use crate::auth::Auth;
use crate::graphql::LoupeSchema;
use crate::storage::embedded::EmbeddedStore;

/// What the GraphQL handlers share.
#[derive(Clone)]
struct GraphqlState {
    schema: LoupeSchema,
    auth: Auth,
    sockets: Sockets,
    max_batch_operations: usize,
    ws_init_timeout: Duration,
}

impl FromRef<GraphqlState> for Auth {
    fn from_ref(state: &GraphqlState) -> Auth {
        state.auth.clone()
    }
}

/// Every route, behind the Host and Origin checks of [`guard`].
pub fn router(app: App, embedded: Option<&EmbeddedStore>, sites: Sites, sockets: Sockets) -> Router {
    let state = GraphqlState {
        schema: crate::graphql::schema(app.clone()),
        auth: app.auth.clone(),
        sockets,
        max_batch_operations: app.config.max_batch_operations,
        ws_init_timeout: Duration::from_secs(app.config.ws_init_timeout_secs),
    };
    let pages = web::Pages::new(&app.config);
    let body_limit = DefaultBodyLimit::max(app.config.max_request_bytes);
    let mut router = Router::new()
        .route("/graphql", get(web::graphiql).with_state(pages.clone()).post(graphql::execute).layer(body_limit))
        .route("/graphql/ws", get(ws::subscriptions))
        .with_state(state)
        .merge(
            Router::new()
                .route("/auth/providers", get(auth::providers))
                .route("/auth/login/{name}", get(auth::login))
                .route("/auth/callback/{name}", get(auth::callback))
                .route("/auth/logout", post(auth::logout))
                .with_state(app.auth.clone()),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready).with_state(app.clone()))
        .route("/metrics", get(metrics::metrics).with_state(app))
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
    // Observed outside the guard, so refused requests are counted and logged
    // with their id too; both run after routing, when the route is known.
    router.layer(middleware::from_fn_with_state(sites, guard::check)).layer(middleware::from_fn(observe::observe))
}

/// 200 once the server takes work (migrated, storage ready, worker
/// started) and while it can; 503 with the reason otherwise.
async fn ready(State(app): State<App>) -> (StatusCode, String) {
    match crate::health::check(&app).await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}
