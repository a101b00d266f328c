//! Runs the processor that fits an upload: the table profiler for CSV, TSV
//! and JSON Lines (plain or gzip), a plain file summary for anything else.
//! The object is streamed from storage chunk by chunk; the CPU-bound
//! processor runs on a blocking thread fed through a small channel, so memory
//! stays at a few chunks whatever the file's size.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::output::JobOutput;
use crate::db::Upload;
use crate::profile::{self, FileSummarizer, ProfileOptions, Profiler, SNIFF_BYTES};
use crate::storage::{ObjectReader, Storage, StorageError};

/// Chunks in flight between the reader and the processor.
const CHANNEL_CHUNKS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The file itself cannot be processed; running again will not help.
    #[error("{0}")]
    Unreadable(String),
    /// Storage failed; another attempt may succeed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A bug: the processor panicked. The job fails; the server carries on.
    #[error("the processor crashed: {0}")]
    Crashed(String),
}

/// Processes the upload's object (tables with `options`). `bytes_read` counts the bytes taken from
/// storage, for progress.
pub async fn process(
    storage: &Storage,
    upload: &Upload,
    options: ProfileOptions,
    bytes_read: Arc<AtomicU64>,
) -> Result<JobOutput, ProcessError> {
    let mut reader = storage.read(&upload.object_key, upload.etag.as_deref()).await?;
    let mut head = Vec::new();
    let mut pending = Vec::new();
    while head.len() < SNIFF_BYTES {
        let Some(chunk) = reader.next_chunk().await? else { break };
        bytes_read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_BYTES - head.len())]);
        pending.push(chunk);
    }
    // A format the user chose is profiled as such; otherwise the content decides.
    if options.format.is_none() && profile::sniff(&head, &upload.filename).is_none() {
        let summary = run_blocking(
            reader,
            pending,
            bytes_read,
            FileSummarizer::new,
            |s, chunk| {
                s.feed(chunk);
                Ok(())
            },
            |s| Ok(s.finish()),
        )
        .await?;
        return Ok(JobOutput::FileSummary(summary));
    }
    let profile = run_blocking(
        reader,
        pending,
        bytes_read,
        move || Profiler::new(options),
        |p, chunk| p.feed(chunk).map_err(|e| e.to_string()),
        |p| p.finish().map_err(|e| e.to_string()),
    )
    .await?;
    Ok(JobOutput::TableProfile(profile))
}

/// Feeds the already-read `first` chunks, then the rest of `reader`, to a
/// processor built and run on a blocking thread.
async fn run_blocking<P, T>(
    mut reader: ObjectReader,
    first: Vec<Bytes>,
    bytes_read: Arc<AtomicU64>,
    build: impl FnOnce() -> P + Send + 'static,
    feed: impl Fn(&mut P, &[u8]) -> Result<(), String> + Send + 'static,
    finish: impl FnOnce(P) -> Result<T, String> + Send + 'static,
) -> Result<T, ProcessError>
where
    T: Send + 'static,
{
    let (sender, mut receiver) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
    let worker = tokio::task::spawn_blocking(move || {
        let mut processor = build();
        while let Some(chunk) = receiver.blocking_recv() {
            feed(&mut processor, &chunk)?;
        }
        finish(processor)
    });

    let mut read_result = Ok(());
    for chunk in first {
        if sender.send(chunk).await.is_err() {
            break;
        }
    }
    loop {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => {
                bytes_read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                // A closed channel means the processor stopped early (bad input);
                // its own result says why.
                if sender.send(chunk).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(err) => {
                read_result = Err(err);
                break;
            }
        }
    }
    drop(sender);
    let processed = worker.await.map_err(|e| ProcessError::Crashed(e.to_string()))?;
    read_result?;
    processed.map_err(ProcessError::Unreadable)
}
