//! The rules document: parsing JSON text into a validated [`RulesDocument`], all or nothing.
//!
//! This file owns the document's shape (its raw serde structs, with unknown fields denied and
//! only JSON objects accepted where an object is expected), the size limit, and the mapping of
//! every failure to a rules [`Error`] that names its place (`playbooks[0].trigger.threshold`).
//! It must never return a partly valid document, never panic on any input, and never decide what
//! a missing setting means beyond "not stated": merging with the environment is the caller's job.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::marker::PhantomData;
use std::path::Path;
use std::str::FromStr;

use ipnet::IpNet;
use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::waf_scope::{self, RawExclusion, RawRoute};
pub use super::waf_scope::{WafExclusion, WafRoute};
use crate::duration::{parse_duration, quote, Lifetime};
use crate::playbook::model::{self as m, ActorKind, Frequency, Severity};
use crate::playbook::{EventPattern, Notification, Playbook, ResponseAction, Trigger};
use crate::{Error, Result};

/// The largest document accepted, in bytes (64 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;
/// The longest `version` string, in characters.
pub const MAX_VERSION_LEN: usize = 256;

/// A validated rules document. Every list may be empty; `Default` is the empty document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RulesDocument {
    /// A free label reported in logs and health (no control characters, at most 256 characters).
    pub version: Option<String>,
    /// When the document was issued (RFC 3339 in the document, `"2026-12-07T09:00:00Z"`), as
    /// milliseconds since the Unix epoch. A rules URL with a secret requires it and refuses a
    /// document issued before the one in force: a replayed older signed document cannot roll
    /// the rules back.
    pub issued_at: Option<crate::Millis>,
    /// The playbooks, in document order; ids are unique.
    pub playbooks: Vec<Playbook>,
    /// Networks whose requests are refused.
    pub ip_denylist: Vec<IpNet>,
    /// Networks whose requests skip every check.
    pub ip_passlist: Vec<IpNet>,
    /// Users whose requests are refused (trimmed, never empty).
    pub user_denylist: Vec<String>,
    /// Users whose requests skip every check (trimmed, never empty).
    pub user_passlist: Vec<String>,
    /// Paths (each starting with `/`, no whitespace) that are never redirected, e.g. the page a
    /// redirect points to; an entry ending in `*` covers every path starting with the rest.
    pub redirect_passlist: Vec<String>,
    /// The in-app WAF settings the document states.
    pub waf: WafSettings,
    /// The prefix length IPv6 clients are counted, fired on and acted on by (`32..=128`), or
    /// `None` when the document does not state one (`SQREEN_IPV6_ACTOR_PREFIX` wins).
    pub ipv6_actor_prefix: Option<u8>,
    /// The RASP settings the document states (`rasp.mode`).
    pub rasp: RaspSettings,
}

/// The RASP settings a rules document states.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RaspSettings {
    /// What a check that finds an exploit does (`off`, `monitor`, `block`), or `None` when the
    /// document does not state it (`SQREEN_RASP_MODE` wins).
    pub mode: Option<WafMode>,
}

/// The WAF settings a rules document states.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WafSettings {
    /// The mode, or `None` when the document does not state one (the environment's value wins).
    pub mode: Option<WafMode>,
    /// WAF rule ids that must not run (trimmed, never empty).
    pub disabled_rules: Vec<String>,
    /// The paranoia level, or `None` when the document does not state one (the environment's
    /// value wins).
    pub paranoia: Option<Paranoia>,
    /// What the WAF does with a request that takes longer than its time budget
    /// (`waf.on_budget_exceeded`; by default it reads all of it).
    pub on_budget_exceeded: OnBudgetExceeded,
    /// What the WAF does with a body longer than `SQREEN_MAX_BODY_BYTES`
    /// (`waf.on_body_over_limit`; by default it inspects the first bytes and lets it through).
    pub on_body_over_limit: OnBodyOverLimit,
    /// Rules turned off on some paths, methods or inputs (`waf.exclusions`), in document order.
    pub exclusions: Vec<WafExclusion>,
    /// Per-route modes (`waf.routes`); the first route that matches a request wins.
    pub routes: Vec<WafRoute>,
}

