//! From decompressed bytes to a profile: sniffing, cutting the stream into
//! blocks of whole records, fanning blocks out to worker threads, merging.
//!
//! Memory is bounded by: the sniff head (64 KiB), the pending partial block
//! (at most `BLOCK_BYTES` + `max_line_bytes`), the blocks in flight (queue of
//! 2 per worker), and per-column sketches (bounded size each).

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::csv::{CsvWorker, Scanner, Tally, too_long_reason};
use super::dialect::{self, BOM, SNIFF_BYTES};
use super::encoding::{self, Encoding};
use super::jsonl::JsonWorker;
use super::result::{Compression, Format, LineEnding, TableProfile};
use super::sketch::distinct;
use super::sketch::kll;
use super::stats::ColumnAcc;
use super::{ErrorKind, ProfileError, ProfileOptions};

/// Large enough that per-block costs (channel hand-off, UTF-8 check, buffer
/// recycling) vanish, small enough that two cores get many blocks to share.
const BLOCK_BYTES: usize = 1 << 20;
const SPARE_BUFFERS: usize = 8;
/// Worst-case sketch memory of one high-cardinality column in one worker
/// (top-k table and arenas, doorkeeper, HLL registers, two KLL sketches).
const COLUMN_STATE_BYTES: usize = 256 * 1024;
/// Worker count is reduced for very wide files so that per-thread column
/// state stays within this.
const STATE_BUDGET_BYTES: usize = 512 * 1024 * 1024;

pub enum Worker {
    Csv(Box<CsvWorker>),
    Json(Box<JsonWorker>),
}

impl Worker {
    fn process(&mut self, data: &[u8], start_line: u64) {
        match self {
            Worker::Csv(w) => w.process(data, start_line),
            Worker::Json(w) => w.process(data, start_line),
        }
    }

    fn fresh(&self) -> Worker {
        match self {
            Worker::Csv(w) => Worker::Csv(Box::new(w.fresh())),
            Worker::Json(w) => Worker::Json(Box::new(w.fresh())),
        }
    }

    /// Workers are all cloned from one template, so the variants always match.
    fn merge(&mut self, other: Worker) {
        match (self, other) {
            (Worker::Csv(a), Worker::Csv(b)) => a.merge(*b),
            (Worker::Json(a), Worker::Json(b)) => a.merge(*b),
            _ => {}
        }
    }

    /// CSV workers need the column layout that the first record fixes;
    /// JSON workers discover keys on their own.
    fn can_fan_out(&self) -> bool {
        match self {
            Worker::Csv(w) => !w.names.is_empty(),
            Worker::Json(_) => true,
        }
    }

    fn columns(&self) -> usize {
        match self {
            Worker::Csv(w) => w.names.len(),
            Worker::Json(w) => w.cols.len(),
        }
    }

    fn tally_mut(&mut self) -> &mut Tally {
        match self {
            Worker::Csv(w) => &mut w.tally,
            Worker::Json(w) => &mut w.tally,
        }
    }

    fn take_fatal(&mut self) -> Option<ProfileError> {
        match self {
            Worker::Csv(w) => w.fatal.take(),
            Worker::Json(w) => w.fatal.take(),
        }
    }

    fn into_parts(self) -> (Tally, Vec<(String, ColumnAcc)>) {
        match self {
            Worker::Csv(w) => {
                let w = *w;
                (w.tally, w.names.into_iter().zip(w.cols).collect())
            }
            Worker::Json(w) => (*w).into_columns(),
        }
    }
}

#[derive(Debug, Clone)]
struct Dialect {
    format: Format,
    delimiter: u8,
    quote: u8,
    has_header: bool,
    line_ending: LineEnding,
    bom: bool,
    newline: u8,
}

enum Framer {
    Csv(Scanner),
    Lines { newline: u8, lines: u64 },
}

impl Framer {
    /// First record boundary in `buf`, consuming nothing after it.
    fn scan_first(&mut self, buf: &[u8]) -> Option<(usize, u64)> {
        match self {
            Framer::Csv(s) => s.scan_first(buf),
            Framer::Lines { newline, lines } => {
                let j = memchr::memchr(*newline, buf)?;
                *lines += 1;
                Some((j + 1, *lines))
            }
        }
    }

    fn scan(&mut self, buf: &[u8]) -> Option<(usize, u64)> {
        match self {
            Framer::Csv(s) => s.scan(buf),
            Framer::Lines { newline, lines } => {
                let mut last = None;
                for j in memchr::memchr_iter(*newline, buf) {
                    *lines += 1;
                    last = Some((j + 1, *lines));
                }
                last
            }
        }
    }

