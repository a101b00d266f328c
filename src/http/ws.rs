use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket as GraphqlSocket, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{FutureExt, SinkExt, StreamExt, future};
use tokio::sync::{mpsc, oneshot, watch};

use super::GraphqlState;
use crate::auth::{Auth, Authenticated, Credential, Viewer};
use crate::graphql::{LoupeSchema, OverWebSocket, SocketExecutor};

/// Subscriptions are most connections and mostly idle; a 1 KiB read buffer
/// (tungstenite's default is 128 KiB, allocated per connection) keeps one
/// from holding more than its messages need. Client messages are small (a
/// subscribe is a few hundred bytes); a larger one makes room for itself. `benches/idle_subscriptions.rs` measures the
/// memory per idle subscription.
const READ_BUFFER_BYTES: usize = 1024;

/// The open websockets. Axum's graceful shutdown does not see upgraded
/// connections, so each socket holds a clone of this: on shutdown it sends
/// a close frame (1001, going away: clients reconnect at once, to another
/// instance) and ends, and [`SocketsClosed`] tells when the last one has.
#[derive(Clone)]
pub struct Sockets {
    stop: watch::Receiver<bool>,
    _open: mpsc::Sender<()>,
    /// Sockets open now, and how many may be.
    count: Arc<AtomicUsize>,
    max: usize,
}

/// One open socket, counted (here and in `/metrics`) until dropped.
struct Counted {
    count: Arc<AtomicUsize>,
    _metric: crate::metrics::Open,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Resolves once every socket (and the router holding [`Sockets`]) is gone.
pub struct SocketsClosed(mpsc::Receiver<()>);

impl Sockets {
    /// At most `max` sockets, that close when `stop` turns true.
    pub fn new(stop: watch::Receiver<bool>, max: usize) -> (Sockets, SocketsClosed) {
        let (open, closed) = mpsc::channel(1);
        (Sockets { stop, _open: open, count: Arc::default(), max }, SocketsClosed(closed))
    }

    /// Counts a new socket, or None when `max` are open.
    fn open(&self) -> Option<Counted> {
        if self.count.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Counted { count: self.count.clone(), _metric: crate::metrics::Open::websocket() })
    }
}

impl SocketsClosed {
    pub async fn wait(mut self) {
        // Nothing is ever sent: recv returns None once every sender is dropped.
        let _ = self.0.recv().await;
    }
}

/// Subscriptions over `graphql-transport-ws` (the graphql-ws library) or the
/// legacy `graphql-ws` (subscriptions-transport-ws), as the client asks.
///
/// The socket acts for the viewer of its handshake (session cookie, bearer
/// header, or the local user), or for the API token its `connection_init`
/// payload carries as `{"authorization": "Bearer …"}` or `{"token": "…"}`
/// (browsers cannot set headers on a websocket). Without one that holds,
/// `connection_init` is refused with 4401. A cookie only counts when the
/// handshake's `Origin` passed `guard`, as every upgrade's must.
pub async fn subscriptions(
    State(state): State<GraphqlState>,
    Authenticated(viewer): Authenticated,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = protocol(&headers) else {
        return (StatusCode::BAD_REQUEST, "Sec-WebSocket-Protocol must be graphql-transport-ws or graphql-ws")
            .into_response();
    };
    let Some(counted) = state.sockets.open() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open websockets; try again later").into_response();
    };
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).read_buffer_size(READ_BUFFER_BYTES).on_upgrade(move |socket| {
        let mut data = Data::default();
        data.insert(OverWebSocket::default());
        serve(
            socket,
            state.schema.clone(),
            protocol,
            data,
            Credentials { auth: state.auth.clone(), handshake: viewer },
            (state.sockets.clone(), counted),
            state.ws_init_timeout,
        )
    })
}

/// The first protocol the client offers that Loupe speaks, as axum picks it
/// for the handshake's answer.
fn protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL)?.to_str().ok()?;
    offered.split(',').find_map(|name| WebSocketProtocols::from_str(name.trim()).ok())
}

/// What a socket may authenticate with.
struct Credentials {
    auth: Auth,
    /// The viewer of the upgrade request, if its credential held.
    handshake: Option<Viewer>,
}

/// Close code of graphql-transport-ws for a connection that must authenticate.
const UNAUTHORIZED: u16 = 4401;

impl Credentials {
    /// The viewer for a `connection_init` payload: its token if it carries
    /// one, else the handshake's.
    async fn viewer(self, payload: &serde_json::Value) -> Result<Viewer, &'static str> {
        let token = payload
            .get("authorization")
            .or_else(|| payload.get("Authorization"))
            .and_then(|value| value.as_str())
            .map(|value| value.split_once(' ').map_or(value, |(_, token)| token).trim())
            .or_else(|| payload.get("token").and_then(|value| value.as_str()));
        let viewer = match token {
            Some(token) => self.auth.resolve(Some(token), None).await.map_err(|_| "internal error")?,
            None => self.handshake,
        };
        viewer.ok_or("sign in or send an API token in connection_init")
    }
}

