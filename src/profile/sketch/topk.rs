//! Frequent values with the Misra–Gries algorithm, batched: when the table is
//! full, the median count is subtracted from every counter and counters that
//! reach zero are dropped. Each purge removes at least `CAPACITY/2 * d` of
//! count mass, so the total subtracted (the error bound on any reported
//! count) is at most `2n / CAPACITY`. Counts are exact when no purge happened.
//!
//! After the first purge the column is known to have many distinct values,
//! and a doorkeeper (a 2-hash Bloom filter of 2^16 bits, cleared when half
//! full, as in TinyLFU) sits in front of the table: a value outside the table
//! is only admitted on its second sighting within the current filter epoch.
//! Values seen once, the bulk of a high-cardinality column, then cost two bit
//! tests instead of a table insert and their share of a purge. Each value
//! loses at most one occurrence per epoch, so the error bound grows by the
//! number of epochs (a few hundred on a 10-million-row column, next to the
//! `2n / CAPACITY` ≈ 20 000 of Misra–Gries itself).
//!
//! Keys are value hashes in an open-addressing table sized for a load factor
//! of at most 1/2; the value text (truncated to `MAX_TEXT`) lives in an arena
//! that is rebuilt on purge. High-cardinality columns miss on almost every
//! value, so misses must be cheap: no per-value allocation, no tombstones.

pub const CAPACITY: usize = 1024;
const MAX_SLOTS: usize = CAPACITY * 2;
/// Tables start small so that thousands of low-cardinality columns stay cheap.
const MIN_SLOTS: usize = 32;
pub const MAX_TEXT: usize = 200;

#[derive(Clone, Copy, Default)]
struct Val {
    count: u64,
    start: u32,
    len: u32,
}

/// Keys and values live in separate arrays: a miss, the common case on
/// high-cardinality columns, then only touches the 16 KiB key array.
#[derive(Default)]
pub struct TopK {
    /// Zero marks an empty slot (a real hash of zero is stored as one).
    keys: Vec<u64>,
    vals: Vec<Val>,
    len: usize,
    arena: Vec<u8>,
    /// Reused by `purge` so that purging (every ~512 misses on
    /// high-cardinality columns) allocates nothing.
    spare_arena: Vec<u8>,
    survivors: Vec<(u64, Val)>,
    /// Sum of all subtracted medians (plus epochs of merged-in tables).
    mg_error: u64,
    door: Option<Box<[u64]>>,
    door_bits_set: u32,
    door_epochs: u64,
}

const DOOR_BITS: usize = 1 << 16;

