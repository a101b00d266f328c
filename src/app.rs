//! Assembling a running Loupe: configuration → database (migrated) → object
//! storage (embedded or external) → HTTP listener → worker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::auth;
use crate::config::Config;
use crate::db::{Db, migrations};
use crate::http::{Sites, Sockets, SocketsClosed};
use crate::jobs;
use crate::storage::embedded::EmbeddedStore;
use crate::storage::{S3Settings, Storage};

/// How long a shutdown waits for open connections, websockets included.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything a request or a job needs. Cheap to clone.
/// Everything a request, a job or a subscription reaches. Cloned into
/// every one of them, so it is one shared allocation: a clone is a
/// reference count, not copies of URLs, names and keys.
#[derive(Clone)]
pub struct App(Arc<Parts>);

impl std::ops::Deref for App {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub struct Parts {
    pub config: Arc<Config>,
    pub db: Db,
    pub storage: Storage,
    pub hub: jobs::JobHub,
    pub auth: auth::Auth,
    /// Wakes the worker when a job is enqueued.
    pub wake: Arc<Notify>,
    pub ready: Arc<AtomicBool>,
}

/// A started server. Dropping it does not stop it; call [`Server::shutdown`].
pub struct Server {
    pub app: App,
    pub local_addr: SocketAddr,
    pub public_url: String,
    stop: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    sockets_closed: SocketsClosed,
    worker: JoinHandle<()>,
    sweeper: JoinHandle<()>,
    relay: JoinHandle<()>,
    /// Told to stop once the worker has: its last changes are announced too.
    stop_announcing: watch::Sender<bool>,
    announcer: Option<JoinHandle<()>>,
}

/// Opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    let db = Db::connect(&url, config.db_pool_size)
        .await
        .with_context(|| format!("opening the database at {}", redact(&url)))?;
    let applied = migrations::run(&db, migrations::Direction::Up).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "database migrated");
    }
    Ok(db)
}

