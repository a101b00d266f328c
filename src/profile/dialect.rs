//! Content-based detection of format, delimiter, quote, header and line
//! endings from the first bytes of the (decompressed) stream.

use std::cell::RefCell;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder};
use serde::{Deserialize, Serialize};

use super::encoding::{self, Encoding};
use super::infer::{self, Cell};
use super::jsonl;
use super::result::{Compression, Format, LineEnding};

/// How much decompressed text the profiler looks at before deciding.
pub const SNIFF_BYTES: usize = 64 * 1024;
const SNIFF_RECORDS: usize = 100;
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sniffed {
    pub format: Format,
    pub compression: Compression,
    /// None for JSON Lines.
    pub delimiter: Option<u8>,
    pub quote: Option<u8>,
    pub has_header: bool,
    pub line_ending: LineEnding,
    pub bom: bool,
    pub encoding: Encoding,
}

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Lower-cased file name without a trailing `.gz`.
fn base_ext(filename: &str) -> String {
    let lower = filename.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    stem.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default()
}

/// Binary content (NULs, many control bytes, or mostly non-UTF-8 bytes) is
/// not profiled as a table.
fn looks_binary(text: &[u8]) -> bool {
    if text.contains(&0) {
        return true;
    }
    let controls = text.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)).count();
    if controls * 100 > text.len() {
        return true;
    }
    match std::str::from_utf8(text) {
        Ok(_) => false,
        // A multi-byte character cut off by the end of the head is fine.
        Err(e) if e.error_len().is_none() => false,
        Err(_) => {
            let high = text.iter().filter(|&&b| b >= 0x80).count();
            high * 10 > text.len() * 3
        }
    }
}

fn line_ending(text: &[u8]) -> LineEnding {
    let mut crlf = 0usize;
    let mut lf = 0usize;
    let mut cr = 0usize;
    for i in memchr::memchr2_iter(b'\n', b'\r', text) {
        if text[i] == b'\n' {
            if i > 0 && text[i - 1] == b'\r' {
                crlf += 1;
            } else {
                lf += 1;
            }
        } else if text.get(i + 1) != Some(&b'\n') && i + 1 < text.len() {
            cr += 1;
        }
    }
    match (crlf > 0, lf > 0, cr > 0) {
        (false, false, false) => LineEnding::Unknown,
        (true, false, false) => LineEnding::Crlf,
        (false, true, false) => LineEnding::Lf,
        (false, false, true) => LineEnding::Cr,
        _ => LineEnding::Mixed,
    }
}

/// Runs `f` with a csv-core reader for the dialect. Building one computes
/// its DFA, which costs more than sniffing a small file, so built ones are
/// kept per thread and dialect (the sniffer tries a handful; a few more for
/// delimiters users force), and reset for reuse. (csv-core's `Clone` of a
/// built reader drops part of its DFA, so they are not copied.)
fn with_reader<T>(delim: u8, quote: u8, f: impl FnOnce(&mut Reader) -> T) -> T {
    thread_local! {
        static BUILT: RefCell<Vec<((u8, u8), Reader)>> = const { RefCell::new(Vec::new()) };
    }
    let kept = BUILT.with_borrow_mut(|built| {
        let i = built.iter().position(|(dialect, _)| *dialect == (delim, quote))?;
        Some(built.swap_remove(i).1)
    });
    let mut reader = kept.unwrap_or_else(|| ReaderBuilder::new().delimiter(delim).quote(quote).build());
    reader.reset();
    let out = f(&mut reader);
    BUILT.with_borrow_mut(|built| {
        if built.len() < 32 {
            built.push(((delim, quote), reader));
        }
    });
    out
}

/// Parses up to `max` records. With `complete == false` a trailing record
/// without its terminator is dropped, since it may be cut off.
pub fn parse_records(text: &[u8], delim: u8, quote: u8, max: usize, complete: bool) -> Vec<Vec<String>> {
    with_reader(delim, quote, |rdr| parse_with(rdr, text, max, complete))
}

fn parse_with(rdr: &mut Reader, text: &[u8], max: usize, complete: bool) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    each_record(rdr, text, max, complete, |out, ends| {
        let mut start = 0;
        let fields = ends
            .iter()
            .map(|&end| {
                let f = String::from_utf8_lossy(&out[start..end]).into_owned();
                start = end;
                f
            })
            .collect();
        records.push(fields);
    });
    records
}

/// The number of fields of each of the first `max` records: all that
/// scoring a delimiter needs, without a string per field.
fn field_counts(text: &[u8], delim: u8, quote: u8, max: usize, complete: bool) -> Vec<usize> {
    with_reader(delim, quote, |rdr| {
        let mut counts = Vec::new();
        each_record(rdr, text, max, complete, |_, ends| counts.push(ends.len()));
        counts
    })
}

