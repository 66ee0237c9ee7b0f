//! The validated playbook types the engine runs on, and the checks that make them valid.
//!
//! This file owns the playbook vocabulary (actors, event patterns, triggers, responses,
//! notifications) and its limits (id syntax, threshold and period ranges, redirect URL safety).
//! It does not read documents or name places in them: the rules parser calls the `validate_*`
//! functions and the parsers here, and adds the place to the reason they return. Nothing here
//! may panic on any input, and no reason string may echo an unbounded input.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use crate::duration::{self, quote, Lifetime};

/// The longest playbook id, in characters.
pub const MAX_ID_LEN: usize = 64;
/// The longest playbook name, in characters.
pub const MAX_NAME_LEN: usize = 256;
/// The longest event name or pattern (including a final `.*`), in characters.
pub const MAX_EVENT_LEN: usize = 128;
/// The smallest trigger threshold.
pub const MIN_THRESHOLD: u32 = 1;
/// The largest trigger threshold.
pub const MAX_THRESHOLD: u32 = 1_000_000;
/// The shortest trigger period.
pub const MIN_PERIOD: Duration = Duration::from_secs(1);
/// The longest trigger period (30 days).
pub const MAX_PERIOD: Duration = Duration::from_secs(30 * 86_400);
/// The longest timed response (365 days); longer ones must say `"permanent"`.
pub const MAX_RESPONSE_DURATION: Duration = Duration::from_secs(365 * 86_400);
/// The longest redirect URL, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Who a playbook counts events for: the client IP or the signed-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// Events are counted per client IP address.
    Ip,
    /// Events are counted per user identifier.
    User,
}

impl ActorKind {
    /// The document spelling: `"ip"` or `"user"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Ip => "ip",
            ActorKind::User => "user",
        }
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which events a trigger counts: one name, or every name under a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventPattern {
    /// Exactly this event name (`"user.invited"`).
    Exact(String),
    /// Every event whose name starts with this stem followed by a dot and at least one more
    /// character. Written `"app.sqreen.attack.*"`; the stem held here is `"app.sqreen.attack"`,
    /// which itself does not match.
    Prefix(String),
}

impl EventPattern {
    /// Parses an event name, or a stem followed by `.*`. The error names the input.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.strip_suffix(".*") {
            Some("") => Err(format!(
                "invalid event pattern {}: needs a name before \".*\"",
                quote(s)
            )),
            Some(stem) => {
                check_event(stem, s, " and a final \".*\"")?;
                Ok(EventPattern::Prefix(stem.to_string()))
            }
            None => {
                check_event(s, s, " and a final \".*\"")?;
                Ok(EventPattern::Exact(s.to_string()))
            }
        }
    }

    /// Whether the event called `name` is counted by this pattern.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            EventPattern::Exact(exact) => exact == name,
            EventPattern::Prefix(stem) => name
                .strip_prefix(stem.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|rest| !rest.is_empty()),
        }
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventPattern::Exact(exact) => f.write_str(exact),
            EventPattern::Prefix(stem) => write!(f, "{stem}.*"),
        }
    }
}

impl Serialize for EventPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Checks an event name: non-empty, at most [`MAX_EVENT_LEN`] characters of `[A-Za-z0-9_.:-]`.
pub fn validate_event_name(name: &str) -> Result<(), String> {
    check_event(name, name, "")
}

/// The bytes of event names: `A-Z a-z 0-9 _ . : -`.
static EVENT_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-');
        i += 1;
    }
    t
};

/// Checks `name` (part of `whole`, which is what error messages quote).
fn check_event(name: &str, whole: &str, extra: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_string());
    }
    // every allowed character is ASCII: bytes are checked through a table, and the first bad
    // one's character is decoded only for the message (this runs on every `track`)
    if let Some(at) = name.bytes().position(|b| !EVENT_BYTE[usize::from(b)]) {
        let bad = name[at..].chars().next().unwrap_or_default();
        return Err(format!(
            "invalid character {bad:?} in event {} (allowed: A-Z a-z 0-9 _ . : -{extra})",
            quote(whole)
        ));
    }
    if whole.len() > MAX_EVENT_LEN {
        return Err(format!(
            "event {} is longer than {MAX_EVENT_LEN} characters",
            quote(whole)
        ));
    }
    Ok(())
}

