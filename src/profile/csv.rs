//! CSV/TSV: a cheap quote-aware scanner that cuts the stream into blocks of
//! whole records (so blocks can be parsed on any thread), and the per-block
//! splitter (csv-core semantics, zero-copy).

use super::result::MalformedRow;
use super::stats::{ColumnAcc, LineSource};
use super::{ErrorKind, ProfileError};

const MAX_EXAMPLES: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    Outside,
    Quoted,
    /// Just saw a quote inside a quoted field: either the closing quote or the
    /// first half of an escaped `""`.
    QuoteInQuoted,
}

/// Finds record boundaries (newlines outside quotes) for cutting the stream
/// into blocks, with csv-core's quoting rules: a quote opens a field only at
/// its start (right after a delimiter, `\r`, `\n` or the start of the
/// stream), `""` escapes a quote, and text after a closing quote is kept.
/// Only quote and newline bytes are visited (memchr2); whether a quote is at
/// a field start is read off the byte before it, so delimiters, which are the
/// most frequent special byte, need not be visited at all.
pub struct Scanner {
    delim: u8,
    quote: u8,
    newline: u8,
    st: St,
    /// Last byte of the previous `scan` input (`\n` before the stream).
    prev: u8,
    /// Newlines seen so far.
    pub lines: u64,
    /// Line (0-based newline count) where the currently open quote started.
    pub quote_line: u64,
}

impl Scanner {
    pub fn new(delim: u8, quote: u8, newline: u8) -> Self {
        Scanner { delim, quote, newline, st: St::Outside, prev: b'\n', lines: 0, quote_line: 0 }
    }

    pub fn in_quotes(&self) -> bool {
        self.st == St::Quoted
    }

    /// Scans `buf` and returns the end offset of the last record boundary in
    /// it together with the number of newlines up to that point.
    pub fn scan(&mut self, buf: &[u8]) -> Option<(usize, u64)> {
        self.scan_inner(buf, false)
    }

    /// Like `scan`, but stops at the first record boundary (and consumes
    /// nothing after it): used to find where an over-long record ends.
    pub fn scan_first(&mut self, buf: &[u8]) -> Option<(usize, u64)> {
        self.scan_inner(buf, true)
    }

    fn scan_inner(&mut self, buf: &[u8], first_only: bool) -> Option<(usize, u64)> {
        let (d, q, nl) = (self.delim, self.quote, self.newline);
        let mut boundary = None;
        let mut i = 0;
        for j in memchr::memchr2_iter(q, nl, buf) {
            // Anything between a closing quote and this byte ends the quoting.
            if j > i && self.st == St::QuoteInQuoted {
                self.st = St::Outside;
            }
            i = j + 1;
            if buf[j] == nl {
                self.lines += 1;
                if self.st != St::Quoted {
                    self.st = St::Outside;
                    boundary = Some((j + 1, self.lines));
                    if first_only {
                        self.prev = nl;
                        return boundary;
                    }
                }
                continue;
            }
            self.st = match self.st {
                St::Outside => {
                    let before = if j > 0 { buf[j - 1] } else { self.prev };
                    if before == d || before == b'\n' || before == b'\r' {
                        self.quote_line = self.lines;
                        St::Quoted
                    } else {
                        St::Outside
                    }
                }
                St::Quoted => St::QuoteInQuoted,
                St::QuoteInQuoted => St::Quoted,
            };
        }
        if buf.len() > i && self.st == St::QuoteInQuoted {
            self.st = St::Outside;
        }
        if let Some(&b) = buf.last() {
            self.prev = b;
        }
        boundary
    }
}

/// Splits a block of whole records into fields, with exactly csv-core's
/// semantics for its default dialect (checked against csv-core by a
/// differential test): `\r`, `\n` and `\r\n` end records outside quotes,
/// empty lines are skipped, a quote opens a field only at its start, `""` is
/// an escaped quote, text after a closing quote is appended, and a quote
/// inside an unquoted field is literal. Unlike csv-core it does not copy:
/// fields are slices of the block unless they contain escapes.
pub struct Splitter {
    delim: u8,
    quote: u8,
    /// Bytes that end an unquoted field.
    stop: [bool; 256],
    /// Field bounds: (start, end, in_scratch).
    pub fields: Vec<(usize, usize, bool)>,
    pub scratch: Vec<u8>,
}

