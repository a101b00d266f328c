//! End-to-end tests through the public API: edge cases, a reference
//! implementation for every statistic, and a no-panic fuzz loop.

use std::io::Write;

use super::*;

fn run_with(data: &[u8], chunk: usize, opts: ProfileOptions) -> Result<TableProfile, ProfileError> {
    let mut p = Profiler::new(opts);
    for c in data.chunks(chunk.max(1)) {
        p.feed(c)?;
    }
    assert_eq!(p.bytes_read(), data.len() as u64);
    p.finish()
}

fn run(data: &[u8]) -> TableProfile {
    match run_with(data, 65_536, ProfileOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("profile failed: {e}"),
    }
}

fn col<'a>(p: &'a TableProfile, name: &str) -> &'a ColumnProfile {
    p.columns.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}"))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("in-memory write");
    enc.finish().expect("in-memory gzip")
}

#[test]
fn basic_csv() {
    let p = run(b"id,name,score\n1,alice,3.5\n2,\"bob, \"\"jr\"\"\",\n3,\"multi\nline\",-1\n");
    assert_eq!(p.format, Format::Csv);
    assert_eq!(p.delimiter.as_deref(), Some(","));
    assert!(p.has_header);
    assert_eq!(p.row_count, 3);
    assert_eq!(p.column_count, 3);
    let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "name", "score"]);
    assert_eq!(col(&p, "id").inferred_type, ColumnType::Integer);
    let score = col(&p, "score");
    assert_eq!(score.inferred_type, ColumnType::Float);
    assert_eq!(score.null_count, 1);
    let n = score.numeric.as_ref().expect("numeric");
    assert_eq!(n.min.as_f64(), Some(-1.0));
    assert_eq!(n.max.as_f64(), Some(3.5));
    let name = col(&p, "name");
    assert_eq!(name.inferred_type, ColumnType::String);
    assert!(name.samples.contains(&"bob, \"jr\"".to_string()));
    assert!(name.samples.contains(&"multi\nline".to_string()));
}

#[test]
fn empty_input() {
    let p = run(b"");
    assert_eq!((p.row_count, p.column_count), (0, 0));
    let p = run(b"\n\n");
    assert_eq!(p.row_count, 0);
}

#[test]
fn header_only() {
    let p = run(b"a,b,c\n");
    assert_eq!(p.row_count, 0);
    assert_eq!(p.column_count, 3);
    assert!(p.columns.iter().all(|c| c.inferred_type == ColumnType::Empty && c.count == 0));
    let p = run(b"a,b,c");
    assert_eq!((p.row_count, p.column_count), (0, 3));
}

#[test]
fn one_column() {
    let p = run(b"value\n1\n2\n\n3\n");
    assert_eq!(p.column_count, 1);
    assert_eq!(p.row_count, 3);
    assert_eq!(col(&p, "value").numeric.as_ref().and_then(|n| n.mean), Some(2.0));
}

#[test]
fn thousands_of_columns() {
    let n = 5000;
    let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let mut text = header.join(",") + "\n";
    for r in 0..20 {
        let row: Vec<String> = (0..n).map(|i| (i * r).to_string()).collect();
        text += &(row.join(",") + "\n");
    }
    let p = run(text.as_bytes());
    assert_eq!(p.column_count, n as u64);
    assert_eq!(p.row_count, 20);
    assert_eq!(col(&p, "c4999").numeric.as_ref().map(|s| s.max.to_string()), Some("94981".into()));
    let opts = ProfileOptions { max_columns: 100, ..Default::default() };
    let e = run_with(text.as_bytes(), 1 << 16, opts).expect_err("too many columns");
    assert_eq!(e.kind, ErrorKind::TooManyColumns);
}

#[test]
fn all_null_column() {
    let p = run(b"a,b\n1,\n2,NULL\n3,NA\n4,\"\"\n");
    let b = col(&p, "b");
    assert_eq!(b.inferred_type, ColumnType::Empty);
    assert_eq!((b.null_count, b.empty_count, b.non_null_count), (4, 2, 0));
    assert!(b.numeric.is_none() && b.top_values.is_empty());
}

