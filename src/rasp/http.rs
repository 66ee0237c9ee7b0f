//! The checked outbound HTTP client: [`get`] checks the URL ([`super::check_url`]), then
//! requests it with `ureq` (blocking: call it from `tokio::task::spawn_blocking` with
//! [`get_in`] and the request's context, or from a blocking handler), connecting only to the
//! addresses the check approved (no second lookup, so no DNS rebinding in between) and
//! following no redirect (a redirect is a new destination the check did not see).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::{CheckedUrl, RaspError};
use crate::context::RequestContext;

/// Why a checked request did not get an answer.
#[derive(Debug)]
pub enum FetchError {
    /// RASP refused the URL (propagate it: the layer answers the block page).
    Blocked(RaspError),
    /// The request itself failed (connection, timeout, a malformed URL).
    Http(ureq::Error),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Blocked(e) => e.fmt(f),
            FetchError::Http(e) => write!(f, "request failed: {e}"),
        }
    }
}

impl std::error::Error for FetchError {}

impl From<RaspError> for FetchError {
    fn from(e: RaspError) -> Self {
        FetchError::Blocked(e)
    }
}

/// `GET url` after [`super::check_url`] (the current request's context).
pub fn get(url: &str) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
    let checked = super::check_url(url)?;
    send(&checked)
}

/// [`get`] for the request `ctx` (from another thread, e.g. `spawn_blocking`).
pub fn get_in(
    ctx: &RequestContext,
    url: &str,
) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
    let checked = super::check_url_in(ctx, url)?;
    send(&checked)
}

/// Requests a checked URL, connecting to its checked addresses.
pub fn send(checked: &CheckedUrl) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
    let config = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build();
    let resolver = Pinned(checked.addrs.clone());
    let agent = ureq::Agent::with_parts(config, DefaultConnector::default(), resolver);
    agent.get(&checked.url).call().map_err(FetchError::Http)
}

/// Answers with the checked addresses, or looks the name up when no input chose it.
#[derive(Debug)]
struct Pinned(Option<Arc<[SocketAddr]>>);

impl Resolver for Pinned {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(addrs) = &self.0 else {
            return DefaultResolver::default().resolve(uri, config, timeout);
        };
        let mut out = self.empty();
        for addr in addrs.iter().take(16) {
            out.push(*addr);
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}
