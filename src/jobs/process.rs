//! Runs the processor that fits an upload: the table profiler for CSV, TSV
//! and JSON Lines (plain or gzip), a plain file summary for anything else.
//! One blocking thread reads the object in large blocks and feeds them to
//! the processor, exactly as `loupe profile` does with a local file, so
//! memory stays at one block whatever the file's size and no chunk waits on
//! a thread hand-off.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::output::JobOutput;
use crate::db::Upload;
use crate::profile::{self, FileSummarizer, ProfileOptions, Profiler, SNIFF_BYTES};
use crate::storage::{ObjectSource, Storage, StorageError};

/// The profiler's own block size: larger reads buy nothing, smaller ones
/// cost a call each.
const READ_BYTES: usize = 1 << 20;

/// A local object this small, with lines no wider than
/// [`INLINE_SEPARATORS`], is processed on the task that awaits it: a trip
/// to the blocking pool and back (two thread wake-ups) costs more than
/// profiling a 1 KB CSV; processed here, a small-file journey took 3–10%
/// less server CPU in A/B runs. Such an object holds the runtime thread for
/// under a millisecond.
const INLINE_BYTES: i64 = 4 * 1024;
const INLINE_SEPARATORS: usize = 32;

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
    /// The run was abandoned before its end (cancelled, lease lost, shutdown).
    #[error("processing stopped before the end")]
    Stopped,
}

/// Processes the upload's object (tables with `options`). `bytes_read` counts the bytes taken from
/// storage, for progress. Dropping the future stops the reading thread at its next block.
pub async fn process(
    storage: &Storage,
    upload: &Upload,
    options: ProfileOptions,
    bytes_read: Arc<AtomicU64>,
) -> Result<JobOutput, ProcessError> {
    let source = storage.open(&upload.object_key, upload.etag.as_deref()).await?;
    let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
    // A small object gets a buffer its size (one byte more, to see its end in
    // one read): zeroing a whole block for a 1 KB file cost more than
    // profiling it.
    let buffer_len =
        usize::try_from(upload.size).map_or(READ_BYTES, |size| size.saturating_add(1).clamp(4096, READ_BYTES));
    let local = matches!(source, ObjectSource::File(_));
    let mut run = Run { source, bytes_read, stopped: stop.0.clone(), buffer: vec![0; buffer_len] };
    let mut head = 0;
    if local && upload.size <= INLINE_BYTES {
        // 4 KiB at most: microseconds from the page cache, where a
        // just-written object is, and one disk read otherwise.
        head = run.fill(0, run.buffer.len())?;
        if is_light(&run.buffer[..head]) {
            let profiled =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.process(&upload.filename, options, head)));
            return profiled.map_err(|panic| ProcessError::Crashed(panic_message(&panic)))?;
        }
    }
    let filename = upload.filename.clone();
    tokio::task::spawn_blocking(move || run.process(&filename, options, head))
        .await
        .map_err(|e| ProcessError::Crashed(e.to_string()))?
}

/// Whether a small object is cheap enough to profile on a runtime thread:
/// the profiler's cost grows with the columns (about 12 µs each, against
/// 0.1 µs a cell), so a line with many separators (a hostile 4 KiB line of
/// 2,000 empty columns took 25 ms) goes to the blocking pool. Counts every
/// byte that may separate fields or keys, whatever the dialect.
fn is_light(object: &[u8]) -> bool {
    object.split(|byte| *byte == b'\n').all(|line| {
        line.iter().filter(|byte| matches!(byte, b',' | b';' | b'\t' | b'|' | b':')).count() <= INLINE_SEPARATORS
    })
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    text.unwrap_or("a panic").to_owned()
}

/// A streamed object's own error comes back through `Read` wrapped in an io::Error.
fn storage_error(err: std::io::Error) -> StorageError {
    let text = err.to_string();
    match err.into_inner().map(|inner| inner.downcast::<StorageError>()) {
        Some(Ok(inner)) => *inner,
        _ => StorageError::Read(text),
    }
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

struct Run {
    source: ObjectSource,
    bytes_read: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
    buffer: Vec<u8>,
}

impl Run {
    /// Processes the object, whose first `head` bytes are in the buffer already.
    fn process(mut self, filename: &str, options: ProfileOptions, head: usize) -> Result<JobOutput, ProcessError> {
        let head = self.fill(head, SNIFF_BYTES)?;
        // A format the user chose is profiled as such; otherwise the content decides.
        if options.format.is_none() && !profile::is_tabular(&self.buffer[..head.min(SNIFF_BYTES)], filename) {
            let mut summarizer = FileSummarizer::new();
            self.feed_all(head, |chunk| {
                summarizer.feed(chunk);
                Ok(())
            })?;
            return Ok(JobOutput::FileSummary(summarizer.finish()));
        }
        let mut profiler = Profiler::new(options);
        self.feed_all(head, |chunk| profiler.feed(chunk).map_err(|e| e.to_string()))?;
        Ok(JobOutput::TableProfile(profiler.finish().map_err(|e| ProcessError::Unreadable(e.to_string()))?))
    }

    /// Reads on from `filled` bytes until at least `wanted` are in the
    /// buffer (or it is full, or the object ends); returns how many are.
    fn fill(&mut self, mut filled: usize, wanted: usize) -> Result<usize, ProcessError> {
        while filled < wanted {
            let n = self.read(filled)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        Ok(filled)
    }

    /// Reads into the buffer from `at`; 0 at the end of the object.
    fn read(&mut self, at: usize) -> Result<usize, ProcessError> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(ProcessError::Stopped);
        }
        let n = loop {
            match self.source.read(&mut self.buffer[at..]) {
                Ok(n) => break n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(storage_error(err).into()),
            }
        };
        self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    /// Feeds the `filled` bytes already read, then the rest of the object.
    fn feed_all(
        &mut self,
        mut filled: usize,
        mut feed: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), ProcessError> {
        while filled > 0 {
            feed(&self.buffer[..filled]).map_err(ProcessError::Unreadable)?;
            filled = self.read(0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_narrow_small_objects_are_light() {
        let csv = b"id,city,temperature,observed_at\n1,Oslo,3.5,2026-11-01T12:00:00Z\n";
        assert!(is_light(csv));
        assert!(is_light(br#"{"a": 1, "b": "x"}"#));
        let wide = ",".repeat(INLINE_SEPARATORS + 1);
        assert!(!is_light(wide.as_bytes()), "one wide line is enough");
        assert!(!is_light(format!("a\n{wide}\nb\n").as_bytes()));
        let tabs = "\t".repeat(INLINE_SEPARATORS);
        assert!(is_light(tabs.as_bytes()));
    }
}
