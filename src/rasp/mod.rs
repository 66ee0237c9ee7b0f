//! RASP, exploit prevention at the sink (DESIGN section 13).
//!
//! The WAF guesses from a request's input whether it *looks* like an attack. A RASP check runs
//! where the app is about to use a value — a SQL query, a file path, an outbound URL, a shell
//! command — and checks whether **this request's own input changed what the app is about to
//! do**: an input that spans several SQL tokens or ends a string literal, that climbs out of
//! the directory the app wrote, that chooses the host of an outbound request to an internal
//! address, that spans shell operators. Done at the sink it is exact: an attack string bound
//! as a query parameter changes nothing and passes; `O'Brien` concatenated into a query does
//! change its syntax, and is stopped.
//!
//! Rust has no monkey-patching, so sinks are explicit, and adopting one is a one-line change:
//!
//! | sink | check | checked call |
//! |---|---|---|
//! | SQL | [`check_sql`] | `conn.prepare_checked(&sql)` (rusqlite, feature `rusqlite`: `rasp::sqlite`); `client.query_checked(&sql, &[])` (tokio-postgres, feature `postgres`: `rasp::postgres`) |
//! | files | [`check_path`] | [`fs::read_to_string`], [`fs::read`], [`fs::open`], and async |
//! | outbound HTTP | [`check_url`] | [`http::get`] (pins the checked addresses) |
//! | shell | [`check_command`] | [`shell::sh`] (a checked `sh -c`) |
//!
//! Each check reads the current request from the task-local context the layer sets (or takes
//! one explicitly: the `*_in` functions, for work moved to another thread). Outside a request
//! every check passes at once. The request's inputs ([`Inputs`]: path segments, query and body
//! parameters, cookies, user agent, referer, forwarding headers; decoded once, as the app got
//! them; bounded) are taken at the first check of a request, so requests that reach no sink
//! pay nothing.
//!
//! A finding records `app.sqreen.rasp.<sqli|lfi|ssrf|shi>` (the sink, the input's name, the
//! fragment, the value about to be used, cut), which playbooks count like any event. With
//! `SQREEN_RASP_MODE=block` (the default; the rules document's `rasp.mode` wins) the check
//! returns a [`RaspError`]: propagate it (`?`) and the layer answers the block page, whatever
//! the handler returns afterwards. `monitor` records and passes; `off` checks nothing.

pub mod fs;
pub mod http;
mod inputs;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod shell;
pub mod sql;
#[cfg(feature = "rusqlite")]
pub mod sqlite;
mod ssrf;

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use serde_json::Map;

pub use inputs::{Input, Inputs, MAX_INPUTS, MAX_VALUE};

use crate::action::ActionKind;
use crate::agent::Subject;
use crate::context::{PendingResponse, RequestContext};
use crate::rules::WafMode;

/// What kind of sink a check guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sink {
    /// A SQL query.
    Sql,
    /// A file path.
    File,
    /// An outbound URL.
    Url,
    /// A shell command line.
    Shell,
}

impl Sink {
    /// The event's last part: `sqli`, `lfi`, `ssrf`, `shi`.
    pub fn category(self) -> &'static str {
        match self {
            Sink::Sql => "sqli",
            Sink::File => "lfi",
            Sink::Url => "ssrf",
            Sink::Shell => "shi",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Sink::Sql => "SQL injection",
            Sink::File => "path traversal",
            Sink::Url => "server-side request forgery",
            Sink::Shell => "command injection",
        }
    }
}

/// A check refused the value: an input of the current request changed what the app was about
/// to do. Propagate it; the layer answers the request with the block page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaspError {
    /// The sink.
    pub sink: Sink,
    /// The input that did it (`query.category`, `body.path`, ...).
    pub input: String,
}

impl fmt::Display for RaspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} blocked: the request's input {} changed the {}",
            self.sink.describe(),
            self.input,
            match self.sink {
                Sink::Sql => "query",
                Sink::File => "path",
                Sink::Url => "destination",
                Sink::Shell => "command",
            }
        )
    }
}

impl std::error::Error for RaspError {}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for RaspError {
    /// A bare 403; the layer replaces it with the block page.
    fn into_response(self) -> axum::response::Response {
        ::http::StatusCode::FORBIDDEN.into_response()
    }
}

/// What a check found.
#[derive(Debug)]
pub(crate) struct Finding {
    pub(crate) sink: Sink,
    pub(crate) input: String,
    pub(crate) fragment: String,
    /// The value about to be used.
    pub(crate) target: String,
}

/// Longest fragment and target recorded.
const MAX_RECORDED: usize = 512;

