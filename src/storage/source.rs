//! Objects read by one blocking thread, the way the profiler wants them:
//! large blocks, no hop per chunk. An object of the embedded store is its
//! file in the local folder, read (and its size looked up) directly: no
//! HTTP, no SigV4, no copy through a channel; an object of an external S3 service is streamed by a
//! task that gathers the SDK's small chunks into large blocks, so the
//! thread boundary is crossed once per block rather than once per chunk.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::{ObjectHead, ObjectReader, StorageError};

/// Bytes gathered before a block of a streamed object crosses to the reader.
pub const BLOCK_BYTES: usize = 1 << 20;
/// Blocks in flight between the streaming task and the reader.
const BLOCKS_IN_FLIGHT: usize = 4;

/// An object opened for reading; `Read` blocks, so use it off the runtime.
pub enum ObjectSource {
    File(std::fs::File),
    Stream(StreamedBlocks),
}

impl ObjectSource {
    /// Opens `key` under the embedded store's bucket folder; with `version`,
    /// only while the file is still the one [`local_head`] described.
    pub(super) fn open_file(folder: &Path, key: &str, version: Option<&str>) -> Result<ObjectSource, StorageError> {
        // Opening a local file takes microseconds; a blocking-pool hop would cost more.
        let file = match std::fs::File::open(object_path(folder, key)?) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Err(StorageError::Missing(key.to_owned())),
            Err(err) => return Err(StorageError::Request(format!("opening object {key}: {err}"))),
        };
        if let Some(version) = version {
            let meta = file.metadata().map_err(|e| StorageError::Request(format!("looking up object {key}: {e}")))?;
            if fingerprint(&meta) != version {
                return Err(StorageError::Changed(key.to_owned()));
            }
        }
        Ok(ObjectSource::File(file))
    }

    /// Streams `reader` from a task on the runtime, in blocks.
    pub(super) fn stream(mut reader: ObjectReader) -> ObjectSource {
        let (sender, receiver) = mpsc::channel(BLOCKS_IN_FLIGHT);
        tokio::spawn(async move {
            let mut block = BytesMut::new();
            loop {
                match reader.next_chunk().await {
                    Ok(Some(chunk)) => {
                        block.extend_from_slice(&chunk);
                        // A failed send means the reader stopped early.
                        if block.len() >= BLOCK_BYTES && sender.send(Ok(block.split().freeze())).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => {
                        if !block.is_empty() {
                            let _ = sender.send(Ok(block.freeze())).await;
                        }
                        return;
                    }
                    Err(err) => {
                        let _ = sender.send(Err(err)).await;
                        return;
                    }
                }
            }
        });
        ObjectSource::Stream(StreamedBlocks { receiver, current: Bytes::new() })
    }
}

/// The size and version of an object of the embedded store, or None when
/// there is none. The store writes an object under a temporary name and
/// renames it when complete, so a file at the key's path is always a whole
/// object.
pub(super) fn local_head(folder: &Path, key: &str) -> Result<Option<ObjectHead>, StorageError> {
    match std::fs::metadata(object_path(folder, key)?) {
        Ok(meta) if meta.is_file() => Ok(Some(ObjectHead { size: meta.len(), etag: Some(fingerprint(&meta)) })),
        Ok(_) => Ok(None),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StorageError::Request(format!("looking up object {key}: {err}"))),
    }
}

/// Stands in for an ETag: the store's ETag is an MD5 it computes by reading
/// the whole file on every HEAD, a second pass over each upload. Any write
/// replaces the file (a new modification time) or changes its size, so
/// size and modification time tell a confirmed object from a replaced one.
fn fingerprint(meta: &std::fs::Metadata) -> String {
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    format!("{FINGERPRINT_PREFIX}{}-{}", meta.len(), modified.as_nanos())
}

const FINGERPRINT_PREFIX: &str = "local-";

/// Whether a recorded version is a [`fingerprint`] rather than an S3 ETag
/// (which is quoted).
pub(super) fn is_fingerprint(version: &str) -> bool {
    version.starts_with(FINGERPRINT_PREFIX)
}

fn object_path(folder: &Path, key: &str) -> Result<PathBuf, StorageError> {
    // Keys are chosen by Loupe, but a path must never leave the folder.
    if !Path::new(key).components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(StorageError::Request(format!("invalid object key {key:?}")));
    }
    Ok(folder.join(key))
}

impl Read for ObjectSource {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            ObjectSource::File(file) => file.read(buffer),
            ObjectSource::Stream(blocks) => blocks.read(buffer),
        }
    }
}

pub struct StreamedBlocks {
    receiver: mpsc::Receiver<Result<Bytes, StorageError>>,
    current: Bytes,
}

impl Read for StreamedBlocks {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(Ok(block)) => self.current = block,
                Some(Err(err)) => return Err(io::Error::other(err)),
                None => return Ok(0),
            }
        }
        let n = buffer.len().min(self.current.len());
        buffer[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