/// When a playbook fires: `threshold` matching events by one actor within `period`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// The events counted.
    pub event: EventPattern,
    /// How many events within the period fire the playbook (1..=[`MAX_THRESHOLD`]).
    pub threshold: u32,
    /// The sliding window the events are counted in ([`MIN_PERIOD`]..=[`MAX_PERIOD`]).
    #[serde(serialize_with = "duration::serialize_short")]
    pub period: Duration,
    /// Whom the events are counted for.
    pub actor: ActorKind,
    /// Only events from client IPs the IP intelligence says this of are counted (the rules
    /// document's `where`); `None` counts every event.
    #[serde(rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<IpFilter>,
}

/// What a trigger's `where` asks of an event's client IP, from the IP intelligence files
/// (`SQREEN_TOR_EXIT_LIST`, `SQREEN_DATACENTER_RANGES`, `SQREEN_GEOIP_DB`). Every condition
/// given must hold, and a fact no file gives (no list configured, an address the database does
/// not hold, an event without a client IP) holds no condition: such events are not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct IpFilter {
    /// In the Tor exit list (`true`), or known not to be (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tor: Option<bool>,
    /// In the datacenter ranges (`true`), or known not to be (`false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datacenter: Option<bool>,
    /// The country code is one of these (uppercase ISO 3166-1 alpha-2, as GeoIP2 writes them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Vec<String>>,
}

/// What the IP intelligence knows of one client IP, as an [`IpFilter`] reads it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpFacts {
    /// In the Tor exit list; `None` without one.
    pub is_tor: Option<bool>,
    /// In the datacenter ranges; `None` without them.
    pub datacenter: Option<bool>,
    /// The two-letter country code, uppercase, when the database holds the address.
    pub country: Option<[u8; 2]>,
}

impl IpFacts {
    /// `code` as [`IpFacts::country`] holds it: two ASCII letters, uppercased; else `None`.
    pub fn country_code(code: &str) -> Option<[u8; 2]> {
        match code.as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
            }
            _ => None,
        }
    }
}

/// At most this many countries in a `where`.
pub const MAX_FILTER_COUNTRIES: usize = 250;

impl IpFilter {
    /// True when every condition holds of `facts`.
    pub fn matches(&self, facts: &IpFacts) -> bool {
        self.is_tor.is_none_or(|want| facts.is_tor == Some(want))
            && self
                .datacenter
                .is_none_or(|want| facts.datacenter == Some(want))
            && self.country.as_ref().is_none_or(|codes| {
                facts
                    .country
                    .is_some_and(|c| codes.iter().any(|code| code.as_bytes() == c))
            })
    }

    /// Checks a filter: at least one condition, countries as two ASCII letters (written back
    /// uppercase), 1 to [`MAX_FILTER_COUNTRIES`] of them. The error names the key at fault.
    pub fn validate(mut self) -> std::result::Result<IpFilter, (String, String)> {
        if self.is_tor.is_none() && self.datacenter.is_none() && self.country.is_none() {
            return Err((
                String::new(),
                "expected at least one of is_tor, datacenter, country".to_owned(),
            ));
        }
        if let Some(codes) = &mut self.country {
            if codes.is_empty() || codes.len() > MAX_FILTER_COUNTRIES {
                return Err((
                    "country".to_owned(),
                    format!("expected 1 to {MAX_FILTER_COUNTRIES} country codes"),
                ));
            }
            for (i, code) in codes.iter_mut().enumerate() {
                if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err((
                        format!("country[{i}]"),
                        format!("expected a two-letter country code such as \"RU\", got {code:?}"),
                    ));
                }
                code.make_ascii_uppercase();
            }
        }
        Ok(self)
    }
}

/// What happens to the actor when a playbook fires. Serialized as the document writes it:
/// `{"action": "block", "duration": "24h"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum ResponseAction {
    /// Nothing happens to the actor; the playbook only notifies.
    None,
    /// The actor's requests are refused for the lifetime.
    Block {
        /// How long the block lasts.
        #[serde(rename = "duration")]
        lifetime: Lifetime,
    },
    /// The actor's requests are redirected to `url` for the lifetime.
    Redirect {
        /// Where to send the actor: a same-site path or an `http(s)://` URL.
        url: String,
        /// How long the redirect lasts.
        #[serde(rename = "duration")]
        lifetime: Lifetime,
    },
}

impl ResponseAction {
    /// The document spelling of the action: `"none"`, `"block"` or `"redirect"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResponseAction::None => "none",
            ResponseAction::Block { .. } => "block",
            ResponseAction::Redirect { .. } => "redirect",
        }
    }

    /// How long the response lasts, or `None` for [`ResponseAction::None`].
    pub fn lifetime(&self) -> Option<Lifetime> {
        match self {
            ResponseAction::None => None,
            ResponseAction::Block { lifetime } | ResponseAction::Redirect { lifetime, .. } => {
                Some(*lifetime)
            }
        }
    }
}

