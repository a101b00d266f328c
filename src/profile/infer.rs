//! Classification of a single cell's text into the type it fits.
//!
//! Every value is classified independently; the column type is decided at the
//! end from the counts (see `stats::decide_type`), so inference covers the
//! whole column rather than the first rows.

/// What one cell parsed as. Temporal values are normalised to seconds since
/// the Unix epoch (UTC; naive datetimes are taken as UTC) so that they can share
/// the numeric sketches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(f64),
    DateTime(f64),
    Str,
}

/// Null tokens, compared ASCII-case-insensitively after trimming spaces and
/// tabs. Peers disagree here (DuckDB: only empty; pandas: a long list), so the
/// list is fixed and documented in the module docs.
pub const NULL_TOKENS: &[&str] = &["null", "na", "n/a", "nan", "none", "nil", "#n/a", "\\n"];

pub fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| *b != b' ' && *b != b'\t');
    match start {
        None => &v[v.len()..],
        Some(s) => {
            let end = v.iter().rposition(|b| *b != b' ' && *b != b'\t').unwrap_or(s);
            &v[s..=end]
        }
    }
}

pub fn is_null_token(v: &[u8]) -> bool {
    let Some(&first) = v.first() else {
        return true;
    };
    // Every token starts with `n`/`N`, `#` or `\\` (which `| 0x20` maps to
    // `|`); most values are rejected here without comparing strings.
    if v.len() > 4 || !matches!(first | 0x20, b'n' | b'#' | b'|') {
        return false;
    }
    NULL_TOKENS.iter().any(|t| t.len() == v.len() && t.as_bytes().eq_ignore_ascii_case(v))
}

/// Classifies an already trimmed value. `decimal_comma` accepts `12,5` as a
/// float (used for `;`-delimited files, see the rules in the module docs).
pub fn classify(v: &[u8], decimal_comma: bool) -> Cell {
    if is_null_token(v) {
        return Cell::Null;
    }
    let first = v[0];
    // `YYYY-` / `YYYY/` can only be a date; skip the number parsers.
    if v.len() >= 10 && matches!(v[4], b'-' | b'/') && first.is_ascii_digit() {
        return parse_temporal(v).unwrap_or(Cell::Str);
    }
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        if let Some(c) = plain_number(v) {
            return c;
        }
        if let Some(i) = parse_int(v) {
            return Cell::Int(i);
        }
        if let Some(f) = parse_float(v, decimal_comma) {
            return Cell::Float(f);
        }
        return Cell::Str;
    }
    if v.eq_ignore_ascii_case(b"true") {
        return Cell::Bool(true);
    }
    if v.eq_ignore_ascii_case(b"false") {
        return Cell::Bool(false);
    }
    Cell::Str
}

pub fn parse_int(v: &[u8]) -> Option<i64> {
    let (neg, digits) = match v.first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut acc: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Negative accumulation reaches i64::MIN without overflowing.
        acc = acc.checked_mul(10)?.checked_sub(i64::from(d))?;
    }
    if neg { Some(acc) } else { acc.checked_neg() }
}