    /// 1-based line of a quote still open, if any.
    fn open_quote_line(&self) -> Option<u64> {
        match self {
            Framer::Csv(s) if s.in_quotes() => Some(s.quote_line + 1),
            _ => None,
        }
    }
}

type Job = (Vec<u8>, u64);

struct Pool {
    tx: SyncSender<Job>,
    recycled: Receiver<Vec<u8>>,
    handles: Vec<JoinHandle<Worker>>,
}

impl Pool {
    fn start(n: usize, template: &Worker) -> Result<Pool, ProfileError> {
        let (tx, rx) = mpsc::sync_channel::<Job>(2 * n);
        let rx = Arc::new(Mutex::new(rx));
        let (rtx, recycled) = mpsc::channel();
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let mut w = template.fresh();
            let rx = Arc::clone(&rx);
            let rtx = rtx.clone();
            let h = std::thread::Builder::new()
                .name("loupe-profile".into())
                .spawn(move || {
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => break,
                        };
                        let Ok((buf, line)) = job else { break };
                        w.process(&buf, line);
                        // The main thread may have finished early; a lost
                        // buffer is just freed.
                        let _ = rtx.send(buf);
                    }
                    w
                })
                .map_err(|e| internal(format!("cannot start a worker thread: {e}")))?;
            handles.push(h);
        }
        Ok(Pool { tx, recycled, handles })
    }
}

/// Keeps a block buffer for reuse, unless enough are kept already or it grew
/// large around one long record (a handful of those would pin many MiB).
fn keep_spare(spare: &mut Vec<Vec<u8>>, buf: Vec<u8>) {
    if spare.len() < SPARE_BUFFERS && buf.capacity() <= 4 * BLOCK_BYTES {
        spare.push(buf);
    }
}

/// Looked up once: the standard library reads cgroup files on every call,
/// which costs more than profiling a small file.
fn available_cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn internal(msg: String) -> ProfileError {
    ProfileError::new(ErrorKind::Internal, None, msg)
}

pub struct Pipeline {
    dialect: Dialect,
    framer: Framer,
    pending: Vec<u8>,
    scanned: usize,
    /// Newlines before `pending[0]`.
    pending_line: u64,
    /// Last record boundary inside `pending`: (end offset, newlines up to it).
    boundary: Option<(usize, u64)>,
    max_line: usize,
    /// Start line of an over-long record being skipped: its bytes are still
    /// scanned, to find where it ends, but not kept.
    skipping: Option<u64>,
    threads: usize,
    inline: Worker,
    pool: Option<Pool>,
    blocks: u64,
    spare: Vec<Vec<u8>>,
}

impl Pipeline {
    fn new(dialect: Dialect, opts: &ProfileOptions) -> Self {
        let (framer, inline) = match dialect.format {
            Format::JsonLines => (
                Framer::Lines { newline: dialect.newline, lines: 0 },
                Worker::Json(Box::new(JsonWorker::new(opts.max_columns, dialect.newline, opts.max_line_bytes.max(1)))),
            ),
            Format::Csv | Format::Tsv => (
                Framer::Csv(Scanner::new(dialect.delimiter, dialect.quote, dialect.newline)),
                Worker::Csv(Box::new(CsvWorker::new(
                    dialect.delimiter,
                    dialect.quote,
                    dialect.newline,
                    dialect.has_header,
                    opts.max_columns,
                    opts.max_line_bytes.max(1),
                ))),
            ),
        };
        let threads = if opts.threads == 0 { available_cores() } else { opts.threads };
        Pipeline {
            dialect,
            framer,
            pending: Vec::with_capacity(BLOCK_BYTES + 64 * 1024),
            scanned: 0,
            pending_line: 0,
            boundary: None,
            max_line: opts.max_line_bytes.max(1),
            skipping: None,
            threads,
            inline,
            pool: None,
            blocks: 0,
            spare: Vec::new(),
        }
    }

    fn push(&mut self, mut data: &[u8]) -> Result<(), ProfileError> {
        if let Some(start_line) = self.skipping {
            let Some((end, lines)) = self.framer.scan_first(data) else {
                return Ok(());
            };
            self.end_skip(start_line, lines);
            data = &data[end..];
        }
        self.pending.extend_from_slice(data);
        if let Some((end, lines)) = self.framer.scan(&self.pending[self.scanned..]) {
            self.boundary = Some((self.scanned + end, lines));
        }
        self.scanned = self.pending.len();
        if self.pending.len() >= BLOCK_BYTES
            && let Some((end, lines)) = self.boundary.take()
        {
            self.emit(end, lines)?;
        }
        let start = self.boundary.map_or(0, |b| b.0);
        if self.pending.len() - start > self.max_line {
            // Drop the record so far and skip the rest of it: memory stays
            // bounded and the rest of the file is still profiled. Whole
            // records before it go out first, so `pending_line` can jump
            // past the skipped one.
            self.skipping = Some(self.boundary.map_or(self.pending_line, |b| b.1) + 1);
            if let Some((end, lines)) = self.boundary.take() {
                self.emit(end, lines)?;
            }
            self.pending.clear();
            self.scanned = 0;
        }
        Ok(())
    }