/// How serious a playbook's notification is. Defaults to medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Needs attention now.
    High,
    /// Worth a look.
    #[default]
    Medium,
    /// For the record.
    Low,
}

impl Severity {
    /// The document spelling: `"high"`, `"medium"` or `"low"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often a playbook's notifications are sent. Defaults to immediately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Each time the playbook fires.
    #[default]
    Immediately,
    /// In a daily digest.
    Daily,
    /// In a weekly digest.
    Weekly,
}

impl Frequency {
    /// The document spelling: `"immediately"`, `"daily"` or `"weekly"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Immediately => "immediately",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who hears about a playbook firing, and how often. Every field has a default (medium,
/// immediately, no webhook, no Slack, no email).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Notification {
    /// How serious the notification is.
    pub severity: Severity,
    /// How often notifications are sent.
    pub frequency: Frequency,
    /// Whether the configured webhook is called.
    pub webhook: bool,
    /// Whether the configured Slack channel is told.
    pub slack: bool,
    /// Whether the configured email recipients (`SQREEN_EMAIL_TO`) are told.
    pub email: bool,
}

/// One validated playbook: when it fires, what it does and who is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Playbook {
    /// Unique within its document; see [`validate_id`].
    pub id: String,
    /// A human name; the id when the document gives none.
    pub name: String,
    /// Whether the playbook runs. A disabled playbook is still fully validated.
    pub enabled: bool,
    /// When it fires.
    pub trigger: Trigger,
    /// What it does to the actor.
    pub response: ResponseAction,
    /// Who is told.
    pub notification: Notification,
}

/// Checks a playbook id: 1..=[`MAX_ID_LEN`] characters of `[A-Za-z0-9_.-]`.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".to_string());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if let Some(bad) = id.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "invalid character {bad:?} in id {} (allowed: A-Z a-z 0-9 _ . -)",
            quote(id)
        ));
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "id {} is longer than {MAX_ID_LEN} characters",
            quote(id)
        ));
    }
    Ok(())
}

/// Checks a playbook name: not blank, no control characters, at most [`MAX_NAME_LEN`] characters.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "name {} must not contain control characters",
            quote(name)
        ));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("is longer than {MAX_NAME_LEN} characters"));
    }
    Ok(())
}

/// Checks a trigger threshold (any integer the document holds) and narrows it.
pub fn validate_threshold(threshold: i64) -> Result<u32, String> {
    if threshold < i64::from(MIN_THRESHOLD) {
        return Err(format!("must be at least {MIN_THRESHOLD}"));
    }
    match u32::try_from(threshold) {
        Ok(n) if n <= MAX_THRESHOLD => Ok(n),
        _ => Err(format!("must be at most {MAX_THRESHOLD}")),
    }
}

/// Checks a trigger period: between [`MIN_PERIOD`] and [`MAX_PERIOD`].
pub fn validate_period(period: Duration) -> Result<(), String> {
    if period < MIN_PERIOD {
        return Err(format!(
            "must be at least {}",
            duration::format_duration(MIN_PERIOD)
        ));
    }
    if period > MAX_PERIOD {
        return Err(format!(
            "must be at most {}",
            duration::format_duration(MAX_PERIOD)
        ));
    }
    Ok(())
}

/// Checks how long a response lasts: permanent, or at most [`MAX_RESPONSE_DURATION`].
pub fn validate_lifetime(lifetime: Lifetime) -> Result<(), String> {
    match lifetime.duration() {
        Some(d) if d > MAX_RESPONSE_DURATION => Err(format!(
            "must be at most {} (or \"permanent\")",
            duration::format_duration(MAX_RESPONSE_DURATION)
        )),
        Some(d) if d.is_zero() => Err("must be greater than zero".to_string()),
        _ => Ok(()),
    }
}