#[test]
fn very_long_field() {
    let long = "x".repeat(3 << 20);
    let text = format!("a,b\n1,{long}\n2,\"{long}\"\n");
    let p = run(text.as_bytes());
    assert_eq!(p.row_count, 2);
    let l = col(&p, "b").lengths.as_ref().expect("lengths");
    assert_eq!((l.min, l.max), (3 << 20, 3 << 20));
    assert!(col(&p, "b").samples.iter().all(|s| s.len() <= 200));
    assert!(col(&p, "b").max_text.as_ref().is_some_and(|s| s.len() <= 200));
}

#[test]
fn records_over_the_limit_are_skipped() {
    let long = "x".repeat(3 << 20);
    let quoted_long = format!("\"{}\n{}\"", "y".repeat(2 << 20), "z".repeat(2 << 20));
    let mut text = format!("a,b\n1,{long}\n2,ok\n3,{quoted_long}\n4,fine\n");
    for i in 5..200_000 {
        text += &format!("{i},v{}\n", i % 7);
    }
    text += &format!("999999,{long}");
    for (threads, chunk) in [(1, 65_536), (2, 65_536), (2, 1 << 22), (1, 7_777)] {
        let opts = ProfileOptions { max_line_bytes: 1 << 20, threads, ..Default::default() };
        let p = run_with(text.as_bytes(), chunk, opts).expect("profile");
        assert_eq!(p.row_count, 199_997, "threads {threads} chunk {chunk}");
        assert_eq!(p.malformed_row_count, 3);
        let lines: Vec<u64> = p.malformed_examples.iter().map(|m| m.line).collect();
        // Records: header 1, long 2, ok 3, quoted long 4-5, fine 6, then
        // 199 995 short ones (7..=200 001), the last long one on 200 002.
        assert_eq!(lines, [2, 4, 200_002]);
        assert!(p.malformed_examples[0].reason.contains("max_line_bytes"));
        assert_eq!(col(&p, "b").top_values[0].count, (5..200_000).filter(|i| i % 7 == 0).count() as u64);
        assert_eq!(col(&p, "a").numeric.as_ref().map(|n| n.max.to_string()), Some("199999".into()));
    }
}

#[test]
fn unclosed_quote() {
    let e = run_with(b"a,b\n1,2\n3,\"oops\n4,5\n", 3, ProfileOptions::default()).expect_err("unclosed");
    assert_eq!(e.kind, ErrorKind::UnclosedQuote);
    assert_eq!(e.line, Some(3));
    assert!(e.to_string().starts_with("line 3: unclosed quote"), "{e}");
}

#[test]
fn mixed_line_endings() {
    let p = run(b"a,b\r\n1,x\n2,y\r\n3,\"z\r\nw\"\n");
    assert_eq!(p.line_ending, LineEnding::Mixed);
    assert_eq!(p.row_count, 3);
    assert_eq!(col(&p, "b").top_values.len(), 3);
    assert!(col(&p, "b").samples.contains(&"z\r\nw".to_string()));
    let p = run(b"a,b\r1,x\r2,y\r");
    assert_eq!((p.line_ending, p.row_count), (LineEnding::Cr, 2));
}

#[test]
fn bom() {
    let p = run(b"\xEF\xBB\xBFid,v\n1,2\n");
    assert!(p.bom);
    assert_eq!(p.columns[0].name, "id");
    assert_eq!(p.columns[0].inferred_type, ColumnType::Integer);
}

#[test]
fn semicolon_decimal_comma() {
    let p = run(b"name;price;qty\nx;1,5;3\ny;2,25;4\nz;\"3,0\";5\n");
    assert_eq!(p.delimiter.as_deref(), Some(";"));
    let price = col(&p, "price");
    assert_eq!(price.inferred_type, ColumnType::Float);
    assert_eq!(price.numeric.as_ref().map(|n| n.max.as_f64()), Some(Some(3.0)));
    // With a comma delimiter a quoted "1,5" stays text (it could be 15 or 1.5).
    let p = run(b"name,price\nx,\"1,5\"\ny,\"2,5\"\n");
    assert_eq!(col(&p, "price").inferred_type, ColumnType::String);
}

