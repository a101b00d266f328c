//! Per-column accumulation. One `ColumnAcc` per column per worker; they are
//! merged at the end and turned into a `ColumnProfile`.

use super::infer::{self, Cell};
use super::result::{
    BooleanStats, ColumnProfile, ColumnType, Example, HistogramBin, LengthStats, NumericStats, Quantiles,
    TemporalStats, TypeCounts, ValueCount,
};
use super::sketch::distinct::Distinct;
use super::sketch::hash;
use super::sketch::kll::{self, Kll};
use super::sketch::topk::{self, TopK};

/// A type is chosen when at least this share of the non-null values fit it.
pub const TYPE_THRESHOLD: f64 = 0.95;
const TOP_K: usize = 10;
const SAMPLES: usize = 5;
const EXAMPLES_PER_KIND: usize = 3;
const JUNK_EXAMPLES: usize = 5;
const HIST_BINS: usize = 20;
/// Text extremes are compared on this many leading bytes.
const TEXT_KEY: usize = 1024;
const EXACT_LENGTHS: usize = 65;
const LENGTH_SLOTS: usize = EXACT_LENGTHS + 64;

const K_INT: usize = 0;
const K_FLOAT: usize = 1;
const K_BOOL: usize = 2;
const K_DATE: usize = 3;
const K_DATETIME: usize = 4;
const K_STR: usize = 5;

/// Integer columns whose values stay within this many consecutive integers
/// (ages, years, ratings, small counts) are counted exactly.
const EXACT_SPAN: i128 = 8192;

/// Exact value counts over a window of integers: quantiles and histograms
/// come out exact, and a value costs an array increment instead of a sketch
/// update. Left for the KLL sketch as soon as a value does not fit.
#[derive(Clone, Default)]
struct IntCounts {
    base: i64,
    counts: Vec<u64>,
}

impl IntCounts {
    fn fits(&self, lo: i64, hi: i64) -> bool {
        if self.counts.is_empty() {
            return i128::from(hi) - i128::from(lo) < EXACT_SPAN;
        }
        let top = self.base + self.counts.len() as i64 - 1;
        i128::from(hi.max(top)) - i128::from(lo.min(self.base)) < EXACT_SPAN
    }

    /// Counts `i` (`c` times); false, changing nothing, if the window would
    /// grow past `EXACT_SPAN`.
    fn add(&mut self, i: i64, c: u64) -> bool {
        if !self.fits(i, i) {
            return false;
        }
        if self.counts.is_empty() {
            self.base = i;
        } else if i < self.base {
            let grow = (self.base - i) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.base = i;
        }
        let at = (i - self.base) as usize;
        if at >= self.counts.len() {
            self.counts.resize(at + 1, 0);
        }
        self.counts[at] += c;
        true
    }

    fn merge(&mut self, o: &IntCounts) -> bool {
        if o.counts.is_empty() {
            return true;
        }
        let top = o.base + o.counts.len() as i64 - 1;
        if !self.fits(o.base, top) {
            return false;
        }
        for (k, &c) in o.counts.iter().enumerate() {
            if c > 0 {
                self.add(o.base + k as i64, c);
            }
        }
        true
    }

    fn spill_into(&self, kll: &mut Kll) {
        for (k, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                kll.update_weighted((self.base + k as i64) as f64, c);
            }
        }
    }

    fn cdf(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        self.counts
            .iter()
            .enumerate()
            .filter(|p| *p.1 > 0)
            .map(|(k, &c)| {
                acc += c;
                ((self.base + k as i64) as f64, acc)
            })
            .collect()
    }
}

#[derive(Clone)]
pub struct NumAcc {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    int_min: i64,
    int_max: i64,
    all_int: bool,
    zeros: u64,
    negatives: u64,
    /// Some while every value so far was an integer within `EXACT_SPAN`;
    /// `kll` is empty until then.
    exact: Option<IntCounts>,
    kll: Kll,
}

impl Default for NumAcc {
    fn default() -> Self {
        NumAcc {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            int_min: i64::MAX,
            int_max: i64::MIN,
            all_int: true,
            zeros: 0,
            negatives: 0,
            exact: Some(IntCounts::default()),
            kll: Kll::default(),
        }
    }
}

