//! The table profile as GraphQL types: typed fields mirroring
//! `profile::TableProfile`, so clients select exactly the statistics they
//! draw. Counts are `Int64`; ratios are `Float` in 0..1.

use async_graphql::{Enum, OutputType, SimpleObject};

use super::scalars::Int64;
use crate::profile;

fn int64(n: u64) -> Int64 {
    Int64(i64::try_from(n).unwrap_or(i64::MAX))
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::profile::Format")]
pub enum TableFormat {
    Csv,
    Tsv,
    JsonLines,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::profile::Compression")]
pub enum Compression {
    None,
    Gzip,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::profile::LineEnding")]
pub enum LineEnding {
    Lf,
    Crlf,
    Cr,
    Mixed,
    /// Fewer than one complete line was seen.
    Unknown,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::profile::ColumnType")]
pub enum ColumnType {
    Integer,
    Float,
    Boolean,
    Date,
    Datetime,
    String,
    /// Every value is null.
    Empty,
}

/// A profile of a CSV, TSV or JSON Lines file.
#[derive(SimpleObject)]
pub struct TableProfile {
    format: TableFormat,
    compression: Compression,
    /// One character (`"\t"` for TSV); null for JSON Lines.
    delimiter: Option<String>,
    quote: Option<String>,
    has_header: bool,
    line_ending: LineEnding,
    encoding: String,
    /// Whether the file starts with a UTF-8 byte order mark.
    bom: bool,
    /// Bytes read from storage (compressed bytes for gzip).
    bytes_read: Int64,
    decompressed_bytes: Int64,
    /// Rows profiled (malformed rows excluded).
    row_count: Int64,
    column_count: Int64,
    malformed_row_count: Int64,
    /// The first malformed rows, with why.
    malformed_examples: Vec<MalformedRow>,
    /// Bound on the normalised rank error of quantiles and histograms.
    quantile_rank_error: f64,
    /// Relative standard error of `distinctCount` where it is not exact.
    distinct_relative_error: f64,
    columns: Vec<ColumnProfile>,
}

#[derive(SimpleObject)]
pub struct MalformedRow {
    /// 1-based line where the row starts.
    line: Int64,
    reason: String,
}

#[derive(SimpleObject)]
pub struct ColumnProfile {
    name: String,
    inferred_type: ColumnType,
    /// Share of non-null values that fit `inferredType`: 0.9998 means 99.98%
    /// fit and the rest are junk (see `junkExamples`).
    type_share: f64,
    type_counts: TypeCounts,
    count: Int64,
    non_null_count: Int64,
    /// Nulls, including empty values and (JSON Lines) absent keys.
    null_count: Int64,
    empty_count: Int64,
    distinct_count: Int64,
    /// Whether `distinctCount` is exact rather than estimated.
    distinct_exact: bool,
    /// For integer and float columns, over the values that fit.
    numeric: Option<NumericStats>,
    /// For date and datetime columns, over the values that fit.
    temporal: Option<TemporalStats>,
    boolean: Option<BooleanStats>,
    /// Lengths of the non-null values, in characters.
    lengths: Option<LengthStats>,
    min_text: Option<String>,
    max_text: Option<String>,
    /// The most frequent values, most frequent first.
    top_values: Vec<ValueCount>,
    /// Each `topValues` count may be low by at most this (0: exact).
    top_values_error_bound: Int64,
    samples: Vec<String>,
    /// The first non-null values that do not fit `inferredType`.
    junk_examples: Vec<Example>,
}

/// How many non-null values parse as each type.
#[derive(SimpleObject)]
pub struct TypeCounts {
    integer: Int64,
    float: Int64,
    boolean: Int64,
    date: Int64,
    datetime: Int64,
    string: Int64,
}

#[derive(SimpleObject)]
pub struct NumericStats {
    min: f64,
    max: f64,
    /// Null where the values are too large for a finite result (beyond ~1e154).
    mean: Option<f64>,
    /// Sample standard deviation (n − 1); null as `mean`.
    std_dev: Option<f64>,
    sum: Option<f64>,
    zero_count: Int64,
    negative_count: Int64,
    quantiles: Quantiles<f64>,
    histogram: Vec<Bin<f64>>,
}

/// Approximate quantiles, within `TableProfile.quantileRankError` in rank.
#[derive(SimpleObject)]
#[graphql(concrete(name = "NumericQuantiles", params(f64)), concrete(name = "TemporalQuantiles", params(String)))]
pub struct Quantiles<T: OutputType> {
    p1: T,
    p5: T,
    p25: T,
    p50: T,
    p75: T,
    p95: T,
    p99: T,
}

impl<T: OutputType> From<profile::Quantiles<T>> for Quantiles<T> {
    fn from(q: profile::Quantiles<T>) -> Self {
        Quantiles { p1: q.p1, p5: q.p5, p25: q.p25, p50: q.p50, p75: q.p75, p95: q.p95, p99: q.p99 }
    }
}

/// `[lower, upper)`; the last bin includes `upper`.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "NumericBin", params(f64)),
    concrete(name = "TemporalBin", params(String)),
    concrete(name = "LengthBin", params(Int64))
)]
pub struct Bin<T: OutputType> {
    lower: T,
    upper: T,
    count: Int64,
}

fn bins<T, U: OutputType>(bins: Vec<profile::HistogramBin<T>>, convert: impl Fn(T) -> U) -> Vec<Bin<U>> {
    bins.into_iter().map(|b| Bin { lower: convert(b.lower), upper: convert(b.upper), count: int64(b.count) }).collect()
}

/// Dates and datetimes as ISO 8601 strings.
#[derive(SimpleObject)]
pub struct TemporalStats {
    min: String,
    max: String,
    mean: String,
    quantiles: Quantiles<String>,
    histogram: Vec<Bin<String>>,
}

#[derive(SimpleObject)]
pub struct BooleanStats {
    true_count: Int64,
    false_count: Int64,
}

#[derive(SimpleObject)]
pub struct LengthStats {
    min: Int64,
    max: Int64,
    mean: f64,
    histogram: Vec<Bin<Int64>>,
}

#[derive(SimpleObject)]
pub struct ValueCount {
    value: String,
    count: Int64,
}

#[derive(SimpleObject)]
pub struct Example {
    line: Int64,
    value: String,
}

impl From<profile::TableProfile> for TableProfile {
    fn from(p: profile::TableProfile) -> Self {
        TableProfile {
            format: p.format.into(),
            compression: p.compression.into(),
            delimiter: p.delimiter,
            quote: p.quote,
            has_header: p.has_header,
            line_ending: p.line_ending.into(),
            encoding: p.encoding,
            bom: p.bom,
            bytes_read: int64(p.bytes_read),
            decompressed_bytes: int64(p.decompressed_bytes),
            row_count: int64(p.row_count),
            column_count: int64(p.column_count),
            malformed_row_count: int64(p.malformed_row_count),
            malformed_examples: p
                .malformed_examples
                .into_iter()
                .map(|m| MalformedRow { line: int64(m.line), reason: m.reason })
                .collect(),
            quantile_rank_error: p.quantile_rank_error,
            distinct_relative_error: p.distinct_relative_error,
            columns: p.columns.into_iter().map(ColumnProfile::from).collect(),
        }
    }
}

impl From<profile::ColumnProfile> for ColumnProfile {
    fn from(c: profile::ColumnProfile) -> Self {
        let t = c.type_counts;
        ColumnProfile {
            name: c.name,
            inferred_type: c.inferred_type.into(),
            type_share: c.type_share,
            type_counts: TypeCounts {
                integer: int64(t.integer),
                float: int64(t.float),
                boolean: int64(t.boolean),
                date: int64(t.date),
                datetime: int64(t.datetime),
                string: int64(t.string),
            },
            count: int64(c.count),
            non_null_count: int64(c.non_null_count),
            null_count: int64(c.null_count),
            empty_count: int64(c.empty_count),
            distinct_count: int64(c.distinct_count),
            distinct_exact: c.distinct_exact,
            numeric: c.numeric.map(NumericStats::from),
            temporal: c.temporal.map(TemporalStats::from),
            boolean: c
                .boolean
                .map(|b| BooleanStats { true_count: int64(b.true_count), false_count: int64(b.false_count) }),
            lengths: c.lengths.map(|l| LengthStats {
                min: int64(l.min),
                max: int64(l.max),
                mean: l.mean,
                histogram: bins(l.histogram, int64),
            }),
            min_text: c.min_text,
            max_text: c.max_text,
            top_values: c
                .top_values
                .into_iter()
                .map(|v| ValueCount { value: v.value, count: int64(v.count) })
                .collect(),
            top_values_error_bound: int64(c.top_values_error_bound),
            samples: c.samples,
            junk_examples: c
                .junk_examples
                .into_iter()
                .map(|e| Example { line: int64(e.line), value: e.value })
                .collect(),
        }
    }
}

impl From<profile::NumericStats> for NumericStats {
    fn from(n: profile::NumericStats) -> Self {
        NumericStats {
            min: n.min.as_f64().unwrap_or(f64::NAN),
            max: n.max.as_f64().unwrap_or(f64::NAN),
            mean: n.mean,
            std_dev: n.std_dev,
            sum: n.sum,
            zero_count: int64(n.zero_count),
            negative_count: int64(n.negative_count),
            quantiles: n.quantiles.into(),
            histogram: bins(n.histogram, |x| x),
        }
    }
}

impl From<profile::TemporalStats> for TemporalStats {
    fn from(t: profile::TemporalStats) -> Self {
        TemporalStats {
            min: t.min,
            max: t.max,
            mean: t.mean,
            quantiles: t.quantiles.into(),
            histogram: bins(t.histogram, |x| x),
        }
    }
}
