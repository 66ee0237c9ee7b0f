//! [`Anonymizer`]: user ids as a salted SHA-256, for `SQREEN_USER_ID_MODE=anonymized`.
//!
//! The hash is the lowercase hex SHA-256 of the salt's bytes followed by the canonical id's bytes,
//! so an operator who knows the salt can compute it outside the process
//! (`printf '%s%s' "$SQREEN_USER_ID_SALT" alice@example.com | sha256sum`) to find or block a
//! user. The salt is what keeps the hashes from being reversed by hashing a list of known emails:
//! it is never logged, and `Debug` does not show it. Without `SQREEN_USER_ID_SALT` a random salt
//! is drawn at start, so hashes change when the process restarts.

use sha2::{Digest, Sha256};

/// Hashes user ids with a salt.
#[derive(Clone)]
pub(crate) struct Anonymizer {
    salt: String,
}

impl std::fmt::Debug for Anonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Anonymizer { salt: <hidden> }")
    }
}

impl Anonymizer {
    /// An anonymizer with this salt.
    pub(crate) fn new(salt: String) -> Self {
        Anonymizer { salt }
    }

    /// An anonymizer with a random 256-bit salt (from a CSPRNG).
    pub(crate) fn random() -> Self {
        Anonymizer::new(hex::encode(rand::random::<[u8; 32]>()))
    }

    /// The salted hash of `id`: 64 lowercase hex digits.
    pub(crate) fn hash(&self, id: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.salt.as_bytes());
        hasher.update(id.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// True when `s` has the form of a hash: 64 lowercase hex digits.
pub(crate) fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_of_salt_then_id() {
        // printf '%s%s' salt alice | sha256sum
        let a = Anonymizer::new("salt".into());
        assert_eq!(a.hash("alice"), hex::encode(Sha256::digest(b"saltalice")),);
        assert!(is_hash(&a.hash("alice")));
        assert_ne!(
            a.hash("alice"),
            Anonymizer::new("other".into()).hash("alice")
        );
        assert_ne!(
            Anonymizer::random().hash("alice"),
            Anonymizer::random().hash("alice")
        );
        assert!(!format!("{a:?}").contains("salt\""));
    }

    #[test]
    fn hash_form() {
        assert!(!is_hash("alice"));
        assert!(!is_hash(&"A".repeat(64)));
        assert!(!is_hash(&"a".repeat(63)));
        assert!(is_hash(&"0a".repeat(32)));
    }
}
