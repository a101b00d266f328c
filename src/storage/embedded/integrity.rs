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
        let mut hasher = ChecksumHasher::default();
        let algorithm = input.checksum_algorithm.as_ref().map(|a| a.as_str().to_owned());
        let wants = |value: &Option<String>, name: &str| value.is_some() || algorithm.as_deref() == Some(name);
        if wants(&input.checksum_crc32, ChecksumAlgorithm::CRC32) {
            hasher.crc32 = Some(Default::default());
        }
        if wants(&input.checksum_crc32c, ChecksumAlgorithm::CRC32C) {
            hasher.crc32c = Some(Default::default());
        }
        if wants(&input.checksum_sha1, ChecksumAlgorithm::SHA1) {
            hasher.sha1 = Some(Default::default());
        }
        if wants(&input.checksum_sha256, ChecksumAlgorithm::SHA256) {
            hasher.sha256 = Some(Default::default());
        }
        if wants(&input.checksum_crc64nvme, ChecksumAlgorithm::CRC64NVME) {
            hasher.crc64nvme = Some(Default::default());
        }
        if let Some(name) = &algorithm
            && ![
                ChecksumAlgorithm::CRC32,
                ChecksumAlgorithm::CRC32C,
                ChecksumAlgorithm::SHA1,
                ChecksumAlgorithm::SHA256,
                ChecksumAlgorithm::CRC64NVME,
            ]
            .contains(&name.as_str())
        {
            return Err(s3_error!(InvalidArgument, "unsupported checksum algorithm {name}"));
        }
        Ok(Integrity {
            md5: input.content_md5.clone().map(|expected| (Md5::new(), expected)),
            hasher,
            expected: Checksum {
                checksum_crc32: input.checksum_crc32.clone(),
                checksum_crc32c: input.checksum_crc32c.clone(),
                checksum_sha1: input.checksum_sha1.clone(),
                checksum_sha256: input.checksum_sha256.clone(),
                checksum_crc64nvme: input.checksum_crc64nvme.clone(),
                ..Default::default()
            },
        })
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
            let trailer = |name: &str| trailers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            for (field, name) in [
                (&mut expected.checksum_crc32, "x-amz-checksum-crc32"),
                (&mut expected.checksum_crc32c, "x-amz-checksum-crc32c"),
                (&mut expected.checksum_sha1, "x-amz-checksum-sha1"),
                (&mut expected.checksum_sha256, "x-amz-checksum-sha256"),
                (&mut expected.checksum_crc64nvme, "x-amz-checksum-crc64nvme"),
            ] {
                if let Some(value) = trailer(name) {
                    *field = Some(value);
                }
            }
        }
        let computed = self.hasher.finalize();
        let pairs = [
            (&computed.checksum_crc32, &expected.checksum_crc32),
            (&computed.checksum_crc32c, &expected.checksum_crc32c),
            (&computed.checksum_sha1, &expected.checksum_sha1),
            (&computed.checksum_sha256, &expected.checksum_sha256),
            (&computed.checksum_crc64nvme, &expected.checksum_crc64nvme),
        ];
        // A digest asked for by algorithm but never sent is returned, not checked.
        if pairs.iter().any(|(computed, expected)| expected.is_some() && computed != expected) {
            return Err(s3_error!(BadDigest, "the checksum you specified did not match what was received"));
        }
        Ok(computed)
    }
}