/// Calls `record` with the fields (their bytes, and where each ends) of
/// each of the first `max` records of `text`.
fn each_record(rdr: &mut Reader, text: &[u8], max: usize, complete: bool, mut record: impl FnMut(&[u8], &[usize])) {
    let mut out = vec![0u8; 4096];
    let mut ends = vec![0usize; 64];
    let mut pos = 0;
    let (mut o, mut e, mut seen) = (0, 0, 0);
    while seen < max {
        let input = &text[pos..];
        if input.is_empty() && !complete {
            break;
        }
        let (res, nin, nout, nend) = rdr.read_record(input, &mut out[o..], &mut ends[e..]);
        pos += nin;
        o += nout;
        e += nend;
        match res {
            ReadRecordResult::InputEmpty => {
                if !complete {
                    break;
                }
            }
            ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
            ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
            ReadRecordResult::Record => {
                record(&out[..o], &ends[..e]);
                seen += 1;
                o = 0;
                e = 0;
            }
            ReadRecordResult::End => break,
        }
    }
}

/// Score of a delimiter: (share of records with the modal field count,
/// modal field count). A delimiter that never splits scores zero.
fn score(mut counts: Vec<usize>) -> (f64, usize) {
    if counts.is_empty() {
        return (0.0, 0);
    }
    let records = counts.len();
    counts.sort_unstable();
    let (mut best, mut best_n, mut i) = (0, 0, 0);
    while i < counts.len() {
        let j = counts[i..].partition_point(|&c| c == counts[i]) + i;
        if j - i > best_n || (j - i == best_n && counts[i] > best) {
            best = counts[i];
            best_n = j - i;
        }
        i = j;
    }
    if best < 2 {
        return (0.0, best);
    }
    (best_n as f64 / records as f64, best)
}

fn detect_quote(text: &[u8], delim: u8) -> u8 {
    // A quote character shows up right after a delimiter or line start, or
    // right before a delimiter or line end.
    let count = |q: u8| {
        text.windows(2)
            .filter(|w| {
                let edge = |b: u8| b == delim || b == b'\n' || b == b'\r';
                let opens = w[1] == q && edge(w[0]);
                let closes = w[0] == q && edge(w[1]);
                opens || closes
            })
            .count()
    };
    if count(b'"') == 0 && count(b'\'') >= 2 { b'\'' } else { b'"' }
}

fn detect_header(records: &[Vec<String>]) -> bool {
    // No record in the head (e.g. only blank lines): most files have one.
    let Some(first) = records.first() else {
        return true;
    };
    let mut named = 0;
    for f in first {
        match infer::classify(infer::trim(f.as_bytes()), false) {
            Cell::Str => named += 1,
            Cell::Null if f.trim().is_empty() => {}
            _ => return false,
        }
    }
    let mut names: Vec<&str> = first.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    names.sort_unstable();
    let distinct = names.windows(2).all(|w| w[0] != w[1]);
    named > 0 && distinct
}

fn looks_like_jsonl(text: &[u8], complete: bool) -> bool {
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return false;
    };
    if text[start] != b'{' {
        return false;
    }
    let rest = &text[start..];
    let line = match memchr::memchr2(b'\n', b'\r', rest) {
        Some(i) => &rest[..i],
        None if complete => rest,
        // One object longer than the whole head: trust the leading brace.
        None => return true,
    };
    jsonl::is_object(line)
}

/// What a text is, before its dialect is worked out.
enum Kind {
    JsonLines,
    Delimited,
}

/// The cheap part of [`sniff_text`]: binary content and single JSON
/// documents are not tables; `body` is the text after any BOM.
fn kind(body: &[u8], ext: &str, complete: bool) -> Option<Kind> {
    if looks_binary(body) {
        return None;
    }
    let jsonl_ext = matches!(ext, "jsonl" | "ndjson" | "json");
    if looks_like_jsonl(body, complete) || (body.is_empty() && jsonl_ext) {
        return Some(Kind::JsonLines);
    }
    // A `.json` file that is not one object per line is a single JSON
    // document (array or pretty-printed object): not a table.
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if jsonl_ext && matches!(first, Some(b'[' | b'{')) {
        return None;
    }
    Some(Kind::Delimited)
}

/// Whether [`sniff_text`] would find a table in `text`, without the work of
/// finding its delimiter, quote and header.
pub fn is_tabular_text(text: &[u8], filename: &str, complete: bool) -> bool {
    let body = text.strip_prefix(BOM).unwrap_or(text);
    kind(body, &base_ext(filename), complete).is_some()
}

