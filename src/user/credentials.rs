//! The user named by a request's `Authorization` header: an HTTP Basic username or a bearer
//! JWT's claim.
//!
//! Automatic monitoring only needs to know *who* claims to be calling, so nothing is verified
//! here: a JWT's signature is not checked (the app does that), and a forged token only names a
//! user for the agent's counting, which is no worse than `identify` with a value the client
//! chose. What is never done: keep or log a Basic password (it is decoded with the username,
//! then the bytes are zeroed and dropped) or a token (only the one claim's value comes out).
//! Work is bounded: a header over [`MAX_AUTHORIZATION_BYTES`] is not read, and a user id over
//! [`MAX_USER_ID_BYTES`] is not taken. Anything malformed gives no user; nothing here panics.

use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use base64::Engine;
use http::header::AUTHORIZATION;
use http::HeaderMap;
use serde_json::{Map, Value};

use crate::context::UserKeys;

/// The longest `Authorization` header read, in bytes.
pub(crate) const MAX_AUTHORIZATION_BYTES: usize = 8192;
/// The longest user id taken from credentials, in bytes.
pub(crate) const MAX_USER_ID_BYTES: usize = 256;

/// The key of a user named by HTTP Basic credentials.
pub(crate) const BASIC_KEY: &str = "username";

/// The user the `Authorization` header names: `{"username": ...}` from Basic credentials, or
/// `{claim: ...}` from a bearer JWT.
pub(crate) fn user_of(headers: &HeaderMap, jwt_claim: &str) -> Option<UserKeys> {
    let value = headers.get(AUTHORIZATION)?;
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return None;
    }
    let value = value.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        basic_username(credentials).map(|name| UserKeys::new().with(BASIC_KEY, name).claimed())
    } else if scheme.eq_ignore_ascii_case("bearer") {
        jwt_claim_value(credentials, jwt_claim)
            .map(|id| UserKeys::new().with(jwt_claim, id).claimed())
    } else {
        None
    }
}

/// The username of Basic credentials (`base64(username:password)`, RFC 7617).
fn basic_username(encoded: &str) -> Option<String> {
    let mut decoded = STANDARD_PAD_INDIFFERENT.decode(encoded).ok()?;
    let colon = decoded.iter().position(|b| *b == b':');
    // the password never outlives this function, not even in freed memory
    if let Some(colon) = colon {
        decoded[colon..].fill(0);
        decoded.truncate(colon);
    } else {
        decoded.fill(0);
        return None;
    }
    if decoded.len() > MAX_USER_ID_BYTES {
        return None;
    }
    let name = String::from_utf8(decoded).ok()?;
    let name = name.trim();
    (!name.is_empty() && !name.contains(char::is_control)).then(|| name.to_owned())
}

/// The value of `claim` in a JWT's payload (a string, or a number as its decimal text).
fn jwt_claim_value(token: &str, claim: &str) -> Option<String> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || payload.is_empty() {
        return None; // not a JWS (a JWE has five parts, and its payload is encrypted)
    }
    let bytes = URL_SAFE_PAD_INDIFFERENT.decode(payload).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    let id = match claims.get(claim)? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty() && id.len() <= MAX_USER_ID_BYTES && !id.contains(char::is_control))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn user(value: &str, claim: &str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        user_of(&headers, claim).map(|u| u.id())
    }

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn basic_gives_the_username_only() {
        let v = format!("Basic {}", STANDARD.encode("alice@example.com:s3cr:et"));
        assert_eq!(user(&v, "sub").as_deref(), Some("alice@example.com"));
        let keys = {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, v.parse().unwrap());
            user_of(&h, "sub").unwrap()
        };
        assert_eq!(keys.get(BASIC_KEY), Some("alice@example.com"));
        assert!(!format!("{keys:?}").contains("s3cr"));
        let lower = format!("basic   {}", STANDARD.encode("bob:x"));
        assert_eq!(user(&lower, "sub").as_deref(), Some("bob"));
        let unpadded = format!("Basic {}", STANDARD.encode("bo:x").trim_end_matches('='));
        assert_eq!(user(&unpadded, "sub").as_deref(), Some("bo"));
    }

    #[test]
    fn jwt_gives_the_claim() {
        let t = jwt(r#"{"sub":"user-42","email":"carol@example.com","n":7}"#);
        assert_eq!(
            user(&format!("Bearer {t}"), "sub").as_deref(),
            Some("user-42")
        );
        assert_eq!(
            user(&format!("bearer {t}"), "email").as_deref(),
            Some("carol@example.com")
        );
        assert_eq!(user(&format!("Bearer {t}"), "n").as_deref(), Some("7"));
        assert_eq!(user(&format!("Bearer {t}"), "missing"), None);
        let padded = format!(
            "x.{}.y",
            base64::engine::general_purpose::URL_SAFE.encode(r#"{"sub":"a"}"#)
        );
        assert_eq!(
            user(&format!("Bearer {padded}"), "sub").as_deref(),
            Some("a")
        );
    }

    #[test]
    fn garbage_gives_no_user() {
        let long = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:p", "u".repeat(300)))
        );
        let huge = format!(
            "Bearer {}",
            jwt(&format!(r#"{{"sub":"{}"}}"#, "x".repeat(9000)))
        );
        let cases = [
            "Basic".to_owned(),
            "Basic ".to_owned(),
            "Basic !!!not base64!!!".to_owned(),
            format!("Basic {}", STANDARD.encode("no-colon")),
            format!("Basic {}", STANDARD.encode(":only-password")),
            format!("Basic {}", STANDARD.encode([0xff, 0xfe, b':', b'p'])),
            format!("Basic {}", STANDARD.encode("a\u{1}b:p")),
            long,
            "Bearer".to_owned(),
            "Bearer not-a-jwt".to_owned(),
            "Bearer a.b".to_owned(),
            "Bearer a.b.c.d.e".to_owned(),
            "Bearer a..c".to_owned(),
            "Bearer a.%%%.c".to_owned(),
            format!("Bearer x.{}.y", URL_SAFE_NO_PAD.encode("not json")),
            format!("Bearer x.{}.y", URL_SAFE_NO_PAD.encode("[1,2]")),
            format!("Bearer {}", jwt(r#"{"sub":{"nested":1}}"#)),
            format!("Bearer {}", jwt(r#"{"sub":""}"#)),
            format!("Bearer {}", jwt(r#"{"sub":null}"#)),
            format!("Bearer {}", jwt(&"[".repeat(5000))),
            huge,
            "Digest username=\"alice\"".to_owned(),
            "alice".to_owned(),
        ];
        for case in cases {
            assert_eq!(user(&case, "sub"), None, "{case:.80}");
        }
        assert_eq!(user_of(&HeaderMap::new(), "sub"), None);
        let mut binary = HeaderMap::new();
        binary.insert(
            AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(),
        );
        assert_eq!(user_of(&binary, "sub"), None);
    }
}
