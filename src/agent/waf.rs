//! Running the in-app WAF for the layer: the request head before the body is read, the body
//! once read, and the 404 check after the response. Hits become built-in events (counted by
//! playbooks like any other); in block mode the first hit answers 403 before the handler.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::{Map, Value};

use super::{stats::Counters, AgentInner, Subject, UserRef};
use crate::action::ActionKind;
use crate::body::ReadBody;
use crate::context::{PendingResponse, RequestContext};
use crate::event::{names, redact::REDACTED};
use crate::rules::{OnBodyOverLimit, OnBudgetExceeded, WafMode, WafSettings};
use crate::waf::{inputs, AttackCategory, Finding, Hit, Scan, Stop, MAX_FRAGMENT};

/// What the layer does after the WAF looked at a request's head.
pub(crate) enum WafStep {
    /// Go on; inspect the body (if one is read) with what is left of the budget.
    Continue { spent: Duration },
    /// Go on without inspecting the body (WAF off, pass-listed client, budget spent).
    Skip,
    /// Answer now.
    Respond(Response<Bytes>),
}

impl AgentInner {
    /// The WAF mode in force: the rules document's, else the environment's.
    pub(crate) fn current_waf_mode(&self) -> WafMode {
        self.rules.load().waf.mode.unwrap_or(self.config.waf_mode)
    }

    /// The WAF mode for this request: its route's (resolved by [`AgentInner::waf_head`]), else
    /// the one in force.
    fn request_waf_mode(&self, ctx: &RequestContext) -> WafMode {
        match ctx.inner().waf_scope.get() {
            Some(scope) => scope.mode,
            None => self.current_waf_mode(),
        }
    }