    fn end_skip(&mut self, start_line: u64, lines: u64) {
        self.skipping = None;
        self.pending_line = lines;
        let limit = self.max_line;
        self.inline.tally_mut().malformed(|| start_line, || too_long_reason(limit));
    }

    fn emit(&mut self, end: usize, lines: u64) -> Result<(), ProfileError> {
        let mut next = self.spare.pop().unwrap_or_default();
        next.clear();
        next.extend_from_slice(&self.pending[end..]);
        self.pending.truncate(end);
        let block = std::mem::replace(&mut self.pending, next);
        let start_line = self.pending_line;
        self.pending_line = lines;
        self.scanned -= end;
        self.dispatch(block, start_line)
    }

    fn dispatch(&mut self, block: Vec<u8>, start_line: u64) -> Result<(), ProfileError> {
        let first = self.blocks == 0;
        self.blocks += 1;
        // The first block always runs here: it fixes the header and column
        // count that the workers are cloned from (and so does any block
        // until a record has been seen, e.g. after a run of blank lines).
        if first || self.threads <= 1 || !self.inline.can_fan_out() {
            return self.run_inline(block, start_line);
        }
        if self.pool.is_none() {
            let sets = STATE_BUDGET_BYTES / (self.inline.columns().max(1) * COLUMN_STATE_BYTES);
            let n = (self.threads - 1).max(1).min(sets.saturating_sub(1));
            if n == 0 {
                self.threads = 1;
                return self.run_inline(block, start_line);
            }
            self.pool = Some(Pool::start(n, &self.inline)?);
        }
        let Some(pool) = &self.pool else {
            return Ok(());
        };
        while self.spare.len() < SPARE_BUFFERS {
            match pool.recycled.try_recv() {
                Ok(b) => keep_spare(&mut self.spare, b),
                Err(_) => break,
            }
        }
        match pool.tx.try_send((block, start_line)) {
            Ok(()) => Ok(()),
            // Workers are busy: do the block here rather than wait.
            Err(TrySendError::Full((block, line))) => self.run_inline(block, line),
            Err(TrySendError::Disconnected(_)) => Err(internal("a worker thread stopped unexpectedly".into())),
        }
    }

    fn run_inline(&mut self, block: Vec<u8>, start_line: u64) -> Result<(), ProfileError> {
        self.inline.process(&block, start_line);
        keep_spare(&mut self.spare, block);
        match self.inline.take_fatal() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn finish(mut self) -> Result<(Worker, Dialect), ProfileError> {
        if let Some(line) = self.framer.open_quote_line() {
            return Err(ProfileError::new(
                ErrorKind::UnclosedQuote,
                Some(line),
                "unclosed quote: the quoted field starting on this line is never closed".into(),
            ));
        }
        if let Some(start_line) = self.skipping {
            // The over-long record ran to the end of the file.
            let lines = self.pending_line;
            self.end_skip(start_line, lines);
        }
        if !self.pending.is_empty() {
            let block = std::mem::take(&mut self.pending);
            self.dispatch(block, self.pending_line)?;
        }
        if let Some(pool) = self.pool.take() {
            drop(pool.tx);
            for h in pool.handles {
                let w = h.join().map_err(|_| internal("a worker thread panicked".into()))?;
                self.inline.merge(w);
            }
        }
        if let Some(e) = self.inline.take_fatal() {
            return Err(e);
        }
        Ok((self.inline, self.dialect))
    }
}

/// Everything after decompression: BOM, sniffing, the gzip-bomb limit.
pub struct Stage {
    opts: ProfileOptions,
    decompressed: u64,
    head: Vec<u8>,
    pipeline: Option<Pipeline>,
    error: Option<ProfileError>,
    encoding: Encoding,
    /// Reused buffer for transcoding to UTF-8.
    utf8: Vec<u8>,
}

impl Stage {
    pub fn new(opts: ProfileOptions) -> Self {
        Stage {
            opts,
            decompressed: 0,
            head: Vec::new(),
            pipeline: None,
            error: None,
            encoding: Encoding::Utf8,
            utf8: Vec::new(),
        }
    }

    pub fn set_error(&mut self, e: ProfileError) {
        self.error = Some(e);
    }

    pub fn take_error(&mut self) -> Option<ProfileError> {
        self.error.take()
    }