impl NumAcc {
    #[inline]
    fn push(&mut self, x: f64, int: Option<i64>) {
        // Welford's update: stable where the naive sum of squares cancels.
        // Multiplying by 1/n keeps the division off the loop-carried
        // dependency through `mean` (it only depends on the counter).
        self.n += 1;
        let inv_n = 1.0 / self.n as f64;
        let d = x - self.mean;
        self.mean += d * inv_n;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        match int {
            Some(i) => {
                self.int_min = self.int_min.min(i);
                self.int_max = self.int_max.max(i);
            }
            None => self.all_int = false,
        }
        self.zeros += u64::from(x == 0.0);
        self.negatives += u64::from(x < 0.0);
        let counted = match (self.exact.as_mut(), int) {
            (Some(ec), Some(i)) => ec.add(i, 1),
            _ => false,
        };
        if !counted {
            if let Some(ec) = self.exact.take() {
                ec.spill_into(&mut self.kll);
            }
            self.kll.update(x);
        }
    }

    /// Sorted (value, cumulative count) pairs, exact when counted exactly.
    fn cdf(&self) -> Vec<(f64, u64)> {
        match &self.exact {
            Some(ec) => ec.cdf(),
            None => self.kll.cdf(),
        }
    }

    fn merge(&mut self, o: &NumAcc) {
        if o.n == 0 {
            return;
        }
        // Chan et al.'s pairwise combination of (n, mean, M2).
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        let nf = n as f64;
        self.mean += d * o.n as f64 / nf;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / nf;
        self.n = n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.int_min = self.int_min.min(o.int_min);
        self.int_max = self.int_max.max(o.int_max);
        self.all_int &= o.all_int;
        self.zeros += o.zeros;
        self.negatives += o.negatives;
        let both_exact = match (self.exact.as_mut(), &o.exact) {
            (Some(a), Some(b)) => a.merge(b),
            _ => false,
        };
        if !both_exact {
            if let Some(a) = self.exact.take() {
                a.spill_into(&mut self.kll);
            }
            match &o.exact {
                Some(b) => b.spill_into(&mut self.kll),
                None => self.kll.merge(&o.kll),
            }
        }
    }

    fn std_dev(&self) -> f64 {
        if self.n < 2 { 0.0 } else { (self.m2 / (self.n - 1) as f64).sqrt() }
    }
}

/// Something that can produce the current record's line number on demand:
/// counting lines is only paid for when an example is kept.
pub trait LineSource {
    fn line(&mut self) -> u64;
}

impl LineSource for u64 {
    fn line(&mut self) -> u64 {
        *self
    }
}

#[derive(Default)]
pub struct ColumnAcc {
    /// Cells seen, nulls included. For JSON Lines, absent keys are not cells.
    pub cells: u64,
    nulls: u64,
    empties: u64,
    counts: [u64; 6],
    num: Option<Box<NumAcc>>,
    time: Option<Box<NumAcc>>,
    bools: [u64; 2],
    lengths: Vec<u64>,
    len_sum: u64,
    len_min: u64,
    len_max: u64,
    text_min: Option<Vec<u8>>,
    text_max: Option<Vec<u8>>,
    distinct: Distinct,
    topk: TopK,
    samples: Vec<(u64, u64, String)>,
    examples: Vec<(usize, u64, String)>,
    /// Examples kept per kind, so the hot path need not scan `examples`.
    example_counts: [usize; 6],
}

