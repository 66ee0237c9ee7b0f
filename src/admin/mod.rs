//! The admin API (DESIGN section 11): health, Prometheus metrics, recent events, runtime actions
//! and the Events Explorer page, served by the layer itself under `SQREEN_ADMIN_PATH`.
//!
//! It exists only when `SQREEN_ADMIN_TOKEN` is set (and the agent is not disabled). The layer
//! hands a request whose path is the admin path, or below it, to [`AdminApi`] **before anything
//! else**: such a request is never checked against the pass and deny lists or the actions (an
//! operator who blocked their own network can still lift the block), never inspected by the WAF,
//! never counted by playbooks, never recorded as an event, and never reaches the application's
//! routes, whatever its token. The bearer token is the only guard: it is compared in constant time
//! (an HMAC of both sides under a random key), and every refusal (401) is counted in
//! [`crate::Stats::admin_unauthorized`] and logged at most once a minute.
//!
//! Answers are computed synchronously from in-memory state, with no I/O: the only thing awaited
//! is the body of `POST actions` (at most [`MAX_BODY`] bytes), read after the token was checked.
//! Everything is JSON (`{"error": ..., "field": ...}` on failure), except `metrics` (Prometheus
//! text) and `explorer` (one self-contained HTML page).
//!
//! `health` is answered here; [`metrics`] renders `agent.stats()` as Prometheus text;
//! [`events`] queries the ring of recent events kept by the pipeline
//! ([`crate::event::ring::EventRing`]); [`attacks`] groups the attack events in it by rule,
//! route and input, with the WAF exclusion for each; [`actions`] validates and applies action requests;
//! [`explorer`] serves the page; [`openapi`] the OpenAPI 3.1 document of all of them; [`auth`]
//! checks tokens. The routes are one table, [`ROUTES`].

mod actions;
mod attacks;
mod auth;
mod events;
mod explorer;
mod listener;
mod metrics;
mod openapi;
mod service;

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, Response, StatusCode, Uri};
use serde_json::{json, Value};

use crate::agent::Agent;
use crate::config::Config;
use crate::event::ring::EventRing;
use crate::event::time::rfc3339;

pub(crate) use auth::TokenCheck;
pub(crate) use listener::AdminServer;
pub use service::AdminService;

/// The largest request body the admin API reads (`POST actions`).
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// The admin API of one agent.
pub(crate) struct AdminApi {
    path: String,
    token: TokenCheck,
    last_refusal_log: AtomicU64,
    /// The OpenAPI document, its paths under `path`.
    openapi: Bytes,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What the layer does with an admin request.
pub(crate) enum AdminStep {
    /// Answer with this.
    Respond(Response<Bytes>),
    /// Read the body (at most [`MAX_BODY`] bytes), then call [`AdminApi::with_body`].
    ReadBody,
}

/// An admin request, as the handlers see it.
pub(crate) struct AdminRequest<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
}

impl AdminApi {
    /// The admin API `config` asks for, if any (`admin_token` set, the agent not disabled).
    pub(crate) fn new(config: &Config) -> Option<AdminApi> {
        if config.disabled {
            return None;
        }
        let token = config.admin_token.as_deref()?;
        let path = config.admin_path.trim_end_matches('/').to_owned();
        Some(AdminApi {
            openapi: openapi::document(&path),
            path,
            token: TokenCheck::new(token),
            last_refusal_log: AtomicU64::new(u64::MAX),
        })
    }

    /// The admin API the layer answers on the application's listener, if any (there is an
    /// admin API, and `SQREEN_ADMIN_ADDR` is unset or `app`).
    pub(crate) fn on_app_listener(config: &Config) -> Option<AdminApi> {
        if config.admin_listener.on_app_listener() {
            AdminApi::new(config)
        } else {
            None
        }
    }

