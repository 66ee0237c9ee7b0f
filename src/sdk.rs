//! The SDK called from handler code: [`identify`], [`track`], [`auth_track`], [`signup_track`],
//! and [`track_for`] for code outside a request.
//!
//! The free functions act for the agent serving the current request (the layer's task-local);
//! `track_for` falls back to the global agent. With nothing to act on they do nothing and warn
//! once. Bad input (a reserved or malformed event name, properties that are not a JSON object of
//! at most 16 keys) is refused with a [`Verdict::Refused`] carrying an [`SdkError`], logged once
//! per kind. A failure inside them is caught and logged; it never reaches the handler as a panic.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

use crate::action::{ActionKind, Actor};
use crate::agent::{global, guard, Agent, AgentInner, FailureKind, Subject, UserRef};
use crate::context::{PendingResponse, RequestContext, UserKeys};
use crate::event::names;
use crate::playbook::validate_event_name;
use crate::user::UserMonitoring;

/// The most keys `track`'s properties may have.
pub const MAX_PROPERTIES: usize = 16;

/// What the agent decided for the current request after an SDK call.
///
/// The layer enforces it on the response whatever the handler does; a handler may use it to stop
/// early (e.g. skip work for a blocked user).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Go on: nothing applies.
    Proceed,
    /// The response will be the 403 block page.
    Block,
    /// The response will be a redirect to `url`.
    Redirect {
        /// Where the client is sent.
        url: String,
    },
    /// The agent failed and is configured to fail closed: the response will be a 503.
    Unavailable,
    /// The call was refused (bad event name or properties); nothing was recorded.
    Refused(SdkError),
}

impl Verdict {
    /// True when the handler's response will be replaced.
    pub fn is_blocked(&self) -> bool {
        matches!(
            self,
            Verdict::Block | Verdict::Redirect { .. } | Verdict::Unavailable
        )
    }
}

impl From<&ActionKind> for Verdict {
    fn from(kind: &ActionKind) -> Self {
        match kind {
            ActionKind::Block => Verdict::Block,
            ActionKind::Redirect { url } => Verdict::Redirect { url: url.clone() },
        }
    }
}

/// Why an SDK call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkError {
    kind: SdkErrorKind,
    detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SdkErrorKind {
    ReservedName,
    InvalidName,
    InvalidProperties,
}

impl SdkErrorKind {
    const COUNT: usize = 3;
}

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for SdkError {}

static WARNED_REFUSED: [AtomicBool; SdkErrorKind::COUNT] = [
    AtomicBool::new(false),
    AtomicBool::new(false),
    AtomicBool::new(false),
];

fn refuse(kind: SdkErrorKind, detail: String) -> Verdict {
    if !WARNED_REFUSED[kind as usize].swap(true, Ordering::Relaxed) {
        tracing::warn!(target: "sqreen", "sqreen SDK call refused: {detail} (this kind of refusal is logged once)");
    }
    Verdict::Refused(SdkError { kind, detail })
}

/// Checks a custom event name and its properties.
fn check_custom(name: &str, properties: Value) -> Result<Map<String, Value>, Verdict> {
    if names::is_reserved(name) {
        return Err(refuse(
            SdkErrorKind::ReservedName,
            format!("event name {name:?} is in the reserved app.sqreen. namespace"),
        ));
    }
    validate_event_name(name).map_err(|e| {
        refuse(
            SdkErrorKind::InvalidName,
            format!("event name {:?}: {e}", truncate(name)),
        )
    })?;
    match properties {
        Value::Null => Ok(Map::new()),
        Value::Object(map) if map.len() <= MAX_PROPERTIES => Ok(map),
        Value::Object(map) => Err(refuse(
            SdkErrorKind::InvalidProperties,
            format!(
                "properties of {name:?} have {} keys; at most {MAX_PROPERTIES} are allowed",
                map.len()
            ),
        )),
        other => Err(refuse(
            SdkErrorKind::InvalidProperties,
            format!(
                "properties of {name:?} must be a JSON object, not {}",
                json_type(&other)
            ),
        )),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

static WARNED_OUTSIDE_REQUEST: AtomicBool = AtomicBool::new(false);

fn warn_outside_request(call: &str) {
    if !WARNED_OUTSIDE_REQUEST.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            target: "sqreen",
            "sqreen::{call} called outside a request served by the sqreen layer: ignored (use track_for outside requests; warned once)"
        );
    }
}

/// Runs `f` for the current request's context, catching panics (fail-open, or 503 when failing
/// closed); outside a request, warns once and proceeds.
fn in_request(call: &str, f: impl FnOnce(&RequestContext, &AgentInner) -> Verdict) -> Verdict {
    RequestContext::with_current(|ctx| {
        // a detached context has no agent: nothing to check or record
        let Some(agent) = ctx.agent() else {
            return Verdict::Proceed;
        };
        guard(|| f(ctx, agent)).unwrap_or_else(|| sdk_failure(agent, Some(ctx)))
    })
    .unwrap_or_else(|| {
        warn_outside_request(call);
        Verdict::Proceed
    })
}