fn parse_float(v: &[u8], decimal_comma: bool) -> Option<f64> {
    // Validate the grammar ourselves: std's parser also accepts "inf", "nan"
    // and "infinity", which we want to treat as text.
    let mut i = 0;
    if matches!(v.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut mantissa_digits = 0;
    while i < v.len() && v[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    let mut comma_at = None;
    if i < v.len() && (v[i] == b'.' || (decimal_comma && v[i] == b',')) {
        if v[i] == b',' {
            comma_at = Some(i);
        }
        i += 1;
        while i < v.len() && v[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if i < v.len() && (v[i] == b'e' || v[i] == b'E') {
        i += 1;
        if i < v.len() && (v[i] == b'+' || v[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < v.len() && v[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != v.len() {
        return None;
    }
    let parsed = match comma_at {
        None => std::str::from_utf8(v).ok()?.parse::<f64>().ok()?,
        Some(c) => {
            let mut buf = v.to_vec();
            buf[c] = b'.';
            std::str::from_utf8(&buf).ok()?.parse::<f64>().ok()?
        }
    };
    parsed.is_finite().then_some(parsed)
}

const POW10: [f64; 16] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// One pass over the common forms `[+-]?digits` (up to 18 digits, so it
/// fits i64) and `[+-]?digits.digits` (up to 15 digits). Decimals use
/// Clinger's fast path: below 2^53 the digits and the power of ten are both
/// exact, so one IEEE division rounds correctly and equals std's parse.
/// Anything else returns None and takes the general path.
fn plain_number(v: &[u8]) -> Option<Cell> {
    let (neg, body) = match v.first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v),
    };
    let mut mant: u64 = 0;
    let mut ndigits = 0;
    let mut dot = None;
    for (i, &b) in body.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d <= 9 {
            mant = mant * 10 + u64::from(d);
            ndigits += 1;
            if ndigits > 18 {
                return None;
            }
        } else if b == b'.' && dot.is_none() {
            dot = Some(i);
        } else {
            return None;
        }
    }
    if ndigits == 0 {
        return None;
    }
    match dot {
        None => {
            let i = mant as i64;
            Some(Cell::Int(if neg { -i } else { i }))
        }
        Some(_) if ndigits > 15 => None,
        Some(at) => {
            let x = mant as f64 / POW10[body.len() - at - 1];
            Some(Cell::Float(if neg { -x } else { x }))
        }
    }
}

fn digits(v: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = v.get(at..at + n)?;
    let mut acc = 0u32;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        acc = acc * 10 + u32::from(d);
    }
    Some(acc)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Accepts `YYYY-MM-DD` / `YYYY/MM/DD`, optionally followed by `T` or a space
/// and `HH:MM[:SS[.fraction]]` and an optional `Z`, `±HH:MM`, `±HHMM` or
/// `±HH` offset. Day-first and month-first forms are ambiguous and stay text.
fn parse_temporal(v: &[u8]) -> Option<Cell> {
    if v.len() < 10 {
        return None;
    }
    let sep = v[4];
    if (sep != b'-' && sep != b'/') || v[7] != sep {
        return None;
    }
    let y = i64::from(digits(v, 0, 4)?);
    let m = digits(v, 5, 2)?;
    let d = digits(v, 8, 2)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let day_secs = days_from_civil(y, m, d) as f64 * 86_400.0;
    if v.len() == 10 {
        return Some(Cell::Date(day_secs));
    }
    if v[10] != b'T' && v[10] != b' ' && v[10] != b't' {
        return None;
    }
    let hh = digits(v, 11, 2)?;
    if v.get(13) != Some(&b':') {
        return None;
    }
    let mi = digits(v, 14, 2)?;
    let mut i = 16;
    let mut secs = 0.0;
    if v.get(i) == Some(&b':') {
        secs = f64::from(digits(v, i + 1, 2)?);
        i += 3;
        if matches!(v.get(i), Some(b'.' | b',')) {
            let start = i + 1;
            let mut j = start;
            let mut frac = 0.0;
            let mut scale = 0.1;
            while j < v.len() && v[j].is_ascii_digit() {
                frac += f64::from(v[j] - b'0') * scale;
                scale *= 0.1;
                j += 1;
            }
            if j == start {
                return None;
            }
            secs += frac;
            i = j;
        }
    }
    if hh > 23 || mi > 59 || secs >= 61.0 {
        return None;
    }
    let mut offset = 0i64;
    match v.get(i) {
        None => {}
        Some(b'Z' | b'z') if i + 1 == v.len() => {}
        Some(&s @ (b'+' | b'-')) => {
            let rest = &v[i + 1..];
            let (oh, om) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            offset = i64::from(oh * 3600 + om * 60);
            if s == b'-' {
                offset = -offset;
            }
        }
        _ => return None,
    }
    let t = day_secs + f64::from(hh * 3600 + mi * 60) + secs - offset as f64;
    Some(Cell::DateTime(t))
}

/// Formats seconds since the epoch; `date_only` drops the time of day.
pub fn format_epoch(secs: f64, date_only: bool) -> String {
    let days = (secs / 86_400.0).floor();
    let (y, m, d) = civil_from_days(days as i64);
    let rem = secs - days * 86_400.0;
    let whole = rem.floor() as i64;
    let (hh, mi, ss) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    let millis = ((rem - rem.floor()) * 1000.0).round() as i64;
    let millis = (millis > 0 && millis < 1000).then_some(millis);
    // A profile formats dozens of instants (extremes, quantiles, bin edges),
    // and `format!` cost more than the rest of a small file's profile: by
    // hand for years 0 to 9999, exactly as `format!` pads them.
    if !(0..=9999).contains(&y) || !(0..24).contains(&hh) {
        return format_epoch_slowly((y, m, d), (hh, mi, ss), millis, date_only);
    }
    let mut out = String::with_capacity(24);
    push_padded(&mut out, y, 4);
    out.push('-');
    push_padded(&mut out, i64::from(m), 2);
    out.push('-');
    push_padded(&mut out, i64::from(d), 2);
    if date_only {
        return out;
    }
    out.push('T');
    push_padded(&mut out, hh, 2);
    out.push(':');
    push_padded(&mut out, mi, 2);
    out.push(':');
    push_padded(&mut out, ss, 2);
    if let Some(millis) = millis {
        out.push('.');
        push_padded(&mut out, millis, 3);
    }
    out.push('Z');
    out
}

/// `n` (at least 0, fewer than `width` digits) zero-padded to `width`.
fn push_padded(out: &mut String, n: i64, width: u32) {
    let mut scale = 10i64.pow(width - 1);
    while scale > 0 {
        out.push(char::from(b'0' + ((n / scale) % 10) as u8));
        scale /= 10;
    }
}

fn format_epoch_slowly(
    (y, m, d): (i64, u32, u32),
    (hh, mi, ss): (i64, i64, i64),
    millis: Option<i64>,
    date_only: bool,
) -> String {
    match (date_only, millis) {
        (true, _) => format!("{y:04}-{m:02}-{d:02}"),
        (false, Some(millis)) => format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mi:02}:{ss:02}.{millis:03}Z"),
        (false, None) => format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mi:02}:{ss:02}Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_format_as_format_would() {
        let slowly = |secs: f64, date_only: bool| {
            let days = (secs / 86_400.0).floor();
            let rem = secs - days * 86_400.0;
            let whole = rem.floor() as i64;
            let millis = ((rem - rem.floor()) * 1000.0).round() as i64;
            format_epoch_slowly(
                civil_from_days(days as i64),
                (whole / 3600, (whole % 3600) / 60, whole % 60),
                (millis > 0 && millis < 1000).then_some(millis),
                date_only,
            )
        };
        let mut secs = -70_000_000_000.0;
        while secs < 300_000_000_000.0 {
            for t in [secs, secs + 0.5, secs + 0.0004, secs + 59.999, secs + 0.9996] {
                for date_only in [false, true] {
                    assert_eq!(format_epoch(t, date_only), slowly(t, date_only), "{t}");
                }
            }
            secs += 987_654_321.123;
        }
        assert_eq!(format_epoch(1_700_000_000.25, false), "2023-11-14T22:13:20.250Z");
        assert_eq!(format_epoch(0.0, true), "1970-01-01");
        assert_eq!(format_epoch(-62_198_755_200.0, false), "-001-01-01T00:00:00Z");
    }

    #[test]
    fn nulls() {
        for t in ["", "NULL", "null", "NA", "n/a", "NaN", "None", "#N/A", "\\N", "nil"] {
            assert_eq!(classify(trim(t.as_bytes()), false), Cell::Null, "{t}");
        }
        assert_eq!(classify(b"nullable", false), Cell::Str);
        assert_eq!(trim(b"   "), b"");
        assert_eq!(trim(b" a b\t"), b"a b");
    }

    #[test]
    fn numbers() {
        assert_eq!(classify(b"42", false), Cell::Int(42));
        assert_eq!(classify(b"-9223372036854775808", false), Cell::Int(i64::MIN));
        assert_eq!(classify(b"9223372036854775807", false), Cell::Int(i64::MAX));
        assert_eq!(classify(b"9223372036854775808", false), Cell::Float(9223372036854775808.0));
        assert_eq!(classify(b"+7", false), Cell::Int(7));
        assert_eq!(classify(b"1.5", false), Cell::Float(1.5));
        assert_eq!(classify(b".5", false), Cell::Float(0.5));
        assert_eq!(classify(b"1e3", false), Cell::Float(1000.0));
        assert_eq!(classify(b"-2.5E-1", false), Cell::Float(-0.25));
        for junk in ["1e", "-", ".", "1.2.3", "inf", "1,5", "1e999", "12abc", "--1"] {
            assert_eq!(classify(junk.as_bytes(), false), Cell::Str, "{junk}");
        }
        assert_eq!(classify(b"1,5", true), Cell::Float(1.5));
        assert_eq!(classify(b"1,234,5", true), Cell::Str);
    }

    #[test]
    fn plain_numbers_agree_with_std() {
        let mut x = 88172645463325252u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let int = x % 1_000_000_000;
            let scale = (x >> 40) % 7;
            let text = format!(
                "{}{}.{:0width$}",
                if x & 1 == 1 { "-" } else { "" },
                int,
                (x >> 20) % 10u64.pow(scale as u32),
                width = scale as usize
            );
            let want: f64 = text.parse().unwrap_or(f64::NAN);
            assert_eq!(classify(text.as_bytes(), false), Cell::Float(want), "{text}");
            let int_text = format!("-{int}");
            assert_eq!(classify(int_text.as_bytes(), false), Cell::Int(-(int as i64)));
        }
        assert_eq!(classify(b"0.1", false), Cell::Float(0.1));
        assert_eq!(classify(b"123456789012345.6", false), Cell::Float(123456789012345.6));
        assert_eq!(classify(b"1234567890123456.7", false), Cell::Float(1234567890123456.7));
        assert_eq!(classify(b"-.5", false), Cell::Float(-0.5));
        assert_eq!(classify(b"5.", false), Cell::Float(5.0));
        assert_eq!(classify(b"-0", false), Cell::Int(0));
        assert_eq!(classify(b"999999999999999999", false), Cell::Int(999_999_999_999_999_999));
    }

    #[test]
    fn bools() {
        assert_eq!(classify(b"TRUE", false), Cell::Bool(true));
        assert_eq!(classify(b"false", false), Cell::Bool(false));
        assert_eq!(classify(b"yes", false), Cell::Str);
    }

    #[test]
    fn temporal() {
        assert_eq!(classify(b"1970-01-02", false), Cell::Date(86_400.0));
        assert_eq!(classify(b"2024/02/29", false), Cell::Date(1_709_164_800.0));
        assert_eq!(classify(b"2023-02-29", false), Cell::Str);
        assert_eq!(classify(b"2024-13-01", false), Cell::Str);
        assert_eq!(classify(b"1970-01-01T01:00:00Z", false), Cell::DateTime(3600.0));
        assert_eq!(classify(b"1970-01-01 01:00:00+01:00", false), Cell::DateTime(0.0));
        assert_eq!(classify(b"1970-01-01T00:00", false), Cell::DateTime(0.0));
        assert_eq!(classify(b"1970-01-01T00:00:01.5-0030", false), Cell::DateTime(1801.5));
        for junk in ["1970-01-01T", "1970-01-01T25:00", "1970-01-01x", "01/02/2024"] {
            assert_eq!(classify(junk.as_bytes(), false), Cell::Str, "{junk}");
        }
    }

    #[test]
    fn civil_roundtrip() {
        for days in [-800_000i64, -1, 0, 1, 59, 10_000, 19_782, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(format_epoch(1_709_164_800.0, true), "2024-02-29");
        assert_eq!(format_epoch(3661.25, false), "1970-01-01T01:01:01.250Z");
    }
}