#[test]
fn tsv_and_pipe() {
    let p = run(b"a\tb\n1\tx y\n2\tz\n");
    assert_eq!((p.format, p.delimiter.as_deref()), (Format::Tsv, Some("\t")));
    let p = run(b"a|b\n1|x\n");
    assert_eq!(p.delimiter.as_deref(), Some("|"));
}

#[test]
fn overrides() {
    let opts = ProfileOptions { delimiter: Some(b';'), has_header: Some(false), ..Default::default() };
    let p = run_with(b"a,b;c\n1,2;3\n", 4, opts).expect("profile");
    assert_eq!(p.column_count, 2);
    assert_eq!(p.row_count, 2);
    assert_eq!(p.columns[0].name, "column_1");
}

#[test]
fn jsonl_varying_keys() {
    let data = b"{\"a\":1,\"b\":\"x\"}\n{\"a\":2.5,\"c\":{\"k\":[1,2]}}\n{\"b\":null}\nnot json\n{\"a\":\"oops\",\"d\":true}\n";
    let p = run(data);
    assert_eq!(p.format, Format::JsonLines);
    assert_eq!(p.row_count, 4);
    assert_eq!(p.malformed_row_count, 1);
    assert_eq!(p.malformed_examples[0].line, 4);
    let names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    let a = col(&p, "a");
    assert_eq!((a.non_null_count, a.null_count), (3, 1));
    assert_eq!(a.type_counts.string, 1);
    let b = col(&p, "b");
    assert_eq!((b.non_null_count, b.null_count, b.empty_count), (1, 3, 0));
    assert_eq!(col(&p, "c").top_values[0].value, "{\"k\":[1,2]}");
    assert_eq!(col(&p, "d").inferred_type, ColumnType::Boolean);
}

#[test]
fn jsonl_values_as_text() {
    let data = "{\"s\":\"a\\\"b\\u00e9\",\"n\":1.5e3,\"o\":{\"x\": [1, 2]},\"k\\u00e9y\":true,\"bad\":\"\\ud800\"}\n";
    let p = run(data.as_bytes());
    assert_eq!(p.row_count, 1);
    assert_eq!(col(&p, "s").samples, ["a\"b\u{e9}"]);
    assert_eq!(col(&p, "n").numeric.as_ref().map(|n| n.max.as_f64()), Some(Some(1500.0)));
    assert_eq!(col(&p, "o").samples, ["{\"x\": [1, 2]}"]);
    assert_eq!(col(&p, "k\u{e9}y").inferred_type, ColumnType::Boolean);
    assert_eq!(col(&p, "bad").non_null_count, 1);
}

#[test]
fn jsonl_crlf_and_cr_line_endings() {
    for nl in ["\r\n", "\r"] {
        let data = format!("{{\"a\":1}}{nl}{{\"a\":2}}{nl}{{\"a\":3}}");
        let p = run(data.as_bytes());
        assert_eq!((p.format, p.row_count), (Format::JsonLines, 3), "{nl:?}");
        assert_eq!(col(&p, "a").numeric.as_ref().and_then(|n| n.mean), Some(2.0));
    }
}

#[test]
fn gzip_matches_plain() {
    let mut text = String::from("k,v,t\n");
    for i in 0..50_000 {
        text += &format!("{},{},2024-01-{:02}\n", i % 17, i as f64 * 0.5, i % 28 + 1);
    }
    let plain = run(text.as_bytes());
    let gz = gzip(text.as_bytes());
    let z = run_with(&gz, 4096, ProfileOptions::default()).expect("gzip profile");
    assert_eq!(z.compression, Compression::Gzip);
    assert_eq!(z.bytes_read, gz.len() as u64);
    assert_eq!(z.decompressed_bytes, text.len() as u64);
    assert_eq!(plain.columns, z.columns);
    assert_eq!(col(&z, "t").inferred_type, ColumnType::Date);
    let s = sniff(&gz[..100.min(gz.len())], "x.csv.gz").expect("sniff");
    assert_eq!(s.compression, Compression::Gzip);
    assert_eq!(s.format, Format::Csv);
}

