//! The fallback processor: what can be said of any file, table or not.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How much of the start of a file media-type detection looks at.
const HEAD_BYTES: usize = 8 * 1024;

/// Stored like the table profile: every field reads with a default (see
/// `profile::result`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileSummary {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// From the content's magic bytes; `text/plain` for UTF-8 text,
    /// `application/x-empty` for an empty file, `application/octet-stream`
    /// when nothing is recognised.
    pub media_type: String,
}

/// Builds a [`FileSummary`] from a file fed in chunks.
pub struct FileSummarizer {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl Default for FileSummarizer {
    fn default() -> Self {
        Self::new()
    }
}

impl FileSummarizer {
    pub fn new() -> Self {
        FileSummarizer { hasher: Sha256::new(), size: 0, head: Vec::with_capacity(HEAD_BYTES) }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        let room = HEAD_BYTES - self.head.len();
        self.head.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    pub fn finish(self) -> FileSummary {
        FileSummary {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            media_type: media_type(&self.head, self.size),
        }
    }
}

fn media_type(head: &[u8], size: u64) -> String {
    if size == 0 {
        return "application/x-empty".to_owned();
    }
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if looks_like_text(head) { "text/plain" } else { "application/octet-stream" }.to_owned()
}

/// UTF-8 without NULs; the head may end inside a multi-byte character.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(err) => err.error_len().is_none() && head.len() - err.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summarize(chunks: &[&[u8]]) -> FileSummary {
        let mut summarizer = FileSummarizer::new();
        chunks.iter().for_each(|chunk| summarizer.feed(chunk));
        summarizer.finish()
    }

    #[test]
    fn hashes_across_chunk_boundaries() {
        let summary = summarize(&[b"ab", b"c"]);
        assert_eq!(summary.size, 3);
        assert_eq!(summary.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(summary.media_type, "text/plain");
    }

    #[test]
    fn detects_media_types_from_content() {
        assert_eq!(summarize(&[]).media_type, "application/x-empty");
        assert_eq!(summarize(&[b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"]).media_type, "image/png");
        assert_eq!(summarize(&[&[0, 159, 146, 150, 0, 1]]).media_type, "application/octet-stream");
        // A multi-byte character cut at the end of the head is still text.
        let mut text = vec![b'a'; HEAD_BYTES - 1];
        text.extend_from_slice("é".as_bytes());
        assert_eq!(summarize(&[&text]).media_type, "text/plain");
    }
}