fn truncate_utf8(v: &[u8]) -> &[u8] {
    if v.len() <= MAX_TEXT {
        return v;
    }
    let mut end = MAX_TEXT;
    while end > 0 && (v[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    &v[..end]
}

impl TopK {
    #[inline]
    pub fn insert(&mut self, h: u64, v: &[u8]) {
        if !self.keys.is_empty() {
            let key = h.max(1);
            let i = self.find(key);
            if self.keys[i] == key {
                self.vals[i].count += 1;
                return;
            }
            if self.door.is_some() && !self.pass_door(h) {
                return;
            }
        }
        self.add(h, v, 1);
    }

    /// Every reported count is low by at most this much.
    pub fn error(&self) -> u64 {
        self.mg_error + self.door_epochs
    }

    /// True when `h` was already seen in this epoch (then it is admitted).
    fn pass_door(&mut self, h: u64) -> bool {
        let Some(door) = self.door.as_mut() else {
            return true;
        };
        let (a, b) = ((h & 0xFFFF) as usize, ((h >> 16) & 0xFFFF) as usize);
        let (wa, ma, wb, mb) = (a / 64, 1u64 << (a % 64), b / 64, 1u64 << (b % 64));
        if door[wa] & ma != 0 && door[wb] & mb != 0 {
            return true;
        }
        self.door_bits_set += u32::from(door[wa] & ma == 0) + u32::from(door[wb] & mb == 0);
        door[wa] |= ma;
        door[wb] |= mb;
        if self.door_bits_set as usize >= DOOR_BITS / 2 {
            door.fill(0);
            self.door_bits_set = 0;
            self.door_epochs += 1;
        }
        false
    }

    /// Slot holding `key`, or the empty slot where it would go.
    #[inline]
    fn find(&self, key: u64) -> usize {
        let mask = self.keys.len() - 1;
        let mut i = (key as usize) & mask;
        loop {
            let k = self.keys[i];
            if k == key || k == 0 {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    fn add(&mut self, h: u64, v: &[u8], count: u64) {
        if self.keys.is_empty() {
            self.keys = vec![0; MIN_SLOTS];
            self.vals = vec![Val::default(); MIN_SLOTS];
        }
        let key = h.max(1);
        let mut i = self.find(key);
        if self.keys[i] == key {
            self.vals[i].count += count;
            return;
        }
        if self.len >= CAPACITY {
            self.purge();
            i = self.find(key);
        } else if (self.len + 1) * 2 > self.keys.len() {
            self.grow();
            i = self.find(key);
        }
        let t = truncate_utf8(v);
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(t);
        self.keys[i] = key;
        self.vals[i] = Val { count, start, len: t.len() as u32 };
        self.len += 1;
    }

    fn grow(&mut self) {
        let n = (self.keys.len() * 2).min(MAX_SLOTS);
        let old_keys = std::mem::replace(&mut self.keys, vec![0; n]);
        let old_vals = std::mem::replace(&mut self.vals, vec![Val::default(); n]);
        for (k, v) in old_keys.into_iter().zip(old_vals).filter(|e| e.0 != 0) {
            let i = self.find(k);
            self.keys[i] = k;
            self.vals[i] = v;
        }
    }

    fn purge(&mut self) {
        let mut live = std::mem::take(&mut self.survivors);
        live.clear();
        live.extend(self.keys.iter().zip(&self.vals).filter(|e| *e.0 != 0).map(|(&k, &v)| (k, v)));
        let mid = live.len() / 2;
        let (_, median, _) = live.select_nth_unstable_by_key(mid, |e| e.1.count);
        let d = median.1.count;
        self.mg_error += d;
        if self.door.is_none() {
            self.door = Some(vec![0u64; DOOR_BITS / 64].into_boxed_slice());
            self.door_epochs = 1;
        }
        let mut arena = std::mem::take(&mut self.spare_arena);
        arena.clear();
        self.keys.fill(0);
        self.len = 0;
        for (k, v) in live.iter_mut().filter(|e| e.1.count > d) {
            v.count -= d;
            let s = v.start as usize;
            v.start = arena.len() as u32;
            arena.extend_from_slice(&self.arena[s..s + v.len as usize]);
            let i = self.find(*k);
            self.keys[i] = *k;
            self.vals[i] = *v;
            self.len += 1;
        }
        self.spare_arena = std::mem::replace(&mut self.arena, arena);
        self.survivors = live;
    }

    /// Distinct values held (all of them until the first purge).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn contains(&self, h: u64) -> bool {
        !self.keys.is_empty() && self.keys[self.find(h.max(1))] == h.max(1)
    }

    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().copied().filter(|&k| k != 0)
    }

    /// (key, count, text) of every held value.
    fn entries(&self) -> impl Iterator<Item = (u64, u64, &[u8])> {
        self.keys.iter().zip(&self.vals).filter(|e| *e.0 != 0).map(|(&k, v)| {
            let s = v.start as usize;
            (k, v.count, &self.arena[s..s + v.len as usize])
        })
    }

    pub fn merge(&mut self, other: TopK) {
        self.mg_error += other.error();
        for (key, count, text) in other.entries() {
            self.add(key, text, count);
        }
    }

    /// The `k` largest (text, count) pairs, ties broken by text (its bytes,
    /// which order valid UTF-8 as its characters) for stable output. Only
    /// the `k` kept become strings.
    pub fn top(&self, k: usize) -> Vec<(String, u64)> {
        let mut all: Vec<(&[u8], u64)> = self.entries().map(|(_, count, text)| (text, count)).collect();
        all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        all.truncate(k);
        all.into_iter().map(|(text, count)| (String::from_utf8_lossy(text).into_owned(), count)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::sketch::hash;

    #[test]
    fn exact_for_few_values() {
        let mut t = TopK::default();
        for (v, n) in [("a", 5), ("b", 3), ("c", 9)] {
            for _ in 0..n {
                t.insert(hash(v.as_bytes()), v.as_bytes());
            }
        }
        assert_eq!(t.error(), 0);
        assert_eq!(t.top(2), vec![("c".to_string(), 9), ("a".to_string(), 5)]);
    }

    #[test]
    fn heavy_hitters_survive_unique_noise() {
        let n = 500_000u64;
        let mut parts = [TopK::default(), TopK::default()];
        for i in 0..n {
            let v = if i % 10 == 0 {
                "hot".to_string()
            } else if i % 25 == 0 {
                "warm".to_string()
            } else {
                format!("u{i}")
            };
            parts[(i % 2) as usize].insert(hash(v.as_bytes()), v.as_bytes());
        }
        let [mut a, b] = parts;
        a.merge(b);
        assert!(a.error() <= 2 * n / CAPACITY as u64 * 2, "{}", a.error());
        let top = a.top(2);
        assert_eq!(top[0].0, "hot");
        assert_eq!(top[1].0, "warm");
        let hot_true = n / 10;
        assert!(top[0].1 <= hot_true && top[0].1 + a.error() >= hot_true);
        let warm_true = (0..n).filter(|i| i % 10 != 0 && i % 25 == 0).count() as u64;
        assert!(top[1].1 <= warm_true && top[1].1 + a.error() >= warm_true);
    }

    #[test]
    fn zero_hash_is_a_valid_key() {
        let mut t = TopK::default();
        t.insert(0, b"z");
        t.insert(0, b"z");
        assert_eq!(t.top(1), vec![("z".to_string(), 2)]);
    }

    #[test]
    fn long_text_truncated_on_char_boundary() {
        let v = "é".repeat(300);
        let mut t = TopK::default();
        t.insert(hash(v.as_bytes()), v.as_bytes());
        let top = t.top(1);
        assert!(top[0].0.len() <= MAX_TEXT);
        assert!(top[0].0.chars().all(|c| c == 'é'));
    }
}