fn sdk_failure(agent: &AgentInner, ctx: Option<&RequestContext>) -> Verdict {
    let closed = agent.config.fail_closed && ctx.is_some();
    agent.failures.record(FailureKind::Sdk, closed);
    match ctx {
        Some(ctx) if closed => {
            ctx.decide(crate::trace::VERDICT_UNAVAILABLE);
            *ctx.inner().pending.lock() = Some(PendingResponse::Unavailable);
            Verdict::Unavailable
        }
        _ => Verdict::Proceed,
    }
}

/// Tells the agent who the user of the current request is.
///
/// A user on the deny list, or under an active block or redirect, gets that response instead of
/// the handler's, and the returned [`Verdict`] says so. Pass-listed users and IPs always proceed.
/// With `SQREEN_USER_ID_MODE=anonymized` the agent keeps the user as its salted hash; with
/// `SQREEN_USER_MONITORING=off` the call is ignored (it proceeds, and warns once).
///
/// ```no_run
/// # async fn handler() {
/// use sqreen::{identify, UserKeys, Verdict};
/// if identify(UserKeys::new().with("email", "alice@example.com")).is_blocked() {
///     return; // the layer answers with the block page or redirect
/// }
/// # }
/// ```
pub fn identify(user: UserKeys) -> Verdict {
    in_request("identify", |ctx, agent| agent.identify(ctx, user))
}

/// Records that the current request's actors (client IP and identified user) did `name`, with
/// `properties` (a JSON object of at most 16 keys, or `null`), and runs the playbooks it feeds.
/// When one fires for this request's IP or user, its response replaces the handler's and the
/// verdict says so. Names in the reserved `app.sqreen.` namespace are refused.
///
/// ```no_run
/// # async fn handler() {
/// sqreen::track("user.invited", serde_json::json!({ "plan": "free" }));
/// # }
/// ```
pub fn track(name: &str, properties: Value) -> Verdict {
    in_request("track", |ctx, agent| {
        agent.track_request(ctx, name, properties)
    })
}

/// Records a login attempt of `user`: `app.sqreen.auth.login_success` (the user is then
/// identified, as with [`identify`]) or `app.sqreen.auth.login_failure` (counted for the
/// attempted user and the client IP, without identifying anyone). With
/// `SQREEN_USER_MONITORING=off` the event is recorded for the client IP only. The layer makes
/// this call itself for `SQREEN_LOGIN_PATH` (automatic login tracking) unless the handler did.
pub fn auth_track(success: bool, user: UserKeys) -> Verdict {
    in_request("auth_track", |ctx, agent| {
        agent.auth_track_request(ctx, success, user)
    })
}

/// Records that `user` signed up (`app.sqreen.auth.signup`), counted for the user and the IP.
pub fn signup_track(user: UserKeys) -> Verdict {
    in_request("signup_track", |ctx, agent| {
        agent.signup_track_request(ctx, user)
    })
}

/// Records that `actor` did `name`, from code outside a request (a job, a queue consumer). Uses
/// the agent of the current request if there is one, else the global agent; without either it
/// does nothing and warns once. A playbook firing applies its action to the actor's future
/// requests; the verdict says which.
pub fn track_for(actor: &Actor, name: &str, properties: Value) -> Verdict {
    match RequestContext::with_current(|ctx| ctx.agent().cloned())
        .flatten()
        .map(|inner| Agent { inner })
        .or_else(global)
    {
        Some(agent) => agent.track_for(actor, name, properties),
        None => {
            warn_outside_request("track_for");
            Verdict::Proceed
        }
    }
}

impl AgentInner {
    pub(crate) fn track_request(
        &self,
        ctx: &RequestContext,
        name: &str,
        properties: Value,
    ) -> Verdict {
        let properties = match check_custom(name, properties) {
            Ok(p) => p,
            Err(refused) => return refused,
        };
        let user = ctx.user_shared();
        self.record_event(
            name,
            properties,
            Subject {
                ctx: Some(ctx),
                ip: ctx.client_ip(),
                user: user.as_deref().map(UserRef::Keys),
            },
        )
    }

    /// `auth_track`, and automatic login tracking: the user is admitted (anonymized, or dropped
    /// when user monitoring is off) once, then identified on success and counted.
    pub(crate) fn auth_track_request(
        &self,
        ctx: &RequestContext,
        success: bool,
        user: UserKeys,
    ) -> Verdict {
        ctx.inner()
            .auth_tracked
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let user = self.users.admit(user);
        if success {
            let verdict = match &user {
                Some(user) => self.identify_admitted(ctx, user.clone()),
                None => Verdict::Proceed,
            };
            let tracked = self.record_builtin(ctx, names::LOGIN_SUCCESS, user.as_ref());
            if verdict.is_blocked() {
                return verdict;
            }
            tracked
        } else {
            self.record_builtin(ctx, names::LOGIN_FAILURE, user.as_ref())
        }
    }