    /// Inspects the path, query, headers and cookies.
    pub(crate) fn waf_head<B>(&self, ctx: &RequestContext, req: &Request<B>) -> WafStep {
        if ctx.is_passlisted() {
            return WafStep::Skip;
        }
        let rules = self.rules.load();
        let global = rules.waf.mode.unwrap_or(self.config.waf_mode);
        let scope = rules
            .waf_scopes
            .resolve(global, req.method(), req.uri(), req.headers());
        let scope = ctx.inner().waf_scope.get_or_init(|| scope);
        let mode = scope.mode;
        if mode == WafMode::Off {
            return WafStep::Skip;
        }
        let mut scan = Scan::new(
            &rules.waf.disabled_rules,
            mode == WafMode::Block,
            self.config.waf_budget,
            Duration::ZERO,
        )
        .with_exclusions(scope.applied.as_ref())
        .with_request(req.uri(), req.headers())
        .with_paranoia(rules.waf.paranoia.unwrap_or(self.config.waf_paranoia))
        .with_cut_off(rules.waf.on_budget_exceeded == OnBudgetExceeded::Pass);
        let stop = inputs::scan_head(&mut scan, req.uri(), req.headers()).err();
        let head_bytes = || {
            let headers: usize = req
                .headers()
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len())
                .sum();
            req.uri().path().len() + req.uri().query().map_or(0, str::len) + headers
        };
        if scan.overrun && !scan.overrun_before {
            self.budget_exceeded(ctx, &scan, "head", head_bytes(), &rules.waf);
        }
        match self.waf_report(ctx, &scan, mode) {
            Some(response) => WafStep::Respond(response),
            None if stop == Some(Stop::Budget) => WafStep::Skip,
            None => WafStep::Continue {
                spent: scan.spent(),
            },
        }
    }

    /// Inspects a body the layer read, with what is left of the budget; `Some` answers now.
    pub(crate) fn waf_body(
        &self,
        ctx: &RequestContext,
        body: &ReadBody,
        head: &http::request::Parts,
        spent: Duration,
    ) -> Option<Response<Bytes>> {
        let rules = self.rules.load();
        let scope = ctx.inner().waf_scope.get();
        let mode = scope.map_or_else(|| self.current_waf_mode(), |s| s.mode);
        if mode == WafMode::Off {
            return None;
        }
        let mut scan = Scan::new(
            &rules.waf.disabled_rules,
            mode == WafMode::Block,
            self.config.waf_budget,
            spent,
        )
        .with_exclusions(scope.and_then(|s| s.applied.as_ref()))
        .with_request(&head.uri, &head.headers)
        .with_paranoia(rules.waf.paranoia.unwrap_or(self.config.waf_paranoia))
        .with_cut_off(rules.waf.on_budget_exceeded == OnBudgetExceeded::Pass);
        let _ = inputs::scan_body(&mut scan, body, &head.headers);
        if scan.overrun && !scan.overrun_before {
            self.budget_exceeded(ctx, &scan, "body", body.bytes.len(), &rules.waf);
        }
        self.waf_report(ctx, &scan, mode)
    }

    /// A body the WAF cannot read as text (`reason`: `decompression_bomb`, or
    /// `unsupported_encoding`, e.g. `zstd` or stacked codings): recorded as
    /// `app.sqreen.waf.body_refused`; in block mode the request is answered 413 or 415 before
    /// the handler (what cannot be inspected does not go through), in monitor mode it goes on.
    pub(crate) fn waf_refuse_body(
        &self,
        ctx: &RequestContext,
        reason: &str,
        headers: &http::HeaderMap,
    ) -> Option<Response<Bytes>> {
        let mode = self.request_waf_mode(ctx);
        let block = mode == WafMode::Block;
        let encoding = headers
            .get(http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(64)
            .collect::<String>();
        tracing::debug!(target: "sqreen::waf", rid = %ctx.rid(), reason, encoding = %encoding, block, "request body refused");
        if self.wants_events() {
            let mut properties = Map::new();
            properties.insert("reason".into(), reason.into());
            properties.insert("content_encoding".into(), encoding.into());
            properties.insert("blocked".into(), Value::Bool(block));
            self.emit_about(ctx, names::WAF_BODY_REFUSED, properties);
        }
        if !block {
            return None;
        }
        let status = if reason == "decompression_bomb" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        };
        Some(self.refuse_body(ctx, status))
    }

    /// The block page with `status`, for a body refused before the handler (counted as a
    /// WAF block).
    fn refuse_body(&self, ctx: &RequestContext, status: StatusCode) -> Response<Bytes> {
        Counters::bump(&self.counters.waf_blocked);
        ctx.decide(crate::trace::VERDICT_WAF_BLOCK);
        let mut response = self.renderer.render_for(&ActionKind::Block, ctx.inner());
        *response.status_mut() = status;
        response
    }

    /// A body longer than `SQREEN_MAX_BODY_BYTES` (`read`: the bytes the layer holds of it):
    /// counted and recorded as `app.sqreen.waf.body_over_limit`; with
    /// `waf.on_body_over_limit: "refuse"` in block mode the request is answered 413 before the
    /// handler, else its first bytes are inspected as usual.
    pub(crate) fn waf_body_over_limit(
        &self,
        ctx: &RequestContext,
        read: usize,
    ) -> Option<Response<Bytes>> {
        let rules = self.rules.load();
        let mode = self.request_waf_mode(ctx);
        if mode == WafMode::Off {
            return None;
        }
        let refuse =
            mode == WafMode::Block && rules.waf.on_body_over_limit == OnBodyOverLimit::Refuse;
        Counters::bump(&self.counters.waf_bodies_over_limit);
        if self.wants_events() {
            let mut properties = Map::new();
            properties.insert("limit".into(), (self.config.max_body_bytes as u64).into());
            properties.insert(
                "inspected".into(),
                (read.min(self.config.max_body_bytes) as u64).into(),
            );
            properties.insert("blocked".into(), Value::Bool(refuse));
            self.emit_about(ctx, names::WAF_BODY_OVER_LIMIT, properties);
        }
        refuse.then(|| self.refuse_body(ctx, StatusCode::PAYLOAD_TOO_LARGE))
    }

    /// Counts a scan that went past the time budget and records
    /// `app.sqreen.waf.budget_exceeded`: how long it took, and how much of the `phase`'s
    /// `total` bytes it read (all of them unless the rules say `on_budget_exceeded: "pass"`).
    fn budget_exceeded(
        &self,
        ctx: &RequestContext,
        scan: &Scan<'_>,
        phase: &str,
        total: usize,
        waf: &WafSettings,
    ) {
        Counters::bump(&self.counters.waf_overruns);
        let pass = waf.on_budget_exceeded == OnBudgetExceeded::Pass;
        let inspected = if pass && total > 0 {
            // values are counted as read, decoded; never report more than all
            ((scan.bytes as f64 / total as f64).min(1.0) * 100.0).round() / 100.0
        } else {
            1.0
        };
        tracing::debug!(
            target: "sqreen::waf",
            rid = %ctx.rid(),
            budget_us = self.config.waf_budget.as_micros() as u64,
            spent_us = scan.spent().as_micros() as u64,
            phase,
            inspected,
            "WAF time budget spent"
        );
        if !self.wants_events() {
            return;
        }
        let mut properties = Map::new();
        properties.insert("phase".into(), phase.into());
        properties.insert(
            "budget_us".into(),
            (self.config.waf_budget.as_micros() as u64).into(),
        );
        properties.insert("spent_us".into(), (scan.spent().as_micros() as u64).into());
        properties.insert("inspected".into(), inspected.into());
        properties.insert(
            "on_budget_exceeded".into(),
            if pass { "pass" } else { "inspect" }.into(),
        );
        self.emit_about(ctx, names::WAF_BUDGET_EXCEEDED, properties);
    }

    /// Records the built-in event `name` about the request (its client IP, no user: these are
    /// about the request's bytes, and count for no playbook).
    fn emit_about(&self, ctx: &RequestContext, name: &str, properties: Map<String, Value>) {
        let event = self.build_event(
            name,
            properties,
            Some(ctx),
            ctx.client_ip(),
            None,
            self.now(),
        );
        self.emit(event);
    }

    /// Counts and records a scan's hits; the response to answer with, if any: the block page in
    /// block mode, or the action a playbook fired on this request's actor.
    fn waf_report(
        &self,
        ctx: &RequestContext,
        scan: &Scan<'_>,
        mode: WafMode,
    ) -> Option<Response<Bytes>> {
        if scan.hits.is_empty() {
            return None;
        }
        let block = mode == WafMode::Block;
        for hit in &scan.hits {
            self.record_hit(ctx, hit, block);
        }
        let inner = ctx.inner();
        if block {
            Counters::bump(&self.counters.waf_blocked);
            ctx.decide(crate::trace::VERDICT_WAF_BLOCK);
            inner.pending.lock().take();
            return Some(self.renderer.render_for(&ActionKind::Block, inner));
        }
        // monitor mode: a playbook fired on this request's actor answers before the handler
        let pending = inner.pending.lock().take()?;
        Some(match pending {
            PendingResponse::Action(kind) => self.renderer.render_for(&kind, inner),
            PendingResponse::Unavailable => self.renderer.unavailable(inner.rid),
        })
    }

    /// Records one hit as its built-in event (counted by playbooks like any other event).
    fn record_hit(&self, ctx: &RequestContext, hit: &Hit, blocked: bool) {
        self.counters.waf_hits[hit.category as usize].fetch_add(1, Ordering::Relaxed);
        let mut properties = Map::new();
        properties.insert("rule".into(), hit.rule.into());
        properties.insert("category".into(), hit.category.as_str().into());
        properties.insert("input".into(), hit.input.clone().into());
        properties.insert("fragment".into(), self.shown_fragment(hit).into());
        properties.insert("blocked".into(), Value::Bool(blocked));
        let user = ctx.user_shared();
        self.record_event(
            hit.category.event_name(),
            properties,
            Subject {
                ctx: Some(ctx),
                ip: ctx.client_ip(),
                user: user.as_deref().map(UserRef::Keys),
            },
        );
    }

    /// The fragment as events show it: redacted when the input's key or the fragment itself is
    /// sensitive (a password field, a card number).
    fn shown_fragment(&self, hit: &Hit) -> String {
        let key = input_key(&hit.input);
        if self.redactor.is_sensitive(Some(key), &hit.fragment) {
            REDACTED.to_owned()
        } else {
            hit.fragment.clone()
        }
    }

    /// After the handler: a 404 records `app.sqreen.http.not_found`, and a 404 on a known probe
    /// path records `app.sqreen.http.scanner` (unless the WAF is off).
    pub(crate) fn after_response(&self, ctx: &RequestContext, status: StatusCode) {
        if status != StatusCode::NOT_FOUND || ctx.is_passlisted() {
            return;
        }
        let user = ctx.user_shared();
        let subject = || Subject {
            ctx: Some(ctx),
            ip: ctx.client_ip(),
            user: user.as_deref().map(UserRef::Keys),
        };
        self.record_event(names::HTTP_NOT_FOUND, Map::new(), subject());
        if self.request_waf_mode(ctx) == WafMode::Off {
            return;
        }
        let path = inputs::decode(ctx.path().as_bytes(), false);
        let Some(Finding { rule, span }) = crate::waf::scanner::detect_probe_path(&path) else {
            return;
        };
        if self
            .rules
            .load()
            .waf
            .disabled_rules
            .iter()
            .any(|r| r == rule)
        {
            return;
        }
        let applied = ctx.inner().waf_scope.get().and_then(|s| s.applied.as_ref());
        if applied.is_some_and(|a| {
            a.skip & AttackCategory::Scanner.bit() != 0
                || a.excludes(AttackCategory::Scanner, rule, &"path", &mut String::new())
        }) {
            return;
        }
        let hit = Hit {
            category: AttackCategory::Scanner,
            rule,
            input: "path".to_owned(),
            fragment: path
                .get(span)
                .unwrap_or_default()
                .chars()
                .take(MAX_FRAGMENT)
                .collect(),
        };
        self.record_hit(ctx, &hit, false);
    }
}

/// The request's host: the `Host` header, else the URI's authority (HTTP/2), else empty.
/// The last key of an input name: `body.user.password` → `password`, `query.q` → `q`.
fn input_key(input: &str) -> &str {
    let last = input.rsplit('.').next().unwrap_or(input);
    last.split('[').next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_keys() {
        assert_eq!(super::input_key("body.user.password"), "password");
        assert_eq!(super::input_key("body.items[3]"), "items");
        assert_eq!(super::input_key("query.q"), "q");
        assert_eq!(super::input_key("path"), "path");
    }
}
