//! Text encodings. UTF-8 is profiled as is; a head that is not valid UTF-8
//! (but not binary either) is taken as Windows-1252, the usual encoding of
//! legacy spreadsheet exports, and transcoded to UTF-8 on the fly. Every byte
//! maps to one character, so chunk boundaries need no care.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Utf8,
    /// A superset of ISO-8859-1 for printable text.
    Windows1252,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// UTF-8 unless the text has an invalid sequence (a multi-byte character cut
/// off at the very end is fine: the head may end mid-character).
pub fn detect(text: &[u8]) -> Encoding {
    match std::str::from_utf8(text) {
        Err(e) if e.error_len().is_some() => Encoding::Windows1252,
        _ => Encoding::Utf8,
    }
}

/// Code points for 0x80..=0x9F; the five bytes Windows-1252 leaves undefined
/// map to the C1 controls, as in the WHATWG encoding standard.
const HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{2C6}', '\u{2030}',
    '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}', '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}',
    '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}',
    '\u{17E}', '\u{178}',
];

/// Appends the UTF-8 form of Windows-1252 `input` to `out`.
pub fn windows1252_to_utf8(input: &[u8], out: &mut Vec<u8>) {
    out.reserve(input.len() + input.len() / 8);
    let mut buf = [0u8; 4];
    for &b in input {
        if b < 0x80 {
            out.push(b);
        } else {
            let c = if b < 0xA0 { HIGH[usize::from(b - 0x80)] } else { char::from(b) };
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_transcodes() {
        assert_eq!(detect("café".as_bytes()), Encoding::Utf8);
        assert_eq!(detect(&"café".as_bytes()[..4]), Encoding::Utf8);
        assert_eq!(detect(b"caf\xe9 \x80"), Encoding::Windows1252);
        let mut out = Vec::new();
        windows1252_to_utf8(b"caf\xe9 \x80 \x9f\x81", &mut out);
        assert_eq!(String::from_utf8(out).as_deref(), Ok("café € Ÿ\u{81}"));
    }
}
