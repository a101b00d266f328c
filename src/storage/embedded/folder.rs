//! The S3 operations the embedded store answers, on its folder: the
//! bucket's HEAD, and PUT, GET (with ranges), HEAD and DELETE of objects,
//! with `If-Match` and `If-None-Match`. Anything else answers
//! `NotImplemented`. Multipart uploads will come as their own operations
//! writing parts through [`files::NewObject`].
//!
//! Bytes cross between the runtime and the disk in blocks of about 1 MiB,
//! on one blocking thread per request: a PUT's body chunks are gathered into
//! a block and written with one vectored write, a GET reads 1 MiB at a time.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::StatusCode;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use s3s::dto::*;
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use tokio::sync::mpsc;

use super::files::{self, CommitError, Drafts, NewObject, Stored};
use super::integrity::Integrity;

/// How much of a body is gathered before it crosses to the disk thread, and
/// how much a GET reads at once.
const BLOCK_BYTES: usize = 1 << 20;
/// Blocks in flight between the runtime and the disk thread.
const BLOCKS_IN_FLIGHT: usize = 4;

pub struct Folder {
    drafts: Drafts,
    bucket: String,
    bucket_folder: PathBuf,
}

impl Folder {
    /// Prepares `root/{bucket}` and removes what a crash left half-written.
    pub fn open(root: &Path, bucket: &str) -> io::Result<Folder> {
        let bucket_folder = root.join(bucket);
        std::fs::create_dir_all(&bucket_folder)?;
        let drafts = Drafts::open(root)?;
        Ok(Folder { drafts, bucket: bucket.to_owned(), bucket_folder })
    }

    fn object_path(&self, bucket: &str, key: &str) -> S3Result<PathBuf> {
        if bucket != self.bucket {
            return Err(s3_error!(NoSuchBucket));
        }
        files::object_path(&self.bucket_folder, key).ok_or_else(|| s3_error!(InvalidArgument, "unsupported object key"))
    }
}

#[async_trait::async_trait]
impl S3 for Folder {
    async fn head_bucket(&self, req: S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        if req.input.bucket != self.bucket {
            return Err(s3_error!(NoSuchBucket));
        }
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn create_bucket(&self, req: S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        if req.input.bucket == self.bucket {
            return Err(s3_error!(BucketAlreadyOwnedByYou));
        }
        Err(s3_error!(NotImplemented, "the embedded store holds one bucket, {}", self.bucket))
    }

    async fn head_object(&self, req: S3Request<HeadObjectInput>) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let path = self.object_path(&input.bucket, &input.key)?;
        let (_, stored) = blocking(move || open(&path)).await?;
        check_conditions(&stored, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(length(stored.size)?),
            content_type: stored.content_type.clone(),
            e_tag: Some(ETag::Strong(stored.etag)),
            last_modified: Some(stored.modified.into()),
            accept_ranges: Some("bytes".to_owned()),
            ..Default::default()
        }))
    }

    async fn get_object(&self, req: S3Request<GetObjectInput>) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let path = self.object_path(&input.bucket, &input.key)?;
        let (file, stored) = blocking(move || open(&path)).await?;
        check_conditions(&stored, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let (range, content_range) = match input.range {
            None => (0..stored.size, None),
            Some(range) => {
                let range = range.check(stored.size)?;
                let content_range = format!("bytes {}-{}/{}", range.start, range.end - 1, stored.size);
                (range, Some(content_range))
            }
        };
        Ok(S3Response::new(GetObjectOutput {
            content_length: Some(length(range.end - range.start)?),
            content_range,
            body: Some(StreamingBlob::wrap(read_blocks(file, range.start, range.end - range.start))),
            content_type: stored.content_type.clone(),
            e_tag: Some(ETag::Strong(stored.etag)),
            last_modified: Some(stored.modified.into()),
            accept_ranges: Some("bytes".to_owned()),
            ..Default::default()
        }))
    }

    async fn delete_object(&self, req: S3Request<DeleteObjectInput>) -> S3Result<S3Response<DeleteObjectOutput>> {
        let path = self.object_path(&req.input.bucket, &req.input.key)?;
        blocking(move || match std::fs::remove_file(&path) {
            // As S3: deleting what is not there succeeds.
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_error(err, "deleting an object")),
        })
        .await?;
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn put_object(&self, req: S3Request<PutObjectInput>) -> S3Result<S3Response<PutObjectOutput>> {
        let trailers = req.trailing_headers;
        let mut input = req.input;
        let path = self.object_path(&input.bucket, &input.key)?;
        let replace = match &input.if_none_match {
            None => true,
            Some(condition) if condition.is_any() => false,
            Some(_) => return Err(s3_error!(NotImplemented, "If-None-Match on a PUT takes only *")),
        };
        if let Some(condition) = &input.if_match {
            // The store takes one PUT per key at a time, so the object cannot
            // change between this check and the rename that replaces it.
            let checked = path.clone();
            let (_, stored) = blocking(move || open(&checked)).await?;
            check_conditions(&stored, Some(condition), None)?;
        }
        let integrity = Integrity::for_put(&input)?;
        let body = input.body.take().ok_or_else(|| s3_error!(IncompleteBody))?;
        let target = Target { drafts: self.drafts.clone(), path, content_type: input.content_type.take(), replace };
        let (stored, checksum) = write(body, target, integrity, trailers).await?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(stored.etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            ..Default::default()
        }))
    }
}