    /// True when `path` is the admin path or below it (`/_sqreen`, `/_sqreen/...`), so the
    /// request is the admin API's, never the application's.
    pub(crate) fn serves(&self, path: &str) -> bool {
        path.strip_prefix(self.path.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Checks the token and answers, unless the call needs its body read first.
    pub(crate) fn head(&self, agent: &Agent, req: &AdminRequest<'_>) -> AdminStep {
        let sub = req
            .uri
            .path()
            .strip_prefix(self.path.as_str())
            .unwrap_or_default()
            .trim_start_matches('/');
        let method = req.method;
        // The Explorer's page holds no data and takes its token from the address's fragment,
        // which browsers never send: it is served to anyone, and the calls it makes need the
        // token like any other.
        if sub == "explorer" && method == Method::GET {
            return AdminStep::Respond(explorer::page());
        }
        if let Err(reason) = self.token.check(req.headers) {
            return AdminStep::Respond(self.refuse(agent, reason));
        }
        // the recent events exist whenever the agent has an admin API (built from the same
        // configuration); without them there is nothing to serve
        let Some(ring) = agent.inner.recent.as_deref() else {
            return AdminStep::Respond(error(
                StatusCode::NOT_FOUND,
                None,
                "the admin API is off: set SQREEN_ADMIN_TOKEN".to_owned(),
            ));
        };
        let response = match route(method, sub) {
            Ok((Endpoint::Health, _)) => health(agent, ring),
            Ok((Endpoint::Metrics, _)) => metrics::render(agent, ring),
            Ok((Endpoint::Events, _)) => events::query(ring, agent.inner.now(), req.uri),
            Ok((Endpoint::TopAttacks, _)) => attacks::top(ring, agent.inner.now(), req.uri),
            Ok((Endpoint::Explorer, _)) => explorer::page(),
            Ok((Endpoint::OpenApi, _)) => json_bytes(StatusCode::OK, self.openapi.clone()),
            Ok((Endpoint::ListActions, _)) => actions::list(agent),
            Ok((Endpoint::CreateAction, _)) => return AdminStep::ReadBody,
            Ok((Endpoint::DeleteAction, id)) => actions::delete(agent, id),
            Err(Unrouted::NotAllowed(allowed)) => not_allowed(method, &allowed),
            Err(Unrouted::NotFound) => error(
                StatusCode::NOT_FOUND,
                None,
                format!(
                    "no admin endpoint {}: try health, metrics, events, attacks/top, actions, explorer or openapi.json",
                    req.uri.path()
                ),
            ),
        };
        AdminStep::Respond(response)
    }

    /// Answers a call whose body was read (`POST actions`); `body` is `None` when it could not
    /// be read whole within [`MAX_BODY`] bytes.
    pub(crate) fn with_body(
        &self,
        agent: &Agent,
        body: Result<Bytes, BodyError>,
    ) -> Response<Bytes> {
        match body {
            Ok(body) => actions::create(agent, &self.path, &body),
            Err(BodyError::TooLarge) => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Some("body"),
                format!("body: larger than {MAX_BODY} bytes"),
            ),
            Err(BodyError::Unreadable) => error(
                StatusCode::BAD_REQUEST,
                Some("body"),
                "body: could not be read".to_owned(),
            ),
        }
    }

    /// A 401, counted, and logged at most once a minute (a flood of guesses cannot flood logs).
    fn refuse(&self, agent: &Agent, reason: &'static str) -> Response<Bytes> {
        let refused = agent
            .inner
            .counters
            .admin_unauthorized
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        let minute = agent.inner.now() / 60_000;
        if self.last_refusal_log.swap(minute, Ordering::Relaxed) != minute {
            tracing::warn!(target: "sqreen", refused_so_far = refused, reason, "admin API: request refused (401); logged at most once a minute");
        }
        let mut response = error(StatusCode::UNAUTHORIZED, None, reason.to_owned());
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sqreen admin\""),
        );
        response
    }
}

/// Answers `GET health`.
fn health(agent: &Agent, ring: &EventRing) -> Response<Bytes> {
    let inner = &agent.inner;
    let rules = inner.rules.load();
    let now = inner.now();
    let events = inner
        .pipeline
        .as_ref()
        .map(|p| p.stats())
        .unwrap_or_default();
    json_response(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "rules_version": rules.version,
            "rules_source": rules.source.to_string(),
            "waf_mode": agent.waf_mode().as_str(),
            "waf_paranoia": agent.waf_paranoia().level(),
            "uptime_s": now.saturating_sub(inner.started) / 1000,
            "started_at": rfc3339(inner.started),
            "queue_depth": events.queue_depth,
            "last_delivery_error": events.last_delivery_error,
            "actions": agent.actions().len(),
            "events_held": ring.len(),
            "internal_failures": inner.failures.count(),
            "cluster": inner.cluster.get().map_or_else(
                || json!({ "state": crate::cluster::ClusterState::Off }),
                |c| c.health(now),
            ),
        }),
    )
}

/// Why an admin body could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    TooLarge,
    Unreadable,
}

/// The admin routes: method, path below the admin path (`{id}` stands for the rest of the
/// path) and what answers. The router answers from this table alone, and a unit test holds the
/// OpenAPI document (`openapi.json`) to it, both ways.
pub(crate) const ROUTES: &[(&str, &str, Endpoint)] = &[
    ("GET", "health", Endpoint::Health),
    ("GET", "metrics", Endpoint::Metrics),
    ("GET", "events", Endpoint::Events),
    ("GET", "attacks/top", Endpoint::TopAttacks),
    ("GET", "actions", Endpoint::ListActions),
    ("POST", "actions", Endpoint::CreateAction),
    ("DELETE", "actions/{id}", Endpoint::DeleteAction),
    ("GET", "explorer", Endpoint::Explorer),
    ("GET", "openapi.json", Endpoint::OpenApi),
];

