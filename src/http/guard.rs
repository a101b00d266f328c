//! Which sites may talk to Loupe, checked once for every route (the API, the
//! websocket, the embedded store, the web app) before any handler runs.
//!
//! - **Host** must name this server: the public URL's host, the listen
//!   address, loopback names when Loupe listens on loopback or on every
//!   interface, or one of `--allowed-hosts`. A page whose own name was
//!   re-pointed at 127.0.0.1 (DNS rebinding) still sends its own name as
//!   `Host`, and is refused.
//! - **Origin**, on a websocket upgrade or on any request that can change
//!   something (every method but GET, HEAD and OPTIONS), must be absent or
//!   Loupe's own origin: the public URL's, the origin of the request's own
//!   (already allowed) `Host`, or one of `--allowed-origins`. Browsers apply
//!   no CORS to websockets and send `Origin` on both, so this is what keeps a
//!   page of another site from driving a user's session.
//!
//! Cookie sessions rely on this: a request that reaches a handler with a
//! state-changing method, or a websocket, either came from an allowed origin
//! or carries no `Origin`, which browsers always send there, so it is not a
//! page riding on a user's cookies.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The hosts and origins a request may name.
#[derive(Clone, Debug)]
pub struct Sites {
    inner: Arc<Allowed>,
}

#[derive(Debug)]
struct Allowed {
    /// `host:port` (lowercase, default port of the scheme removed), or a bare
    /// host from `--allowed-hosts`, which matches on any port.
    hosts: Vec<String>,
    /// `scheme://host[:port]`, lowercase, default port removed.
    origins: Vec<String>,
}

impl Sites {
    /// The sites of a server reached at `public_url`, listening on `local_addr`.
    pub fn new(public_url: &str, local_addr: SocketAddr, extra_hosts: &[String], extra_origins: &[String]) -> Sites {
        let mut hosts = vec![local_addr.to_string()];
        let mut origins = Vec::new();
        if let Some(origin) = origin_of(public_url) {
            hosts.push(authority_of(&origin).to_owned());
            origins.push(origin);
        }
        let ip = local_addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            let port = local_addr.port();
            hosts.extend([format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")]);
        }
        hosts.extend(extra_hosts.iter().map(|host| host.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()));
        origins.extend(extra_origins.iter().filter_map(|origin| origin_of(origin.trim())));
        Sites { inner: Arc::new(Allowed { hosts, origins }) }
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let bare = strip_port(&host);
        self.inner.hosts.iter().any(|allowed| *allowed == host || *allowed == bare)
    }

    /// Same origin as the (allowed) `host`, the public URL's, or a listed one.
    fn allows_origin(&self, origin: &str, host: &str) -> bool {
        let Some(origin) = origin_of(origin) else { return false };
        let host = host.to_ascii_lowercase();
        authority_of(&origin) == host
            || authority_of(&origin) == without_default_port(&host)
            || self.inner.origins.contains(&origin)
    }
}

/// The middleware: refuses with 403 and a reason before any handler runs.
pub async fn check(State(sites): State<Sites>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|authority| authority.as_str()))
        .unwrap_or_default()
        .to_owned();
    if !sites.allows_host(&host) {
        tracing::warn!(host = %truncate(&host), "refused a request for another host");
        return refuse("this server does not answer for that Host; see --allowed-hosts");
    }
    if needs_origin_check(request.method(), request.headers())
        && let Some(origin) = request.headers().get(header::ORIGIN)
    {
        let allowed = origin.to_str().is_ok_and(|origin| sites.allows_origin(origin, &host));
        if !allowed {
            tracing::warn!(origin = %truncate(&String::from_utf8_lossy(origin.as_bytes())), "refused a cross-origin request");
            return refuse("requests from this Origin are not allowed; see --allowed-origins");
        }
    }
    next.run(request).await
}

fn needs_origin_check(method: &Method, headers: &HeaderMap) -> bool {
    let safe = [Method::GET, Method::HEAD, Method::OPTIONS].contains(method);
    !safe || headers.contains_key(header::UPGRADE)
}

fn refuse(reason: &'static str) -> Response {
    (StatusCode::FORBIDDEN, reason).into_response()
}

/// Headers are attacker-chosen; logs keep a bounded piece.
fn truncate(text: &str) -> &str {
    match text.char_indices().nth(100) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// `scheme://authority` of an http(s) URL, lowercase, without a default port.
fn origin_of(url: &str) -> Option<String> {
    let url = url.to_ascii_lowercase();
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if authority.is_empty() {
        return None;
    }
    let default_port = if scheme == "http" { ":80" } else { ":443" };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

fn authority_of(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, authority)| authority)
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        // `[::1]:8080`, `host:8080`; a bare IPv6 literal keeps its brackets.
        Some((name, port)) if !port.contains(']') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn without_default_port(host: &str) -> &str {
    host.strip_suffix(":80").or_else(|| host.strip_suffix(":443")).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites() -> Sites {
        Sites::new(
            "https://loupe.example.com/",
            "127.0.0.1:8080".parse().unwrap(),
            &["proxy.internal".into()],
            &["https://app.example.net".into()],
        )
    }

    #[test]
    fn hosts() {
        let sites = sites();
        for host in [
            "loupe.example.com",
            "LOUPE.example.com",
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "proxy.internal",
            "proxy.internal:9000",
        ] {
            assert!(sites.allows_host(host), "{host}");
        }
        for host in ["evil.example", "localhost:8081", "loupe.example.com.evil.example", "", "127.0.0.1"] {
            assert!(!sites.allows_host(host), "{host}");
        }
    }

    #[test]
    fn origins() {
        let sites = sites();
        assert!(sites.allows_origin("https://loupe.example.com", "proxy.internal"));
        assert!(sites.allows_origin("http://localhost:8080", "localhost:8080"));
        assert!(sites.allows_origin("https://app.example.net:443", "localhost:8080"));
        assert!(!sites.allows_origin("http://evil.example", "localhost:8080"));
        assert!(!sites.allows_origin("http://localhost:8081", "localhost:8080"));
        assert!(!sites.allows_origin("null", "localhost:8080"));
    }
}