/// What the WAF does with a body longer than `SQREEN_MAX_BODY_BYTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnBodyOverLimit {
    /// Inspect its first `SQREEN_MAX_BODY_BYTES` and let it through (the handler gets it
    /// whole). The default: large uploads and documents keep working, but what comes after the
    /// limit is not inspected, so an attacker can pad an attack past it; each such body is
    /// recorded (`app.sqreen.waf.body_over_limit`) and counted.
    #[default]
    InspectPrefix,
    /// In block mode, refuse it (413) before the handler: nothing goes through uninspected.
    /// For APIs whose bodies stay under the limit (raise `SQREEN_MAX_BODY_BYTES` to fit yours).
    Refuse,
}

/// What the WAF does with a request whose inspection takes longer than `SQREEN_WAF_BUDGET_US`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnBudgetExceeded {
    /// Read every byte of it anyway (up to `SQREEN_MAX_BODY_BYTES`), so no request goes through
    /// uninspected because the machine is busy or the attacker padded it; the overrun is
    /// counted and recorded (`app.sqreen.waf.budget_exceeded`). The default.
    #[default]
    Inspect,
    /// Stop reading it and let it through: the WAF's latency stays within the budget, at the
    /// price of protection (an attacker who pads a request past the budget is not inspected).
    Pass,
}

/// Which of the WAF's rules run, as in the OWASP Core Rule Set's paranoia levels.
///
/// Level 1 (the default) runs the rules that fire on attacks and not on everyday text, code or
/// URLs. Level 2 adds rules that catch more of what attackers send and also fire on some
/// benign values: lone SQL operators and clauses (`XOR`, `ORDER BY 1`, `IN (0,1)`), event
/// handlers glued to other text, URLs pointing at other hosts in parameters, commands that
/// are English words. Each detector's module docs list its level-2 rules. Choose level 2 for
/// applications whose inputs are not free text (APIs, admin back-offices), or in monitor mode
/// to see what it would catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(into = "u8")]
pub enum Paranoia {
    /// Rules with no known false positives on ordinary inputs.
    #[default]
    Level1,
    /// Level 1 and rules that trade some false positives for detection.
    Level2,
}

impl Paranoia {
    /// The level as a number, 1 or 2.
    pub fn level(self) -> u8 {
        match self {
            Paranoia::Level1 => 1,
            Paranoia::Level2 => 2,
        }
    }

    /// The level numbered `n`, if there is one.
    pub fn from_level(n: u64) -> Option<Paranoia> {
        match n {
            1 => Some(Paranoia::Level1),
            2 => Some(Paranoia::Level2),
            _ => None,
        }
    }
}

impl From<Paranoia> for u8 {
    fn from(p: Paranoia) -> u8 {
        p.level()
    }
}

impl fmt::Display for Paranoia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.level())
    }
}

/// The error from parsing a [`Paranoia`] level; its message names the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseParanoiaError {
    input: String,
}

impl fmt::Display for ParseParanoiaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected 1 or 2 (got {})", quote(&self.input))
    }
}

impl std::error::Error for ParseParanoiaError {}

impl FromStr for Paranoia {
    type Err = ParseParanoiaError;

    /// Parses `1` or `2`, ignoring surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, ParseParanoiaError> {
        s.trim()
            .parse::<u64>()
            .ok()
            .and_then(Paranoia::from_level)
            .ok_or_else(|| ParseParanoiaError {
                input: s.to_string(),
            })
    }
}

/// What the in-app WAF does with a request that matches one of its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WafMode {
    /// The WAF does not run.
    Off,
    /// Matches are reported but requests go through.
    Monitor,
    /// Matching requests are refused.
    Block,
}