#[test]
fn gzip_bomb_and_corruption() {
    let zeros = vec![b'0'; 10 << 20];
    let mut text = b"a\n".to_vec();
    text.extend(zeros.iter().flat_map(|&z| [z, b'\n']).take(8 << 20));
    let gz = gzip(&text);
    let opts = ProfileOptions { max_decompressed_bytes: 1 << 20, ..Default::default() };
    let e = run_with(&gz, 65_536, opts).expect_err("bomb");
    assert_eq!(e.kind, ErrorKind::DecompressedTooLarge);
    let e = run_with(&gz[..gz.len() / 2], 65_536, ProfileOptions::default()).expect_err("truncated");
    assert_eq!(e.kind, ErrorKind::Gzip, "{e}");
    let mut bad = gz.clone();
    for b in bad.iter_mut().skip(20).take(200) {
        *b ^= 0x5a;
    }
    assert!(run_with(&bad, 65_536, ProfileOptions::default()).is_err());
}

#[test]
fn ragged_and_invalid_utf8_rows() {
    let opts = ProfileOptions { encoding: Some(Encoding::Utf8), ..Default::default() };
    let p = run_with(b"a,b\n1,2\n3\n4,5,6\n7,\xff\xfe\n8,9\n", 3, opts).expect("profile");
    assert_eq!(p.row_count, 2);
    assert_eq!(p.malformed_row_count, 3);
    let lines: Vec<u64> = p.malformed_examples.iter().map(|m| m.line).collect();
    assert_eq!(lines, [3, 4, 5]);
    assert_eq!(p.malformed_examples[2].reason, "invalid UTF-8");
    // Invalid bytes past the sniffed head of a UTF-8 file: the row is malformed.
    let mut text = String::from("a,b\n");
    for i in 0..10_000 {
        text += &format!("{i},caf\u{e9}\n");
    }
    let mut data = text.into_bytes();
    data.extend_from_slice(b"1,\xe9\n2,x\n");
    let p = run(&data);
    assert_eq!(p.encoding, "utf-8");
    assert_eq!((p.row_count, p.malformed_row_count), (10_001, 1));
    assert_eq!(p.malformed_examples[0].line, 10_002);
}

#[test]
fn binary_is_not_tabular() {
    let e = run_with(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 4, ProfileOptions::default()).expect_err("binary");
    assert_eq!(e.kind, ErrorKind::NotTabular);
    assert!(sniff(b"\0\x01\x02\x03", "x.bin").is_none());
}

#[test]
fn is_tabular_agrees_with_sniff() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"a,b\n1,2\n").expect("gzip");
    let gz = gz.finish().expect("gzip");
    let cases: [(&[u8], &str); 9] = [
        (b"a,b\n1,2\n", "x.csv"),
        (b"\xEF\xBB\xBFa;b\n1;2\n", "x.txt"),
        (b"{\"a\": 1}\n{\"a\": 2}\n", "x.jsonl"),
        (b"[{\"a\": 1}]", "x.json"),
        (b"{\n  \"a\": 1\n}\n", "x.json"),
        (b"", "x.jsonl"),
        (b"\0\x01\x02\x03", "x.bin"),
        (b"just one line of prose", "notes.txt"),
        (&gz, "x.csv.gz"),
    ];
    for (head, name) in cases {
        assert_eq!(is_tabular(head, name), sniff(head, name).is_some(), "{name}: {head:?}");
    }
    assert!(!is_tabular(b"\0\x01\x02\x03", "x.bin"));
    assert!(!is_tabular(b"[{\"a\": 1}]", "x.json"));
    assert!(is_tabular(&gz, "x.csv.gz"));
}