impl Splitter {
    pub fn new(delim: u8, quote: u8) -> Self {
        let mut stop = [false; 256];
        for b in [delim, b'\r', b'\n'] {
            stop[b as usize] = true;
        }
        Splitter { delim, quote, stop, fields: Vec::new(), scratch: Vec::new() }
    }

    pub fn field<'a>(&'a self, data: &'a [u8], i: usize) -> &'a [u8] {
        let (s, e, in_scratch) = self.fields[i];
        if in_scratch { &self.scratch[s..e] } else { &data[s..e] }
    }

    /// Reads the record starting at or after `pos`. Returns the start of the
    /// record and the position after it, or None at the end of the data.
    pub fn next_record(&mut self, data: &[u8], mut pos: usize) -> Option<(usize, usize)> {
        while pos < data.len() && matches!(data[pos], b'\r' | b'\n') {
            pos += 1;
        }
        if pos >= data.len() {
            return None;
        }
        let start = pos;
        self.fields.clear();
        self.scratch.clear();
        loop {
            let (end_pos, terminated) = if data.get(pos) == Some(&self.quote) {
                self.quoted_field(data, pos + 1)
            } else {
                let mut i = pos;
                while i < data.len() && !self.stop[data[i] as usize] {
                    i += 1;
                }
                self.fields.push((pos, i, false));
                (i, i >= data.len() || data[i] != self.delim)
            };
            if terminated {
                return Some((start, end_pos));
            }
            pos = end_pos + 1;
        }
    }

    /// Parses a quoted field whose content starts at `content`. Returns the
    /// position of the byte that ended the field (delimiter, terminator or
    /// end of data) and whether it ended the record.
    fn quoted_field(&mut self, data: &[u8], content: usize) -> (usize, bool) {
        let (q, d) = (self.quote, self.delim);
        // Until an escape or trailing text shows up, the field is a plain
        // slice of `data`; after that it is assembled in `scratch` from
        // `copy`, with `pos` marking what is already copied.
        let mut copy: Option<usize> = None;
        let mut pos = content;
        loop {
            let Some(off) = memchr::memchr(q, &data[pos..]) else {
                // Unclosed at the end of the data: csv-core keeps what it has.
                self.end_quoted(data, content, pos, data.len(), copy);
                return (data.len(), true);
            };
            let j = pos + off;
            match data.get(j + 1).copied() {
                Some(b) if b == q => {
                    let from = if copy.is_some() { pos } else { content };
                    copy.get_or_insert(self.scratch.len());
                    self.scratch.extend_from_slice(&data[from..=j]);
                    pos = j + 2;
                }
                None => {
                    self.end_quoted(data, content, pos, j, copy);
                    return (j + 1, true);
                }
                Some(b) if b == d || b == b'\r' || b == b'\n' => {
                    self.end_quoted(data, content, pos, j, copy);
                    return (j + 1, b != d);
                }
                Some(_) => {
                    // Text after the closing quote is kept, up to the next
                    // delimiter or terminator; quotes there are literal.
                    let from = if copy.is_some() { pos } else { content };
                    let s = *copy.get_or_insert(self.scratch.len());
                    self.scratch.extend_from_slice(&data[from..j]);
                    let mut i = j + 1;
                    while i < data.len() && !self.stop[data[i] as usize] {
                        i += 1;
                    }
                    self.scratch.extend_from_slice(&data[j + 1..i]);
                    self.fields.push((s, self.scratch.len(), true));
                    return (i, i >= data.len() || data[i] != d);
                }
            }
        }
    }

    fn end_quoted(&mut self, data: &[u8], content: usize, pos: usize, end: usize, copy: Option<usize>) {
        match copy {
            Some(s) => {
                self.scratch.extend_from_slice(&data[pos..end]);
                self.fields.push((s, self.scratch.len(), true));
            }
            None => self.fields.push((content, end, false)),
        }
    }
}

/// Counts lines lazily and monotonically through one block.
pub struct LineCursor<'a> {
    data: &'a [u8],
    newline: u8,
    pos: usize,
    line: u64,
}

impl<'a> LineCursor<'a> {
    pub fn new(data: &'a [u8], newline: u8, start_line: u64) -> Self {
        LineCursor { data, newline, pos: 0, line: start_line }
    }