/// Starts Loupe: binds the listener, prepares the database and storage,
/// serves HTTP and starts the worker.
pub async fn start(config: Config) -> anyhow::Result<Server> {
    config.validate().map_err(anyhow::Error::msg)?;
    crate::metrics::install();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let public_url =
        config.public_url.clone().unwrap_or_else(|| format!("http://{local_addr}")).trim_end_matches('/').to_owned();

    create_private_dir(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let db = open_database(&config).await?;
    let local_user = db.ensure_user(&auth::local_user()).await?;

    let (storage, embedded, storage_description) = match &config.s3_endpoint {
        Some(endpoint) => {
            let settings = S3Settings {
                endpoint: endpoint.clone(),
                bucket: config.s3_bucket.clone(),
                region: config.s3_region.clone(),
                access_key_id: config.s3_access_key_id.clone().unwrap_or_default(),
                secret_access_key: config.s3_secret_access_key.clone().unwrap_or_default(),
                path_style: config.s3_path_style,
                presign_endpoint: None,
            };
            let description = format!("{endpoint} bucket {}", settings.bucket);
            (Storage::new(&settings), None, description)
        }
        None => {
            let (store, credentials) =
                EmbeddedStore::open(&config.data_dir, &config.s3_bucket, config.max_upload_bytes)
                    .context("opening the embedded object store")?;
            // Loupe reaches its own store over loopback; browsers at the public URL.
            let settings = S3Settings {
                endpoint: format!("http://{}", loopback(local_addr)),
                presign_endpoint: Some(public_url.clone()),
                bucket: config.s3_bucket.clone(),
                region: config.s3_region.clone(),
                access_key_id: credentials.access_key_id,
                secret_access_key: credentials.secret_access_key,
                path_style: true,
            };
            let description = format!("embedded S3 at {public_url}/{} on {}", settings.bucket, store.root().display());
            let storage =
                Storage::embedded(&settings, store.bucket_folder()).context("signing for the embedded store")?;
            (storage, Some(store), description)
        }
    };

    let auth = auth::Auth::new(&config, &public_url, db.clone(), local_user);
    let (hub, outbox) = jobs::events::hub_for(db.backend());
    let app = App(Arc::new(Parts {
        config: Arc::new(config),
        db,
        storage,
        hub,
        auth,
        wake: Arc::new(Notify::new()),
        ready: Arc::new(AtomicBool::new(false)),
    }));
    let (stop, stopped) = watch::channel(false);
    let sites = Sites::new(&public_url, local_addr, &app.config.allowed_hosts, &app.config.allowed_origins);
    let (sockets, sockets_closed) = Sockets::new(stopped.clone(), app.config.max_websockets);
    let router = crate::http::router(app.clone(), embedded.as_ref(), sites, sockets);
    let mut http_stopped = stopped.clone();
    // Small request/response exchanges (S3 calls to the embedded store,
    // GraphQL over loopback) otherwise wait on Nagle and delayed ACKs.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(error = %err, "setting TCP_NODELAY");
        }
    });
    let http = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = http_stopped.wait_for(|stop| *stop).await;
            })
            .await
    });

    // The embedded store's bucket already exists as a folder; an external
    // one is checked (and created) through the API, once the routes are up.
    if embedded.is_none() {
        app.storage.ensure_bucket().await.context("preparing the object storage bucket")?;
    }
    let relay = tokio::spawn(jobs::Relay::for_backend(app.db.backend()).run(app.clone(), stopped.clone()));
    let (stop_announcing, announcing_stopped) = watch::channel(false);
    let announcer =
        outbox.map(|outbox| tokio::spawn(jobs::events::announce(app.db.clone(), outbox, announcing_stopped)));
    let worker = tokio::spawn(jobs::worker::run(app.clone(), stopped.clone()));
    let sweeper = tokio::spawn(jobs::sweeper::run(app.clone(), stopped));
    app.ready.store(true, Ordering::Release);

    tracing::info!(
        listen = %local_addr,
        url = %public_url,
        database = %redact(&app.config.database_url()),
        backend = ?app.db.backend(),
        storage = %storage_description,
        "Loupe is ready"
    );
    Ok(Server {
        app,
        local_addr,
        public_url,
        stop,
        http,
        sockets_closed,
        worker,
        sweeper,
        relay,
        stop_announcing,
        announcer,
    })
}

impl Server {
    /// Stops taking requests and jobs, closes websockets (1001, going
    /// away), lets running jobs finish within `--shutdown-grace-secs` and
    /// hands the rest back to the queue, and waits for open connections to
    /// finish, for a while: a client that never finishes would otherwise
    /// hold the process forever.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.app.ready.store(false, Ordering::Release);
        let _ = self.stop.send(true);
        self.worker.await?;
        self.sweeper.await?;
        let _ = self.stop_announcing.send(true);
        if let Some(announcer) = self.announcer.take() {
            announcer.await?;
        }
        self.relay.await?;
        let drained = async {
            let served = (&mut self.http).await;
            self.sockets_closed.wait().await;
            served
        };
        match tokio::time::timeout(DRAIN_TIMEOUT, drained).await {
            Ok(served) => served??,
            Err(_) => {
                tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
                self.http.abort();
            }
        }
        Ok(())
    }

    /// Runs until Ctrl-C or SIGTERM, then shuts down.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// Loupe's files hold users' data: the data directory is created 0700, and
/// everything the process creates afterwards (the SQLite files, the embedded
/// store's objects, written by libraries that take the default mode) is
/// private to its user through the umask.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// An address this process can connect to itself at: the listening address,
/// or loopback when it listens on all interfaces.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        ip if !ip.is_unspecified() => addr,
        std::net::IpAddr::V4(_) => SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, addr.port())),
        std::net::IpAddr::V6(_) => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port())),
    }
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