/// Detects the dialect of decompressed `text` (which may start with a BOM).
/// `complete` says whether `text` is the whole stream.
pub fn sniff_text(text: &[u8], filename: &str, complete: bool) -> Option<Sniffed> {
    let bom = text.starts_with(BOM);
    let body = if bom { &text[BOM.len()..] } else { text };
    let ext = base_ext(filename);
    let kind = kind(body, &ext, complete)?;
    let enc = encoding::detect(body);
    let le = line_ending(body);
    if let Kind::JsonLines = kind {
        return Some(Sniffed {
            format: Format::JsonLines,
            compression: Compression::None,
            delimiter: None,
            quote: None,
            has_header: false,
            line_ending: le,
            bom,
            encoding: enc,
        });
    }
    let ext_delim = if matches!(ext.as_str(), "tsv" | "tab") { b'\t' } else { b',' };
    let mut best: Option<(f64, usize, u8)> = None;
    for d in DELIMITERS {
        let (share, cols) = score(field_counts(body, d, b'"', SNIFF_RECORDS, complete));
        if share == 0.0 {
            continue;
        }
        let better = match best {
            None => true,
            Some((bs, bc, bd)) => {
                share > bs + 1e-9
                    || ((share - bs).abs() <= 1e-9 && (cols > bc || (cols == bc && d == ext_delim && bd != ext_delim)))
            }
        };
        if better {
            best = Some((share, cols, d));
        }
    }
    let delim = best.map_or(ext_delim, |b| b.2);
    let quote = detect_quote(body, delim);
    // The header is judged on the first record alone.
    let first = parse_records(body, delim, quote, 1, complete);
    Some(Sniffed {
        format: if delim == b'\t' { Format::Tsv } else { Format::Csv },
        compression: Compression::None,
        delimiter: Some(delim),
        quote: Some(quote),
        has_header: detect_header(&first),
        line_ending: le,
        bom,
        encoding: enc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, name: &str) -> Sniffed {
        sniff_text(text.as_bytes(), name, true).expect("tabular")
    }

    #[test]
    fn delimiters() {
        assert_eq!(s("a,b,c\n1,2,3\n", "x").delimiter, Some(b','));
        assert_eq!(s("a;b;c\n1,5;2;3\n", "x").delimiter, Some(b';'));
        let t = s("a\tb\n1\t2\n", "x.csv");
        assert_eq!((t.delimiter, t.format), (Some(b'\t'), Format::Tsv));
        assert_eq!(s("a|b\n1|2\n", "x").delimiter, Some(b'|'));
        assert_eq!(s("name,text\nx,\"a;b;c\"\ny,\"d;e\"\n", "x").delimiter, Some(b','));
        assert_eq!(s("justone\n1\n2\n", "x.tsv").delimiter, Some(b'\t'));
    }

    #[test]
    fn header_and_quote() {
        assert!(s("id,name\n1,a\n", "x").has_header);
        assert!(!s("1,a\n2,b\n", "x").has_header);
        assert!(s("id,name\n", "x").has_header);
        assert!(!s("a,a\n1,2\n", "x").has_header);
        assert_eq!(s("'a','b'\n'1','x,y'\n", "x").quote, Some(b'\''));
        assert_eq!(s("\"a\",\"b\"\n", "x").quote, Some(b'"'));
    }

    #[test]
    fn line_endings_and_bom() {
        assert_eq!(s("a,b\r\n1,2\r\n", "x").line_ending, LineEnding::Crlf);
        assert_eq!(s("a,b\n1,2\r\n", "x").line_ending, LineEnding::Mixed);
        assert_eq!(s("a,b\r1,2\r", "x").line_ending, LineEnding::Cr);
        assert!(s("\u{feff}a,b\n1,2\n", "x").bom);
    }

    #[test]
    fn formats() {
        assert_eq!(s("{\"a\":1}\n{\"b\":2}\n", "x.txt").format, Format::JsonLines);
        assert!(sniff_text(b"[1,2,3]", "x.json", true).is_none());
        assert!(sniff_text(b"{\n  \"a\": 1\n}\n", "x.json", true).is_none());
        assert_eq!(s("[tag],value\n[x],1\n", "x.csv").format, Format::Csv);
        assert!(sniff_text(b"\x89PNG\r\n\x1a\n\0\0\0", "x.csv", true).is_none());
        assert!(sniff_text(&[0xff, 0xfe, 0x80, 0x81, 0x82, 0x83], "x", true).is_none());
        assert_eq!(s("caf\u{e9},b\n", "x").format, Format::Csv);
    }
}