    /// 1-based line of the first non-terminator byte at or after `p`.
    pub fn line_at(&mut self, mut p: usize) -> u64 {
        while p < self.data.len() && matches!(self.data[p], b'\r' | b'\n') {
            p += 1;
        }
        if p > self.pos {
            let seg = &self.data[self.pos..p.min(self.data.len())];
            self.line += memchr::memchr_iter(self.newline, seg).count() as u64;
            self.pos = p;
        }
        self.line + 1
    }
}

struct RecordLine<'c, 'a> {
    cursor: &'c mut LineCursor<'a>,
    start: usize,
    cached: Option<u64>,
}

impl LineSource for RecordLine<'_, '_> {
    fn line(&mut self) -> u64 {
        let (cursor, start) = (&mut *self.cursor, self.start);
        *self.cached.get_or_insert_with(|| cursor.line_at(start))
    }
}

pub fn too_long_reason(limit: usize) -> String {
    format!("record longer than the limit of {limit} bytes (max_line_bytes), skipped")
}

#[derive(Default)]
pub struct Tally {
    pub rows: u64,
    pub malformed: u64,
    pub examples: Vec<MalformedRow>,
}

impl Tally {
    pub fn malformed(&mut self, line: impl FnOnce() -> u64, reason: impl FnOnce() -> String) {
        self.malformed += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(MalformedRow { line: line(), reason: reason() });
        }
    }

    pub fn merge(&mut self, o: Tally) {
        self.rows += o.rows;
        self.malformed += o.malformed;
        self.examples.extend(o.examples);
        self.examples.sort_by_key(|e| e.line);
        self.examples.truncate(MAX_EXAMPLES);
    }
}

pub struct CsvWorker {
    delim: u8,
    quote: u8,
    newline: u8,
    decimal_comma: bool,
    /// Still expecting the header record (only the worker that gets the
    /// first block ever has this set).
    header_pending: bool,
    max_columns: usize,
    /// Records longer than this are counted as malformed and skipped, the
    /// same rule the pipeline applies to records it cannot buffer.
    max_line: usize,
    /// Column names; empty until the first record was seen.
    pub names: Vec<String>,
    pub cols: Vec<ColumnAcc>,
    pub tally: Tally,
    pub fatal: Option<ProfileError>,
    split: Splitter,
}