/// The mode in force for `ctx`'s agent (`Off` for a detached context).
fn mode(ctx: &RequestContext) -> WafMode {
    let Some(agent) = ctx.agent() else {
        return WafMode::Off;
    };
    agent
        .rules
        .load()
        .rasp_mode
        .unwrap_or(agent.config.rasp_mode)
}

/// Runs `find` on the request's inputs if there is a request and RASP is on; records and
/// answers what it found.
fn check_with(
    ctx: Option<&RequestContext>,
    sink: Sink,
    find: impl FnOnce(&Inputs) -> Option<Finding>,
) -> Result<(), RaspError> {
    let Some(ctx) = ctx else {
        return Ok(());
    };
    // a detached context has no agent: nothing to check
    let Some(agent) = ctx.agent() else {
        return Ok(());
    };
    let mode = mode(ctx);
    if mode == WafMode::Off || ctx.is_passlisted() {
        return Ok(());
    }
    let inputs = ctx.inner().rasp_inputs.get_or_init(|| Inputs::of(ctx));
    if inputs.is_empty() {
        return Ok(());
    }
    // a panic in a check must not take the app down: the value passes (fail open), counted
    let found = crate::agent::guard(|| find(inputs));
    let Some(found) = found else {
        let closed = agent.config.fail_closed;
        agent
            .failures
            .record(crate::agent::FailureKind::Rasp, closed);
        if closed {
            ctx.decide(crate::trace::VERDICT_UNAVAILABLE);
            *ctx.inner().pending.lock() = Some(PendingResponse::Unavailable);
            return Err(RaspError {
                sink,
                input: "(internal failure)".to_owned(),
            });
        }
        return Ok(());
    };
    let Some(finding) = found else {
        return Ok(());
    };
    let block = mode == WafMode::Block;
    record(ctx, &finding, block);
    if !block {
        return Ok(());
    }
    ctx.decide(crate::trace::VERDICT_RASP_BLOCK);
    *ctx.inner().pending.lock() = Some(PendingResponse::Action(ActionKind::Block));
    Err(RaspError {
        sink: finding.sink,
        input: finding.input,
    })
}

/// Records the finding as `app.sqreen.rasp.<category>` about the request's actors.
fn record(ctx: &RequestContext, f: &Finding, blocked: bool) {
    let Some(agent) = ctx.agent() else {
        return;
    };
    let mut properties = Map::new();
    properties.insert("sink".into(), f.sink.category().into());
    properties.insert("input".into(), f.input.clone().into());
    properties.insert(
        "fragment".into(),
        inputs::cut(&f.fragment, MAX_RECORDED).into(),
    );
    properties.insert("target".into(), inputs::cut(&f.target, MAX_RECORDED).into());
    properties.insert("blocked".into(), blocked.into());
    let user = ctx.user_shared();
    let subject = Subject {
        ctx: Some(ctx),
        ip: ctx.client_ip(),
        user: user.as_deref().map(crate::agent::UserRef::Keys),
    };
    let name = format!("app.sqreen.rasp.{}", f.sink.category());
    agent.record_event(&name, properties, subject);
    agent.counters.count_rasp(f.sink, blocked);
}

/// Finds the first input occurring in `target` that `find` says is an exploit.
fn finding(
    inputs: &Inputs,
    sink: Sink,
    target: &str,
    find: impl FnOnce(&mut dyn Iterator<Item = &str>) -> Option<(usize, std::ops::Range<usize>)>,
) -> Option<Finding> {
    // most sinks hold no input at all: one prebuilt search per input says so
    let occurring = inputs.occurring_in(target);
    if occurring.is_empty() {
        return None;
    }
    let mut values = occurring
        .iter()
        .filter_map(|&i| inputs.get(i).map(|input| input.value.as_str()));
    let (k, range) = find(&mut values)?;
    let input = inputs.get(*occurring.get(k)?)?;
    Some(Finding {
        sink,
        input: input.name.clone(),
        fragment: target.get(range).unwrap_or(&input.value).to_owned(),
        target: target.to_owned(),
    })
}

/// Checks a SQL query about to run, as `dialect` reads it (see [`sql`]): an input that spans
/// several tokens, opens or closes a literal or a comment, is an injection. Bound parameters
/// never occur in the query text, so parameterised queries always pass.
pub fn check_sql(query: &str, dialect: sql::Dialect) -> Result<(), RaspError> {
    RequestContext::with_current(|ctx| check_sql_in(ctx, query, dialect)).unwrap_or(Ok(()))
}

/// [`check_sql`] for the request `ctx`.
pub fn check_sql_in(
    ctx: &RequestContext,
    query: &str,
    dialect: sql::Dialect,
) -> Result<(), RaspError> {
    check_with(Some(ctx), Sink::Sql, |inputs| {
        finding(inputs, Sink::Sql, query, |values| {
            sql::first_injection(query, dialect, values)
        })
    })
}