impl WafMode {
    /// The canonical spelling: `"off"`, `"monitor"` or `"block"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WafMode::Off => "off",
            WafMode::Monitor => "monitor",
            WafMode::Block => "block",
        }
    }
}

impl fmt::Display for WafMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error from parsing a [`WafMode`]; its message names the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWafModeError {
    input: String,
}

impl fmt::Display for ParseWafModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected one of off, monitor, block (got {})",
            quote(&self.input)
        )
    }
}

impl std::error::Error for ParseWafModeError {}

impl FromStr for WafMode {
    type Err = ParseWafModeError;

    /// Parses `off`, `monitor` or `block`, in any case, ignoring surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, ParseWafModeError> {
        let t = s.trim();
        [WafMode::Off, WafMode::Monitor, WafMode::Block]
            .into_iter()
            .find(|mode| t.eq_ignore_ascii_case(mode.as_str()))
            .ok_or_else(|| ParseWafModeError {
                input: s.to_string(),
            })
    }
}

impl RulesDocument {
    /// Parses and validates a rules document; any error rejects it whole and names the place.
    pub fn parse(text: &str) -> Result<RulesDocument> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(too_big(text.len() as u64));
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: Obj<RawDocument> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let place = place_of(&e);
            let line = line_of_serde_error(text, &place, e.inner());
            Error::rules(place, describe(e.inner())).at_line(line)
        })?;
        de.end()
            .map_err(|e| Error::rules("", describe(&e)).at_line(serde_line(&e)))?;
        raw.0.validate().map_err(|e| {
            let line = e
                .place()
                .and_then(|place| super::locate::line_of(text, place));
            e.at_line(line)
        })
    }

    /// Reads a rules document from a file and parses it (see [`RulesDocument::parse`]).
    pub fn load(path: &Path) -> Result<RulesDocument> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::io(shown.clone(), e))?;
        let mut text = String::new();
        file.take(MAX_DOCUMENT_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .map_err(|e| Error::io(shown, e))?;
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(too_big(text.len() as u64).in_file(path));
        }
        RulesDocument::parse(&text).map_err(|e| e.in_file(path))
    }
}

fn too_big(len: u64) -> Error {
    Error::rules(
        "",
        format!(
            "the document is larger than 64 MiB ({MAX_DOCUMENT_BYTES} bytes; got {len} or more)"
        ),
    )
}

/// The place of a serde error: its path, except that an unknown field is reported at the object
/// holding it (`playbooks[1].trigger: unknown field `treshold``). The root is the empty place.
fn place_of(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    use serde_path_to_error::Segment;
    let segments: Vec<&Segment> = e.path().iter().collect();
    let unknown_field = e.inner().to_string().starts_with("unknown field");
    let shown = match segments.split_last() {
        Some((_, parents)) if unknown_field => parents,
        _ => &segments[..],
    };
    let mut place = String::new();
    for segment in shown {
        match segment {
            Segment::Seq { index } => place.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !place.is_empty() {
                    place.push('.');
                }
                place.push_str(key);
            }
            // A key not read yet (e.g. the document ends inside an object): name its parent.
            Segment::Unknown => {}
        }
    }
    place
}

/// The line serde_json gives an error, when it gives one.
fn serde_line(e: &serde_json::Error) -> Option<usize> {
    (e.line() > 0).then_some(e.line())
}

/// The line of a serde error at `place`: a syntax error's own line, where an unknown field is
/// written, else where the value at the place starts (serde_json reports a missing field where
/// the object ends, which for a playbook may be many lines below its start).
fn line_of_serde_error(text: &str, place: &str, e: &serde_json::Error) -> Option<usize> {
    use serde_json::error::Category;
    let unknown_field = e.to_string().starts_with("unknown field");
    match e.classify() {
        Category::Data if !unknown_field => {
            super::locate::line_of(text, place).or_else(|| serde_line(e))
        }
        _ => serde_line(e),
    }
}

