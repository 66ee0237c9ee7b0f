//! The request check run by the layer before the handler, and by `identify` during it.
//!
//! Order (DESIGN section 2): resolve the client IP; the IP pass list skips every check; the IP
//! deny list and IP actions answer at once; then the user, if the builder's resolver (or, in
//! automatic user monitoring, the request's credentials: see [`crate::user`]) names one (a
//! passlisted user is never answered, a denied or acted-on user is). A redirect is never
//! answered on its own target or on a `redirect_passlist` path, so redirects cannot loop.
//! Everything here is synchronous, lock-free on shared state, and does no I/O.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::ACCEPT;
use http::{Request, Response};
use parking_lot::Mutex;

use super::{stats::Counters, AgentInner, RequestHead, UserRef};
use crate::action::ActionKind;
use crate::context::{ContextInner, EventHeaders, PendingResponse, RequestContext, Rid, UserKeys};
use crate::event::names;
use crate::rules::ActiveRules;
use crate::sdk::Verdict;
use crate::trace::{self, TraceId};

/// What the layer does with a request.
pub(crate) enum Inspection {
    /// Call the handler with this context (already in the request's extensions).
    Forward(RequestContext),
    /// Answer now with this response.
    Respond(Response<Bytes>),
}

/// Why a request is answered by the agent.
#[derive(Clone, Copy)]
pub(crate) enum Reason {
    Ip,
    User,
}

/// The peer address: axum's `ConnectInfo<SocketAddr>`, else a `SocketAddr` extension.
fn peer_addr<B>(req: &Request<B>) -> Option<SocketAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(info.0);
    }
    req.extensions().get::<SocketAddr>().copied()
}

impl AgentInner {
    /// Checks a request before the handler.
    pub(crate) fn inspect<B>(self: &Arc<Self>, req: &mut Request<B>) -> Inspection {
        let peer = peer_addr(req);
        let client_ip = self.resolver.resolve(peer.map(|p| p.ip()), req.headers());
        let rules = self.rules.load();
        let passlisted = client_ip.is_some_and(|ip| rules.ip_pass.contains(ip));
        let head = RequestHead {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
            extensions: req.extensions(),
        };
        let user = self.users.request_user(&head, self.user_resolver.as_ref());

        let mut decision = None;
        if passlisted {
            Counters::bump(&self.counters.passlisted);
        } else if !user.as_ref().is_some_and(|u| rules.user_passlisted(u)) {
            decision = client_ip
                .and_then(|ip| self.ip_decision(&rules, ip))
                .map(|kind| (kind, Reason::Ip))
                .or_else(|| {
                    let user = user.as_ref()?;
                    Some((self.user_decision(&rules, user)?, Reason::User))
                });
        }

        let rid = Rid::random();
        let trace_id = TraceId::from_headers(req.headers());
        let span = crate::trace::request_span(rid, client_ip, trace_id);
        if let Some(user) = &user {
            self.record_user(&span, user);
        }
        let accept = req.headers().get(ACCEPT).cloned();
        let ctx = RequestContext::new(ContextInner {
            rid,
            peer,
            client_ip,
            method: req.method().clone(),
            uri: req.uri().clone(),
            passlisted,
            agent: Some(self.clone()),
            user: Mutex::new(user.map(Arc::new)),
            accept,
            // only events read these: skip the lookups when no event is ever built
            headers: if self.wants_events() {
                EventHeaders::from(req.headers())
            } else {
                EventHeaders::default()
            },
            pending: Mutex::new(None),
            body: std::sync::OnceLock::new(),
            auth_tracked: std::sync::atomic::AtomicBool::new(false),
            rasp_inputs: std::sync::OnceLock::new(),
            trace_id,
            span,
            verdict: std::sync::OnceLock::new(),
            waf_scope: std::sync::OnceLock::new(),
        });
        if let Some((kind, reason)) = decision {
            if !self.exempt(&rules, &kind, req.uri().path()) {
                self.denied(&ctx, &kind, reason);
                return Inspection::Respond(self.renderer.render_for(&kind, ctx.inner()));
            }
        }
        req.extensions_mut().insert(ctx.clone());
        Inspection::Forward(ctx)
    }

