//! [`RedisUrl`]: `SQREEN_REDIS_URL`, checked at start-up, its password never shown; and the checks of
//! the other cluster settings (`SQREEN_CLUSTER_SYNC_MS`, `SQREEN_CLUSTER_NAMESPACE`), which the
//! configuration uses without depending on the rest of cluster mode.

use std::fmt;
use std::time::Duration;

/// A checked Redis URL: `redis://[user][:password]@host[:port][/db]` (plain TCP) or
/// `rediss://...` (TLS, with the crate's `tls` feature). Shown (`Display`, `Debug`, errors,
/// health) with the password replaced by `***`.
#[derive(Clone)]
pub struct RedisUrl {
    raw: String,
    redacted: String,
}

impl RedisUrl {
    /// Checks `value`; the error says what is wrong without repeating the password (show the
    /// value with [`redact`]).
    pub fn parse(value: &str) -> Result<RedisUrl, String> {
        let raw = value.trim();
        let scheme = raw.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("redis") => {}
            Some("rediss") if cfg!(feature = "tls") => {}
            Some("rediss") => {
                return Err("rediss:// (TLS) needs the crate's `tls` feature".to_owned());
            }
            _ => {
                return Err(
                    "expected redis://[user:password@]host[:port][/db] or rediss://...".to_owned(),
                )
            }
        }
        let parsed = redis::parse_redis_url(raw)
            .ok_or_else(|| "not a URL (scheme, host, port and database number)".to_owned())?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("no host".to_owned());
        }
        // the client's own checks: port, database number, TLS
        redis::Client::open(raw).map_err(|e| match e.kind() {
            redis::ErrorKind::InvalidClientConfig => {
                "not a valid Redis URL (host, port or database number)".to_owned()
            }
            _ => format!("not usable: {:?}", e.kind()),
        })?;
        Ok(RedisUrl {
            raw: raw.to_owned(),
            redacted: redact(raw),
        })
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    /// The client for this URL (checked at parse time).
    pub(crate) fn client(&self) -> redis::RedisResult<redis::Client> {
        redis::Client::open(self.raw.as_str())
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.redacted)
    }
}

/// `value` with whatever stands between `://` and the last `@` of its authority replaced by
/// `***` when it holds a password (`user:password@`, `:password@`), so that no password shows
/// in an error, a log line or the health answer, even for a value that does not parse.
pub fn redact(value: &str) -> String {
    let value = value.trim();
    let Some((scheme, rest)) = value.split_once("://") else {
        return value.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
                // `name@host`: a user name without a password
                None => value.to_owned(),
            }
        }
        None => value.to_owned(),
    }
}

/// The default sync period (`SQREEN_CLUSTER_SYNC_MS`).
pub const DEFAULT_SYNC: Duration = Duration::from_millis(100);

/// The default key prefix (`SQREEN_CLUSTER_NAMESPACE`).
pub const DEFAULT_NAMESPACE: &str = "sqreen";

/// Checks a `SQREEN_CLUSTER_NAMESPACE`: 1 to 64 of `[A-Za-z0-9_.:-]` (it starts every key).
pub fn check_namespace(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 64 {
        return Err("expected 1 to 64 characters".to_owned());
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
    {
        return Err("expected letters, digits, `_`, `.`, `:` or `-`".to_owned());
    }
    Ok(v.to_owned())
}

/// Checks a sync period: 10 ms to 60 s.
pub fn check_sync(d: Duration) -> Result<Duration, String> {
    if d < Duration::from_millis(10) || d > Duration::from_secs(60) {
        return Err("expected 10 to 60000 milliseconds".to_owned());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_urls_parse_and_never_show_their_password() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://localhost/3", "redis://localhost/3"),
            (
                "redis://:s3cret@127.0.0.1:6380/2",
                "redis://:***@127.0.0.1:6380/2",
            ),
            (
                "redis://app:s3cret@cache.internal:6379",
                "redis://app:***@cache.internal:6379",
            ),
            ("  redis://127.0.0.1  ", "redis://127.0.0.1"),
        ] {
            let parsed = RedisUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.redacted(), shown);
            assert_eq!(parsed.to_string(), shown);
            assert!(!format!("{parsed:?}").contains("s3cret"));
        }
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        for bad in [
            "",
            "127.0.0.1:6379",
            "http://127.0.0.1:6379",
            "redis://",
            "redis://:pw@",
            "redis://127.0.0.1:notaport",
            "redis://127.0.0.1:6379/notadb",
            "redis+unix:///tmp/redis.sock",
        ] {
            let e = RedisUrl::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(!e.is_empty());
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn redaction_holds_for_values_that_do_not_parse() {
        assert_eq!(
            redact("redis://u:p@ss@host:99999"),
            "redis://u:***@host:99999"
        );
        assert_eq!(redact("redis://:hunter2@"), "redis://:***@");
        assert_eq!(redact("no scheme at all"), "no scheme at all");
        assert_eq!(redact("redis://host/0?x=a@b"), "redis://host/0?x=a@b");
    }
}