    /// Bytes coming out of the gzip decoder: subject to the size limit.
    pub fn push_decompressed(&mut self, data: &[u8]) -> Result<(), ProfileError> {
        let limit = self.opts.max_decompressed_bytes;
        if self.decompressed + data.len() as u64 > limit {
            return Err(ProfileError::new(
                ErrorKind::DecompressedTooLarge,
                None,
                format!(
                    "the decompressed data exceeds the limit of {limit} bytes (max_decompressed_bytes); the file may be a gzip bomb"
                ),
            ));
        }
        self.push(data)
    }

    pub fn push(&mut self, data: &[u8]) -> Result<(), ProfileError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.decompressed += data.len() as u64;
        if self.pipeline.is_some() {
            return self.send_to_pipeline(data);
        }
        self.head.extend_from_slice(data);
        if self.head.len() >= SNIFF_BYTES {
            self.start(false)?;
        }
        Ok(())
    }

    fn send_to_pipeline(&mut self, data: &[u8]) -> Result<(), ProfileError> {
        let Some(p) = &mut self.pipeline else {
            return Err(internal("pipeline missing".into()));
        };
        match self.encoding {
            Encoding::Utf8 => p.push(data),
            Encoding::Windows1252 => {
                self.utf8.clear();
                encoding::windows1252_to_utf8(data, &mut self.utf8);
                p.push(&self.utf8)
            }
        }
    }

    fn start(&mut self, complete: bool) -> Result<(), ProfileError> {
        let head = std::mem::take(&mut self.head);
        let filename = self.opts.filename.clone().unwrap_or_default();
        let sniffed = dialect::sniff_text(&head, &filename, complete);
        let Some(format) = self.opts.format.or(sniffed.as_ref().map(|s| s.format)) else {
            return Err(ProfileError::new(
                ErrorKind::NotTabular,
                None,
                "the file does not look like CSV, TSV or JSON Lines (it appears to be binary)".into(),
            ));
        };
        let s = sniffed.as_ref();
        let sniffed_delim = s.and_then(|s| s.delimiter);
        let delimiter = match format {
            Format::Tsv => self.opts.delimiter.unwrap_or(b'\t'),
            _ => self.opts.delimiter.or(sniffed_delim).unwrap_or(b','),
        };
        let line_ending = s.map_or(LineEnding::Unknown, |s| s.line_ending);
        let bom = head.starts_with(BOM);
        let has_header = self.opts.has_header.unwrap_or_else(|| {
            // A forced delimiter can make the sniffed header verdict stale.
            if self.opts.delimiter.is_some_and(|d| Some(d) != sniffed_delim) {
                true
            } else {
                s.is_none_or(|s| s.has_header)
            }
        });
        let dialect = Dialect {
            format: if format == Format::Csv && delimiter == b'\t' { Format::Tsv } else { format },
            delimiter,
            quote: self.opts.quote.or(s.and_then(|s| s.quote)).unwrap_or(b'"'),
            has_header,
            line_ending,
            bom,
            newline: if line_ending == LineEnding::Cr { b'\r' } else { b'\n' },
        };
        // A BOM says UTF-8 whatever the bytes after it look like.
        self.encoding = match (self.opts.encoding, bom) {
            (Some(e), _) => e,
            (None, true) => Encoding::Utf8,
            (None, false) => s.map_or(Encoding::Utf8, |s| s.encoding),
        };
        let body = if bom { &head[BOM.len()..] } else { &head[..] };
        self.pipeline = Some(Pipeline::new(dialect, &self.opts));
        self.send_to_pipeline(body)
    }

    pub fn finish(mut self, bytes_read: u64, compression: Compression) -> Result<TableProfile, ProfileError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.pipeline.is_none() {
            self.start(true)?;
        }
        let Some(p) = self.pipeline.take() else {
            return Err(internal("pipeline missing".into()));
        };
        let (worker, d) = p.finish()?;
        let (tally, cols) = worker.into_parts();
        let rows = tally.rows;
        let columns: Vec<_> = cols.into_iter().map(|(name, acc)| acc.finish(name, rows)).collect();
        let is_json = d.format == Format::JsonLines;
        let ch = |b: u8| (b as char).to_string();
        Ok(TableProfile {
            format: d.format,
            compression,
            delimiter: (!is_json).then(|| ch(d.delimiter)),
            quote: (!is_json).then(|| ch(d.quote)),
            has_header: !is_json && d.has_header,
            line_ending: d.line_ending,
            encoding: self.encoding.label().into(),
            bom: d.bom,
            bytes_read,
            decompressed_bytes: self.decompressed,
            row_count: rows,
            column_count: columns.len() as u64,
            malformed_row_count: tally.malformed,
            malformed_examples: tally.examples,
            quantile_rank_error: kll::RANK_ERROR,
            distinct_relative_error: distinct::RELATIVE_ERROR,
            columns,
        })
    }
}
