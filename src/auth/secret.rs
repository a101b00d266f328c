//! Secrets handed to clients (session cookies, API tokens) and the hashes
//! stored in their place. A secret is 256 random bits from the OS, so a
//! plain SHA-256 suffices: there is nothing to brute-force, unlike a
//! password, and lookups stay one indexed equality.

use sha2::{Digest, Sha256};

/// A new secret: `prefix` and 64 hex digits. The prefix tells what it is
/// (and lets secret scanners find leaked tokens).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator works");
    format!("{prefix}{}", hex::encode(bytes))
}

/// What is stored for a secret.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_differ_and_hash_stably() {
        let (a, b) = (super::generate("t_"), super::generate("t_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 + 64);
        assert_eq!(super::hash(&a), super::hash(&a));
        assert_ne!(super::hash(&a), a);
    }
}