#[test]
fn junk_in_numeric_column() {
    let mut text = String::from("x\n");
    for i in 0..10_000 {
        if i == 4321 || i == 9000 {
            text += "n/a?\n";
        } else {
            text += &format!("{}.25\n", i);
        }
    }
    let p = run(text.as_bytes());
    let x = col(&p, "x");
    assert_eq!(x.inferred_type, ColumnType::Float);
    assert!((x.type_share - 0.9998).abs() < 1e-12);
    let lines: Vec<u64> = x.junk_examples.iter().map(|e| e.line).collect();
    assert_eq!(lines, [4323, 9002]);
    assert_eq!(x.numeric.as_ref().map(|n| n.min.as_f64()), Some(Some(0.25)));
}

/// Deterministic generator for the reference test and the fuzz loop.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let x = self.0;
        (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd) ^ (x >> 29)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct RefCol {
    values: Vec<String>,
}

fn reference_rank_ok(sorted: &[f64], v: f64, q: f64, eps: f64) -> bool {
    let n = sorted.len() as f64;
    let lo = sorted.partition_point(|&x| x < v) as f64 / n;
    let hi = sorted.partition_point(|&x| x <= v) as f64 / n;
    q >= lo - eps && q <= hi + eps
}

#[test]
fn matches_reference_implementation() {
    let mut rng = Rng(2024);
    let rows = 120_000;
    let mut cols: Vec<RefCol> = (0..5).map(|_| RefCol { values: Vec::new() }).collect();
    let mut text = String::from("int,float,cat,free,sparse\n");
    for _ in 0..rows {
        let int = (rng.below(1_000_000) as i64 - 500_000).to_string();
        let float = if rng.below(20) == 0 { String::new() } else { format!("{:.4}", (rng.unit() * 6.0).exp()) };
        let cat = ["red", "green", "blue", "cyan", "magenta"][(rng.below(100) % 5) as usize]
            .repeat(1 + rng.below(2) as usize);
        let free = format!("w{}", rng.below(50_000));
        let sparse = if rng.below(100) == 0 { rng.below(10).to_string() } else { String::new() };
        text += &format!("{int},{float},{cat},{free},{sparse}\n");
        for (c, v) in cols.iter_mut().zip([int, float, cat, free, sparse]) {
            c.values.push(v);
        }
    }
    for threads in [1, 2, 3] {
        let opts = ProfileOptions { threads, ..Default::default() };
        let p = run_with(text.as_bytes(), 65_536, opts).expect("profile");
        assert_eq!(p.row_count, rows);
        for (rc, c) in cols.iter().zip(&p.columns) {
            let non_null: Vec<&String> = rc.values.iter().filter(|v| !v.is_empty()).collect();
            assert_eq!(c.count, rows);
            assert_eq!(c.non_null_count, non_null.len() as u64, "{}", c.name);
            assert_eq!(c.null_count, rows - non_null.len() as u64);
            let mut distinct: Vec<&String> = non_null.clone();
            distinct.sort();
            distinct.dedup();
            let d = distinct.len() as f64;
            if c.distinct_exact {
                assert_eq!(c.distinct_count as f64, d, "{}", c.name);
            } else {
                let rel = (c.distinct_count as f64 - d).abs() / d;
                assert!(rel < 3.0 * 0.0081, "{} distinct {rel}", c.name);
            }
            let mut counts = std::collections::HashMap::new();
            for v in &non_null {
                *counts.entry(v.as_str()).or_insert(0u64) += 1;
            }
            for tv in &c.top_values {
                let truth = counts.get(tv.value.as_str()).copied().unwrap_or(0);
                assert!(tv.count <= truth && tv.count + c.top_values_error_bound >= truth);
            }
            // Text extremes cover the values that are not numbers (no dates
            // or booleans are generated here).
            let texts = || non_null.iter().filter(|v| v.parse::<f64>().is_err());
            assert_eq!(c.min_text.as_deref(), texts().min().map(|s| s.as_str()));
            assert_eq!(c.max_text.as_deref(), texts().max().map(|s| s.as_str()));
            let lens: Vec<u64> = non_null.iter().map(|v| v.chars().count() as u64).collect();
            if let Some(l) = &c.lengths {
                assert_eq!(l.min, *lens.iter().min().unwrap_or(&0));
                assert_eq!(l.max, *lens.iter().max().unwrap_or(&0));
                let mean = lens.iter().sum::<u64>() as f64 / lens.len() as f64;
                assert!((l.mean - mean).abs() < 1e-9);
                assert_eq!(l.histogram.iter().map(|b| b.count).sum::<u64>(), lens.len() as u64);
            }
            if let Some(n) = &c.numeric {
                let xs: Vec<f64> = non_null.iter().filter_map(|v| v.parse().ok()).collect();
                let mut sorted = xs.clone();
                sorted.sort_by(f64::total_cmp);
                let mean = xs.iter().sum::<f64>() / xs.len() as f64;
                let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
                assert_eq!(n.min.as_f64(), sorted.first().copied());
                assert_eq!(n.max.as_f64(), sorted.last().copied());
                assert!(n.mean.is_some_and(|m| (m - mean).abs() <= 1e-9 * mean.abs().max(1.0)), "{}", c.name);
                assert!(n.std_dev.is_some_and(|s| (s - var.sqrt()).abs() <= 1e-9 * var.sqrt().max(1.0)));
                let q = &n.quantiles;
                for (p, v) in [
                    (0.01, q.p1),
                    (0.05, q.p5),
                    (0.25, q.p25),
                    (0.5, q.p50),
                    (0.75, q.p75),
                    (0.95, q.p95),
                    (0.99, q.p99),
                ] {
                    assert!(reference_rank_ok(&sorted, v, p, p_rank_eps()), "{} q{p}", c.name);
                }
                let total: u64 = n.histogram.iter().map(|b| b.count).sum();
                assert_eq!(total, xs.len() as u64);
                let first = &n.histogram[0];
                let final_bin = &n.histogram[n.histogram.len() - 1];
                assert!(first.lower <= sorted[0] && final_bin.upper >= sorted[sorted.len() - 1]);
                for (k, b) in n.histogram.iter().enumerate() {
                    let last = k + 1 == n.histogram.len();
                    let truth = xs
                        .iter()
                        .filter(|&&x| {
                            if b.lower == b.upper {
                                x == b.lower
                            } else {
                                x >= b.lower && (x < b.upper || (last && x <= b.upper))
                            }
                        })
                        .count() as f64;
                    let err = (b.count as f64 - truth).abs() / xs.len() as f64;
                    assert!(err <= 2.0 * p_rank_eps(), "{} bin {err}", c.name);
                }
            }
        }
    }
}

