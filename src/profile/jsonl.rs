//! JSON Lines: one object per line, keys unioned across rows, nested values
//! profiled as their JSON text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::csv::{Tally, too_long_reason};
use super::stats::ColumnAcc;
use super::{ErrorKind, ProfileError};

/// A key borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An object's members in document order, values left as raw JSON text:
/// scalars are profiled from their text without building a `Value`, and
/// serde_json's `Map` would sort keys unless the crate-wide
/// `preserve_order` feature were on (which would change the server's maps).
struct Ordered<'a>(Vec<(Key<'a>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Ordered<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether `line` parses as one JSON object (by the same parser the workers use).
pub fn is_object(line: &[u8]) -> bool {
    serde_json::from_slice::<Ordered>(line).is_ok()
}

pub struct JsonColumn {
    pub name: String,
    /// (line, position in that object) of the first appearance: columns are
    /// reported in this order.
    pub first_seen: (u64, usize),
    pub acc: ColumnAcc,
}

pub struct JsonWorker {
    index: HashMap<String, usize>,
    pub cols: Vec<JsonColumn>,
    pub tally: Tally,
    pub fatal: Option<ProfileError>,
    max_columns: usize,
    max_line: usize,
    /// `\r` for files with old-Mac line endings, else `\n`.
    newline: u8,
    text: String,
}

impl JsonWorker {
    pub fn new(max_columns: usize, newline: u8, max_line: usize) -> Self {
        JsonWorker {
            index: HashMap::new(),
            cols: Vec::new(),
            tally: Tally::default(),
            fatal: None,
            max_columns,
            max_line,
            newline,
            text: String::new(),
        }
    }

    pub fn fresh(&self) -> Self {
        JsonWorker::new(self.max_columns, self.newline, self.max_line)
    }

    fn column(&mut self, key: Cow<str>, line: u64, pos: usize) -> Option<usize> {
        if let Some(&i) = self.index.get(key.as_ref()) {
            return Some(i);
        }
        let key = key.into_owned();
        if self.cols.len() >= self.max_columns {
            self.fatal = Some(ProfileError::new(
                ErrorKind::TooManyColumns,
                Some(line),
                format!("more than {} distinct keys", self.max_columns),
            ));
            return None;
        }
        let i = self.cols.len();
        self.index.insert(key.clone(), i);
        self.cols.push(JsonColumn { name: key, first_seen: (line, pos), acc: ColumnAcc::default() });
        Some(i)
    }

    pub fn process(&mut self, data: &[u8], start_line: u64) {
        let mut line_no = start_line;
        let nl = self.newline;
        for raw in data.split(|&b| b == nl) {
            line_no += 1;
            if self.fatal.is_some() {
                return;
            }
            let line = raw.trim_ascii();
            if line.is_empty() {
                continue;
            }
            if line.len() > self.max_line {
                let (l, limit) = (line_no, self.max_line);
                self.tally.malformed(|| l, || too_long_reason(limit));
                continue;
            }
            let obj = match serde_json::from_slice::<Ordered>(line) {
                Ok(o) => o,
                Err(e) => {
                    let l = line_no;
                    self.tally.malformed(|| l, || format!("invalid JSON object: {e}"));
                    continue;
                }
            };
            self.tally.rows += 1;
            for (pos, (key, value)) in obj.0.into_iter().enumerate() {
                let Some(i) = self.column(key.0, line_no, pos) else {
                    return;
                };
                let mut l = line_no;
                let acc = &mut self.cols[i].acc;
                let raw = value.get();
                if raw == "null" {
                    acc.push_null();
                } else if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                    // Escapes need decoding; a string that cannot be decoded
                    // (a lone surrogate escape) is profiled as written.
                    match inner.contains('\\').then(|| serde_json::from_str::<String>(raw)) {
                        Some(Ok(decoded)) => {
                            self.text = decoded;
                            acc.update(self.text.as_bytes(), false, &mut l);
                        }
                        _ => acc.update(inner.as_bytes(), false, &mut l),
                    }
                } else {
                    // Numbers, booleans and nested values as written.
                    acc.update(raw.as_bytes(), false, &mut l);
                }
            }
        }
    }

    pub fn merge(&mut self, o: JsonWorker) {
        self.tally.merge(o.tally);
        if self.fatal.is_none() {
            self.fatal = o.fatal;
        }
        for c in o.cols {
            match self.index.get(&c.name) {
                Some(&i) => {
                    let mine = &mut self.cols[i];
                    mine.first_seen = mine.first_seen.min(c.first_seen);
                    mine.acc.merge(c.acc);
                }
                None => {
                    self.index.insert(c.name.clone(), self.cols.len());
                    self.cols.push(c);
                }
            }
        }
        if self.cols.len() > self.max_columns && self.fatal.is_none() {
            self.fatal = Some(ProfileError::new(
                ErrorKind::TooManyColumns,
                None,
                format!("more than {} distinct keys", self.max_columns),
            ));
        }
    }

    /// Columns in order of first appearance in the file.
    pub fn into_columns(mut self) -> (Tally, Vec<(String, ColumnAcc)>) {
        self.cols.sort_by_key(|c| c.first_seen);
        let cols = self.cols.into_iter().map(|c| (c.name, c.acc)).collect();
        (self.tally, cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_union_in_order() {
        let mut w = JsonWorker::new(10, b'\n', 1 << 20);
        w.process(b"{\"b\":1,\"a\":\"x\"}\n\n{\"c\":{\"n\":[1,2]},\"a\":null}\nnot json\n[1]\n", 0);
        assert_eq!(w.tally.rows, 2);
        assert_eq!(w.tally.malformed, 2);
        assert_eq!(w.tally.examples[0].line, 4);
        let (_, cols) = w.into_columns();
        let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, vec!["b", "a", "c"]);
    }

    #[test]
    fn too_many_keys_is_fatal() {
        let mut w = JsonWorker::new(2, b'\n', 1 << 20);
        w.process(b"{\"a\":1,\"b\":2,\"c\":3}\n", 0);
        assert!(w.fatal.is_some());
    }
}
