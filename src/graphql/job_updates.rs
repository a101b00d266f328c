//! `jobUpdates` over a websocket, held lean while it waits.
//!
//! async-graphql keeps every subscription as a suspended execution: the
//! parsed query, its environment, and the state of its executor, over
//! 10 KiB each whether or not anything happens. A job's subscription waits
//! for minutes between a handful of events, and a server holds thousands.
//! So for the shape clients send (one `jobUpdates` field at the root) the
//! socket keeps only the query and the job's watch, and runs the query once
//! per event against that event's row ([`Snapshot`]) through the same
//! schema: the same validation, limits, error codes and response as any
//! other execution. Any other shape, and every refusal (unknown job, bad id,
//! too many subscriptions), goes through async-graphql's own path, which
//! answers it exactly as before.

use std::any::TypeId;
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use async_graphql::{Data, Executor, Request, Response, ServerError, Value, Variables};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::LoupeSchema;
use super::websocket::{Open, OverWebSocket};
use crate::app::App;
use crate::auth::Viewer;
use crate::db::Job;
use crate::jobs;

/// A state of the job to render, in the data of an execution; the
/// `jobUpdates` resolver then yields this one row and ends.
pub struct Snapshot(pub Job);

/// The schema as the websocket runs it.
#[derive(Clone)]
pub struct SocketExecutor(pub LoupeSchema);

impl Executor for SocketExecutor {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        let schema = self.0.clone();
        async move { schema.execute(request).await }
    }

    fn execute_stream(&self, request: Request, session: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let session = session.unwrap_or_default();
        match Lean::new(&self.0, request, &session) {
            Ok(lean) => lean.into_stream(session),
            Err(request) => self.0.execute_stream_with_session_data(*request, session),
        }
    }
}

/// A `jobUpdates` subscription before its first event.
struct Lean {
    app: App,
    viewer: Viewer,
    job_id: String,
    request: Request,
    render: Render,
}

/// What each event's execution needs: the request, already parsed.
struct Render {
    schema: LoupeSchema,
    /// The viewer alone: without `OverWebSocket`, an event's execution is
    /// not counted as one more subscription; this one's count is `_open`.
    session: Arc<Data>,
    document: ExecutableDocument,
    query: String,
    operation_name: Option<String>,
    variables: Variables,
    _open: Open,
    _gauge: crate::metrics::Open,
}

impl Lean {
    /// The lean form of `request`, or the request back when it takes the common path.
    fn new(schema: &LoupeSchema, mut request: Request, session: &Data) -> Result<Lean, Box<Request>> {
        let found = (|| {
            let app = schema.data::<App>()?.clone();
            let viewer = data::<Viewer>(session)?.clone();
            let socket = data::<OverWebSocket>(session)?;
            let document = request.parsed_query().ok()?.clone();
            let job_id = super::parse_id(&job_updates_target(&document, &request.variables)?, "job").ok()?;
            let open = socket.admit(app.config.max_subscriptions_per_connection).ok()?;
            let mut alone = Data::default();
            alone.insert(viewer.clone());
            let render = Render {
                schema: schema.clone(),
                session: Arc::new(alone),
                document,
                query: request.query.clone(),
                operation_name: request.operation_name.clone(),
                variables: request.variables.clone(),
                _open: open,
                _gauge: crate::metrics::Open::subscription(),
            };
            Some((app, viewer, job_id, render))
        })();
        match found {
            Some((app, viewer, job_id, render)) => Ok(Lean { app, viewer, job_id, request, render }),
            None => Err(Box::new(request)),
        }
    }

    fn into_stream(self, session: Arc<Data>) -> BoxStream<'static, Response> {
        let Lean { app, viewer, job_id, request, render } = self;
        // Boxed apart, so that the setup's state (nearly 4 KiB: the request,
        // the first render) is freed once it has made the stream; inline, a
        // finished `Once` would keep its room as long as the subscription.
        futures_util::stream::once(Box::pin(async move {
            match jobs::watch_job(&app, &viewer, &job_id).await {
                Ok(updates) => {
                    drop(request);
                    let render = Arc::new(render);
                    let mut updates = updates.boxed();
                    // The watch yields the job's current state at once.
                    let Some(current) = updates.next().await else { return futures_util::stream::empty().boxed() };
                    let first = render.clone().run(current).await;
                    // A query the schema refuses (an unknown field, say) gets its errors once, and ends.
                    if first.data == Value::Null && !first.errors.is_empty() {
                        return futures_util::stream::once(std::future::ready(first)).boxed();
                    }
                    let rest = updates.then(move |job| render.clone().run(job));
                    futures_util::stream::once(std::future::ready(first)).chain(rest).boxed()
                }
                Err(_) => {
                    // The common path says why (NOT_FOUND, INTERNAL), as it always has.
                    let schema = render.schema.clone();
                    drop(render);
                    schema.execute_stream_with_session_data(request, session)
                }
            }
        }))
        .flatten()
        .boxed()
    }
}

impl Render {
    async fn run(self: Arc<Self>, job: Job) -> Response {
        let mut request = Request::new(self.query.clone()).variables(self.variables.clone()).data(Snapshot(job));
        if let Some(name) = &self.operation_name {
            request = request.operation_name(name.clone());
        }
        request.set_parsed_query(self.document.clone());
        let mut responses = self.schema.execute_stream_with_session_data(request, self.session.clone());
        match responses.next().await {
            Some(response) => response,
            None => Response::from_errors(vec![ServerError::new("the job's state could not be rendered", None)]),
        }
    }
}

fn data<T: 'static>(data: &Data) -> Option<&T> {
    data.get(&TypeId::of::<T>())?.downcast_ref::<T>()
}

/// The job id of a document whose one operation is a subscription to
/// `jobUpdates` alone, with its id given inline or as a variable.
fn job_updates_target(document: &ExecutableDocument, variables: &Variables) -> Option<String> {
    let mut operations = document.operations.iter();
    let (_, operation) = operations.next()?;
    if operations.next().is_some() || operation.node.ty != OperationType::Subscription {
        return None;
    }
    let [selection] = operation.node.selection_set.node.items.as_slice() else { return None };
    let Selection::Field(field) = &selection.node else { return None };
    if field.node.name.node != "jobUpdates" || !field.node.directives.is_empty() {
        return None;
    }
    let id = field.node.get_argument("jobId")?.node.clone();
    match id.into_const_with(|name| variables.get(&name).cloned().ok_or(())).ok()? {
        Value::String(id) => Some(id),
        _ => None,
    }
}