fn p_rank_eps() -> f64 {
    super::sketch::kll::RANK_ERROR
}

#[test]
fn chunking_does_not_change_the_result() {
    let mut text = String::from("a,b,c\n");
    for i in 0..3000 {
        text += &format!("{i},\"q,{i}\n\"\"x\"\"\",{}\r\n", i % 7);
    }
    let whole = run(text.as_bytes());
    for chunk in [1, 2, 3, 5, 64, 1000] {
        let p = run_with(text.as_bytes(), chunk, ProfileOptions::default()).expect("profile");
        assert_eq!(p, whole, "chunk {chunk}");
    }
}

#[test]
fn multi_block_line_numbers() {
    let mut text = String::from("a,b\n");
    let mut bad = Vec::new();
    for i in 0..400_000u64 {
        if i % 100_000 == 50_000 {
            text += "only-one-field\n";
            bad.push(i + 2);
        } else {
            text += &format!("{i},\"x\ny\"\n");
        }
    }
    // Each good record spans two lines.
    let expected: Vec<u64> = bad.iter().enumerate().map(|(k, &i)| 2 + 2 * (i - 2 - k as u64) + k as u64).collect();
    for threads in [1, 2] {
        let opts = ProfileOptions { threads, ..Default::default() };
        let p = run_with(text.as_bytes(), 65_536, opts).expect("profile");
        let lines: Vec<u64> = p.malformed_examples.iter().map(|m| m.line).collect();
        assert_eq!(lines, expected);
        assert_eq!(p.row_count, 400_000 - 4);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(99);
    let alphabet = b"ab,;\t|\"'\n\r{}[]:0123456789.-eE \xff\xc3\xa9\x00";
    let mut base = Vec::new();
    for _ in 0..300 {
        let len = rng.below(400) as usize;
        base.clear();
        for _ in 0..len {
            base.push(alphabet[rng.below(alphabet.len() as u64) as usize]);
        }
        for data in [base.clone(), gzip(&base), [b"{\"a\":".as_slice(), &base].concat()] {
            let opts = ProfileOptions { max_line_bytes: 64, threads: 2, ..Default::default() };
            let chunk = 1 + rng.below(50) as usize;
            if let Ok(p) = run_with(&data, chunk, opts) {
                // Whatever the input, the stored JSON must read back.
                let json = serde_json::to_string(&p).expect("serializes");
                let back: Result<TableProfile, _> = serde_json::from_str(&json);
                assert!(back.is_ok(), "{json}");
            }
            let _ = sniff(&data, "f.csv");
        }
    }
    for _ in 0..200 {
        let len = rng.below(2000) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = run_with(&data, 1 + rng.below(300) as usize, ProfileOptions::default());
        let _ = run_with(&gzip(&data), 7, ProfileOptions::default());
    }
}

#[test]
fn error_display_is_readable() {
    let e = ProfileError::new(ErrorKind::UnclosedQuote, Some(3812), "unclosed quote".into());
    assert_eq!(e.to_string(), "line 3812: unclosed quote");
}

#[test]
fn temporal_boolean_and_samples_match_reference() {
    let mut rng = Rng(5);
    let mut text = String::from("d,t,b\n");
    let (mut days, mut secs, mut trues, mut falses) = (Vec::new(), Vec::new(), 0u64, 0u64);
    for _ in 0..5000 {
        let day = rng.below(20_000) as i64;
        let sec = day * 86_400 + rng.below(86_400) as i64;
        let (y, m, d) = super::infer::civil_from_days(day);
        let (ty, tm, td) = super::infer::civil_from_days(sec.div_euclid(86_400));
        let s = sec.rem_euclid(86_400);
        let b = rng.below(3) == 0;
        if b {
            trues += 1;
        } else {
            falses += 1;
        }
        text += &format!(
            "{y:04}-{m:02}-{d:02},{ty:04}-{tm:02}-{td:02}T{:02}:{:02}:{:02}Z,{}\n",
            s / 3600,
            s % 3600 / 60,
            s % 60,
            if b { "TRUE" } else { "false" }
        );
        days.push(day as f64 * 86_400.0);
        secs.push(sec as f64);
    }
    let p = run_with(text.as_bytes(), 777, ProfileOptions::default()).expect("profile");
    for (name, xs, date_only) in [("d", &mut days, true), ("t", &mut secs, false)] {
        let c = col(&p, name);
        let want_type = if date_only { ColumnType::Date } else { ColumnType::Datetime };
        assert_eq!(c.inferred_type, want_type);
        xs.sort_by(f64::total_cmp);
        let t = c.temporal.as_ref().expect("temporal");
        let f = |x: f64| super::infer::format_epoch(x, date_only);
        assert_eq!(t.min, f(xs[0]));
        assert_eq!(t.max, f(xs[xs.len() - 1]));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert_eq!(t.mean, f(mean));
        // KLL quantiles are always values that occurred in the column.
        let as_text: Vec<String> = xs.iter().map(|&x| f(x)).collect();
        for q in [&t.quantiles.p1, &t.quantiles.p50, &t.quantiles.p99] {
            assert!(as_text.contains(q), "{q}");
        }
        assert_eq!(t.histogram.iter().map(|b| b.count).sum::<u64>(), 5000);
    }
    let b = col(&p, "b");
    assert_eq!(b.inferred_type, ColumnType::Boolean);
    let bs = b.boolean.as_ref().expect("boolean");
    assert_eq!((bs.true_count, bs.false_count), (trues, falses));
    assert_eq!(b.distinct_count, 2);
    assert_eq!(b.samples.len(), 2);
    assert_eq!(col(&p, "d").samples.len(), 5);
    assert_eq!(col(&p, "d").samples[0], text.lines().nth(1).and_then(|l| l.split(',').next()).unwrap_or_default());
}

#[test]
fn profiler_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Profiler>();
    assert_send::<ProfileError>();
    assert_send::<TableProfile>();
}

