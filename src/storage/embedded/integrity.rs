//! Checks a PUT's body against the digests its client sent: `Content-MD5`
//! and the `x-amz-checksum-*` headers or trailers (the AWS SDKs send a CRC
//! by default). Nothing is computed unless the client asked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Md5};
use s3s::dto::{Checksum, ChecksumAlgorithm, PutObjectInput};
use s3s::{S3Result, s3_error};

pub struct Integrity {
    md5: Option<(Md5, String)>,
    hasher: ChecksumHasher,
    expected: Checksum,
}

impl Integrity {
    pub fn for_put(input: &PutObjectInput) -> S3Result<Integrity> {
        let expected = Checksum {
            checksum_crc32: input.checksum_crc32.clone(),
            checksum_crc32c: input.checksum_crc32c.clone(),
            checksum_sha1: input.checksum_sha1.clone(),
            checksum_sha256: input.checksum_sha256.clone(),
            checksum_crc64nvme: input.checksum_crc64nvme.clone(),
            ..Default::default()
        };
        let mut hasher = ChecksumHasher::default();
        // A digest is computed when its value or its algorithm was sent.
        let mut wanted: Vec<&str> = input.checksum_algorithm.iter().map(|a| a.as_str()).collect();
        let mut declared = expected.clone();
        wanted.extend(fields(&mut declared).into_iter().filter(|(_, value)| value.is_some()).map(|(name, _)| name));
        for algorithm in wanted {
            match algorithm {
                ChecksumAlgorithm::CRC32 => hasher.crc32 = Some(Default::default()),
                ChecksumAlgorithm::CRC32C => hasher.crc32c = Some(Default::default()),
                ChecksumAlgorithm::SHA1 => hasher.sha1 = Some(Default::default()),
                ChecksumAlgorithm::SHA256 => hasher.sha256 = Some(Default::default()),
                ChecksumAlgorithm::CRC64NVME => hasher.crc64nvme = Some(Default::default()),
                other => return Err(s3_error!(InvalidArgument, "unsupported checksum algorithm {other}")),
            }
        }
        Ok(Integrity { md5: input.content_md5.clone().map(|expected| (Md5::new(), expected)), hasher, expected })
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some((md5, _)) = &mut self.md5 {
            md5.update(data);
        }
        self.hasher.update(data);
    }

    /// Compares what was computed with what the client declared, in its
    /// headers or its trailers (sent after the body); returns the checksums.
    pub fn verify(self, trailers: Option<&axum::http::HeaderMap>) -> S3Result<Checksum> {
        if let Some((md5, expected)) = self.md5
            && STANDARD.encode(md5.finalize()) != expected
        {
            return Err(s3_error!(BadDigest, "the Content-MD5 you specified did not match what was received"));
        }
        let mut expected = self.expected;
        if let Some(trailers) = trailers {
            for (algorithm, value) in fields(&mut expected) {
                let name = format!("x-amz-checksum-{}", algorithm.to_ascii_lowercase());
                if let Some(sent) = trailers.get(&name).and_then(|v| v.to_str().ok()) {
                    *value = Some(sent.to_owned());
                }
            }
        }
        let mut computed = self.hasher.finalize();
        // A digest asked for by algorithm but never sent is returned, not checked.
        let mismatch = fields(&mut computed)
            .into_iter()
            .zip(fields(&mut expected))
            .any(|((_, computed), (_, expected))| expected.is_some() && computed != expected);
        if mismatch {
            return Err(s3_error!(BadDigest, "the checksum you specified did not match what was received"));
        }
        Ok(computed)
    }
}

/// The digests S3 knows, by algorithm name.
fn fields(checksum: &mut Checksum) -> [(&'static str, &mut Option<String>); 5] {
    [
        (ChecksumAlgorithm::CRC32, &mut checksum.checksum_crc32),
        (ChecksumAlgorithm::CRC32C, &mut checksum.checksum_crc32c),
        (ChecksumAlgorithm::SHA1, &mut checksum.checksum_sha1),
        (ChecksumAlgorithm::SHA256, &mut checksum.checksum_sha256),
        (ChecksumAlgorithm::CRC64NVME, &mut checksum.checksum_crc64nvme),
    ]
}
