//! The embedded S3-compatible store: Loupe's own [`folder`] of the data
//! directory behind s3s (the S3 protocol: routing, XML, SigV4) on the API's
//! own listener, under `/{bucket}/…`. Same origin as the web app, so
//! browsers need no CORS; full SigV4 checks, so presigned URLs are enforced
//! exactly as by a real S3. Conditional writes too: a PUT with
//! `If-None-Match: *` onto an existing object answers 412, and PUTs to one
//! key are taken one at a time (a second while one is under way answers 409,
//! as S3 does), so two uses of one upload URL cannot both pass that check.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use s3s::auth::SimpleAuth;

mod files;
mod folder;
mod integrity;

pub use files::{Stored, describe, object_path, open};
use s3s::service::{S3Service, S3ServiceBuilder};

/// Keys for the embedded store, generated once per data directory and kept
/// there, so presigned URLs stay valid across restarts.
#[derive(Clone, Debug)]
pub struct EmbeddedCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
}

struct Inner {
    service: S3Service,
    bucket: String,
    max_put_bytes: u64,
    root: PathBuf,
    /// Paths with a PUT under way.
    writing: Mutex<HashSet<String>>,
}

impl EmbeddedStore {
    /// Prepares `data_dir/objects/{bucket}` and the store's credentials.
    /// PUTs larger than `max_put_bytes` are refused before a byte is written.
    pub fn open(data_dir: &Path, bucket: &str, max_put_bytes: u64) -> std::io::Result<(Self, EmbeddedCredentials)> {
        let root = data_dir.join("objects");
        let folder = folder::Folder::open(&root, bucket)?;
        let credentials = load_or_create_credentials(&data_dir.join("embedded-s3.credentials"))?;
        let mut builder = S3ServiceBuilder::new(folder);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
        ));
        let inner = Inner {
            service: builder.build(),
            bucket: bucket.to_owned(),
            max_put_bytes,
            root,
            writing: Mutex::default(),
        };
        Ok((EmbeddedStore { inner: Arc::new(inner) }, credentials))
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The folder holding the bucket's objects, one file per key.
    pub fn bucket_folder(&self) -> PathBuf {
        self.inner.root.join(&self.inner.bucket)
    }

    /// Routes for the bucket's path-style URLs, to merge into the API router.
    pub fn routes(&self) -> Router {
        let bucket = &self.inner.bucket;
        Router::new()
            .route(&format!("/{bucket}"), axum::routing::any(serve))
            // What the SDK sends for bucket requests (HEAD, create) path-style.
            .route(&format!("/{bucket}/"), axum::routing::any(serve))
            .route(&format!("/{bucket}/{{*key}}"), axum::routing::any(serve))
            .with_state(self.clone())
    }
}

async fn serve(State(store): State<EmbeddedStore>, request: Request) -> Response {
    if let Some(refusal) = refuse_oversize(request.method(), request.headers(), store.inner.max_put_bytes) {
        return refusal;
    }
    let _writing = if request.method() == Method::PUT {
        match Writing::start(&store, request.uri().path()) {
            Some(writing) => Some(writing),
            None => {
                return s3_error(
                    StatusCode::CONFLICT,
                    "ConditionalRequestConflict",
                    "another write to this object is under way",
                );
            }
        }
    } else {
        None
    };
    let request = request.map(s3s::Body::http_body_unsync);
    match store.inner.service.call(request).await {
        Ok(response) => response.map(Body::new),
        Err(err) => {
            tracing::error!(error = ?err, "embedded object store failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A PUT under way to one path; ends when dropped.
struct Writing {
    store: EmbeddedStore,
    path: String,
}

impl Writing {
    fn start(store: &EmbeddedStore, path: &str) -> Option<Writing> {
        let mut writing = store.inner.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        writing.insert(path.to_owned()).then(|| Writing { store: store.clone(), path: path.to_owned() })
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        let mut writing = self.store.inner.writing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        writing.remove(&self.path);
    }
}

/// Writes must declare their length and stay within the upload limit.
/// Presigned upload URLs already sign their length; this also bounds any
/// other request signed with the store's keys, before a byte is written.
fn refuse_oversize(method: &Method, headers: &HeaderMap, max: u64) -> Option<Response> {
    if !(method == Method::PUT || method == Method::POST) {
        return None;
    }
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n <= max => None,
        Some(n) => Some(s3_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "EntityTooLarge",
            &format!("{n} bytes is more than the {max}-byte upload limit"),
        )),
        None => Some(s3_error(StatusCode::LENGTH_REQUIRED, "MissingContentLength", "Content-Length is required")),
    }
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn load_or_create_credentials(path: &Path) -> std::io::Result<EmbeddedCredentials> {
    if let Ok(text) = std::fs::read_to_string(path)
        && let Some((id, secret)) = text.trim().split_once(':')
    {
        return Ok(EmbeddedCredentials { access_key_id: id.to_owned(), secret_access_key: secret.to_owned() });
    }
    let credentials = EmbeddedCredentials {
        access_key_id: format!("LOUPE{}", uuid::Uuid::new_v4().simple()).to_uppercase()[..20].to_owned(),
        secret_access_key: format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()),
    };
    write_private(path, &format!("{}:{}\n", credentials.access_key_id, credentials.secret_access_key))?;
    Ok(credentials)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
