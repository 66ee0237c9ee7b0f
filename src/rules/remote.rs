//! The rules URL (`SQREEN_RULES_URL`): a background thread that polls it, and the signature a
//! document from it carries when `SQREEN_RULES_SECRET` is set.
//!
//! Every `SQREEN_RULES_REFRESH_SECS` the poller `GET`s the URL with `If-None-Match` set to the
//! `ETag` of the document in force, so an unchanged document costs a `304` and no parsing. A
//! `200` is checked (signature when a secret is set, then the document itself) and, if good, put
//! in force through `AgentInner::install_rules`, the path a file reload takes, then written to
//! the disk cache (`rules::cache`). Nothing else ever changes the rules: an invalid document,
//! an unsigned or badly signed one, a timeout, a connection error or a bad status leaves the
//! rules in force as they are, is counted in [`crate::RemoteRulesStats`], and is logged once per
//! kind until the URL answers well again (a document that is refused is logged once per distinct
//! body), so an outage is one log line, not one per poll.
//!
//! Connection errors, timeouts and statuses other than 200 and 304 are retried with exponential
//! backoff: after the n-th failure in a row the wait is drawn between half and all of
//! `first_backoff × 2^(n−1)`, capped at `max_backoff` (a [`RetryPolicy`]; `Retry-After` is honoured
//! up to the cap). The floor of half the cap is deliberate: however the dice fall, a failing
//! server sees at most one request per half-cap from each replica. The first retries come sooner
//! than the period, because an agent that starts without its rules wants them soon; a refused
//! document is not retried sooner, since fetching it again changes nothing.
//!
//! The thread holds only a weak reference to the agent, and upgrades it only between a response
//! and the next wait, so the agent can be dropped at any time. Stopping it never waits for a
//! request in flight (that ends at the policy's `timeout`); a document that arrives after
//! `RulesPoller::stop` is not installed. Redirects are not followed: point the URL at the final
//! location. Nothing here runs on the request path.
//!
//! A server signs a document like this (the header is [`SIGNATURE_HEADER`]):
//!
//! ```
//! use sqreen::rules::remote::{sign, verify};
//!
//! let body = br#"{"version": "v7", "ip_denylist": ["203.0.113.0/24"]}"#;
//! let header = sign(body, b"secret"); // "sha256=<64 hex digits>"
//! assert!(header.starts_with("sha256="));
//! assert!(verify(body, b"secret", &header));
//! assert!(!verify(b"{}", b"secret", &header));
//! ```

use std::path::PathBuf;
use std::time::Duration;

use super::cache::{self, CacheEntry};
use super::{RulesDocument, RulesSource};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::notify::webhook;
use crate::notify::RetryPolicy;

/// The response header that carries a document's signature: `sha256=<hex>`, the lowercase hex
/// HMAC-SHA256 of the raw body keyed with `SQREEN_RULES_SECRET` (a bare hex digest is accepted).
pub const SIGNATURE_HEADER: &str = "X-Sqreen-Rules-Signature";

/// The shortest `SQREEN_RULES_SECRET` accepted, in bytes (an HMAC-SHA256 key of full strength).
pub const MIN_SECRET_BYTES: usize = 32;

/// The [`SIGNATURE_HEADER`] value for `body`: `sha256=` and the lowercase hex HMAC-SHA256 of the
/// body keyed with `secret` (the webhook signature, [`webhook::sign`], with its algorithm named).
pub fn sign(body: &[u8], secret: &[u8]) -> String {
    format!("sha256={}", webhook::sign(body, secret))
}

/// Whether `header` (`sha256=<hex>`, or the bare hex digest, either case) is the signature of
/// `body` with `secret`; compared in constant time.
pub fn verify(body: &[u8], secret: &[u8], header: &str) -> bool {
    let header = header.trim();
    let hex = match header.split_once('=') {
        Some((algorithm, hex)) if algorithm.trim().eq_ignore_ascii_case("sha256") => hex,
        Some(_) => return false,
        None => header,
    };
    webhook::verify(body, secret, hex)
}

/// The default timeouts and backoff of the rules URL: connect 2 s, whole request 10 s, backoff
/// from 1 s doubling up to 5 minutes.
pub(crate) fn default_policy() -> RetryPolicy {
    RetryPolicy {
        first_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(300),
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
    }
}

/// The rules URL and how it is polled, checked at build.
#[derive(Clone)]
pub(crate) struct RemoteSource {
    pub(super) uri: http::Uri,
    /// The URL without its query, safe to log and to report in health.
    pub(super) shown: String,
    pub(super) cache_path: Option<PathBuf>,
    pub(super) secret: Option<Vec<u8>>,
    /// The poll period (`SQREEN_RULES_REFRESH_SECS`).
    pub(super) period: Duration,
    pub(super) policy: RetryPolicy,
}