/// Header fields as column names: blanks become `column_N`, duplicates get
/// `_2`, `_3`… so that every name is unique (JSON consumers key on them).
fn column_names(fields: Vec<String>, has_header: bool) -> Vec<String> {
    let mut taken = std::collections::HashSet::with_capacity(fields.len());
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for (i, f) in fields.into_iter().enumerate() {
        let base = if has_header && !f.trim().is_empty() { f.trim().to_string() } else { format!("column_{}", i + 1) };
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

impl CsvWorker {
    pub fn new(delim: u8, quote: u8, newline: u8, has_header: bool, max_columns: usize, max_line: usize) -> Self {
        CsvWorker {
            delim,
            quote,
            newline,
            // With `;` as delimiter, `,` is free to be the decimal separator
            // (the usual European export); see the rules in the module docs.
            decimal_comma: delim == b';',
            header_pending: has_header,
            max_columns,
            max_line,
            names: Vec::new(),
            cols: Vec::new(),
            tally: Tally::default(),
            fatal: None,
            split: Splitter::new(delim, quote),
        }
    }

    /// A worker for later blocks: same dialect and columns, empty state.
    pub fn fresh(&self) -> Self {
        let mut w = CsvWorker::new(self.delim, self.quote, self.newline, false, self.max_columns, self.max_line);
        w.names = self.names.clone();
        w.cols = self.names.iter().map(|_| ColumnAcc::default()).collect();
        w
    }

    fn first_record(&mut self, data: &[u8], line: u64) {
        let nfields = self.split.fields.len();
        if nfields > self.max_columns {
            self.fatal = Some(ProfileError::new(
                ErrorKind::TooManyColumns,
                Some(line),
                format!("{nfields} columns exceed the limit of {}", self.max_columns),
            ));
            return;
        }
        let fields: Vec<String> =
            (0..nfields).map(|i| String::from_utf8_lossy(self.split.field(data, i)).into_owned()).collect();
        self.names = column_names(fields, self.header_pending);
        self.cols = self.names.iter().map(|_| ColumnAcc::default()).collect();
    }

    /// Parses one block of whole records. `start_line` is the number of
    /// newlines before the block.
    pub fn process(&mut self, data: &[u8], start_line: u64) {
        let all_utf8 = std::str::from_utf8(data).is_ok();
        let mut cursor = LineCursor::new(data, self.newline, start_line);
        let mut pos = 0;
        while let Some((rec_start, next)) = self.split.next_record(data, pos) {
            pos = next;
            if self.fatal.is_some() {
                return;
            }
            let mut line = RecordLine { cursor: &mut cursor, start: rec_start, cached: None };
            let nfields = self.split.fields.len();
            if next - rec_start > self.max_line {
                let limit = self.max_line;
                self.tally.malformed(|| line.line(), || too_long_reason(limit));
                continue;
            }
            if self.cols.is_empty() && self.names.is_empty() {
                let l = line.line();
                self.first_record(data, l);
                if std::mem::take(&mut self.header_pending) {
                    continue;
                }
            }
            if nfields != self.cols.len() {
                let want = self.cols.len();
                self.tally.malformed(|| line.line(), || format!("expected {want} fields, found {nfields}"));
                continue;
            }
            if !all_utf8 && std::str::from_utf8(&data[rec_start..next]).is_err() {
                self.tally.malformed(|| line.line(), || "invalid UTF-8".to_string());
                continue;
            }
            self.tally.rows += 1;
            for (i, col) in self.cols.iter_mut().enumerate() {
                col.update(self.split.field(data, i), self.decimal_comma, &mut line);
            }
        }
    }

    pub fn merge(&mut self, o: CsvWorker) {
        self.tally.merge(o.tally);
        if self.fatal.is_none() {
            self.fatal = o.fatal;
        }
        for (a, b) in self.cols.iter_mut().zip(o.cols) {
            a.merge(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boundaries(text: &[u8], chunk: usize) -> Vec<usize> {
        let mut s = Scanner::new(b',', b'"', b'\n');
        let mut out = Vec::new();
        for (k, part) in text.chunks(chunk).enumerate() {
            let mut last = None;
            if let Some((b, _)) = s.scan(part) {
                last = Some(k * chunk + b);
            }
            out.extend(last);
        }
        out
    }

    #[test]
    fn scanner_respects_quotes() {
        let text = b"a,b\n\"x\ny\",1\n\"he said \"\"hi\n\"\"\",2\nq\"r,3\n";
        let mut s = Scanner::new(b',', b'"', b'\n');
        let (b, lines) = s.scan(text).expect("boundary");
        assert_eq!(b, text.len());
        assert_eq!(lines, 6);
        assert!(!s.in_quotes());
        // Any chunking gives boundaries only at real record ends.
        let real = [4usize, 12, 32, text.len()];
        for chunk in 1..text.len() {
            for b in boundaries(text, chunk) {
                assert!(real.contains(&b), "chunk {chunk}: {b}");
            }
        }
    }

    /// Byte-at-a-time transcription of csv-core's state machine, reporting
    /// the newlines that lie outside quoted fields.
    fn reference_boundaries(data: &[u8]) -> Vec<usize> {
        #[derive(PartialEq)]
        enum R {
            FieldStart,
            InField,
            Quoted,
            QuoteInQuoted,
        }
        let mut st = R::FieldStart;
        let mut out = Vec::new();
        for (i, &b) in data.iter().enumerate() {
            st = match st {
                R::Quoted => {
                    if b == b'"' {
                        R::QuoteInQuoted
                    } else {
                        R::Quoted
                    }
                }
                R::FieldStart if b == b'"' => R::Quoted,
                R::QuoteInQuoted if b == b'"' => R::Quoted,
                _ if b == b',' || b == b'\r' => R::FieldStart,
                _ if b == b'\n' => {
                    out.push(i + 1);
                    R::FieldStart
                }
                _ => R::InField,
            };
        }
        out
    }

    #[test]
    fn scanner_matches_reference_on_random_input() {
        let alphabet = b"ab,\"\n\r";
        let mut x = 777u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 30) as usize;
            let data: Vec<u8> =
                (0..len).map(|k| alphabet[((x >> (k % 20 * 3)) as usize + k * 7) % alphabet.len()]).collect();
            let want = reference_boundaries(&data);
            let chunk = 1 + (x % 5) as usize;
            let mut s = Scanner::new(b',', b'"', b'\n');
            for (k, part) in data.chunks(chunk).enumerate() {
                let start = k * chunk;
                let last_in_chunk = want.iter().rev().find(|&&b| b > start && b <= start + part.len()).copied();
                let got = s.scan(part).map(|(b, _)| start + b);
                assert_eq!(got, last_in_chunk, "{:?}", String::from_utf8_lossy(&data));
            }
        }
    }

    #[test]
    fn scan_first_stops_at_the_first_boundary() {
        let text = b"\"a\nb\",1\nc,2\nd,3\n";
        let mut s = Scanner::new(b',', b'"', b'\n');
        assert_eq!(s.scan_first(text), Some((8, 2)));
        assert_eq!(s.scan(&text[8..]), Some((8, 4)));
        let mut s = Scanner::new(b',', b'"', b'\n');
        assert_eq!(s.scan_first(b"\"open\n"), None);
        assert!(s.in_quotes());
    }

    #[test]
    fn scanner_reports_open_quote() {
        let mut s = Scanner::new(b',', b'"', b'\n');
        assert_eq!(s.scan(b"a,b\n1,\"oops\n2,3\n"), Some((4, 1)));
        assert!(s.in_quotes());
        assert_eq!(s.quote_line, 1);
    }

    /// Records as csv-core parses them, to check the splitter against.
    fn csv_core_records(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut rdr = csv_core::ReaderBuilder::new().build();
        let mut out = vec![0u8; data.len() + 16];
        let mut ends = vec![0usize; data.len() + 16];
        let mut recs = Vec::new();
        let (mut pos, mut o, mut e) = (0, 0, 0);
        loop {
            let (res, nin, nout, nend) = rdr.read_record(&data[pos..], &mut out[o..], &mut ends[e..]);
            pos += nin;
            o += nout;
            e += nend;
            match res {
                csv_core::ReadRecordResult::Record => {
                    let mut start = 0;
                    recs.push(
                        ends[..e]
                            .iter()
                            .map(|&e| {
                                let f = out[start..e].to_vec();
                                start = e;
                                f
                            })
                            .collect(),
                    );
                    (o, e) = (0, 0);
                }
                csv_core::ReadRecordResult::End => return recs,
                _ => {}
            }
        }
    }

    fn splitter_records(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut sp = Splitter::new(b',', b'"');
        let mut pos = 0;
        let mut recs = Vec::new();
        while let Some((_, next)) = sp.next_record(data, pos) {
            recs.push((0..sp.fields.len()).map(|i| sp.field(data, i).to_vec()).collect());
            pos = next;
        }
        recs
    }

    #[test]
    fn splitter_matches_csv_core() {
        let cases: [&[u8]; 8] = [
            b"a,b\n\"x,\"\"y\"\"\nz\",1\r\n\r\n,\n",
            b"\"ab\"cd\"e,f\n",
            b"a\"b,\"\"\n\"\"\"\"",
            b"x,\"unclosed\nmore",
            b"a,b,",
            b"\"q\"",
            b"\r\r\na\rb\n",
            b"\"a\"\"\"x\"y,z",
        ];
        for c in cases {
            assert_eq!(splitter_records(c), csv_core_records(c), "{:?}", String::from_utf8_lossy(c));
        }
        let alphabet = b"ab,\"\n\r ";
        let mut x = 12345u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 24) as usize;
            let mut y = x;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    alphabet[((y >> 33) % alphabet.len() as u64) as usize]
                })
                .collect();
            assert_eq!(splitter_records(&data), csv_core_records(&data), "{:?}", String::from_utf8_lossy(&data));
        }
    }

    #[test]
    fn worker_counts_rows_and_ragged() {
        let mut w = CsvWorker::new(b',', b'"', b'\n', true, 100, 1 << 20);
        w.process(b"a,b\n1,2\n3\n\n4,5,6\n7,8", 0);
        assert_eq!(w.names, vec!["a", "b"]);
        assert_eq!(w.tally.rows, 2);
        assert_eq!(w.tally.malformed, 2);
        assert_eq!(w.tally.examples[0].line, 3);
        assert_eq!(w.tally.examples[1].line, 5);
        assert_eq!(w.tally.examples[1].reason, "expected 2 fields, found 3");
    }

    #[test]
    fn duplicate_and_blank_header_names() {
        assert_eq!(column_names(vec!["a".into(), "".into(), "a".into()], true), vec!["a", "column_2", "a_2"]);
    }
}
