//! [`TokenCheck`]: is this request's bearer token the admin token? In constant time.
//!
//! The token is never compared byte by byte: both the expected and the given token go through
//! HMAC-SHA256 under a random key drawn at start-up, and the two tags are compared with the
//! `hmac` crate's constant-time check. So neither the position of the first wrong byte nor the
//! token's length shows in the time a refusal takes. The token is kept only as that tag.

use hmac::{Hmac, Mac};
use http::header::AUTHORIZATION;
use http::HeaderMap;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Checks admin tokens.
pub(crate) struct TokenCheck {
    key: [u8; 32],
    expected: Vec<u8>,
}

impl TokenCheck {
    /// A check for `token`.
    pub(crate) fn new(token: &str) -> Self {
        let key: [u8; 32] = rand::random();
        let expected = tag(&key, token.as_bytes());
        TokenCheck { key, expected }
    }

    /// True when `given` is the token.
    pub(crate) fn matches(&self, given: &[u8]) -> bool {
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
            return false;
        };
        mac.update(given);
        mac.verify_slice(&self.expected).is_ok()
    }

    /// Checks `Authorization: Bearer <token>`, the only place a token is taken from (a query
    /// parameter would end up in access logs). The error is what the 401 says.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let mut given = None;
        if let Some(value) = headers.get(AUTHORIZATION) {
            let bearer = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim());
            match bearer {
                Some(token) if !token.is_empty() => given = Some(token),
                _ => return Err("the Authorization header must be `Bearer <token>`"),
            }
        }
        match given {
            None => Err("missing admin token: send `Authorization: Bearer <token>`"),
            Some(token) if self.matches(token.as_bytes()) => Ok(()),
            Some(_) => Err("invalid admin token"),
        }
    }
}

fn tag(key: &[u8], token: &[u8]) -> Vec<u8> {
    // A 32-byte key is always accepted; an empty tag never verifies.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(token);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer_tokens() {
        let check = TokenCheck::new("0123456789abcdef");
        assert!(check.matches(b"0123456789abcdef"));
        assert!(!check.matches(b"0123456789abcdeF"));
        assert!(!check.matches(b"0123456789abcdef0"));
        assert!(!check.matches(b""));
        let ok = |auth| check.check(&headers(auth));
        assert_eq!(ok(Some("Bearer 0123456789abcdef")), Ok(()));
        assert_eq!(ok(Some("bearer   0123456789abcdef ")), Ok(()));
        assert_eq!(ok(Some("Bearer nope")), Err("invalid admin token"));
        assert!(ok(Some("Basic 0123456789abcdef")).is_err());
        assert!(ok(Some("Bearer ")).is_err());
        assert!(ok(None).unwrap_err().starts_with("missing"));
    }
}
