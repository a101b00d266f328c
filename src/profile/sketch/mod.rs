//! Mergeable sketches. Each worker thread keeps its own and they are merged
//! once at the end, so every sketch here has a `merge`.

pub mod distinct;
pub mod kll;
pub mod topk;

/// Hash used for distinct counting, top-k and sample de-duplication. xxh3 is
/// fast on short inputs and its output bits are uniform enough for HLL.
pub fn hash(v: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(v)
}