    pub(crate) fn signup_track_request(&self, ctx: &RequestContext, user: UserKeys) -> Verdict {
        let user = self.users.admit(user);
        self.record_builtin(ctx, names::SIGNUP, user.as_ref())
    }

    pub(crate) fn record_builtin(
        &self,
        ctx: &RequestContext,
        name: &str,
        user: Option<&UserKeys>,
    ) -> Verdict {
        self.record_event(
            name,
            Map::new(),
            Subject {
                ctx: Some(ctx),
                ip: ctx.client_ip(),
                user: user.filter(|u| !u.is_empty()).map(UserRef::Keys),
            },
        )
    }
}

impl Agent {
    /// [`track`] for this agent: counts for the current request's actors when the request is
    /// served by this agent; otherwise warns once and does nothing (use [`Agent::track_for`]).
    pub fn track(&self, name: &str, properties: Value) -> Verdict {
        self.in_own_request("track", |ctx, agent| {
            agent.track_request(ctx, name, properties)
        })
    }

    /// [`auth_track`] for this agent.
    pub fn auth_track(&self, success: bool, user: UserKeys) -> Verdict {
        self.in_own_request("auth_track", |ctx, agent| {
            agent.auth_track_request(ctx, success, user)
        })
    }

    /// [`signup_track`] for this agent.
    pub fn signup_track(&self, user: UserKeys) -> Verdict {
        self.in_own_request("signup_track", |ctx, agent| {
            agent.signup_track_request(ctx, user)
        })
    }

    /// [`track_for`] with this agent: records that `actor` (an IP, its network address for a
    /// CIDR, or a user id) did `name` and runs the playbooks it feeds.
    pub fn track_for(&self, actor: &Actor, name: &str, properties: Value) -> Verdict {
        let inner = &self.inner;
        guard(|| {
            let properties = match check_custom(name, properties) {
                Ok(p) => p,
                Err(refused) => return refused,
            };
            let (ip, user) = match actor {
                Actor::Ip(net) => (Some(net.addr()), None),
                Actor::User(_) if inner.users.monitoring() == UserMonitoring::Off => (None, None),
                Actor::User(id) => (None, Some(inner.users.user_id(id.trim()))),
            };
            inner.record_event(
                name,
                properties,
                Subject {
                    ctx: None,
                    ip,
                    user: user.as_deref().map(UserRef::Id).filter(|u| !u.is_empty()),
                },
            )
        })
        .unwrap_or_else(|| sdk_failure(inner, None))
    }

    fn in_own_request(
        &self,
        call: &str,
        f: impl FnOnce(&RequestContext, &AgentInner) -> Verdict,
    ) -> Verdict {
        let ctx = RequestContext::current().filter(|ctx| {
            ctx.agent()
                .is_some_and(|agent| std::sync::Arc::ptr_eq(agent, &self.inner))
        });
        match ctx {
            Some(ctx) => guard(|| f(&ctx, &self.inner))
                .unwrap_or_else(|| sdk_failure(&self.inner, Some(&ctx))),
            None => {
                warn_outside_request(call);
                Verdict::Proceed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn calls_outside_a_request_proceed() {
        assert_eq!(identify(UserKeys::new().with("id", "1")), Verdict::Proceed);
        assert_eq!(track("x", Value::Null), Verdict::Proceed);
        assert!(WARNED_OUTSIDE_REQUEST.load(Ordering::Relaxed));
    }

    #[test]
    fn custom_events_are_checked() {
        assert!(check_custom("user.invited", json!({"plan": "free"})).is_ok());
        assert!(check_custom("user.invited", Value::Null)
            .unwrap()
            .is_empty());
        let refused = |name: &str, props: Value| match check_custom(name, props) {
            Err(Verdict::Refused(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        assert!(refused("app.sqreen.auth.login_failure", Value::Null).contains("reserved"));
        assert!(refused("bad name", Value::Null).contains("event name"));
        assert!(refused("", Value::Null).contains("event name"));
        assert!(refused("x", json!([1])).contains("an array"));
        let many: Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(refused("x", Value::Object(many)).contains("17 keys"));
    }

    #[test]
    fn verdicts() {
        assert!(!Verdict::Proceed.is_blocked());
        assert!(Verdict::Block.is_blocked());
        assert!(!Verdict::Refused(SdkError {
            kind: SdkErrorKind::InvalidName,
            detail: String::new()
        })
        .is_blocked());
        let r = Verdict::from(&ActionKind::Redirect { url: "/x".into() });
        assert_eq!(r, Verdict::Redirect { url: "/x".into() });
    }
}