/// Where and how a PUT's object is committed.
struct Target {
    drafts: Drafts,
    path: PathBuf,
    content_type: Option<String>,
    replace: bool,
}

enum Feed {
    Chunks(Vec<Bytes>),
    /// The whole body arrived: the object may be committed.
    End,
}

/// Streams `body` to a new object. The first block (for a small object, the
/// whole body) goes with the blocking task that writes it, so a small PUT
/// costs one hop to the blocking pool.
async fn write(
    mut body: StreamingBlob,
    target: Target,
    integrity: Integrity,
    trailers: Option<s3s::TrailingHeaders>,
) -> S3Result<(Stored, Checksum)> {
    let first = next_block(&mut body).await?;
    let whole = first.len < BLOCK_BYTES;
    let (sender, receiver) = if whole {
        (None, None)
    } else {
        let (sender, receiver) = mpsc::channel(BLOCKS_IN_FLIGHT);
        (Some(sender), Some(receiver))
    };
    let writer = tokio::task::spawn_blocking(move || {
        let mut integrity = integrity;
        let mut object = NewObject::create(&target.drafts).map_err(|e| io_error(e, "creating an object"))?;
        let mut take = |chunks: &[Bytes]| {
            for chunk in chunks {
                integrity.update(chunk);
            }
            object.write(chunks).map_err(|e| io_error(e, "writing an object"))
        };
        take(&first.chunks)?;
        if let Some(mut receiver) = receiver {
            loop {
                match receiver.blocking_recv() {
                    Some(Feed::Chunks(chunks)) => take(&chunks)?,
                    Some(Feed::End) => break,
                    None => return Err(s3_error!(IncompleteBody)),
                }
            }
        }
        let trailers = trailers.and_then(|t| t.take());
        let checksum = integrity.verify(trailers.as_ref())?;
        match object.commit(&target.path, target.content_type.as_deref(), target.replace) {
            Ok(stored) => Ok((stored, checksum)),
            Err(CommitError::Exists) => Err(s3_error!(PreconditionFailed, "the object already exists")),
            Err(CommitError::Io(err)) => Err(io_error(err, "storing an object")),
        }
    });
    if let Some(sender) = sender {
        loop {
            let block = match next_block(&mut body).await {
                Ok(block) => block,
                // Dropping the sender makes the writer discard the object.
                Err(err) => {
                    drop(sender);
                    let _ = writer.await;
                    return Err(err);
                }
            };
            let done = block.len < BLOCK_BYTES;
            let sent = sender.send(Feed::Chunks(block.chunks)).await.is_ok()
                && (!done || sender.send(Feed::End).await.is_ok());
            // A failed send means the writer stopped: its error says why.
            if done || !sent {
                break;
            }
        }
    }
    writer.await.map_err(|e| S3Error::internal_error(io::Error::other(e.to_string())))?
}

