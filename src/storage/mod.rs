//! Object storage: the one place Loupe talks S3. [`Storage`] wraps the
//! aws-sdk-s3 client (presigned PUTs, HEAD, streaming GET) for any S3 API;
//! [`embedded`] serves an S3-compatible endpoint from a local folder so a
//! fresh install needs no other service, reached through the same client
//! for everything but reading objects, which [`source`] takes from its folder.

pub mod embedded;
mod presign;
mod source;

pub use source::ObjectSource;

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

/// Where the bucket is and how to sign for it.
#[derive(Clone, Debug)]
pub struct S3Settings {
    /// Base URL of the S3 API, e.g. `https://s3.eu-west-1.amazonaws.com` or
    /// `http://127.0.0.1:3900`, for Loupe's own requests.
    pub endpoint: String,
    /// Base URL presigned URLs point to, when browsers reach the store at
    /// another address than Loupe does (the embedded store behind a proxy).
    pub presign_endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `https://host/bucket/key` rather than `https://bucket.host/key`; most
    /// self-hosted S3 servers need it.
    pub path_style: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object is not in the bucket: retrying will not bring it back.
    #[error("no such object: {0}")]
    Missing(String),
    /// The object is not the one expected (its ETag differs).
    #[error("the object {0} changed")]
    Changed(String),
    #[error("object storage request failed: {0}")]
    Request(String),
    #[error("reading the object failed: {0}")]
    Read(String),
}

fn request_error(err: impl std::error::Error) -> StorageError {
    // The SDK's Display is terse ("service error"); the source chain says why.
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    StorageError::Request(text)
}

/// What a HEAD tells of an object.
#[derive(Clone, Debug)]
pub struct ObjectHead {
    pub size: u64,
    pub etag: Option<String>,
}

/// A presigned request the client sends itself.
#[derive(Clone, Debug)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    /// Headers the client must send exactly as given (they are signed).
    pub headers: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct Storage {
    client: Client,
    /// Signs URLs for browsers; the same client unless `presign_endpoint` is set.
    presigner: Client,
    bucket: String,
    /// The embedded store's bucket folder, where objects are read directly.
    local_folder: Option<std::path::PathBuf>,
    /// Signs upload URLs without the SDK (the embedded store).
    put_signer: Option<presign::PutSigner>,
}

impl Storage {
    pub fn new(settings: &S3Settings) -> Storage {
        let client = client(settings, &settings.endpoint);
        let presigner = match &settings.presign_endpoint {
            Some(endpoint) => self::client(settings, endpoint),
            None => client.clone(),
        };
        Storage { client, presigner, bucket: settings.bucket.clone(), local_folder: None, put_signer: None }
    }

    /// Storage on the embedded store, whose bucket is `folder`: objects are
    /// read from there rather than over HTTP, and upload URLs are signed
    /// here rather than through the SDK.
    pub fn embedded(settings: &S3Settings, folder: std::path::PathBuf) -> Result<Storage, StorageError> {
        let endpoint = settings.presign_endpoint.as_deref().unwrap_or(&settings.endpoint);
        let put_signer = presign::PutSigner::new(settings, endpoint)?;
        Ok(Storage { local_folder: Some(folder), put_signer: Some(put_signer), ..Storage::new(settings) })
    }

    /// Creates the bucket when the store does not have it yet.
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                self.client.create_bucket().bucket(&self.bucket).send().await.map_err(request_error)?;
                Ok(())
            }
            Err(err) => Err(request_error(err)),
        }
    }

    /// Whether the bucket answers, for readiness.
    pub async fn check(&self) -> Result<(), StorageError> {
        self.client.head_bucket().bucket(&self.bucket).send().await.map_err(request_error)?;
        Ok(())
    }

    /// Presigns a PUT of exactly `size` bytes to `key`, valid for `ttl`.
    /// The PUT carries a signed `If-None-Match: *`: it creates the object or
    /// fails (412), so the URL cannot replace bytes already stored, before or
    /// after they were confirmed.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: Option<&str>,
        size: u64,
        ttl: Duration,
    ) -> Result<PresignedRequest, StorageError> {
        if let Some(signer) = &self.put_signer {
            return Ok(signer.presign_put(key, content_type, size, ttl, chrono::Utc::now()));
        }
        let presigning = PresigningConfig::expires_in(ttl).map_err(request_error)?;
        let request = self
            .presigner
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_length(i64::try_from(size).map_err(request_error)?)
            .if_none_match("*")
            .set_content_type(content_type.map(str::to_owned))
            .presigned(presigning)
            .await
            .map_err(request_error)?;
        Ok(PresignedRequest {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
        })
    }

    /// The object's size and ETag, or None when there is no such object.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectHead>, StorageError> {
        if let Some(folder) = &self.local_folder {
            return source::local_head(folder, key).await;
        }
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(ObjectHead {
                size: head.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                etag: head.e_tag().map(str::to_owned),
            })),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(request_error(err)),
        }
    }

    /// Opens the object for reading on a blocking thread; with `etag` (as
    /// [`Storage::head`] gave it), only while the object is still that
    /// version.
    pub async fn open(&self, key: &str, etag: Option<&str>) -> Result<ObjectSource, StorageError> {
        if let Some(folder) = &self.local_folder {
            return ObjectSource::open_file(folder, key, etag).await;
        }
        Ok(ObjectSource::stream(self.read(key, etag).await?))
    }

    /// GETs the object as a stream of chunks; with `etag`, only while the
    /// object still has it (`If-Match`, and the answer's own ETag compared,
    /// for stores that ignore `If-Match`).
    async fn read(&self, key: &str, etag: Option<&str>) -> Result<ObjectReader, StorageError> {
        let request = self.client.get_object().bucket(&self.bucket).key(key).set_if_match(etag.map(str::to_owned));
        let object = match request.send().await {
            Ok(object) => object,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Err(StorageError::Missing(key.to_owned()));
            }
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 412) => {
                return Err(StorageError::Changed(key.to_owned()));
            }
            Err(err) => return Err(request_error(err)),
        };
        if etag.is_some() && object.e_tag() != etag {
            return Err(StorageError::Changed(key.to_owned()));
        }
        Ok(ObjectReader { body: object.body })
    }

    /// Deletes the object; one that is not there counts as deleted.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.client.delete_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().and_then(|e| e.code()) == Some("NoSuchKey") => Ok(()),
            Err(err) => Err(request_error(err)),
        }
    }
}

fn client(settings: &S3Settings, endpoint: &str) -> Client {
    let credentials =
        Credentials::new(&settings.access_key_id, &settings.secret_access_key, None, None, "loupe-config");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region.clone()))
        .endpoint_url(endpoint.trim_end_matches('/'))
        .credentials_provider(credentials)
        .force_path_style(settings.path_style)
        // Checksums by default would add headers to presigned PUTs that a
        // browser cannot compute; integrity is checked by size on confirm.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    Client::from_conf(config)
}

/// An object being read; chunks arrive as the store sends them.
struct ObjectReader {
    body: ByteStream,
}

impl ObjectReader {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, StorageError> {
        self.body.try_next().await.map_err(|e| StorageError::Read(e.to_string()))
    }
}
