//! Objects read by one blocking thread, the way the profiler wants them:
//! large blocks, no hop per chunk. An object of the embedded store is its
//! file in the local folder, read (and its size looked up) directly: no
//! HTTP, no SigV4, no copy through a channel; an object of an external S3 service is streamed by a
//! task that gathers the SDK's small chunks into large blocks, so the
//! thread boundary is crossed once per block rather than once per chunk.

use std::io::{self, Read};
use std::path::Path;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::embedded::{Stored, describe, object_path, open};
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
    /// Opens `key` under the embedded store's bucket folder; with `etag`,
    /// only while the object still has that ETag.
    pub(super) async fn open_file(folder: &Path, key: &str, etag: Option<&str>) -> Result<ObjectSource, StorageError> {
        let (file, stored) = open_local(folder, key).await?.ok_or_else(|| StorageError::Missing(key.to_owned()))?;
        if etag.is_some_and(|etag| etag != stored.quoted_etag()) {
            return Err(StorageError::Changed(key.to_owned()));
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

/// The size and ETag of an object of the embedded store, or None when there
/// is none. A file at the key's path is always a whole object: the store
/// gives it its name once it is complete.
pub(super) async fn local_head(folder: &Path, key: &str) -> Result<Option<ObjectHead>, StorageError> {
    let object = open_local(folder, key).await?;
    Ok(object.map(|(_, stored)| ObjectHead { size: stored.size, etag: Some(stored.quoted_etag()) }))
}

/// Opens an object of the embedded store and describes that very file.
async fn open_local(folder: &Path, key: &str) -> Result<Option<(std::fs::File, Stored)>, StorageError> {
    let failed = |err: io::Error| StorageError::Request(format!("opening object {key}: {err}"));
    let path = object_path(folder, key).ok_or_else(|| StorageError::Request(format!("invalid object key {key:?}")))?;
    // Opening a local file and reading its attributes take microseconds; a
    // blocking-pool hop would cost more.
    let Some((mut file, recorded)) = open(&path).map_err(failed)? else { return Ok(None) };
    if let Some(stored) = recorded {
        return Ok(Some((file, stored)));
    }
    // An object whose ETag was never recorded is read once to compute it.
    let described = tokio::task::spawn_blocking(move || describe(&mut file).map(|stored| (file, stored)));
    let (file, stored) = described.await.map_err(|e| failed(io::Error::other(e))).and_then(|r| r.map_err(failed))?;
    Ok(Some((file, stored)))
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