struct Block {
    chunks: Vec<Bytes>,
    len: usize,
}

/// Gathers body chunks up to [`BLOCK_BYTES`]; a shorter block is the last.
async fn next_block(body: &mut StreamingBlob) -> S3Result<Block> {
    let mut block = Block { chunks: Vec::new(), len: 0 };
    while block.len < BLOCK_BYTES {
        match body.next().await {
            Some(Ok(chunk)) => {
                block.len += chunk.len();
                block.chunks.push(chunk);
            }
            Some(Err(err)) => return Err(s3_error!(IncompleteBody, "the body ended early: {err}")),
            None => break,
        }
    }
    Ok(block)
}

/// Opens an object and describes that very file.
fn open(path: &Path) -> S3Result<(File, Stored)> {
    let failed = |err| io_error(err, "reading an object");
    let (mut file, recorded) = files::open(path).map_err(failed)?.ok_or_else(|| s3_error!(NoSuchKey))?;
    let stored = match recorded {
        Some(stored) => stored,
        None => files::describe(&mut file).map_err(failed)?,
    };
    Ok((file, stored))
}

/// `If-Match` fails with 412, `If-None-Match` that matches with 304.
fn check_conditions(
    stored: &Stored,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    let etag = ETag::Strong(stored.etag.clone());
    let matches = |condition: &ETagCondition| match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(expected) => etag.strong_cmp(expected),
    };
    if if_match.is_some_and(|c| !matches(c)) {
        return Err(s3_error!(PreconditionFailed, "the object's ETag is not the one given"));
    }
    if if_none_match.is_some_and(matches) {
        return Err(s3_error!(NotModified));
    }
    Ok(())
}

/// Reads `len` bytes from `start` on a blocking thread, a block at a time.
fn read_blocks(mut file: File, start: u64, len: u64) -> Blocks {
    let (sender, receiver) = mpsc::channel(BLOCKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        if let Err(err) = file.seek(SeekFrom::Start(start)) {
            let _ = sender.blocking_send(Err(err));
            return;
        }
        let mut left = len;
        while left > 0 {
            let mut block = Vec::with_capacity(BLOCK_BYTES.min(usize::try_from(left).unwrap_or(BLOCK_BYTES)));
            let read = (&mut file).take(block.capacity() as u64).read_to_end(&mut block);
            let item = match read {
                Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the object is shorter than it was")),
                Ok(n) => {
                    left -= n as u64;
                    Ok(Bytes::from(block))
                }
                Err(err) => Err(err),
            };
            let failed = item.is_err();
            // A failed send means the client went away.
            if sender.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    Blocks(receiver)
}

struct Blocks(mpsc::Receiver<io::Result<Bytes>>);

impl Stream for Blocks {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> S3Result<T> + Send + 'static) -> S3Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| S3Error::internal_error(io::Error::other(e.to_string())))?
}

fn length(n: u64) -> S3Result<i64> {
    i64::try_from(n).map_err(|_| s3_error!(InvalidArgument, "the object is too large"))
}

/// Says what a person running Loupe can fix: a full disk (507) and a
/// read-only or inaccessible data directory (503) have their own answers.
fn io_error(err: io::Error, doing: &str) -> S3Error {
    let (status, code, message) = match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => (
            StatusCode::INSUFFICIENT_STORAGE,
            S3ErrorCode::Custom("InsufficientStorage".into()),
            "the embedded store's disk is full",
        ),
        io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied => (
            StatusCode::SERVICE_UNAVAILABLE,
            S3ErrorCode::ServiceUnavailable,
            "the embedded store's data directory is read-only",
        ),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, S3ErrorCode::InternalError, "the embedded store failed"),
    };
    tracing::error!(error = %err, "embedded object store: {doing} failed: {message}");
    let mut error = S3Error::with_message(code, format!("{message} ({doing}: {err})"));
    error.set_status_code(status);
    error
}