fn char_len(v: &[u8]) -> u64 {
    v.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

fn length_slot(len: u64) -> usize {
    if (len as usize) < EXACT_LENGTHS { len as usize } else { EXACT_LENGTHS + (63 - len.leading_zeros() as usize) }
}

impl ColumnAcc {
    /// A JSON `null`: a null cell that is not an empty string.
    pub fn push_null(&mut self) {
        self.cells += 1;
        self.nulls += 1;
    }

    /// `v` must be valid UTF-8 (callers check per block) and is trimmed here.
    #[inline]
    pub fn update<L: LineSource>(&mut self, raw: &[u8], decimal_comma: bool, line: &mut L) {
        self.cells += 1;
        let v = infer::trim(raw);
        let cell = infer::classify(v, decimal_comma);
        let kind = match cell {
            Cell::Null => {
                self.nulls += 1;
                self.empties += u64::from(v.is_empty());
                return;
            }
            Cell::Int(i) => {
                self.num.get_or_insert_default().push(i as f64, Some(i));
                K_INT
            }
            Cell::Float(f) => {
                self.num.get_or_insert_default().push(f, None);
                K_FLOAT
            }
            Cell::Bool(b) => {
                self.bools[usize::from(b)] += 1;
                K_BOOL
            }
            Cell::Date(t) => {
                self.time.get_or_insert_default().push(t, None);
                K_DATE
            }
            Cell::DateTime(t) => {
                self.time.get_or_insert_default().push(t, None);
                K_DATETIME
            }
            Cell::Str => K_STR,
        };
        self.counts[kind] += 1;

        // Only text can hold multi-byte characters; every other kind is ASCII.
        let len = if kind == K_STR { char_len(v) } else { v.len() as u64 };
        if self.lengths.is_empty() {
            self.lengths = vec![0; LENGTH_SLOTS];
            self.len_min = len;
            self.len_max = len;
        }
        self.lengths[length_slot(len)] += 1;
        self.len_sum += len;
        self.len_min = self.len_min.min(len);
        self.len_max = self.len_max.max(len);

        // Numbers, dates and booleans have their own extremes; comparing
        // them as text too would only cost time. Only a prefix is kept so a
        // huge field cannot pin memory, and sorted columns set a new extreme
        // on every row, so the buffers are reused.
        let key = &v[..v.len().min(TEXT_KEY)];
        if kind == K_STR && self.text_min.as_deref().is_none_or(|m| key < m) {
            let m = self.text_min.get_or_insert_default();
            m.clear();
            m.extend_from_slice(key);
        }
        if kind == K_STR && self.text_max.as_deref().is_none_or(|m| key > m) {
            let m = self.text_max.get_or_insert_default();
            m.clear();
            m.extend_from_slice(key);
        }

        let h = hash(v);
        self.distinct.insert(h, &self.topk);
        self.topk.insert(h, v);

        if self.samples.len() < SAMPLES && !self.samples.iter().any(|s| s.1 == h) {
            self.samples.push((line.line(), h, clip(v)));
        }
        if self.example_counts[kind] < EXAMPLES_PER_KIND {
            self.example_counts[kind] += 1;
            self.examples.push((kind, line.line(), clip(v)));
        }
    }

    pub fn merge(&mut self, o: ColumnAcc) {
        self.cells += o.cells;
        self.nulls += o.nulls;
        self.empties += o.empties;
        for i in 0..6 {
            self.counts[i] += o.counts[i];
        }
        merge_num(&mut self.num, o.num);
        merge_num(&mut self.time, o.time);
        self.bools[0] += o.bools[0];
        self.bools[1] += o.bools[1];
        if !o.lengths.is_empty() {
            if self.lengths.is_empty() {
                self.lengths = o.lengths;
                self.len_min = o.len_min;
                self.len_max = o.len_max;
            } else {
                for (a, b) in self.lengths.iter_mut().zip(o.lengths.iter()) {
                    *a += b;
                }
                self.len_min = self.len_min.min(o.len_min);
                self.len_max = self.len_max.max(o.len_max);
            }
        }
        self.len_sum += o.len_sum;
        self.text_min = match (self.text_min.take(), o.text_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.text_max = match (self.text_max.take(), o.text_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.distinct.merge(&self.topk, o.distinct, &o.topk);
        self.topk.merge(o.topk);
        for s in o.samples {
            if !self.samples.iter().any(|x| x.1 == s.1) {
                self.samples.push(s);
            }
        }
        self.samples.sort_by_key(|s| s.0);
        self.samples.truncate(SAMPLES);
        self.examples.extend(o.examples);
        self.examples.sort_by_key(|e| e.1);
        let mut per_kind = [0usize; 6];
        self.examples.retain(|e| {
            per_kind[e.0] += 1;
            per_kind[e.0] <= EXAMPLES_PER_KIND
        });
        self.example_counts = per_kind.map(|c| c.min(EXAMPLES_PER_KIND));
    }

    /// `rows` is the number of rows in the profile; rows without a cell for
    /// this column (absent JSON keys) count as null.
    pub fn finish(self, name: String, rows: u64) -> ColumnProfile {
        let (distinct_count, distinct_exact) = self.distinct.estimate(&self.topk);
        let absent = rows.saturating_sub(self.cells);
        let null_count = self.nulls + absent;
        let non_null: u64 = self.counts.iter().sum();
        let (ty, fits) = decide_type(&self.counts);
        let fitting: u64 = fits.iter().map(|&k| self.counts[k]).sum();
        let type_share = if non_null == 0 { 0.0 } else { fitting as f64 / non_null as f64 };
        let numeric = match (ty, &self.num) {
            (ColumnType::Integer | ColumnType::Float, Some(n)) => numeric_stats(n),
            _ => None,
        };
        let temporal = match (ty, &self.time) {
            (ColumnType::Date | ColumnType::Datetime, Some(n)) => temporal_stats(n, ty == ColumnType::Date),
            _ => None,
        };
        let boolean =
            (ty == ColumnType::Boolean).then(|| BooleanStats { true_count: self.bools[1], false_count: self.bools[0] });
        let lengths = (non_null > 0).then(|| LengthStats {
            min: self.len_min,
            max: self.len_max,
            mean: self.len_sum as f64 / non_null as f64,
            histogram: length_histogram(&self.lengths, self.len_min, self.len_max),
        });
        let mut junk: Vec<Example> = self
            .examples
            .iter()
            .filter(|e| !fits.contains(&e.0))
            .map(|e| Example { line: e.1, value: e.2.clone() })
            .collect();
        junk.sort_by_key(|e| e.line);
        junk.truncate(JUNK_EXAMPLES);
        ColumnProfile {
            name,
            inferred_type: ty,
            type_share,
            type_counts: TypeCounts {
                integer: self.counts[K_INT],
                float: self.counts[K_FLOAT],
                boolean: self.counts[K_BOOL],
                date: self.counts[K_DATE],
                datetime: self.counts[K_DATETIME],
                string: self.counts[K_STR],
            },
            count: rows,
            non_null_count: non_null,
            null_count,
            empty_count: self.empties,
            distinct_count,
            distinct_exact,
            numeric,
            temporal,
            boolean,
            lengths,
            min_text: self.text_min.as_deref().map(clip),
            max_text: self.text_max.as_deref().map(clip),
            top_values: self.topk.top(TOP_K).into_iter().map(|(value, count)| ValueCount { value, count }).collect(),
            top_values_error_bound: self.topk.error(),
            samples: self.samples.into_iter().map(|s| s.2).collect(),
            junk_examples: junk,
        }
    }
}

/// Display form of a value: at most `topk::MAX_TEXT` bytes, cut on a
/// character boundary.
fn clip(v: &[u8]) -> String {
    let mut end = v.len().min(topk::MAX_TEXT);
    while end < v.len() && end > 0 && (v[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    String::from_utf8_lossy(&v[..end]).into_owned()
}

fn merge_num(a: &mut Option<Box<NumAcc>>, b: Option<Box<NumAcc>>) {
    match (a.as_mut(), b) {
        (Some(x), Some(y)) => x.merge(&y),
        (None, Some(y)) => *a = Some(y),
        _ => {}
    }
}

/// Returns the type and the value kinds that fit it.
pub fn decide_type(c: &[u64; 6]) -> (ColumnType, &'static [usize]) {
    let nn: u64 = c.iter().sum();
    if nn == 0 {
        return (ColumnType::Empty, &[]);
    }
    let share = |k: u64| k as f64 / nn as f64;
    if c[K_FLOAT] == 0 && share(c[K_INT]) >= TYPE_THRESHOLD {
        (ColumnType::Integer, &[K_INT])
    } else if share(c[K_INT] + c[K_FLOAT]) >= TYPE_THRESHOLD {
        (ColumnType::Float, &[K_INT, K_FLOAT])
    } else if share(c[K_BOOL]) >= TYPE_THRESHOLD {
        (ColumnType::Boolean, &[K_BOOL])
    } else if c[K_DATETIME] == 0 && share(c[K_DATE]) >= TYPE_THRESHOLD {
        (ColumnType::Date, &[K_DATE])
    } else if share(c[K_DATE] + c[K_DATETIME]) >= TYPE_THRESHOLD {
        (ColumnType::Datetime, &[K_DATE, K_DATETIME])
    } else {
        (ColumnType::String, &[K_INT, K_FLOAT, K_BOOL, K_DATE, K_DATETIME, K_STR])
    }
}

const QS: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

fn quantiles<T>(cdf: &[(f64, u64)], f: impl Fn(f64) -> T) -> Option<Quantiles<T>> {
    let q = |p: f64| kll::quantile(cdf, p).map(&f);
    Some(Quantiles {
        p1: q(QS[0])?,
        p5: q(QS[1])?,
        p25: q(QS[2])?,
        p50: q(QS[3])?,
        p75: q(QS[4])?,
        p95: q(QS[5])?,
        p99: q(QS[6])?,
    })
}

/// A "nice" bin width (1, 2, 2.5 or 5 times a power of ten; whole numbers
/// for integer columns) giving at most `HIST_BINS` bins over `span`.
fn nice_width(span: f64, integer: bool) -> f64 {
    let raw = span / HIST_BINS as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let steps: &[f64] = if integer && mag < 10.0 { &[1.0, 2.0, 5.0, 10.0] } else { &[1.0, 2.0, 2.5, 5.0, 10.0] };
    let w = steps.iter().map(|m| m * mag).find(|&w| w >= raw).unwrap_or(10.0 * mag);
    if integer { w.max(1.0) } else { w }
}

/// Round edges for numbers: `start + k·w` with a nice width, or None when
/// the magnitudes make such a grid meaningless.
fn numeric_edges(min: f64, max: f64, integer: bool) -> Option<Vec<f64>> {
    let w = nice_width(max - min, integer);
    let start = (min / w).floor() * w;
    let bins = ((max - start) / w).ceil();
    if !(w.is_finite() && start.is_finite() && (1.0..=2.0 * HIST_BINS as f64).contains(&bins)) {
        return None;
    }
    let mut edges: Vec<f64> = (0..=bins as usize).map(|k| start + w * k as f64).collect();
    // The last bin is closed, but rounding may still leave max outside it.
    if edges.last().is_some_and(|&e| e < max) {
        edges.push(start + w * (bins + 1.0));
    }
    // Near f64::MAX the rounded-up last edge can overflow.
    edges.iter().all(|e| e.is_finite()).then_some(edges)
}

const DAY: f64 = 86_400.0;
/// Bin widths for temporal data up to a week, in seconds.
const TIME_STEPS: [f64; 20] = [
    1.0,
    2.0,
    5.0,
    10.0,
    15.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    900.0,
    1800.0,
    3600.0,
    7200.0,
    10_800.0,
    21_600.0,
    43_200.0,
    DAY,
    2.0 * DAY,
    7.0 * DAY,
];
const MONTH_STEPS: [i64; 10] = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600];

/// Calendar-aligned edges for timestamps (seconds since the epoch, UTC):
/// fixed steps up to a week (weeks start on Monday), whole months or years
/// beyond; whole days at least for date columns.
fn temporal_edges(min: f64, max: f64, date_only: bool) -> Option<Vec<f64>> {
    let raw = (max - min) / HIST_BINS as f64;
    let floor_step = if date_only { DAY } else { 1.0 };
    if let Some(&w) = TIME_STEPS.iter().find(|&&w| w >= raw && w >= floor_step) {
        // 1970-01-05 was a Monday.
        let offset = if w == 7.0 * DAY { 4.0 * DAY } else { 0.0 };
        let start = ((min - offset) / w).floor() * w + offset;
        let bins = ((max - start) / w).ceil().max(1.0);
        return (bins <= 2.0 * HIST_BINS as f64).then(|| (0..=bins as usize).map(|k| start + w * k as f64).collect());
    }
    let month_of = |t: f64| {
        let (y, m, _) = infer::civil_from_days((t / DAY).floor() as i64);
        y * 12 + i64::from(m) - 1
    };
    let (first, last) = (month_of(min), month_of(max));
    let step = *MONTH_STEPS.iter().find(|&&m| (last - first) / m < HIST_BINS as i64)?;
    let mut idx = first.div_euclid(step) * step;
    let mut edges = Vec::new();
    loop {
        let (y, m) = (idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1);
        let t = infer::days_from_civil(y, m, 1) as f64 * DAY;
        edges.push(t);
        if t > max {
            break;
        }
        idx += step;
    }
    Some(edges)
}

/// Counts per bin from the sketch's CDF (the sketch's min and max are exact,
/// so every value lands in a bin). Bins are `[lower, upper)`, the last one
/// `[lower, upper]`. Integer columns with fewer than `HIST_BINS` possible
/// values get one bin per value; magnitudes too extreme for any grid get a
/// single bin; otherwise `edges` picks the grid, falling back to equal widths.
fn histogram(
    n: &NumAcc,
    cdf: &[(f64, u64)],
    integer: bool,
    edges: impl FnOnce(f64, f64) -> Option<Vec<f64>>,
) -> Vec<(f64, f64, u64)> {
    if n.n == 0 {
        return Vec::new();
    }
    let span = n.max - n.min;
    if n.min == n.max || !span.is_finite() || span / (HIST_BINS as f64) < f64::MIN_POSITIVE {
        return vec![(n.min, n.max, n.n)];
    }
    if integer && span < HIST_BINS as f64 {
        let mut out = Vec::new();
        let mut prev = 0;
        let mut v = n.min;
        while v <= n.max {
            let r = kll::rank(cdf, v);
            out.push((v, v, r - prev));
            prev = r;
            v += 1.0;
        }
        return out;
    }
    let edges = edges(n.min, n.max).filter(|e| e.len() >= 2).unwrap_or_else(|| {
        let w = span / HIST_BINS as f64;
        let mut e: Vec<f64> = (0..HIST_BINS).map(|k| n.min + w * k as f64).collect();
        e.push(n.max);
        e
    });
    let total = cdf.last().map_or(0, |p| p.1);
    let mut out = Vec::with_capacity(edges.len() - 1);
    let mut prev = 0;
    for (k, pair) in edges.windows(2).enumerate() {
        let (lo, hi) = (pair[0], pair[1]);
        let r = if k + 2 == edges.len() {
            total
        } else {
            // Values equal to an inner edge belong to the upper bin.
            let below = cdf.partition_point(|&(v, _)| v < hi);
            if below == 0 { 0 } else { cdf[below - 1].1 }
        };
        out.push((lo, hi, r.saturating_sub(prev)));
        prev = r.max(prev);
    }
    // The exact min and max lie in the first and last bins; when the
    // sketch's estimate leaves either empty, take the count from the fullest
    // bin, which keeps the total and stays within the error bound.
    for end in [0, out.len() - 1] {
        if out[end].2 == 0
            && let Some(big) = (0..out.len()).max_by_key(|&k| out[k].2)
            && out[big].2 > 1
        {
            out[big].2 -= 1;
            out[end].2 = 1;
        }
    }
    out
}

fn number(x: f64, int: Option<i64>) -> serde_json::Number {
    match int {
        Some(i) => serde_json::Number::from(i),
        None => serde_json::Number::from_f64(x).unwrap_or_else(|| serde_json::Number::from(0)),
    }
}

fn numeric_stats(n: &NumAcc) -> Option<NumericStats> {
    if n.n == 0 {
        return None;
    }
    let cdf = n.cdf();
    let exact_int = n.all_int;
    let hist = histogram(n, &cdf, exact_int, |lo, hi| numeric_edges(lo, hi, exact_int));
    Some(NumericStats {
        min: number(n.min, exact_int.then_some(n.int_min)),
        max: number(n.max, exact_int.then_some(n.int_max)),
        mean: Some(n.mean).filter(|v| v.is_finite()),
        std_dev: Some(n.std_dev()).filter(|v| v.is_finite()),
        sum: Some(n.mean * n.n as f64).filter(|v| v.is_finite()),
        zero_count: n.zeros,
        negative_count: n.negatives,
        quantiles: quantiles(&cdf, |x| x)?,
        histogram: hist.into_iter().map(|(lower, upper, count)| HistogramBin { lower, upper, count }).collect(),
    })
}

fn temporal_stats(n: &NumAcc, date_only: bool) -> Option<TemporalStats> {
    if n.n == 0 {
        return None;
    }
    let cdf = n.cdf();
    let f = |x: f64| infer::format_epoch(x, date_only);
    let hist = histogram(n, &cdf, false, |lo, hi| temporal_edges(lo, hi, date_only));
    Some(TemporalStats {
        min: f(n.min),
        max: f(n.max),
        mean: f(n.mean),
        quantiles: quantiles(&cdf, f)?,
        histogram: hist.into_iter().map(|(lo, hi, count)| HistogramBin { lower: f(lo), upper: f(hi), count }).collect(),
    })
}

/// Exact counts for lengths up to 64 (grouped into at most 16 bins), then
/// power-of-two buckets.
fn length_histogram(slots: &[u64], min: u64, max: u64) -> Vec<HistogramBin<u64>> {
    let mut out = Vec::new();
    if slots.is_empty() {
        return out;
    }
    let exact_hi = max.min(EXACT_LENGTHS as u64 - 1);
    if min <= exact_hi {
        let width = (exact_hi - min + 1).div_ceil(16);
        let mut lo = min;
        while lo <= exact_hi {
            let hi = (lo + width - 1).min(exact_hi);
            let count = (lo..=hi).map(|l| slots[l as usize]).sum();
            out.push(HistogramBin { lower: lo, upper: hi, count });
            lo = hi + 1;
        }
    }
    for b in 6..64usize {
        let count = slots[EXACT_LENGTHS + b];
        if count > 0 {
            let lo = (1u64 << b).max(EXACT_LENGTHS as u64).max(min);
            let hi = ((1u64 << b) - 1 + (1u64 << b)).min(max);
            out.push(HistogramBin { lower: lo, upper: hi, count });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(values: &[&str]) -> ColumnProfile {
        let mut a = ColumnAcc::default();
        for (i, v) in values.iter().enumerate() {
            a.update(v.as_bytes(), false, &mut (i as u64 + 2));
        }
        a.finish("c".into(), values.len() as u64)
    }

    #[test]
    fn junk_keeps_numeric_type() {
        let mut vals: Vec<String> = (0..999).map(|i| format!("{i}.5")).collect();
        vals.push("oops".into());
        let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
        let p = acc(&refs);
        assert_eq!(p.inferred_type, ColumnType::Float);
        assert!((p.type_share - 0.999).abs() < 1e-12);
        assert_eq!(p.junk_examples[0].value, "oops");
        assert_eq!(p.junk_examples[0].line, 1001);
        let n = p.numeric.unwrap();
        assert_eq!(n.max.as_f64(), Some(998.5));
        assert!(n.mean.is_some_and(|m| (m - 499.5).abs() < 1e-9));
    }

    #[test]
    fn integer_min_max_exact() {
        let p = acc(&["9007199254740993", "1", "", "NULL"]);
        assert_eq!(p.inferred_type, ColumnType::Integer);
        let n = p.numeric.unwrap();
        assert_eq!(n.max.to_string(), "9007199254740993");
        assert_eq!(p.null_count, 2);
        assert_eq!(p.empty_count, 1);
    }

    #[test]
    fn small_integer_range_has_unit_bins() {
        let p = acc(&["1", "2", "2", "3", "3", "3"]);
        let h = p.numeric.unwrap().histogram;
        let counts: Vec<u64> = h.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 2, 3]);
    }

    #[test]
    fn nice_bins_cover_the_range() {
        let p = acc(&["0.3", "7.1", "99.2", "42"]);
        let h = p.numeric.expect("numeric").histogram;
        assert_eq!(h[0].lower, 0.0);
        assert_eq!(h[0].upper, 5.0);
        assert!(h[h.len() - 1].upper >= 99.2);
        assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), 4);
        assert!(h.len() <= 21);
        let p = acc(&["-50", "5000", "17"]);
        let h = p.numeric.expect("numeric").histogram;
        assert_eq!((h[0].lower, h[0].upper), (-500.0, 0.0));
        assert_eq!(nice_width(1000.0, false), 50.0);
        assert_eq!(nice_width(30.0, true), 2.0);
        assert_eq!(nice_width(0.045, false), 0.0025);
    }

    #[test]
    fn extreme_values_do_not_break_bins() {
        for vals in [vec!["1e308", "-1e308", "0"], vec!["5e-324", "1e-323"], vec!["1.7976931348623157e308", "1.7e308"]]
        {
            let p = acc(&vals);
            let n = p.numeric.expect("numeric");
            assert_eq!(n.histogram.iter().map(|b| b.count).sum::<u64>(), vals.len() as u64);
            let json = serde_json::to_string(&n).expect("serializes");
            let back: NumericStats = serde_json::from_str(&json).expect("reads back");
            assert_eq!(back.std_dev, n.std_dev);
        }
    }

    #[test]
    fn temporal_bins_are_calendar_aligned() {
        let p = acc(&["2024-01-03T05:00:00Z", "2024-01-03T17:30:00Z"]);
        let h = p.temporal.expect("temporal").histogram;
        assert_eq!(h[0].lower, "2024-01-03T05:00:00Z");
        assert_eq!(h[1].lower, "2024-01-03T06:00:00Z");
        let p = acc(&["2024-01-01", "2024-01-09", "2024-01-05"]);
        let h = p.temporal.expect("temporal").histogram;
        assert_eq!((h.len(), h[0].lower.as_str()), (8, "2024-01-01"));
        assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), 3);
        let p = acc(&["2019-03-15", "2024-11-02"]);
        let h = p.temporal.expect("temporal").histogram;
        assert_eq!(h[0].lower, "2019-01-01");
        assert_eq!(h[1].lower, "2019-07-01");
        assert!(h.len() <= 21 && h[h.len() - 1].upper.as_str() > "2024-11-02");
        // Weeks start on Monday (2024-01-01 was one).
        let p = acc(&["2024-01-03T00:00:00Z", "2024-03-01T00:00:00Z"]);
        let h = p.temporal.expect("temporal").histogram;
        assert_eq!((h[0].lower.as_str(), h[1].lower.as_str()), ("2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z"));
    }

    #[test]
    fn small_integer_ranges_are_exact() {
        let mut a = NumAcc::default();
        let mut b = NumAcc::default();
        for i in 0..100_000i64 {
            let v = (i * 7919) % 5000 - 50;
            if i % 2 == 0 { &mut a } else { &mut b }.push(v as f64, Some(v));
        }
        a.merge(&b);
        assert!(a.exact.is_some());
        let cdf = a.cdf();
        assert_eq!(cdf.last().map(|p| p.1), Some(100_000));
        assert_eq!(kll::quantile(&cdf, 0.5), Some(2449.0));
        // A value outside the window moves everything to the sketch.
        a.push(1e6, Some(1_000_000));
        assert!(a.exact.is_none());
        assert_eq!(a.cdf().last().map(|p| p.1), Some(100_001));
        let mut c = NumAcc::default();
        c.push(i64::MIN as f64, Some(i64::MIN));
        c.push(i64::MAX as f64, Some(i64::MAX));
        assert!(c.exact.is_none());
        let mut d = NumAcc::default();
        d.push(3.0, Some(3));
        let mut e = NumAcc::default();
        e.push(0.5, None);
        d.merge(&e);
        assert!(d.exact.is_none());
        assert_eq!(d.cdf(), vec![(0.5, 1), (3.0, 2)]);
    }

    #[test]
    fn decide_thresholds() {
        assert_eq!(decide_type(&[95, 0, 0, 0, 0, 5]).0, ColumnType::Integer);
        assert_eq!(decide_type(&[94, 0, 0, 0, 0, 6]).0, ColumnType::String);
        assert_eq!(decide_type(&[50, 46, 0, 0, 0, 4]).0, ColumnType::Float);
        assert_eq!(decide_type(&[0, 0, 0, 10, 1, 0]).0, ColumnType::Datetime);
        assert_eq!(decide_type(&[0; 6]).0, ColumnType::Empty);
    }

    #[test]
    fn length_histogram_covers_all() {
        let long = "x".repeat(1000);
        let p = acc(&["a", "bb", &long]);
        let l = p.lengths.unwrap();
        assert_eq!(l.histogram.iter().map(|b| b.count).sum::<u64>(), 3);
        assert_eq!(l.max, 1000);
    }
}