#[test]
fn leading_blank_lines_longer_than_a_block() {
    let mut text = "\n".repeat(3 << 20);
    text += "a,b\n";
    for i in 0..200_000 {
        text += &format!("{i},x{}\n", i % 3);
    }
    let opts = ProfileOptions { threads: 2, ..Default::default() };
    let p = run_with(text.as_bytes(), 65_536, opts).expect("profile");
    assert_eq!((p.row_count, p.column_count), (200_000, 2));
    assert_eq!(p.columns[0].name, "a");
    assert_eq!(col(&p, "b").distinct_count, 3);
}

#[test]
fn windows_1252_is_transcoded() {
    let p = run(b"name,city\nRen\xe9,K\xf6ln\nZo\xeb,\x80uro\n");
    assert_eq!(p.encoding, "windows-1252");
    assert_eq!(p.malformed_row_count, 0);
    assert_eq!(col(&p, "name").samples, ["Ren\u{e9}", "Zo\u{eb}"]);
    assert_eq!(col(&p, "city").min_text.as_deref(), Some("K\u{f6}ln"));
    let p = run("name\nRen\u{e9}\n".as_bytes());
    assert_eq!(p.encoding, "utf-8");
    let opts = ProfileOptions { encoding: Some(Encoding::Utf8), ..Default::default() };
    let p = run_with(b"name,city\nRen\xe9,K\xf6ln\nx,y\n", 5, opts).expect("profile");
    assert_eq!((p.row_count, p.malformed_row_count), (1, 1));
}

