//! Objects read by one blocking thread, the way the profiler wants them:
//! large blocks, no hop per chunk. An object of the embedded store is its
//! file in the local folder, read directly (no HTTP, no SigV4, no copy
//! through a channel); an object of an external S3 service is streamed by a
//! task that gathers the SDK's small chunks into large blocks, so the
//! thread boundary is crossed once per block rather than once per chunk.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;

use super::{ObjectReader, StorageError};

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
    /// Opens `key` under the embedded store's bucket folder.
    pub(super) fn open_file(folder: &Path, key: &str) -> Result<ObjectSource, StorageError> {
        // Keys are chosen by Loupe, but a path must never leave the folder.
        if !Path::new(key).components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(StorageError::Request(format!("invalid object key {key:?}")));
        }
        let path: PathBuf = folder.join(key);
        // Opening a local file takes microseconds; a blocking-pool hop would cost more.
        std::fs::File::open(&path)
            .map(ObjectSource::File)
            .map_err(|e| StorageError::Request(format!("opening object {key}: {e}")))
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