impl std::fmt::Debug for RemoteSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSource")
            .field("url", &self.shown)
            .field("cache_path", &self.cache_path)
            .field("signed", &self.secret.is_some())
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// What a cold start found in the disk cache.
#[derive(Debug, Default)]
pub(crate) struct ColdStart {
    /// The cached document, valid (and correctly signed, when a secret is set), and the source
    /// to report while it is in force.
    pub(crate) cached: Option<(CacheEntry, RulesDocument, RulesSource)>,
    /// A cache was there but refused (already logged).
    pub(crate) refused: bool,
}

impl RemoteSource {
    /// The rules URL of `config`, or `None` when it has none. An error names the variable when
    /// the URL cannot be used or `SQREEN_RULES_PATH` is set too (one source of rules at a time:
    /// the file would be silently ignored otherwise).
    pub(crate) fn from_config(config: &Config, policy: RetryPolicy) -> Result<Option<Self>> {
        let Some(url) = &config.rules_url else {
            for (set, name) in [
                (config.rules_cache_path.is_some(), "SQREEN_RULES_CACHE_PATH"),
                (config.rules_secret.is_some(), "SQREEN_RULES_SECRET"),
            ] {
                if set {
                    tracing::warn!(target: "sqreen", variable = name, "ignored: SQREEN_RULES_URL is not set");
                }
            }
            return Ok(None);
        };
        let uri = crate::notify::delivery::parse_url(url)
            .map_err(|reason| Error::config("SQREEN_RULES_URL", url, reason))?;
        if uri.scheme_str() == Some("https") && !cfg!(feature = "tls") {
            return Err(Error::config(
                "SQREEN_RULES_URL",
                url,
                "https needs sqreen's `tls` feature, which this build does not have",
            ));
        }
        if let Some(path) = &config.rules_path {
            return Err(Error::config(
                "SQREEN_RULES_URL",
                url,
                format!(
                    "SQREEN_RULES_PATH ({}) is set too; set only one rules source (the URL's \
                     last good document is kept at SQREEN_RULES_CACHE_PATH for cold starts)",
                    path.display()
                ),
            ));
        }
        match &config.rules_secret {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => {
                return Err(Error::config(
                    "SQREEN_RULES_SECRET",
                    "(hidden)",
                    format!(
                        "{} bytes is too short: a signing secret needs at least \
                         {MIN_SECRET_BYTES} (e.g. `openssl rand -hex 32`)",
                        secret.len()
                    ),
                ))
            }
            None if uri.scheme_str() == Some("http") => {
                return Err(Error::config(
                    "SQREEN_RULES_URL",
                    url,
                    "plain http:// can be read and changed on the way: set SQREEN_RULES_SECRET \
                     (documents are then signed and bound to their time), or use https://",
                ))
            }
            _ => {}
        }
        let shown = shown_url(&uri);
        Ok(Some(RemoteSource {
            uri,
            shown,
            cache_path: config.rules_cache_path.clone(),
            secret: config.rules_secret.as_ref().map(|s| s.as_bytes().to_vec()),
            period: config.rules_refresh,
            policy,
        }))
    }

    /// The source to report for documents from the URL.
    pub(crate) fn source(&self) -> RulesSource {
        RulesSource::Url(self.shown.clone())
    }

    /// Reads the disk cache, if one is configured; a refused cache is logged here.
    pub(crate) fn cold_start(&self) -> ColdStart {
        let Some(path) = &self.cache_path else {
            return ColdStart::default();
        };
        match cache::read(path, self.secret.as_deref()) {
            Ok(Some((entry, doc))) => {
                tracing::info!(
                    target: "sqreen", url = %entry.url, fetched_at = %entry.fetched_at,
                    cache = %path.display(),
                    "rules from the cache of the rules URL, until the URL answers",
                );
                ColdStart {
                    cached: Some((entry, doc, RulesSource::UrlCache(path.clone()))),
                    refused: false,
                }
            }
            Ok(None) => ColdStart::default(),
            Err(reason) => {
                tracing::warn!(
                    target: "sqreen", cache = %path.display(), %reason,
                    "rules cache refused; starting without it until the rules URL answers",
                );
                ColdStart {
                    cached: None,
                    refused: true,
                }
            }
        }
    }
}

/// `scheme://host[:port]/path`: the URL without its query (and user info), which may hold a secret.
fn shown_url(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or_default();
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}{}", uri.path()),
        None => format!("{scheme}://{host}{}", uri.path()),
    }
}

#[cfg(test)]
#[path = "remote_tests.rs"]
mod tests;