#[test]
fn multi_member_gzip_and_sniff_of_truncated_head() {
    let a = gzip(b"x,y\n1,a\n2,b\n");
    let b = gzip(b"3,c\n");
    let both = [a.clone(), b].concat();
    let p = run_with(&both, 5, ProfileOptions::default()).expect("profile");
    assert_eq!((p.compression, p.row_count), (Compression::Gzip, 3));
    // The server sniffs a prefix of the object: a cut gzip stream still sniffs.
    let mut text = String::from("id;name\n");
    for i in 0..20_000 {
        text += &format!("{i};n{i}\n");
    }
    let gz = gzip(text.as_bytes());
    let s = sniff(&gz[..gz.len() / 3], "upload.bin").expect("sniffs");
    assert_eq!((s.compression, s.delimiter, s.has_header), (Compression::Gzip, Some(b';'), true));
    assert_eq!(s.encoding, Encoding::Utf8);
}

#[test]
fn long_json_lines_are_skipped() {
    let big = "q".repeat(5000);
    let data = format!("{{\"a\":1}}\n{{\"a\":\"{big}\"}}\n{{\"a\":3}}\n");
    for chunk in [10, 100_000] {
        let opts = ProfileOptions { max_line_bytes: 1000, ..Default::default() };
        let p = run_with(data.as_bytes(), chunk, opts).expect("profile");
        assert_eq!((p.row_count, p.malformed_row_count), (2, 1), "chunk {chunk}");
        assert_eq!(p.malformed_examples[0].line, 2);
        assert_eq!(col(&p, "a").inferred_type, ColumnType::Integer);
    }
}

#[test]
fn options_deserialize_with_defaults() {
    let o: ProfileOptions = serde_json::from_str(r#"{"format":"tsv","threads":1}"#).expect("options");
    assert_eq!(o.format, Some(Format::Tsv));
    assert_eq!(o.threads, 1);
    assert_eq!(o.max_line_bytes, ProfileOptions::default().max_line_bytes);
    let p = run(b"a,b\n1,2\n");
    let json = serde_json::to_string(&p).expect("serialize");
    let back: TableProfile = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back, p);
}
