//! SigV4 query signing of the PUT URLs Loupe hands out for its embedded
//! store: the same URL and headers the AWS SDK's presigner makes (a test
//! compares the two), without building an SDK request for each, which was
//! an eighth of the server's work on a small-file journey. External stores
//! keep the SDK's presigner, whatever their quirks.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{PresignedRequest, S3Settings, StorageError};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SIGNED_HEADERS: [&str; 4] = ["content-length", "content-type", "host", "if-none-match"];

/// Signs path-style PUT URLs under one endpoint.
#[derive(Clone)]
pub(super) struct PutSigner {
    /// `scheme://authority` and any path the endpoint has, without a trailing slash.
    base: String,
    /// The path part of `base` (empty or starting with `/`).
    path: String,
    host: String,
    bucket: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
}

impl PutSigner {
    pub(super) fn new(settings: &S3Settings, endpoint: &str) -> Result<PutSigner, StorageError> {
        let invalid = |why: &str| StorageError::Request(format!("presign endpoint {endpoint:?}: {why}"));
        let uri: axum::http::Uri = endpoint.trim_end_matches('/').parse().map_err(|_| invalid("not a URL"))?;
        let scheme = uri.scheme_str().ok_or_else(|| invalid("no scheme"))?;
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if uri.query().is_some() {
            return Err(invalid("a query is not allowed"));
        }
        // A browser leaves the scheme's default port out of `Host`.
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            _ => return Err(invalid("not http or https")),
        };
        let host = match authority.port_u16() {
            Some(port) if port == default_port => authority.host().to_owned(),
            _ => authority.as_str().to_owned(),
        };
        let path = uri.path().trim_end_matches('/').to_owned();
        Ok(PutSigner {
            base: format!("{scheme}://{host}{path}"),
            path,
            host,
            bucket: settings.bucket.clone(),
            region: settings.region.clone(),
            access_key_id: settings.access_key_id.clone(),
            secret_access_key: settings.secret_access_key.clone(),
        })
    }

    /// A PUT of exactly `size` bytes to `key` with `If-None-Match: *`, valid
    /// for `ttl` from `now`.
    pub(super) fn presign_put(
        &self,
        key: &str,
        content_type: Option<&str>,
        size: u64,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> PresignedRequest {
        let timestamp = now.format("%Y%m%dT%H%M%SZ").to_string();
        let date = &timestamp[..8];
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let path = format!("{}/{}/{}", self.path, encode(&self.bucket, false), encode(key, false));
        let content_type = content_type.unwrap_or("");
        let mut headers = vec![("content-length".to_owned(), size.to_string())];
        if !content_type.is_empty() {
            headers.push(("content-type".to_owned(), content_type.to_owned()));
        }
        headers.push(("if-none-match".to_owned(), "*".to_owned()));
        let signed: Vec<&str> =
            SIGNED_HEADERS.iter().copied().filter(|name| *name != "content-type" || !content_type.is_empty()).collect();
        let signed_headers = signed.join(";");
        // Sorted by name, as the canonical request wants them.
        let query = [
            ("X-Amz-Algorithm", ALGORITHM.to_owned()),
            ("X-Amz-Credential", format!("{}/{scope}", self.access_key_id)),
            ("X-Amz-Date", timestamp.clone()),
            ("X-Amz-Expires", ttl.as_secs().to_string()),
            ("X-Amz-SignedHeaders", signed_headers.clone()),
            ("x-id", "PutObject".to_owned()),
        ];
        let mut canonical_query = String::new();
        for (name, value) in &query {
            if !canonical_query.is_empty() {
                canonical_query.push('&');
            }
            let _ = write!(canonical_query, "{}={}", encode(name, true), encode(value, true));
        }
        let mut canonical_headers = String::new();
        for name in &signed {
            let value = match *name {
                "host" => self.host.as_str(),
                _ => headers.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str()),
            };
            let _ = writeln!(canonical_headers, "{name}:{value}");
        }
        let canonical_request =
            format!("PUT\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD");
        let string_to_sign =
            format!("{ALGORITHM}\n{timestamp}\n{scope}\n{}", hex::encode(Sha256::digest(canonical_request.as_bytes())));
        let mut key = hmac(format!("AWS4{}", self.secret_access_key).as_bytes(), date.as_bytes());
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
        // The SDK's order: the operation first, the signature last.
        let amz = canonical_query.strip_suffix("&x-id=PutObject").unwrap_or(&canonical_query);
        let url = format!("{}{}?x-id=PutObject&{amz}&X-Amz-Signature={signature}", self.base, &path[self.path.len()..]);
        PresignedRequest { url, method: "PUT".to_owned(), headers }
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// SigV4's URI encoding: everything but unreserved characters, and `/` too
/// where `slash` says so (query values; object keys keep theirs).
fn encode(text: &str, slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b'/' if !slash => out.push('/'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::SystemTime;

    use aws_sdk_s3::presigning::PresigningConfig;

    use super::*;

    fn settings() -> S3Settings {
        S3Settings {
            endpoint: "http://127.0.0.1:9".into(),
            presign_endpoint: None,
            bucket: "loupe".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            path_style: true,
        }
    }

    /// The SDK's presigned PUT, as `Storage::presign_put` asked for it before.
    async fn sdk(endpoint: &str, key: &str, content_type: Option<&str>, size: u64, at: SystemTime) -> PresignedRequest {
        let client = super::super::client(&settings(), endpoint);
        let config = PresigningConfig::builder().start_time(at).expires_in(Duration::from_secs(900)).build().unwrap();
        let request = client
            .put_object()
            .bucket("loupe")
            .key(key)
            .content_length(size as i64)
            .if_none_match("*")
            .set_content_type(content_type.map(str::to_owned))
            .presigned(config)
            .await
            .expect("presigns");
        PresignedRequest {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
        }
    }

    #[tokio::test]
    async fn signs_exactly_as_the_sdk_does() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let now: DateTime<Utc> = at.into();
        let cases = [
            ("http://127.0.0.1:8080", "uploads/0193a0c4-7f3e-7c1a-9b2e-3c4d5e6f7a8b", Some("text/csv"), 1000),
            ("https://loupe.example.com", "uploads/x", None, 0),
            ("https://loupe.example.com:8443/", "uploads/a b+c", Some("application/x-ndjson"), 123_456_789),
            ("http://localhost/", "uploads/é/ü", Some("text/tab-separated-values"), 42),
        ];
        for (endpoint, key, content_type, size) in cases {
            let theirs = sdk(endpoint, key, content_type, size, at).await;
            let signer = PutSigner::new(&settings(), endpoint).expect("a valid endpoint");
            let ours = signer.presign_put(key, content_type, size, Duration::from_secs(900), now);
            assert_eq!(ours.url, theirs.url, "{endpoint} {key}");
            assert_eq!(ours.method, theirs.method);
            let set = |r: &PresignedRequest| r.headers.iter().cloned().collect::<BTreeSet<_>>();
            assert_eq!(set(&ours), set(&theirs), "{endpoint} {key}");
        }
    }

    #[test]
    fn keeps_the_path_of_an_endpoint() {
        // The SDK joins such a path to the bucket without a slash ("/s3loupe").
        let signer = PutSigner::new(&settings(), "https://example.com/s3/").expect("a valid endpoint");
        let at = DateTime::from_timestamp(1_795_000_000, 0).expect("a time");
        let ours = signer.presign_put("uploads/x", None, 1, Duration::from_secs(60), at);
        assert!(ours.url.starts_with("https://example.com/s3/loupe/uploads/x?x-id=PutObject&"), "{}", ours.url);
    }

    #[test]
    fn refuses_endpoints_it_cannot_sign_for() {
        for endpoint in ["127.0.0.1:8080", "ftp://host", "http://host/?q=1", "not a url"] {
            assert!(PutSigner::new(&settings(), endpoint).is_err(), "{endpoint}");
        }
    }
}