/// Checks a file path about to be opened (see [`fs`]).
pub fn check_path(path: impl AsRef<Path>) -> Result<(), RaspError> {
    RequestContext::with_current(|ctx| check_path_in(ctx, path.as_ref())).unwrap_or(Ok(()))
}

/// [`check_path`] for the request `ctx`.
pub fn check_path_in(ctx: &RequestContext, path: impl AsRef<Path>) -> Result<(), RaspError> {
    let path = path.as_ref().to_string_lossy();
    check_with(Some(ctx), Sink::File, |inputs| {
        finding(inputs, Sink::File, &path, |values| fs::find(&path, values))
    })
}

/// Checks a shell command line about to run under `sh -c` (see [`shell`]).
pub fn check_command(command_line: &str) -> Result<(), RaspError> {
    RequestContext::with_current(|ctx| check_command_in(ctx, command_line)).unwrap_or(Ok(()))
}

/// [`check_command`] for the request `ctx`.
pub fn check_command_in(ctx: &RequestContext, command_line: &str) -> Result<(), RaspError> {
    check_with(Some(ctx), Sink::Shell, |inputs| {
        finding(inputs, Sink::Shell, command_line, |values| {
            shell::find(command_line, values)
        })
    })
}

/// A URL that passed [`check_url`], with the addresses its host was checked at (when an
/// input chose the host): connect to those, not to a new lookup's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedUrl {
    /// The URL.
    pub url: String,
    /// The addresses checked, or `None` when no input chose the destination (the app's own).
    pub addrs: Option<Arc<[SocketAddr]>>,
}

/// Checks an outbound URL about to be requested (see [`http`]): when a request input chooses
/// its scheme or host, the host is resolved once and must be external.
pub fn check_url(url: &str) -> Result<CheckedUrl, RaspError> {
    RequestContext::with_current(|ctx| check_url_in(ctx, url)).unwrap_or_else(|| {
        Ok(CheckedUrl {
            url: url.to_owned(),
            addrs: None,
        })
    })
}

/// [`check_url`] for the request `ctx`.
pub fn check_url_in(ctx: &RequestContext, url: &str) -> Result<CheckedUrl, RaspError> {
    let mut addrs = None;
    let trimmed = url.trim();
    check_with(Some(ctx), Sink::Url, |inputs| {
        let occurring = inputs.occurring_in(trimmed);
        if occurring.is_empty() {
            return None;
        }
        let parts = ssrf::parts(trimmed)?;
        let mut values = occurring
            .iter()
            .filter_map(|&i| inputs.get(i).map(|input| input.value.as_str()));
        let (k, range) = ssrf::controlling(trimmed, &parts, &mut values)?;
        let index = *occurring.get(k)?;
        match ssrf::destination(trimmed, &parts) {
            ssrf::Verdict::External(found) => {
                addrs = Some(Arc::from(found));
                None
            }
            // a name that does not resolve cannot be reached: the request will fail on its own
            ssrf::Verdict::Unresolved => None,
            ssrf::Verdict::Internal(_) => {
                let input = inputs.get(index)?;
                Some(Finding {
                    sink: Sink::Url,
                    input: input.name.clone(),
                    fragment: trimmed.get(range).unwrap_or(&input.value).to_owned(),
                    target: trimmed.to_owned(),
                })
            }
        }
    })?;
    Ok(CheckedUrl {
        url: url.to_owned(),
        addrs,
    })
}

/// The checks on values given with explicit inputs, outside any request: what the request
/// path runs, for tests and tools. Returns the finding's input name.
#[doc(hidden)]
pub fn find_in(sink: Sink, target: &str, inputs: &Inputs) -> Option<String> {
    let found = match sink {
        Sink::File => finding(inputs, sink, target, |v| fs::find(target, v)),
        Sink::Shell => finding(inputs, sink, target, |v| shell::find(target, v)),
        Sink::Url => {
            let parts = ssrf::parts(target)?;
            let mut values = inputs.iter().map(|i| i.value.as_str());
            let (index, _) = ssrf::controlling(target, &parts, &mut values)?;
            match ssrf::destination(target, &parts) {
                ssrf::Verdict::Internal(_) => {
                    return inputs.iter().nth(index).map(|i| i.name.clone())
                }
                _ => None,
            }
        }
        Sink::Sql => finding(inputs, sink, target, |v| {
            sql::first_injection(target, sql::Dialect::Sqlite, v)
        }),
    };
    found.map(|f| f.input)
}
