//! The per-request context: request id, peer, client IP, user, and the action decided for it.
//!
//! The layer builds one [`RequestContext`] per request, puts it in the request extensions (a
//! handler can extract it) and in a task-local for the handler's duration, which is how the free
//! functions ([`crate::identify`], ...) find the agent serving the request. The context is an `Arc`
//! inside: cloning it is a reference-count increment. It owns no I/O and never blocks; its two
//! mutable cells (user, pending action) are per-request locks that nothing else contends for.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::action::ActionKind;
use crate::agent::AgentInner;

pub(crate) mod keys;

pub use keys::{Rid, UserKeys};

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// What the agent knows about the request being served.
///
/// Extract it in a handler with `Extension<RequestContext>` or, with the `axum` feature, as
/// `RequestContext` directly; or call [`RequestContext::current`] anywhere in the handler's task.
///
/// With the `axum` feature, a handler taking `RequestContext` always runs: when the agent did
/// not look at the request (it is disabled, it failed open, or no layer is installed), it gets
/// a [detached](RequestContext::is_detached) context, with no client IP and no user, rather
/// than an error; the kill switch must never break the app. A handler taking
/// `Option<RequestContext>` gets `None` then, and can tell the two apart.
#[derive(Clone)]
pub struct RequestContext {
    inner: Arc<ContextInner>,
}

pub(crate) struct ContextInner {
    pub(crate) rid: Rid,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) method: http::Method,
    pub(crate) uri: http::Uri,
    /// The client IP is on the pass list: no check applies to this request.
    pub(crate) passlisted: bool,
    /// The agent serving the request; `None` for a detached context, which nothing checks.
    pub(crate) agent: Option<Arc<AgentInner>>,
    pub(crate) user: Mutex<Option<Arc<UserKeys>>>,
    /// The request's `Accept` header, to negotiate a block page decided after the handler.
    pub(crate) accept: Option<http::HeaderValue>,
    /// The headers events report (shared copies: no bytes are copied).
    pub(crate) headers: EventHeaders,
    /// A response decided during the handler (by `identify`), replacing the handler's.
    pub(crate) pending: Mutex<Option<PendingResponse>>,
    /// The form or JSON body the layer read, set once before the handler.
    pub(crate) body: std::sync::OnceLock<crate::body::ReadBody>,
    /// `auth_track` was called for this request (automatic login tracking then records nothing).
    pub(crate) auth_tracked: std::sync::atomic::AtomicBool,
    /// The request's inputs as RASP checks compare them, decoded at the first check.
    pub(crate) rasp_inputs: std::sync::OnceLock<crate::rasp::Inputs>,
    /// The trace id of a well-formed `traceparent` header: a label for events, never trusted.
    pub(crate) trace_id: Option<crate::trace::TraceId>,
    /// The request's `sqreen.request` span (disabled when no subscriber wants it).
    pub(crate) span: tracing::Span,
    /// The layer's first decision on the request, also recorded on the span.
    pub(crate) verdict: std::sync::OnceLock<&'static str>,
    /// The WAF's mode for this request and the exclusions that apply, resolved once when the
    /// WAF looked at its head.
    pub(crate) waf_scope: std::sync::OnceLock<crate::waf::exclusions::RequestScope>,
}

/// The request headers that events report, kept from the request for the handler's duration.
/// Each is a reference-counted copy of the received value.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventHeaders {
    pub(crate) host: Option<http::HeaderValue>,
    pub(crate) user_agent: Option<http::HeaderValue>,
    pub(crate) referer: Option<http::HeaderValue>,
    pub(crate) x_forwarded_for: Option<http::HeaderValue>,
    pub(crate) x_real_ip: Option<http::HeaderValue>,
    pub(crate) forwarded: Option<http::HeaderValue>,
    /// Never reported by events: its values are inputs RASP checks compare with a sink's value.
    pub(crate) cookie: Option<http::HeaderValue>,
}