/// Relays between the socket and the GraphQL protocol until either ends or
/// the server shuts down. A client that has not initialised the connection
/// within `init_timeout` is closed with 4408, as graphql-ws specifies: an
/// idle socket otherwise costs memory for nothing. One whose credential
/// does not hold is closed with 4401 at `connection_init`, and later as soon
/// as the credential is revoked or expires.
///
/// The setup is synchronous and the protocol handler boxed, so the task's
/// future holds pointers, not the values it was built from: a future keeps
/// room for every local that lives across an await, moved-from or not, and
/// this one lives as long as the socket (idle subscriptions are most of a
/// server's memory).
fn serve(
    socket: WebSocket,
    schema: LoupeSchema,
    protocol: WebSocketProtocols,
    data: Data,
    credentials: Credentials,
    sockets: (Sockets, Counted),
    init_timeout: Duration,
) -> impl Future<Output = ()> + Send + use<> {
    let auth = credentials.auth.clone();
    // connection_init runs inside the protocol handler, which can only close
    // with 1002 on failure; the refusal's code and the credential it
    // established come back through these.
    let refusal = Arc::new(std::sync::Mutex::new(None::<&'static str>));
    let (established, credential) = oneshot::channel::<Credential>();
    let on_init = {
        let refusal = refusal.clone();
        move |payload: serde_json::Value| async move {
            match credentials.viewer(&payload).await {
                Ok(viewer) => {
                    let _ = established.send(viewer.credential.clone());
                    let mut data = Data::default();
                    data.insert(viewer);
                    Ok(data)
                }
                Err(reason) => {
                    *refusal.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason);
                    Err(async_graphql::Error::new(reason))
                }
            }
        }
    };
    let (sink, stream) = socket.split();
    let input = stream.take_while(|message| future::ready(message.is_ok())).filter_map(|message| {
        future::ready(match message {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => Some(message.into_data()),
            _ => None,
        })
    });
    let output =
        GraphqlSocket::new(SocketExecutor(schema), input, protocol).connection_data(data).on_connection_init(on_init);
    relay(Relay { output: Box::pin(output), sink, refusal, credential, auth, sockets, init_timeout })
}

/// What a socket's task keeps while it relays.
struct Relay {
    output: std::pin::Pin<Box<dyn futures_util::Stream<Item = WsMessage> + Send>>,
    sink: futures_util::stream::SplitSink<WebSocket, Message>,
    refusal: Arc<std::sync::Mutex<Option<&'static str>>>,
    credential: oneshot::Receiver<Credential>,
    auth: Auth,
    /// The server's sockets, and this one's place among them.
    sockets: (Sockets, Counted),
    init_timeout: Duration,
}

async fn relay(relay: Relay) {
    let Relay { mut output, mut sink, refusal, mut credential, auth, sockets: (mut sockets, _counted), init_timeout } =
        relay;
    let init_deadline = tokio::time::sleep(init_timeout);
    tokio::pin!(init_deadline);
    let mut acknowledged = false;
    let mut waiting_for_credential = true;
    let mut revoked: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(future::pending());
    loop {
        let message = tokio::select! {
            message = output.next() => match outgoing(message, &refusal, &mut acknowledged) {
                Some(message) => message,
                None => break,
            },
            established = &mut credential, if waiting_for_credential => {
                waiting_for_credential = false;
                // The local user is never revoked: no watch to keep.
                if let Ok(credential) = established
                    && credential != Credential::Local
                {
                    let auth = auth.clone();
                    revoked = Box::pin(async move { auth.until_revoked(&credential).await });
                }
                continue;
            }
            _ = &mut revoked => close(UNAUTHORIZED, "the session or API token was revoked or expired".into()),
            _ = sockets.stop.wait_for(|stop| *stop) => close(close_code::AWAY, "the server is shutting down".into()),
            _ = &mut init_deadline, if !acknowledged => close(4408, "Connection initialisation timeout".into()),
        };
        // Messages the stream has ready already (a job's last state and its
        // subscription's `complete`, say) go out with this one in one write;
        // a few at most, so that a busy socket still hears of a revocation
        // or a shutdown between writes.
        let mut message = Some(message);
        let mut batched = 0;
        while let Some(next) = message.take() {
            batched += 1;
            let closing = matches!(next, Message::Close(_));
            if sink.feed(next).await.is_err() {
                return;
            }
            if closing {
                let _ = sink.flush().await;
                return;
            }
            if batched == MESSAGES_PER_WRITE {
                break;
            }
            if let Some(ready) = output.next().now_or_never() {
                match outgoing(ready, &refusal, &mut acknowledged) {
                    Some(ready) => message = Some(ready),
                    None => {
                        let _ = sink.flush().await;
                        return;
                    }
                }
            }
        }
        if sink.flush().await.is_err() {
            break;
        }
    }
}

/// The most messages [`relay`] gathers into one write.
const MESSAGES_PER_WRITE: usize = 16;

/// What the socket sends for the protocol's next message; None when the
/// stream ended without a refusal (the socket then just closes).
fn outgoing(
    message: Option<WsMessage>,
    refusal: &std::sync::Mutex<Option<&'static str>>,
    acknowledged: &mut bool,
) -> Option<Message> {
    let refused = || *refusal.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match message {
        Some(WsMessage::Text(text)) => {
            *acknowledged = *acknowledged || text.contains(r#""type":"connection_ack""#);
            Some(Message::Text(text.into()))
        }
        Some(WsMessage::Close(code, reason)) => Some(match refused() {
            Some(refused) => close(UNAUTHORIZED, refused.into()),
            None => close(code, reason),
        }),
        // The legacy protocol refuses with a `connection_error` message and
        // ends; the close code says why all the same.
        None => refused().map(|refused| close(UNAUTHORIZED, refused.into())),
    }
}

fn close(code: u16, reason: String) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}