/// What answers an admin route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Health,
    Metrics,
    Events,
    /// Attack events grouped by rule, route and input, with exclusions to copy.
    TopAttacks,
    ListActions,
    CreateAction,
    /// Takes the `{id}` of its path.
    DeleteAction,
    Explorer,
    OpenApi,
}

/// Why a request has no endpoint.
#[derive(Debug, PartialEq, Eq)]
enum Unrouted {
    /// The path is served, with these methods only.
    NotAllowed(Vec<&'static str>),
    NotFound,
}

/// The endpoint [`ROUTES`] gives `method` on `sub` (the path below the admin path), with the
/// `{id}` of its path (empty when it has none).
fn route<'a>(method: &Method, sub: &'a str) -> Result<(Endpoint, &'a str), Unrouted> {
    let mut allowed = Vec::new();
    for &(route_method, pattern, endpoint) in ROUTES {
        let id = match pattern.strip_suffix("{id}") {
            Some(prefix) => match sub.strip_prefix(prefix) {
                Some(id) => id,
                None => continue,
            },
            None if pattern == sub => "",
            None => continue,
        };
        if method.as_str() == route_method {
            return Ok((endpoint, id));
        }
        allowed.push(route_method);
    }
    if allowed.is_empty() {
        Err(Unrouted::NotFound)
    } else {
        Err(Unrouted::NotAllowed(allowed))
    }
}

/// A 405 naming the methods the path takes, in `Allow` too.
fn not_allowed(method: &Method, allowed: &[&str]) -> Response<Bytes> {
    let allowed = allowed.join(", ");
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        format!("method {method} not allowed here: use {allowed}"),
    );
    if let Ok(value) = HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// A bad query parameter: its name and the message (which starts with the name).
pub(crate) type BadParam = (String, String);

/// Reads a query's parameters for `each(key, value)` (value trimmed), once each: a repeated
/// key, or `each`'s complaint about one, is the error naming that key.
pub(crate) fn each_param(
    query: Option<&str>,
    mut each: impl FnMut(&str, &str) -> Result<(), String>,
) -> Result<(), BadParam> {
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let why = if seen.iter().any(|k| *k == key) {
            Err("given more than once".to_owned())
        } else {
            seen.push(key.clone().into_owned());
            each(&key, value.trim())
        };
        if let Err(why) = why {
            return Err((key.clone().into_owned(), format!("{key}: {why}")));
        }
    }
    Ok(())
}

/// `since`: an RFC 3339 time.
pub(crate) fn param_time(value: &str) -> Result<crate::clock::Millis, String> {
    crate::event::time::parse_rfc3339(value)
        .ok_or_else(|| "expected an RFC 3339 time such as 2026-11-23T16:00:00Z".to_owned())
}

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<Bytes> {
    json_bytes(
        status,
        Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
    )
}

/// A JSON answer already written.
fn json_bytes(status: StatusCode, body: Bytes) -> Response<Bytes> {
    respond(status, "application/json", body)
}

/// An answer with the headers every admin answer carries (never cached, never sniffed).
pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A JSON error `{"error": message, "field": field}`; `message` starts with the field's name
/// when there is one.
pub(crate) fn error(status: StatusCode, field: Option<&str>, message: String) -> Response<Bytes> {
    let mut body = json!({ "error": message });
    if let Some(field) = field {
        body["field"] = Value::String(field.to_owned());
    }
    json_response(status, &body)
}

/// The answer when the admin code itself failed (a bug): a 500, never the application's route.
pub(crate) fn internal_error() -> Response<Bytes> {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
        "internal error in the admin API (logged)".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_reaches_its_endpoint_and_other_methods_are_405s() {
        for &(method, path, endpoint) in ROUTES {
            let sub = path.replace("{id}", "7");
            let method: Method = method.parse().unwrap();
            let id = if path.ends_with("{id}") { "7" } else { "" };
            assert_eq!(route(&method, &sub), Ok((endpoint, id)), "{method} {path}");
        }
        assert_eq!(
            route(&Method::PUT, "actions"),
            Err(Unrouted::NotAllowed(vec!["GET", "POST"]))
        );
        assert_eq!(
            route(&Method::GET, "actions/7"),
            Err(Unrouted::NotAllowed(vec!["DELETE"]))
        );
        assert_eq!(route(&Method::GET, "health/"), Err(Unrouted::NotFound));
        assert_eq!(route(&Method::GET, "openapi"), Err(Unrouted::NotFound));
    }
}