impl EventHeaders {
    pub(crate) fn from(headers: &http::HeaderMap) -> Self {
        use http::header::{FORWARDED, HOST, REFERER, USER_AGENT};
        EventHeaders {
            host: headers.get(HOST).cloned(),
            user_agent: headers.get(USER_AGENT).cloned(),
            referer: headers.get(REFERER).cloned(),
            x_forwarded_for: headers.get("x-forwarded-for").cloned(),
            x_real_ip: headers.get("x-real-ip").cloned(),
            forwarded: headers.get(FORWARDED).cloned(),
            cookie: headers.get(http::header::COOKIE).cloned(),
        }
    }
}

/// What replaces the handler's response.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PendingResponse {
    /// A security action (block or redirect).
    Action(ActionKind),
    /// 503: the agent failed and is configured to fail closed.
    Unavailable,
}

impl RequestContext {
    pub(crate) fn new(inner: ContextInner) -> Self {
        RequestContext {
            inner: Arc::new(inner),
        }
    }

    /// A context that belongs to no agent: a fresh request id, `method` and `uri`, and nothing
    /// else (no peer, no client IP, no user). It is what a handler extracting `RequestContext`
    /// gets when the agent did not look at the request (disabled, failed open), and a stand-in
    /// when calling a handler directly in a test. Nothing is ever checked or recorded for it.
    ///
    /// ```
    /// let ctx = sqreen::RequestContext::detached(http::Method::GET, "/search".parse().unwrap());
    /// assert!(ctx.is_detached());
    /// assert_eq!((ctx.client_ip(), ctx.user()), (None, None));
    /// ```
    pub fn detached(method: http::Method, uri: http::Uri) -> Self {
        RequestContext::new(ContextInner {
            rid: Rid::random(),
            peer: None,
            client_ip: None,
            method,
            uri,
            passlisted: false,
            agent: None,
            user: Mutex::new(None),
            accept: None,
            headers: EventHeaders::default(),
            pending: Mutex::new(None),
            body: std::sync::OnceLock::new(),
            auth_tracked: std::sync::atomic::AtomicBool::new(false),
            rasp_inputs: std::sync::OnceLock::new(),
            trace_id: None,
            span: tracing::Span::none(),
            verdict: std::sync::OnceLock::new(),
            waf_scope: std::sync::OnceLock::new(),
        })
    }

    /// True when no agent looked at this request (see [`RequestContext::detached`]).
    pub fn is_detached(&self) -> bool {
        self.inner.agent.is_none()
    }

    pub(crate) fn inner(&self) -> &ContextInner {
        &self.inner
    }

    /// Records the layer's decision on the request, on its span too; the first one stands (a
    /// block decided before the handler is not overwritten by `pass` after it).
    pub(crate) fn decide(&self, verdict: &'static str) {
        if self.inner.verdict.set(verdict).is_ok() {
            self.inner.span.record("verdict", verdict);
        }
    }

    /// The agent serving the request; `None` when the context is detached.
    pub(crate) fn agent(&self) -> Option<&Arc<AgentInner>> {
        self.inner.agent.as_ref()
    }

    /// The context of the request served by the current task, if any.
    pub fn current() -> Option<RequestContext> {
        CURRENT.try_with(|ctx| ctx.clone()).ok()
    }

    /// Runs `f` with the current context without cloning it.
    pub(crate) fn with_current<R>(f: impl FnOnce(&RequestContext) -> R) -> Option<R> {
        CURRENT.try_with(f).ok()
    }