/// Checks a redirect URL: `http://host...`, `https://host...` (scheme in any case) or a path
/// starting with a single `/`; no whitespace, control characters or backslashes (browsers read
/// `/\evil.example` as `//evil.example`), at most [`MAX_URL_LEN`] bytes.
pub fn validate_redirect_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("must not be empty".to_string());
    }
    if url.len() > MAX_URL_LEN {
        return Err(format!("is longer than {MAX_URL_LEN} bytes"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "URL {} must not contain whitespace or control characters",
            quote(url)
        ));
    }
    if url.contains('\\') {
        return Err(format!("URL {} must not contain a backslash", quote(url)));
    }
    if let Some(rest) = url.strip_prefix('/') {
        if rest.starts_with('/') {
            return Err(format!(
                "URL {} must not start with \"//\" (it would leave the site)",
                quote(url)
            ));
        }
        return Ok(());
    }
    let after_scheme = ["https://", "http://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .and_then(|_| url.get(scheme.len()..))
    });
    match after_scheme {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        Some(_) => Err(format!("URL {} has no host", quote(url))),
        None => Err(format!(
            "URL {} must start with \"/\", \"http://\" or \"https://\"",
            quote(url)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_patterns_match_only_themselves() {
        let p = EventPattern::parse("user.invited").unwrap();
        assert_eq!(p, EventPattern::Exact("user.invited".into()));
        assert!(p.matches("user.invited"));
        assert!(!p.matches("user.invited.twice"));
        assert!(!p.matches("user"));
        assert!(!p.matches(""));
        assert_eq!(p.to_string(), "user.invited");
    }

    #[test]
    fn prefix_patterns_match_names_under_the_stem() {
        let p = EventPattern::parse("app.sqreen.attack.*").unwrap();
        assert_eq!(p, EventPattern::Prefix("app.sqreen.attack".into()));
        assert!(p.matches("app.sqreen.attack.xss"));
        assert!(p.matches("app.sqreen.attack.sqli.union"));
        assert!(!p.matches("app.sqreen.attack"));
        assert!(!p.matches("app.sqreen.attack."));
        assert!(!p.matches("app.sqreen.attackers.x"));
        assert!(!p.matches("app.sqreen"));
        assert!(!p.matches(""));
        assert_eq!(p.to_string(), "app.sqreen.attack.*");
        assert_eq!(EventPattern::parse(&p.to_string()).unwrap(), p);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            "\"app.sqreen.attack.*\""
        );
    }

    #[test]
    fn bad_patterns_are_rejected() {
        for bad in [
            "", ".*", "*", "a*", "a.*.b", "a b", "a/b", "é", "a.**", "user.*.*",
        ] {
            assert!(EventPattern::parse(bad).is_err(), "{bad:?}");
        }
        let longest = "e".repeat(MAX_EVENT_LEN);
        assert!(EventPattern::parse(&longest).is_ok());
        assert!(EventPattern::parse(&format!("{longest}x")).is_err());
        let stem = "e".repeat(MAX_EVENT_LEN - 2);
        assert!(EventPattern::parse(&format!("{stem}.*")).is_ok());
        assert!(EventPattern::parse(&format!("{stem}x.*")).is_err());
        assert!(validate_event_name("a.*").is_err());
        assert!(validate_event_name("ns:a-b_c.1").is_ok());
        // the message names the whole character, however many bytes it takes
        let err = validate_event_name("caf\u{e9}.order").unwrap_err();
        assert!(err.contains("invalid character '\u{e9}'"), "{err}");
        let err = validate_event_name("x\u{1F600}").unwrap_err();
        assert!(err.contains("'\u{1F600}'"), "{err}");
    }

    #[test]
    fn ids_are_checked() {
        assert!(validate_id("free-plan_abuse.v2").is_ok());
        assert!(validate_id(&"x".repeat(MAX_ID_LEN)).is_ok());
        assert!(validate_id(&"x".repeat(MAX_ID_LEN + 1)).is_err());
        for bad in ["", "a b", "a:b", "a/b", "é", " a"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("Free plan abuse").is_ok());
        assert!(validate_name("   ").is_err());
        assert!(validate_name("a\nb").is_err());
        assert!(validate_name(&"n".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn thresholds_are_bounded() {
        assert_eq!(validate_threshold(1), Ok(1));
        assert_eq!(validate_threshold(1_000_000), Ok(1_000_000));
        assert_eq!(validate_threshold(0).unwrap_err(), "must be at least 1");
        assert_eq!(validate_threshold(-1).unwrap_err(), "must be at least 1");
        assert_eq!(
            validate_threshold(i64::MIN).unwrap_err(),
            "must be at least 1"
        );
        assert_eq!(
            validate_threshold(1_000_001).unwrap_err(),
            "must be at most 1000000"
        );
        assert_eq!(
            validate_threshold(i64::MAX).unwrap_err(),
            "must be at most 1000000"
        );
    }

    #[test]
    fn periods_and_lifetimes_are_bounded() {
        assert!(validate_period(Duration::from_secs(1)).is_ok());
        assert!(validate_period(MAX_PERIOD).is_ok());
        assert_eq!(
            validate_period(MAX_PERIOD + Duration::from_secs(1)).unwrap_err(),
            "must be at most 30d"
        );
        assert_eq!(
            validate_period(Duration::from_millis(10)).unwrap_err(),
            "must be at least 1s"
        );
        assert!(validate_lifetime(Lifetime::Permanent).is_ok());
        assert!(validate_lifetime(Lifetime::For(MAX_RESPONSE_DURATION)).is_ok());
        assert!(validate_lifetime(Lifetime::For(Duration::ZERO)).is_err());
        assert_eq!(
            validate_lifetime(Lifetime::For(MAX_RESPONSE_DURATION * 2)).unwrap_err(),
            "must be at most 365d (or \"permanent\")"
        );
    }

    #[test]
    fn redirect_urls_are_checked() {
        for good in [
            "/blocked",
            "/",
            "/a/b?c=d#e",
            "https://x.example/reset",
            "http://x.example",
            "HTTPS://x.example/",
        ] {
            assert_eq!(validate_redirect_url(good), Ok(()), "{good:?}");
        }
        for (bad, why) in [
            ("javascript:alert(1)", "must start with"),
            ("//evil.example", "must not start with \"//\""),
            ("blocked", "must start with"),
            ("/a b", "whitespace"),
            ("/a\tb", "whitespace"),
            ("/a\u{7}b", "control"),
            ("/\\evil.example", "backslash"),
            ("https://", "no host"),
            ("https:///path", "no host"),
            ("ftp://x.example", "must start with"),
            ("data:text/html,hi", "must start with"),
            ("", "must not be empty"),
            ("é", "must start with"),
        ] {
            let err = validate_redirect_url(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let long = format!("/{}", "a".repeat(MAX_URL_LEN));
        assert!(validate_redirect_url(&long).is_err());
    }

    #[test]
    fn serializes_in_document_form() {
        let pb = Playbook {
            id: "p".into(),
            name: "p".into(),
            enabled: true,
            trigger: Trigger {
                event: EventPattern::Prefix("app.attack".into()),
                threshold: 3,
                period: Duration::from_secs(300),
                actor: ActorKind::Ip,
                filter: None,
            },
            response: ResponseAction::Redirect {
                url: "/blocked".into(),
                lifetime: Lifetime::For(Duration::from_secs(86_400)),
            },
            notification: Notification::default(),
        };
        assert_eq!(
            serde_json::to_value(&pb).unwrap(),
            serde_json::json!({
                "id": "p", "name": "p", "enabled": true,
                "trigger": {"event": "app.attack.*", "threshold": 3, "period": "5m", "actor": "ip"},
                "response": {"action": "redirect", "url": "/blocked", "duration": "1d"},
                "notification": {"severity": "medium", "frequency": "immediately",
                                 "webhook": false, "slack": false, "email": false}
            })
        );
        assert_eq!(
            serde_json::to_value(ResponseAction::None).unwrap(),
            serde_json::json!({"action": "none"})
        );
        assert_eq!(pb.response.as_str(), "redirect");
        assert_eq!(
            pb.response.lifetime().and_then(|l| l.duration()),
            Some(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn ip_filters_need_known_facts() {
        let tor = IpFilter {
            is_tor: Some(true),
            ..IpFilter::default()
        };
        let not_tor = IpFilter {
            is_tor: Some(false),
            ..IpFilter::default()
        };
        let known_tor = IpFacts {
            is_tor: Some(true),
            ..IpFacts::default()
        };
        assert!(tor.matches(&known_tor) && !not_tor.matches(&known_tor));
        // no list: neither `true` nor `false` holds
        assert!(!tor.matches(&IpFacts::default()) && !not_tor.matches(&IpFacts::default()));
        let countries = IpFilter {
            country: Some(vec!["ru".into(), "KP".into()]),
            ..IpFilter::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            countries.country.as_deref(),
            Some(&["RU".to_owned(), "KP".to_owned()][..])
        );
        let moscow = IpFacts {
            country: IpFacts::country_code("ru"),
            ..IpFacts::default()
        };
        assert!(countries.matches(&moscow));
        assert!(!countries.matches(&IpFacts {
            country: IpFacts::country_code("DE"),
            ..IpFacts::default()
        }));
        assert_eq!(IpFacts::country_code("EU1"), None);
        // every condition must hold
        let both = IpFilter {
            is_tor: Some(true),
            country: Some(vec!["RU".into()]),
            ..IpFilter::default()
        };
        assert!(!both.matches(&moscow) && !both.matches(&known_tor));
        assert!(both.matches(&IpFacts {
            is_tor: Some(true),
            country: Some(*b"RU"),
            datacenter: None,
        }));
        assert_eq!(IpFilter::default().validate().unwrap_err().0, "");
    }
}
