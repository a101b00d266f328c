//! Streaming, bounded-memory profiler for CSV, TSV and JSON Lines (optionally
//! gzip-compressed). A pure library over a byte stream: feed chunks of any
//! size, then `finish` to get a [`TableProfile`].
//!
//! The documented rules (null tokens, decimal comma, type thresholds, sketch
//! error bounds) are listed in HANDOFF.md and next to the code that applies
//! them.

mod csv;
mod decompress;
mod dialect;
mod encoding;
mod infer;
mod jsonl;
mod pipeline;
mod result;
mod sketch;
mod stats;
mod summary;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use dialect::{SNIFF_BYTES, Sniffed};
pub use encoding::Encoding;
pub use infer::NULL_TOKENS;
pub use result::{
    BooleanStats, ColumnProfile, ColumnType, Compression, Example, Format, HistogramBin, LengthStats, LineEnding,
    MalformedRow, NumericStats, Quantiles, TableProfile, TemporalStats, TypeCounts, ValueCount,
};
pub use stats::TYPE_THRESHOLD;
pub use summary::{FileSummarizer, FileSummary};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileOptions {
    /// Overrides format detection.
    pub format: Option<Format>,
    /// Overrides delimiter detection (CSV/TSV).
    pub delimiter: Option<u8>,
    /// Overrides quote detection (CSV/TSV).
    pub quote: Option<u8>,
    /// Overrides header detection (CSV/TSV).
    pub has_header: Option<bool>,
    /// Overrides encoding detection.
    pub encoding: Option<Encoding>,
    /// Used as a hint only (`.tsv`, `.jsonl`, `.gz`); content decides.
    pub filename: Option<String>,
    /// A record (CSV) or line (JSON Lines) longer than this fails the job.
    pub max_line_bytes: usize,
    /// Decompressed size limit for gzip input (gzip-bomb guard).
    pub max_decompressed_bytes: u64,
    /// Worker threads; 0 means all available cores.
    pub threads: usize,
    /// More columns (or distinct JSON keys) than this fails the job.
    pub max_columns: usize,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            format: None,
            delimiter: None,
            quote: None,
            has_header: None,
            encoding: None,
            filename: None,
            max_line_bytes: 16 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024 * 1024,
            threads: 0,
            max_columns: 20_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Binary or otherwise not CSV/TSV/JSON Lines.
    NotTabular,
    UnclosedQuote,
    RecordTooLong,
    TooManyColumns,
    DecompressedTooLarge,
    Gzip,
    /// A worker thread died; a bug, never expected.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileError {
    pub kind: ErrorKind,
    /// 1-based line the problem was found at, when it has one.
    pub line: Option<u64>,
    pub message: String,
}

impl ProfileError {
    pub(crate) fn new(kind: ErrorKind, line: Option<u64>, message: String) -> Self {
        ProfileError { kind, line, message }
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ProfileError {}

/// Detects format, compression and dialect from the first bytes of a file
/// (ideally at least [`SNIFF_BYTES`]). `None` means it is not tabular text.
pub fn sniff(head: &[u8], filename: &str) -> Option<Sniffed> {
    if decompress::is_gzip(head) {
        let text = decompress::gunzip_prefix(head, SNIFF_BYTES);
        let mut s = dialect::sniff_text(&text, filename, false)?;
        s.compression = Compression::Gzip;
        return Some(s);
    }
    dialect::sniff_text(head, filename, head.len() < SNIFF_BYTES)
}

/// Streams a file through detection, decompression, parsing and statistics.
pub struct Profiler {
    input: decompress::Input,
    bytes_read: u64,
}

impl Profiler {
    pub fn new(opts: ProfileOptions) -> Self {
        Profiler { input: decompress::Input::new(pipeline::Stage::new(opts)), bytes_read: 0 }
    }

    /// Feeds the next chunk of the (possibly gzip-compressed) file.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), ProfileError> {
        self.bytes_read += chunk.len() as u64;
        self.input.feed(chunk)
    }

    /// Bytes consumed so far (compressed bytes for gzip), for progress.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    pub fn finish(self) -> Result<TableProfile, ProfileError> {
        let (stage, compression) = self.input.finish()?;
        stage.finish(self.bytes_read, compression)
    }
}