/// A serde_json error as a reason; syntax errors say so (the message carries line and column).
fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!("invalid JSON: {e}"),
        Category::Data | Category::Io => e.to_string(),
    }
}

/// A `T` that must be written as a JSON object (serde would otherwise also accept an array).
pub(super) struct Obj<T>(pub(super) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjVisitor(PhantomData))
            .map(Obj)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    playbooks: Vec<Obj<RawPlaybook>>,
    #[serde(default)]
    ip_denylist: Vec<String>,
    #[serde(default)]
    ip_passlist: Vec<String>,
    #[serde(default)]
    user_denylist: Vec<String>,
    #[serde(default)]
    user_passlist: Vec<String>,
    #[serde(default)]
    redirect_passlist: Vec<String>,
    #[serde(default)]
    waf: Option<Obj<RawWaf>>,
    #[serde(default)]
    ipv6_actor_prefix: Option<u64>,
    #[serde(default)]
    rasp: Option<Obj<RawRasp>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRasp {
    #[serde(default)]
    mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    trigger: Obj<RawTrigger>,
    response: Obj<RawResponse>,
    #[serde(default)]
    notification: Option<Obj<RawNotification>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrigger {
    event: String,
    threshold: i64,
    period: String,
    actor: ActorKind,
    #[serde(default, rename = "where")]
    filter: Option<Obj<RawFilter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    #[serde(default)]
    is_tor: Option<bool>,
    #[serde(default)]
    datacenter: Option<bool>,
    #[serde(default)]
    country: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResponse {
    action: RawAction,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    duration: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum RawAction {
    None,
    Block,
    Redirect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotification {
    #[serde(default)]
    severity: Severity,
    #[serde(default)]
    frequency: Frequency,
    #[serde(default)]
    webhook: bool,
    #[serde(default)]
    slack: bool,
    #[serde(default)]
    email: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaf {
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
    #[serde(default)]
    paranoia: Option<u64>,
    #[serde(default)]
    on_budget_exceeded: Option<String>,
    #[serde(default)]
    on_body_over_limit: Option<String>,
    #[serde(default)]
    exclusions: Vec<Obj<RawExclusion>>,
    #[serde(default)]
    routes: Vec<Obj<RawRoute>>,
}

/// Turns a reason into an error at `place`.
fn at(place: String) -> impl FnOnce(String) -> Error {
    move |reason| Error::rules(place, reason)
}

impl RawDocument {
    fn validate(self) -> Result<RulesDocument> {
        if let Some(v) = &self.version {
            if v.chars().any(char::is_control) {
                return Err(Error::rules(
                    "version",
                    "must not contain control characters",
                ));
            }
            if v.chars().count() > MAX_VERSION_LEN {
                return Err(Error::rules(
                    "version",
                    format!("is longer than {MAX_VERSION_LEN} characters"),
                ));
            }
        }
        let mut playbooks = Vec::with_capacity(self.playbooks.len());
        let mut first_index: HashMap<String, usize> = HashMap::new();
        for (i, raw) in self.playbooks.into_iter().enumerate() {
            let place = format!("playbooks[{i}]");
            let playbook = raw.0.validate(&place)?;
            if let Some(first) = first_index.get(&playbook.id) {
                return Err(Error::rules(
                    format!("{place}.id"),
                    format!(
                        "duplicate id {} (first used by playbooks[{first}])",
                        quote(&playbook.id)
                    ),
                ));
            }
            first_index.insert(playbook.id.clone(), i);
            playbooks.push(playbook);
        }
        let waf = self.waf.map(|w| w.0).unwrap_or(RawWaf {
            mode: None,
            disabled_rules: Vec::new(),
            paranoia: None,
            on_budget_exceeded: None,
            on_body_over_limit: None,
            exclusions: Vec::new(),
            routes: Vec::new(),
        });
        let mode = match waf.mode {
            Some(m) => Some(
                m.parse::<WafMode>()
                    .map_err(|e| Error::rules("waf.mode", e.to_string()))?,
            ),
            None => None,
        };
        let rasp_mode = match self.rasp.and_then(|r| r.0.mode) {
            Some(m) => Some(
                m.parse::<WafMode>()
                    .map_err(|e| Error::rules("rasp.mode", e.to_string()))?,
            ),
            None => None,
        };
        let issued_at = match &self.issued_at {
            Some(t) => Some(crate::event::time::parse_rfc3339(t).ok_or_else(|| {
                Error::rules(
                    "issued_at",
                    format!(
                        "expected an RFC 3339 time such as \"2026-12-07T09:00:00Z\" (got {})",
                        quote(t)
                    ),
                )
            })?),
            None => None,
        };
        Ok(RulesDocument {
            version: self.version,
            issued_at,
            playbooks,
            ip_denylist: nets("ip_denylist", &self.ip_denylist)?,
            ip_passlist: nets("ip_passlist", &self.ip_passlist)?,
            user_denylist: names("user_denylist", self.user_denylist)?,
            user_passlist: names("user_passlist", self.user_passlist)?,
            redirect_passlist: paths("redirect_passlist", self.redirect_passlist)?,
            ipv6_actor_prefix: match self.ipv6_actor_prefix {
                Some(n) => Some(
                    crate::ip::actor::check_prefix(n)
                        .map_err(|e| Error::rules("ipv6_actor_prefix", e))?,
                ),
                None => None,
            },
            rasp: RaspSettings { mode: rasp_mode },
            waf: WafSettings {
                on_budget_exceeded: match waf.on_budget_exceeded.as_deref() {
                    None | Some("inspect") => OnBudgetExceeded::Inspect,
                    Some("pass") => OnBudgetExceeded::Pass,
                    Some(other) => {
                        return Err(Error::rules(
                            "waf.on_budget_exceeded",
                            format!("expected \"inspect\" or \"pass\" (got {})", quote(other)),
                        ))
                    }
                },
                on_body_over_limit: match waf.on_body_over_limit.as_deref() {
                    None | Some("inspect_prefix") => OnBodyOverLimit::InspectPrefix,
                    Some("refuse") => OnBodyOverLimit::Refuse,
                    Some(other) => {
                        return Err(Error::rules(
                            "waf.on_body_over_limit",
                            format!(
                                "expected \"inspect_prefix\" or \"refuse\" (got {})",
                                quote(other)
                            ),
                        ))
                    }
                },
                mode,
                exclusions: waf_scope::exclusions(waf.exclusions)?,
                routes: waf_scope::routes(waf.routes)?,
                disabled_rules: names("waf.disabled_rules", waf.disabled_rules)?,
                paranoia: match waf.paranoia {
                    Some(n) => Some(Paranoia::from_level(n).ok_or_else(|| {
                        Error::rules("waf.paranoia", format!("expected 1 or 2 (got {n})"))
                    })?),
                    None => None,
                },
            },
        })
    }
}

/// Parses a list of networks (entries may have surrounding whitespace).
fn nets(list: &str, entries: &[String]) -> Result<Vec<IpNet>> {
    entries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            crate::ip::parse_net(s.trim())
                .map(|n| n.trunc())
                .map_err(at(format!("{list}[{i}]")))
        })
        .collect()
}

/// Trims every entry of a list of identifiers; a blank entry is an error.
fn names(list: &str, entries: Vec<String>) -> Result<Vec<String>> {
    entries
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s.trim() {
            "" => Err(Error::rules(format!("{list}[{i}]"), "must not be empty")),
            t if t.len() == s.len() => Ok(s),
            t => Ok(t.to_string()),
        })
        .collect()
}

/// Checks a list of paths: each starts with `/`, with no whitespace or control characters.
fn paths(list: &str, entries: Vec<String>) -> Result<Vec<String>> {
    for (i, s) in entries.iter().enumerate() {
        let place = || format!("{list}[{i}]");
        if !s.starts_with('/') {
            return Err(Error::rules(place(), "must start with \"/\""));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::rules(
                place(),
                format!(
                    "path {} must not contain whitespace or control characters",
                    quote(s)
                ),
            ));
        }
    }
    Ok(entries)
}

impl RawPlaybook {
    fn validate(self, place: &str) -> Result<Playbook> {
        let field = |name: &str| format!("{place}.{name}");
        m::validate_id(&self.id).map_err(at(field("id")))?;
        let name = match self.name {
            Some(name) => {
                m::validate_name(&name).map_err(at(field("name")))?;
                name
            }
            None => self.id.clone(),
        };
        let trigger = self.trigger.0.validate(&field("trigger"))?;
        let response = self.response.0.validate(&field("response"))?;
        let notification = self.notification.map_or_else(Notification::default, |n| {
            let n = n.0;
            Notification {
                severity: n.severity,
                frequency: n.frequency,
                webhook: n.webhook,
                slack: n.slack,
                email: n.email,
            }
        });
        Ok(Playbook {
            id: self.id,
            name,
            enabled: self.enabled.unwrap_or(true),
            trigger,
            response,
            notification,
        })
    }
}

impl RawTrigger {
    fn validate(self, place: &str) -> Result<Trigger> {
        let field = |name: &str| format!("{place}.{name}");
        let event = EventPattern::parse(&self.event).map_err(at(field("event")))?;
        let threshold = m::validate_threshold(self.threshold).map_err(at(field("threshold")))?;
        let period = parse_duration(&self.period).map_err(at(field("period")))?;
        m::validate_period(period).map_err(at(field("period")))?;
        let filter = match self.filter {
            None => None,
            Some(Obj(raw)) => {
                let filter = m::IpFilter {
                    is_tor: raw.is_tor,
                    datacenter: raw.datacenter,
                    country: raw.country,
                };
                Some(filter.validate().map_err(|(key, reason)| {
                    let place = if key.is_empty() {
                        field("where")
                    } else {
                        format!("{}.{key}", field("where"))
                    };
                    Error::rules(place, reason)
                })?)
            }
        };
        Ok(Trigger {
            event,
            threshold,
            period,
            actor: self.actor,
            filter,
        })
    }
}

impl RawResponse {
    fn validate(self, place: &str) -> Result<ResponseAction> {
        let field = |name: &str| format!("{place}.{name}");
        let action = match self.action {
            RawAction::None => "none",
            RawAction::Block => "block",
            RawAction::Redirect => "redirect",
        };
        if self.action != RawAction::Redirect && self.url.is_some() {
            return Err(Error::rules(
                field("url"),
                format!("only allowed when action is \"redirect\" (here it is \"{action}\")"),
            ));
        }
        let lifetime = |duration: Option<String>| -> Result<Lifetime> {
            let Some(duration) = duration else {
                return Err(Error::rules(
                    field("duration"),
                    format!(
                        "required when action is \"{action}\" (e.g. \"24h\", or \"permanent\")"
                    ),
                ));
            };
            let lifetime = Lifetime::parse(&duration).map_err(at(field("duration")))?;
            m::validate_lifetime(lifetime).map_err(at(field("duration")))?;
            Ok(lifetime)
        };
        match (self.action, self.url) {
            (RawAction::None, _) if self.duration.is_some() => Err(Error::rules(
                field("duration"),
                "not allowed when action is \"none\"",
            )),
            (RawAction::None, _) => Ok(ResponseAction::None),
            (RawAction::Block, _) => Ok(ResponseAction::Block {
                lifetime: lifetime(self.duration)?,
            }),
            (RawAction::Redirect, None) => Err(Error::rules(
                field("url"),
                "required when action is \"redirect\"",
            )),
            (RawAction::Redirect, Some(url)) => {
                m::validate_redirect_url(&url).map_err(at(field("url")))?;
                Ok(ResponseAction::Redirect {
                    url,
                    lifetime: lifetime(self.duration)?,
                })
            }
        }
    }
}
