//! The serialisable profile. Field names are plain snake_case; the server
//! stores this as JSON and reads it back for as long as the job exists.
//!
//! Stored results never migrate, so every struct here reads with
//! `#[serde(default)]` and every enum has a default: a field added later is
//! absent from every result stored before, and must not make those results
//! unreadable. Unknown fields are ignored, so removing one is safe too.
//! `tests/fixtures/stored-results` holds results as they were stored; a test
//! reads them, and reads them again without each of their fields.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Csv,
    Tsv,
    JsonLines,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    #[default]
    None,
    Gzip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEnding {
    Lf,
    Crlf,
    Cr,
    Mixed,
    /// Fewer than one complete line was seen.
    #[default]
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Integer,
    Float,
    Boolean,
    Date,
    Datetime,
    String,
    /// Every value is null (or the column never had a value).
    #[default]
    Empty,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TypeCounts {
    pub integer: u64,
    pub float: u64,
    pub boolean: u64,
    pub date: u64,
    pub datetime: u64,
    pub string: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quantiles<T> {
    pub p1: T,
    pub p5: T,
    pub p25: T,
    pub p50: T,
    pub p75: T,
    pub p95: T,
    pub p99: T,
}

/// `lower..=upper` for the last bin, `lower..upper` for the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HistogramBin<T> {
    pub lower: T,
    pub upper: T,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NumericStats {
    /// Exact; a JSON integer when every fitting value was an integer.
    pub min: serde_json::Number,
    pub max: serde_json::Number,
    /// Mean, sample standard deviation (n − 1, like DuckDB's `stddev`) and
    /// sum; None where f64 overflows (values beyond ~1e154 square to
    /// infinity), since JSON has no representation for infinity.
    pub mean: Option<f64>,
    pub std_dev: Option<f64>,
    pub sum: Option<f64>,
    pub zero_count: u64,
    pub negative_count: u64,
    /// Approximate (KLL, see `quantile_rank_error`); exact below 1000 values.
    pub quantiles: Quantiles<f64>,
    /// 20 equal-width bins (one per value for small integer ranges), counts
    /// estimated from the quantile sketch.
    pub histogram: Vec<HistogramBin<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemporalStats {
    pub min: String,
    pub max: String,
    pub mean: String,
    pub quantiles: Quantiles<String>,
    pub histogram: Vec<HistogramBin<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BooleanStats {
    pub true_count: u64,
    pub false_count: u64,
}

/// Lengths in Unicode scalar values of the non-null values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LengthStats {
    pub min: u64,
    pub max: u64,
    pub mean: f64,
    pub histogram: Vec<HistogramBin<u64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Example {
    /// 1-based physical line where the record starts.
    pub line: u64,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnProfile {
    pub name: String,
    pub inferred_type: ColumnType,
    /// Share of non-null values that fit `inferred_type` (1.0 for string).
    pub type_share: f64,
    pub type_counts: TypeCounts,
    /// Rows that belong to the profile (malformed rows excluded).
    pub count: u64,
    pub non_null_count: u64,
    /// Nulls including empties and, for JSON Lines, absent keys.
    pub null_count: u64,
    pub empty_count: u64,
    pub distinct_count: u64,
    /// True when `distinct_count` is exact (≤ 4096 distinct values).
    pub distinct_exact: bool,
    /// Over the values that fit, when the type is integer or float.
    pub numeric: Option<NumericStats>,
    /// Over the values that fit, when the type is date or datetime.
    pub temporal: Option<TemporalStats>,
    pub boolean: Option<BooleanStats>,
    pub lengths: Option<LengthStats>,
    /// Byte-wise lexicographic extremes of the values classified as text
    /// (not numbers, dates or booleans), compared on their first 1 KiB and
    /// truncated to 200 bytes for display.
    pub min_text: Option<String>,
    pub max_text: Option<String>,
    pub top_values: Vec<ValueCount>,
    /// Any `top_values` count may be low by at most this (0 = exact counts).
    pub top_values_error_bound: u64,
    /// First few distinct non-null values in file order (each truncated to
    /// 200 bytes, like `top_values` and `junk_examples`).
    pub samples: Vec<String>,
    /// First few non-null values that do not fit `inferred_type`.
    pub junk_examples: Vec<Example>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MalformedRow {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableProfile {
    pub format: Format,
    pub compression: Compression,
    /// The delimiter as a one-character string (`"\t"` for TSV); None for JSON Lines.
    pub delimiter: Option<String>,
    pub quote: Option<String>,
    pub has_header: bool,
    pub line_ending: LineEnding,
    /// `utf-8`; invalid sequences make their rows malformed.
    pub encoding: String,
    pub bom: bool,
    /// Bytes consumed from the input (compressed bytes for gzip).
    pub bytes_read: u64,
    pub decompressed_bytes: u64,
    pub row_count: u64,
    pub column_count: u64,
    pub malformed_row_count: u64,
    pub malformed_examples: Vec<MalformedRow>,
    /// Normalised rank error bound of the quantiles and histograms.
    pub quantile_rank_error: f64,
    /// Relative standard error of `distinct_count` when it is not exact.
    pub distinct_relative_error: f64,
    pub columns: Vec<ColumnProfile>,
}

impl Default for NumericStats {
    fn default() -> NumericStats {
        NumericStats {
            min: 0.into(),
            max: 0.into(),
            mean: None,
            std_dev: None,
            sum: None,
            zero_count: 0,
            negative_count: 0,
            quantiles: Quantiles::default(),
            histogram: Vec::new(),
        }
    }
}