    /// Counts a refused request and records `app.sqreen.ip.denied` or `app.sqreen.user.denied`.
    pub(crate) fn denied(&self, ctx: &RequestContext, kind: &ActionKind, reason: Reason) {
        self.count(kind, reason);
        ctx.decide(match (kind, reason) {
            (ActionKind::Redirect { .. }, _) => trace::VERDICT_REDIRECT,
            (ActionKind::Block, Reason::Ip) => trace::VERDICT_BLOCKED_IP,
            (ActionKind::Block, Reason::User) => trace::VERDICT_BLOCKED_USER,
        });
        if !self.wants_events() {
            return;
        }
        let mut properties = serde_json::Map::new();
        let action = match kind {
            ActionKind::Block => "block",
            ActionKind::Redirect { .. } => "redirect",
        };
        properties.insert("action".into(), action.into());
        if let ActionKind::Redirect { url } = kind {
            properties.insert("url".into(), url.clone().into());
        }
        let (name, user) = match reason {
            Reason::Ip => (names::IP_DENIED, None),
            Reason::User => (names::USER_DENIED, ctx.user_shared()),
        };
        let user = user.as_deref().map(UserRef::Keys);
        let event = self.build_event(
            name,
            properties,
            Some(ctx),
            ctx.client_ip(),
            user,
            self.now(),
        );
        self.emit(event);
    }

    /// `identify` during the handler: admits the user (see [`crate::user`]), records it and
    /// decides whether the response must be replaced. Ignored when user monitoring is off.
    pub(crate) fn identify(&self, ctx: &RequestContext, user: UserKeys) -> Verdict {
        match self.users.admit(user) {
            Some(user) => self.identify_admitted(ctx, user),
            None => Verdict::Proceed,
        }
    }

    /// `identify` with a user already admitted.
    pub(crate) fn identify_admitted(&self, ctx: &RequestContext, user: UserKeys) -> Verdict {
        let inner = ctx.inner();
        let rules = self.rules.load();
        let decision = if inner.passlisted {
            None
        } else {
            self.user_decision(&rules, &user)
        };
        self.record_user(&inner.span, &user);
        *inner.user.lock() = Some(Arc::new(user));
        match decision {
            Some(kind) if !self.exempt(&rules, &kind, inner.uri.path()) => {
                self.denied(ctx, &kind, Reason::User);
                let verdict = Verdict::from(&kind);
                *inner.pending.lock() = Some(PendingResponse::Action(kind));
                verdict
            }
            _ => Verdict::Proceed,
        }
    }

    /// Records the user on the request's span, as events show it (anonymized or redacted).
    fn record_user(&self, span: &tracing::Span, user: &UserKeys) {
        if span.is_disabled() {
            return;
        }
        let id = user.id_cow();
        let shown = if self.users.is_anonymized() {
            id.into_owned()
        } else {
            self.redactor.string(None, &id)
        };
        span.record("user", shown.as_str());
    }

    fn ip_decision(&self, rules: &ActiveRules, ip: std::net::IpAddr) -> Option<ActionKind> {
        if rules.ip_deny.contains(ip) {
            return Some(ActionKind::Block);
        }
        if self.actions.is_empty() {
            return None;
        }
        self.actions
            .lookup_ip(ip, self.now())
            .map(|a| a.kind.clone())
    }

    /// The action a user gets: none when passlisted, a block when on the deny list, else the
    /// active runtime action on the user, if any.
    fn user_decision(&self, rules: &ActiveRules, user: &UserKeys) -> Option<ActionKind> {
        if rules.user_passlisted(user) {
            None
        } else if rules.user_denied(user) {
            Some(ActionKind::Block)
        } else {
            self.user_action(user, self.now()).map(|a| a.kind.clone())
        }
    }

    /// True when a redirect must not be answered on `path`: it is the redirect's own target or on
    /// the redirect pass list.
    pub(crate) fn exempt(&self, rules: &ActiveRules, kind: &ActionKind, path: &str) -> bool {
        match kind {
            ActionKind::Block => false,
            ActionKind::Redirect { url } => {
                target_path(url) == path || rules.redirect_passlisted(path)
            }
        }
    }

    pub(crate) fn count(&self, kind: &ActionKind, reason: Reason) {
        let counter = match (kind, reason) {
            (ActionKind::Redirect { .. }, _) => &self.counters.redirected,
            (ActionKind::Block, Reason::Ip) => &self.counters.blocked_ip,
            (ActionKind::Block, Reason::User) => &self.counters.blocked_user,
        };
        Counters::bump(counter);
    }
}

/// The path part of a redirect location (`/blocked?x` → `/blocked`, `https://h/p` → `/p`).
fn target_path(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "/",
            }
        }
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::target_path;

    #[test]
    fn target_paths() {
        assert_eq!(target_path("/blocked"), "/blocked");
        assert_eq!(target_path("/blocked?from=x#top"), "/blocked");
        assert_eq!(target_path("https://x.example/reset?a=b"), "/reset");
        assert_eq!(target_path("https://x.example"), "/");
    }
}