    /// Runs `f` with this context as the current one.
    pub(crate) fn sync_scope<R>(self, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self, f)
    }

    /// Runs `fut` with this context as the task's current one.
    pub(crate) fn scope<F: std::future::Future>(
        self,
        fut: F,
    ) -> tokio::task::futures::TaskLocalFuture<RequestContext, F> {
        CURRENT.scope(self, fut)
    }

    /// The request id, also shown on block pages as the security response id.
    pub fn rid(&self) -> Rid {
        self.inner.rid
    }

    /// The address of the connection's peer, when the server provided it.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.inner.peer
    }

    /// The client's address after trusted-proxy resolution (see the crate docs), if known.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.inner.client_ip
    }

    /// The request method.
    pub fn method(&self) -> &http::Method {
        &self.inner.method
    }

    /// The request path.
    pub fn path(&self) -> &str {
        self.inner.uri.path()
    }

    /// The request URI as received.
    pub fn uri(&self) -> &http::Uri {
        &self.inner.uri
    }

    /// The user identified for this request, if any: as `identify`, the builder's resolver or
    /// automatic user monitoring named it, or its salted hash (`{"id": "<hex>"}`) when
    /// `SQREEN_USER_ID_MODE=anonymized`.
    pub fn user(&self) -> Option<UserKeys> {
        self.inner.user.lock().as_deref().cloned()
    }

    /// The user identified for this request, shared (no copy of its keys).
    pub(crate) fn user_shared(&self) -> Option<Arc<UserKeys>> {
        self.inner.user.lock().clone()
    }

    /// True when the client IP is critical (private, loopback, ..., or configured).
    pub fn is_critical_ip(&self) -> bool {
        self.inner
            .client_ip
            .zip(self.agent())
            .is_some_and(|(ip, agent)| agent.critical.is_critical(ip))
    }

    /// True when the client IP is on the pass list (no check applies).
    pub fn is_passlisted(&self) -> bool {
        self.inner.passlisted
    }
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("rid", &self.inner.rid)
            .field("peer", &self.inner.peer)
            .field("client_ip", &self.inner.client_ip)
            .field("method", &self.inner.method)
            .field("path", &self.inner.uri.path())
            .field("passlisted", &self.inner.passlisted)
            .field("detached", &self.is_detached())
            .field("user", &*self.inner.user.lock())
            .finish()
    }
}

#[cfg(feature = "axum")]
mod extract {
    //! `RequestContext` as an axum extractor: never a rejection, so that turning the agent off
    //! (or its failing open) cannot turn a handler's 200 into a 500.

    use std::convert::Infallible;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::extract::{FromRequestParts, OptionalFromRequestParts};
    use http::request::Parts;

    use super::RequestContext;

    static LOGGED_DETACHED: AtomicBool = AtomicBool::new(false);

    /// The layer's context, or a detached one when the agent did not look at the request.
    impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
        type Rejection = Infallible;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
            if let Some(ctx) = parts.extensions.get::<RequestContext>() {
                return Ok(ctx.clone());
            }
            if !LOGGED_DETACHED.swap(true, Ordering::Relaxed) {
                tracing::debug!(
                    target: "sqreen",
                    "no RequestContext on the request (agent disabled, failed open, or no sqreen layer on this route): handlers get a detached context (logged once)"
                );
            }
            Ok(RequestContext::detached(
                parts.method.clone(),
                parts.uri.clone(),
            ))
        }
    }

    /// `Option<RequestContext>`: `None` when the agent did not look at the request.
    impl<S: Send + Sync> OptionalFromRequestParts<S> for RequestContext {
        type Rejection = Infallible;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Option<Self>, Infallible> {
            Ok(parts.extensions.get::<RequestContext>().cloned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_is_32_hex_digits() {
        let rid = Rid(0xabc);
        assert_eq!(rid.to_string(), "00000000000000000000000000000abc");
        assert_ne!(Rid::random(), Rid::random());
    }

    #[test]
    fn user_keys_are_canonical_whatever_the_order() {
        let a = UserKeys::new().with("id", "42").with("org", "acme");
        let b = UserKeys::new().with("org", "acme").with("id", "42");
        assert_eq!(a, b);
        assert_eq!(a.id(), "id=42&org=acme");
        let c: Vec<_> = a.match_candidates().collect();
        assert_eq!(c, vec!["id=42&org=acme", "42", "acme"]);
    }

    #[test]
    fn empty_keys_and_values_are_ignored() {
        let u = UserKeys::new().with(" ", "x").with("email", "  ");
        assert!(u.is_empty());
        assert_eq!(u.id(), "");
        let v = UserKeys::new().with(" email ", " a@b.c ");
        assert_eq!(v.get("email"), Some("a@b.c"));
        let c: Vec<_> = v.match_candidates().collect();
        assert_eq!(c, vec!["a@b.c"]);
    }
}
