//! The in-app WAF (DESIGN section 7): recognises attacks in request inputs and reports them as
//! built-in events (`app.sqreen.attack.<category>`, `app.sqreen.http.scanner`) that playbooks
//! count like any other; in `block` mode a match is answered 403 before the handler runs.
//!
//! Shape:
//! - `inputs` walks what a request carries — the path, every query parameter (name and value),
//!   header values, cookie values, and form or JSON bodies read up to `SQREEN_MAX_BODY_BYTES` —
//!   and undoes the URL encoding attackers rely on (percent-decoding repeated up to three rounds,
//!   `+` as a space in forms and queries). XML bodies (`xml`) give their attribute values and
//!   text nodes, multipart forms (`multipart`) their fields and file names, text bodies
//!   (`text`) their `name=value` lines or their whole text. JSON (`json`) is walked to every key and string value; below
//!   `inputs::MAX_JSON_DEPTH` levels, or when a body does not parse, the raw body is inspected
//!   as one value, so nothing hides below the bound. A JSON string repeated in one body (the
//!   item names of an array of records) is inspected once.
//! - One module per detector family ([`sqli`], [`xss`], [`lfi`], [`rce`], [`ssrf`],
//!   [`code`], [`scanner`]); each takes one decoded value, undoes the encodings of its own family (HTML
//!   entities, SQL comments, shell quoting, ...) and reports the first rule that matched with the
//!   fragment's byte range. Each module's docs say why it is shaped as it is.
//! - One pass per value over a shared 256-entry table (`classes`) tells which byte classes
//!   occur: it answers `plain`, gives the RCE detector its class mask and the LFI detector
//!   its flags (values up to 512 bytes), and skips the SSRF detector on values with no `:`,
//!   `/` or `\` and the XSS detector on short values with none of its trigger bytes — each a
//!   detector's own first test, so the verdicts are those of the detectors run alone (a test
//!   replays the corpus through both).
//! - Header values and paths that every detector ran on and none matched are remembered per
//!   thread (`memo`: the last few, compared byte for byte) and skipped when they come again, as
//!   a service's user agents and routes do.
//! - `Scan` runs the detectors over the inputs within a time budget (`SQREEN_WAF_BUDGET_US`):
//!   the clock is read every few inputs, and after every 2 KiB of detector passes over long
//!   values, which are scanned in 2 KiB chunks (overlapping, so that nothing is lost at a cut;
//!   a chunk's first bytes are not a value's start, see `Scan::detect_all`), so the budget
//!   holds for any input size (it starts at the first reading, so a request with a few short
//!   values never pays for one);
//!   past it the request goes through and the overrun is counted.
//!   Every detector is linear in its input (no backtracking regex, bounded passes).
//!
//! Which detectors run where: all of them on query and body parameters (names and values); all
//! but SSRF on the path, cookies and headers (a `Referer` or `Origin` naming `localhost` is
//! ordinary), and on headers not the remote-inclusion rules either; the path gets the LFI
//! detector's path rules too ([`lfi::detect_path`]: restricted files, hidden segments); the
//! scanner user-agent list runs on `User-Agent`; the scanner probe-path list on the path,
//! after the response, and only when it is a 404.

use std::fmt;
use std::ops::Range;
use std::time::{Duration, Instant};

use classes::Classes;

pub use crate::rules::Paranoia;

mod blocks;
mod classes;
pub mod code;
pub(crate) mod entity;
pub(crate) mod exclusions;
pub(crate) mod glob;
pub(crate) mod inputs;
mod json;
pub mod lfi;
mod lists;
mod memo;
mod multipart;
pub mod rce;
pub mod scanner;
pub mod sqli;
pub mod ssrf;
mod text;
pub(crate) mod xml;
pub mod xss;

/// Builds every detector's tables (automata, regexes, keyword maps) now rather than on the first
/// request that needs them: building them takes longer than a time budget, so that request
/// would go uninspected. The agent calls it when rules put the WAF on; it is idempotent and
/// cheap once done.
pub(crate) fn warm_up() {
    sqli::warm_up();
    rce::warm_up();
    lfi::warm_up();
    scanner::warm_up();
    code::warm_up();
}

/// What a detector reports: the rule that matched and where, in the value it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule id (stable; usable in the rules document's `waf.disabled_rules`).
    pub rule: &'static str,
    /// Byte range of the matched fragment in the value (on char boundaries).
    pub span: Range<usize>,
}

/// The attack families the WAF reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackCategory {
    /// SQL injection.
    Sqli,
    /// Cross-site scripting.
    Xss,
    /// Path traversal, local and remote file inclusion.
    Lfi,
    /// Command injection and code execution (shell, PowerShell, Shellshock, Log4Shell).
    Rce,
    /// Server-side request forgery.
    Ssrf,
    /// A known security scanner (user agent, or probe path answered 404).
    Scanner,
    /// Code injection: PHP, Java expression languages and deserialization, server-side
    /// templates, Node.js, Python, Ruby, Perl.
    #[serde(rename = "code_injection")]
    CodeInjection,
}

impl AttackCategory {
    /// Every category, in the order detectors run.
    pub const ALL: [AttackCategory; 7] = [
        AttackCategory::Sqli,
        AttackCategory::Xss,
        AttackCategory::Rce,
        AttackCategory::Lfi,
        AttackCategory::Ssrf,
        AttackCategory::CodeInjection,
        AttackCategory::Scanner,
    ];

    /// Lowercase name: `sqli`, `xss`, `lfi`, `rce`, `ssrf`, `code_injection`, `scanner`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackCategory::Sqli => "sqli",
            AttackCategory::Xss => "xss",
            AttackCategory::Lfi => "lfi",
            AttackCategory::Rce => "rce",
            AttackCategory::Ssrf => "ssrf",
            AttackCategory::Scanner => "scanner",
            AttackCategory::CodeInjection => "code_injection",
        }
    }

    /// The built-in event a match records.
    pub fn event_name(self) -> &'static str {
        match self {
            AttackCategory::Sqli => crate::event::names::ATTACK_SQLI,
            AttackCategory::Xss => crate::event::names::ATTACK_XSS,
            AttackCategory::Lfi => crate::event::names::ATTACK_LFI,
            AttackCategory::Rce => crate::event::names::ATTACK_RCE,
            AttackCategory::Ssrf => crate::event::names::ATTACK_SSRF,
            AttackCategory::Scanner => crate::event::names::HTTP_SCANNER,
            AttackCategory::CodeInjection => crate::event::names::ATTACK_CODE_INJECTION,
        }
    }

    pub(crate) fn bit(self) -> u8 {
        1 << self as u8
    }

    /// The rule ids of this category.
    pub fn rules(self) -> &'static [&'static str] {
        match self {
            AttackCategory::Sqli => sqli::RULES,
            AttackCategory::Xss => xss::RULES,
            AttackCategory::Lfi => lfi::RULES,
            AttackCategory::Rce => rce::RULES,
            AttackCategory::Ssrf => ssrf::RULES,
            AttackCategory::Scanner => scanner::RULES,
            AttackCategory::CodeInjection => code::RULES,
        }
    }
}

impl fmt::Display for AttackCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True when `rule` is the id of one of the WAF's rules.
pub fn is_rule(rule: &str) -> bool {
    AttackCategory::ALL
        .iter()
        .any(|c| c.rules().contains(&rule))
}

/// Runs one value detector on a decoded value (the scanner category looks at it as a user
/// agent). For tests, benchmarks and tools: the layer runs them through its own scan.
pub fn detect(category: AttackCategory, value: &str) -> Option<Finding> {
    match category {
        AttackCategory::Sqli => sqli::detect(value),
        AttackCategory::Xss => xss::detect(value),
        AttackCategory::Lfi => lfi::detect(value),
        AttackCategory::Rce => rce::detect(value),
        AttackCategory::Ssrf => ssrf::detect(value),
        AttackCategory::Scanner => scanner::detect_user_agent(value),
        AttackCategory::CodeInjection => code::detect(value),
    }
}

/// Runs one value detector at a paranoia level: the level 1 rules, then, at level 2 and when
/// they found nothing, the level 2 rules (each detector's module docs list them).
pub fn detect_at(category: AttackCategory, value: &str, paranoia: Paranoia) -> Option<Finding> {
    detect(category, value).or_else(|| {
        (paranoia >= Paranoia::Level2)
            .then(|| run_strict(category, value, ""))
            .flatten()
    })
}

/// The paranoia level 2 rules of `category` on a value (`host`: the request's `Host`, for the
/// off-site inclusion rules).
fn run_strict(category: AttackCategory, value: &str, host: &str) -> Option<Finding> {
    use AttackCategory::*;
    match category {
        Sqli => sqli::detect_strict(value),
        Xss => xss::detect_strict(value),
        Rce => rce::detect_strict(value),
        Lfi => lfi::detect_strict(value, host),
        CodeInjection => code::detect_strict(value),
        Ssrf | Scanner => None,
    }
}

/// How many times [`first_past`] reads a chunk again past a finding that ends in its judged
/// bytes, at most: a chunk can only open with so many cut-made findings, and one made on
/// purpose to hide what follows it is reported rather than read around forever.
const REREADS: usize = 3;

/// The first finding of `detect` on `part` that does not end within its first `judged` bytes
/// (see [`Scan::detect_all`]), `finding` being its first, with how many bytes were read again
/// to find it. A detector reports its first finding only, so one that ends within those
/// bytes could hide another further on: the rest of the part, past it, is read again. After
/// [`REREADS`] such findings in a row the last is reported as it is. (Rare: kept out of the
/// scan's path.)
#[inline(never)]
fn first_past(
    part: &str,
    judged: usize,
    mut finding: Option<Finding>,
    detect: impl Fn(&str) -> Option<Finding>,
) -> (Option<Finding>, usize) {
    let mut from = 0;
    let mut reread = 0;
    for _ in 0..REREADS {
        let Some(f) = &finding else { break };
        if from + f.span.end > judged {
            break;
        }
        // past the finding (at least one character on)
        let mut next = from + f.span.end.max(1);
        while !part.is_char_boundary(next) {
            next += 1;
        }
        if next >= part.len() {
            return (None, reread);
        }
        let rest = &part[next..];
        reread += rest.len();
        from = next;
        finding = detect(rest);
    }
    let finding = finding.map(|f| Finding {
        rule: f.rule,
        span: from + f.span.start..from + f.span.end,
    });
    (finding, reread)
}

/// Where a value came from; decides which detectors run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Path,
    Query,
    Header,
    Cookie,
    Body,
    /// The name of a file a multipart form uploads: a body value, also read as a file name
    /// ([`code::script_file_name`]), as the names header values give are.
    Upload,
}

impl Source {
    /// The categories whose detectors run on values from here.
    fn categories(self) -> &'static [AttackCategory] {
        use AttackCategory::*;
        match self {
            Source::Query | Source::Body | Source::Upload => {
                &[Sqli, Xss, Rce, Lfi, Ssrf, CodeInjection]
            }
            Source::Path | Source::Header | Source::Cookie => &[Sqli, Xss, Rce, Lfi, CodeInjection],
        }
    }
}

impl Source {
    /// False for rules that do not apply to values from here: remote-inclusion rules (a URL
    /// with an IP host, a URL ending in `?`) on headers, where `Referer` and `Origin` carry
    /// such URLs in ordinary traffic.
    fn allows(self, rule: &str) -> bool {
        !(self == Source::Header && rule.starts_with("lfi-rfi"))
    }
}

/// One match, as reported in events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) category: AttackCategory,
    pub(crate) rule: &'static str,
    /// The input's name: `path`, `query.q`, `header.user-agent`, `cookie.session`,
    /// `body.user.name`, `body` (a raw body).
    pub(crate) input: String,
    /// The matched fragment, cut to [`MAX_FRAGMENT`] characters (not yet redacted).
    pub(crate) fragment: String,
}

/// How many times [`Scan::past_excluded`] reads on past excluded findings in one part of a
/// value, at most.
const EXCLUDED_REREADS: usize = 16;

/// Longest fragment kept in a hit, in characters.
pub(crate) const MAX_FRAGMENT: usize = 64;
/// Values longer than this are scanned in chunks of this size (overlapping by [`OVERLAP`]),
/// with the clock read between chunks.
pub(super) const CHUNK: usize = 2 * 1024;
const OVERLAP: usize = 128;
/// Past this length each detector's pass over a value counts toward the next clock reading,
/// which comes once [`CHUNK`] bytes of such passes have been made: at most that much detector
/// work, plus one detector on one chunk, goes unmeasured, whatever the input's size.
const LONG: usize = 256;
/// The clock is read after this many values, or this many bytes, since the last reading.
const CHECK_EVERY_VALUES: u32 = 16;
const CHECK_EVERY_BYTES: usize = 4 * 1024;

/// A scan of one request's inputs: the hits so far, the budget, what to skip.
pub(crate) struct Scan<'r> {
    disabled: &'r [String],
    /// The exclusions that apply to this request, if any.
    excluded: Option<&'r exclusions::Applied>,
    /// An input's name, written when an input-scoped exclusion needs it.
    scratch: String,
    /// Findings an exclusion covered so far (the JSON walk does not take a value with one as
    /// inspected for its repeats: under another name it may not be excluded).
    pub(crate) excluded_findings: u32,
    /// The request's `Host` (empty when absent), for the off-site inclusion rules: read when
    /// one first needs it (most requests carry no value they look at).
    host: Host<'r>,
    stop_at_first: bool,
    paranoia: Paranoia,
    budget: Duration,
    /// When the clock was first read: at the first budget check, not at the start (see
    /// [`Scan::spent`]).
    started: Option<Instant>,
    spent_before: Duration,
    values_since_check: u32,
    bytes_since_check: usize,
    found: u8,
    pub(crate) hits: Vec<Hit>,
    /// The budget is spent (this scan, or the ones before it for this request).
    pub(crate) overrun: bool,
    /// The budget was already spent when this scan started.
    pub(crate) overrun_before: bool,
    /// Stop at the budget (`waf.on_budget_exceeded: "pass"`); otherwise the overrun is only
    /// noted and every input is still read.
    cut_off: bool,
    /// Bytes of values this scan read (before a cut-off, if any).
    pub(crate) bytes: usize,
}

/// The request's `Host`, known or still to read.
#[derive(Clone, Copy)]
enum Host<'r> {
    Known(&'r str),
    Request(&'r http::Uri, &'r http::HeaderMap),
}

/// The request's `Host` header value, else its URI's authority, else empty.
pub(crate) fn request_host<'a>(uri: &'a http::Uri, headers: &'a http::HeaderMap) -> &'a str {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
}

/// Why a scan stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A hit, and the scan was told to stop at the first one (block mode).
    Hit,
    /// The budget is spent.
    Budget,
}

impl<'r> Scan<'r> {
    /// A scan that may still spend `budget - spent_before`.
    pub(crate) fn new(
        disabled: &'r [String],
        stop_at_first: bool,
        budget: Duration,
        spent_before: Duration,
    ) -> Self {
        Scan {
            disabled,
            excluded: None,
            scratch: String::new(),
            excluded_findings: 0,
            host: Host::Known(""),
            stop_at_first,
            paranoia: Paranoia::Level1,
            budget,
            started: None,
            spent_before,
            values_since_check: 0,
            bytes_since_check: 0,
            found: 0,
            hits: Vec::new(),
            overrun: spent_before >= budget,
            overrun_before: spent_before >= budget,
            cut_off: true,
            bytes: 0,
        }
    }

    /// The exclusions that apply to the request: the categories they turn off for every input
    /// are not looked for, and findings they cover are not reported.
    pub(crate) fn with_exclusions(mut self, applied: Option<&'r exclusions::Applied>) -> Self {
        if let Some(applied) = applied {
            self.found |= applied.skip;
        }
        self.excluded = applied;
        self
    }

    /// Whether a spent budget stops the scan (`true`, the inputs left are not inspected) or is
    /// only noted (`false`: every input is still read).
    pub(crate) fn with_cut_off(mut self, cut_off: bool) -> Self {
        self.cut_off = cut_off;
        self
    }

    /// The request whose `Host` the off-site inclusion rules compare URLs with
    /// ([`lfi::detect_offsite`]).
    pub(crate) fn with_request(mut self, uri: &'r http::Uri, headers: &'r http::HeaderMap) -> Self {
        self.host = Host::Request(uri, headers);
        self
    }

    /// The request's `Host` header value, else its URI's authority, else empty.
    fn host(&mut self) -> &'r str {
        if let Host::Request(uri, headers) = self.host {
            self.host = Host::Known(request_host(uri, headers));
        }
        match self.host {
            Host::Known(host) => host,
            Host::Request(..) => "",
        }
    }

    /// Runs the rules of `paranoia` (level 1 unless told).
    pub(crate) fn with_paranoia(mut self, paranoia: Paranoia) -> Self {
        self.paranoia = paranoia;
        self
    }

    /// Time spent by this request's scans so far, as far as the clock was read: the clock starts
    /// at a scan's first budget check, not when it is made. Reading it costs 20–70 ns (more
    /// than the whole scan of a request without parameters), so a scan that never needs a check
    /// never reads it; the work before the first check is bounded (fewer than
    /// [`CHECK_EVERY_VALUES`] values, [`CHECK_EVERY_BYTES`] bytes, and one detector on a value
    /// of at most [`LONG`] bytes) and goes uncounted.
    pub(crate) fn spent(&self) -> Duration {
        self.spent_before + self.started.map_or(Duration::ZERO, |t| t.elapsed())
    }

    fn check_budget(&mut self) -> Result<(), Stop> {
        self.values_since_check = 0;
        self.bytes_since_check = 0;
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
        if self.overrun {
            // noted already: no need to read the clock again
            return if self.cut_off {
                Err(Stop::Budget)
            } else {
                Ok(())
            };
        }
        if self.spent() >= self.budget {
            self.overrun = true;
            if self.cut_off {
                return Err(Stop::Budget);
            }
        }
        Ok(())
    }

    /// Counts a value toward the next clock reading; reads it when due.
    fn tick(&mut self, bytes: usize) -> Result<(), Stop> {
        if self.overrun && self.cut_off {
            return Err(Stop::Budget);
        }
        self.bytes += bytes;
        self.values_since_check += 1;
        self.bytes_since_check += bytes;
        if self.values_since_check >= CHECK_EVERY_VALUES
            || self.bytes_since_check >= CHECK_EVERY_BYTES
        {
            self.check_budget()?;
        }
        Ok(())
    }

    fn disabled(&self, rule: &str) -> bool {
        !self.disabled.is_empty() && self.disabled.iter().any(|r| r == rule)
    }

    /// True when an exclusion covers a finding of `rule` in the input `name`.
    fn is_excluded(
        &mut self,
        category: AttackCategory,
        rule: &str,
        name: &dyn fmt::Display,
    ) -> bool {
        self.cover(category, rule, name).is_some()
    }

    /// Why a finding of `rule` in the input `name` (from `source`) is not reported, if it is
    /// not: the rules document disables the rule or it does not apply to values from
    /// `source` (as [`exclusions::Cover::Rule`]: only that rule), or an exclusion covers it.
    fn passed_over(
        &mut self,
        category: AttackCategory,
        source: Source,
        rule: &str,
        name: &dyn fmt::Display,
    ) -> Option<exclusions::Cover> {
        if self.disabled(rule) || !source.allows(rule) {
            return Some(exclusions::Cover::Rule);
        }
        self.cover(category, rule, name)
    }

    /// How an exclusion covers a finding of `rule` in the input `name`, if one does.
    fn cover(
        &mut self,
        category: AttackCategory,
        rule: &str,
        name: &dyn fmt::Display,
    ) -> Option<exclusions::Cover> {
        let applied = self.excluded?;
        applied.cover(category, rule, name, &mut self.scratch)
    }

    /// The first finding past `finding` in `part` that is not passed over (see
    /// [`Scan::passed_over`]), `finding` being passed over: a detector reports its first
    /// finding only, so an excluded or disabled one could hide an attack further on, and the rest of the part is read again past it (the bytes counted
    /// toward the budget), at most [`EXCLUDED_REREADS`] times; past that, the last finding is
    /// reported as it is (many excluded fragments are not a hiding place). A finding within
    /// the `judged` bytes (see [`Scan::detect_all`]) is read past too.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn past_excluded(
        &mut self,
        category: AttackCategory,
        source: Source,
        part: &str,
        judged: usize,
        mut finding: Finding,
        name: &dyn fmt::Display,
        host: &str,
    ) -> Option<Finding> {
        let strict = self.paranoia >= Paranoia::Level2;
        for _ in 0..EXCLUDED_REREADS {
            // (a disabled rule's finding is no excluded one)
            if !self.disabled(finding.rule) && source.allows(finding.rule) {
                self.excluded_findings += 1;
            }
            let mut next = finding.span.end.max(finding.span.start + 1);
            while next < part.len() && !part.is_char_boundary(next) {
                next += 1;
            }
            if next >= part.len() {
                return None;
            }
            let rest = &part[next..];
            self.bytes_since_check += rest.len();
            let found = run_detector(category, source, rest, Classes::of(rest.as_bytes()), host)
                .or_else(|| strict.then(|| run_strict(category, rest, host)).flatten())?;
            finding = Finding {
                rule: found.rule,
                span: next + found.span.start..next + found.span.end,
            };
            if finding.span.end > judged {
                match self.passed_over(category, source, finding.rule, name) {
                    None => return Some(finding),
                    Some(exclusions::Cover::Category) => {
                        self.excluded_findings += 1;
                        return None;
                    }
                    Some(exclusions::Cover::Rule) => {}
                }
            }
        }
        Some(finding)
    }

    /// Records a finding of `category` in `value` (named by `name`).
    fn record(
        &mut self,
        category: AttackCategory,
        finding: Finding,
        value: &str,
        offset: usize,
        name: &dyn fmt::Display,
    ) -> Result<(), Stop> {
        self.found |= category.bit();
        let start = offset + finding.span.start;
        let end = offset + finding.span.end;
        self.hits.push(Hit {
            category,
            rule: finding.rule,
            input: name.to_string(),
            fragment: fragment(value, start..end),
        });
        if self.stop_at_first {
            Err(Stop::Hit)
        } else {
            Ok(())
        }
    }

    /// Runs the detectors `source` calls for on one decoded value.
    pub(crate) fn value(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        value: &str,
    ) -> Result<(), Stop> {
        if value.is_empty() {
            return Ok(());
        }
        if value.len() <= CHUNK {
            // a remembered value (headers, paths) is looked up before its bytes are classed:
            // most header values are
            let memo =
                memo::Kind::of(source, self.paranoia).filter(|_| value.len() <= memo::MAX_LEN);
            if memo.is_some_and(|kind| memo::is_clean(kind, value)) {
                return Ok(());
            }
            let classes = Classes::of(value.as_bytes());
            return self.value_remembered(source, name, value, classes, (memo, true));
        }
        self.tick(value.len())?;
        // counted chunk by chunk below, as read
        self.bytes -= value.len();
        let mut start = 0;
        // where the previous chunk ended: a chunk's bytes before it were judged there
        let mut judged_to = 0usize;
        while start < value.len() {
            let mut end = (start + CHUNK).min(value.len());
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            let part = &value[start..end];
            let _clean = self.detect_all(
                source,
                name,
                value,
                part,
                (start, judged_to.saturating_sub(start)),
                Classes::of(part.as_bytes()),
            )?;
            self.bytes += end - judged_to;
            if end == value.len() {
                break;
            }
            judged_to = end;
            self.check_budget()?;
            let mut next = end.saturating_sub(OVERLAP).max(start + 1);
            while !value.is_char_boundary(next) {
                next += 1;
            }
            start = next;
        }
        Ok(())
    }

    /// [`Scan::value`] on a value of at most [`CHUNK`] bytes whose [`Classes`] the caller has
    /// already taken (a JSON string's, to know whether it holds a `%` to decode).
    pub(crate) fn value_classified(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        value: &str,
        classes: Classes,
    ) -> Result<(), Stop> {
        let memo = memo::Kind::of(source, self.paranoia);
        self.value_remembered(source, name, value, classes, (memo, false))
    }

    /// [`Scan::value`] on a parameter's name (a query or form name, a JSON key): names that
    /// every detector ran on clean are remembered per thread (see [`memo`]).
    pub(crate) fn param_name(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        key: &str,
    ) -> Result<(), Stop> {
        if key.len() > CHUNK {
            return self.value(source, name, key);
        }
        let classes = Classes::of(key.as_bytes());
        self.param_name_classified(source, name, key, classes)
    }

    /// [`Scan::param_name`] on a name whose [`Classes`] the caller has.
    pub(crate) fn param_name_classified(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        key: &str,
        classes: Classes,
    ) -> Result<(), Stop> {
        let memo = memo::Kind::name_of(source, self.paranoia).filter(|_| !classes.may_be_ssrf());
        self.value_remembered(source, name, key, classes, (memo, false))
    }

    /// A value of at most [`CHUNK`] bytes, skipped when `memo` remembers it clean (unless
    /// the caller `looked_up` already), and remembered there when every detector ran on it
    /// clean.
    fn value_remembered(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        value: &str,
        classes: Classes,
        (memo, looked_up): (Option<memo::Kind>, bool),
    ) -> Result<(), Stop> {
        debug_assert!(value.len() <= CHUNK);
        // words and numbers (see `plain`), before any lookup: most names are words
        if value.is_empty() {
            return Ok(());
        }
        if value.len() <= PLAIN_MAX && classes.only_plain_bytes() {
            return self.plain_value(source, name, value);
        }
        let memo = memo.filter(|_| value.len() <= memo::MAX_LEN);
        if !looked_up && memo.is_some_and(|kind| memo::is_clean(kind, value)) {
            return Ok(());
        }
        self.tick(value.len())?;
        let clean = self.detect_all(source, name, value, value, (0, 0), classes)?;
        if let Some(kind) = memo.filter(|_| clean) {
            memo::remember(kind, value);
        }
        Ok(())
    }

    /// A plain value (see [`plain`]): no detector needs to see it, except the code-injection
    /// one where base64 may hide code in it ([`code::plain_may_hide`]).
    fn plain_value(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        value: &str,
    ) -> Result<(), Stop> {
        let category = AttackCategory::CodeInjection;
        let words = matches!(source, Source::Cookie | Source::Header);
        if self.found & category.bit() != 0 || !code::plain_may_hide(value.as_bytes(), words) {
            return Ok(());
        }
        self.tick(value.len())?;
        let finding = code::detect_classified(value, 0, self.paranoia >= Paranoia::Level2);
        let finding = match finding {
            Some(f) if self.excluded.is_some() => match self.cover(category, f.rule, name) {
                None => Some(f),
                Some(_) => {
                    // (one rule for the whole value: nothing past it to read)
                    self.excluded_findings += 1;
                    None
                }
            },
            other => other,
        };
        match finding {
            Some(f) if !self.disabled(f.rule) => self.record(category, f, value, 0, name),
            _ => Ok(()),
        }
    }

    /// Runs every detector of `source` on `part`, which starts at `offset` in `whole`; its
    /// first `judged` bytes were part of the previous chunk of a long value (see
    /// [`Scan::value`]).
    ///
    /// A finding that ends within those bytes is not taken (see [`first_past`]): the previous
    /// chunk saw them whole, with what came before them. Without this, rules that look at the
    /// start of a value (`../` opening a path, a command word opening a command line, an
    /// injection point) would read the chunk's first bytes, cut anywhere inside the value, as
    /// a value's start.
    fn detect_all(
        &mut self,
        source: Source,
        name: &dyn fmt::Display,
        whole: &str,
        part: &str,
        (offset, judged): (usize, usize),
        classes: Classes,
    ) -> Result<bool, Stop> {
        let mut clean = true;
        for &category in source.categories() {
            if self.found & category.bit() != 0 {
                clean = false; // not looked for: nothing known
                continue;
            }
            // the off-site inclusion rules read the request's `Host`, and only on a value with a
            // `:` (their first test, in the first 40 bytes): without `:`, `/` or `\` in the
            // part (nor in any part of it read again below) the header is not looked up
            let host = match (source, category) {
                (Source::Query | Source::Body | Source::Upload, AttackCategory::Lfi)
                    if classes.may_be_ssrf() =>
                {
                    self.host()
                }
                _ => "",
            };
            let strict = self.paranoia >= Paranoia::Level2;
            let mut finding = run_detector(category, source, part, classes, host)
                .or_else(|| strict.then(|| run_strict(category, part, host)).flatten());
            if judged > 0 && finding.as_ref().is_some_and(|f| f.span.end <= judged) {
                let (past, reread) = first_past(part, judged, finding, |p: &str| {
                    let classes = Classes::of(p.as_bytes());
                    run_detector(category, source, p, classes, host)
                        .or_else(|| strict.then(|| run_strict(category, p, host)).flatten())
                });
                finding = past;
                self.bytes_since_check += reread;
            }
            if finding.is_some() {
                clean = false;
            }
            let finding = match finding {
                // a rule passed over (excluded, disabled, not for this source) may hide another
                // finding further on; an excluded category in this input cannot
                Some(f) => match self.passed_over(category, source, f.rule, name) {
                    None => Some(f),
                    Some(exclusions::Cover::Category) => {
                        self.excluded_findings += 1;
                        None
                    }
                    Some(exclusions::Cover::Rule) => {
                        self.past_excluded(category, source, part, judged, f, name, host)
                    }
                },
                None => None,
            };
            if let Some(finding) = finding {
                self.record(category, finding, whole, offset, name)?;
            }
            if part.len() > LONG {
                // detector work on long values counts toward the next reading too: at most
                // `CHUNK` bytes of it, plus one detector on one chunk, go by unmeasured
                self.bytes_since_check += part.len();
                if self.bytes_since_check >= CHUNK {
                    self.check_budget()?;
                }
            }
        }
        Ok(clean)
    }

    /// Looks at a `User-Agent` value with the scanner list.
    pub(crate) fn user_agent(&mut self, value: &str) -> Result<(), Stop> {
        if self.found & AttackCategory::Scanner.bit() != 0 {
            return Ok(());
        }
        if memo::is_clean(memo::Kind::UserAgent, value) {
            return Ok(());
        }
        match scanner::detect_user_agent(value) {
            Some(finding)
                if self.is_excluded(
                    AttackCategory::Scanner,
                    finding.rule,
                    &"header.user-agent",
                ) =>
            {
                self.excluded_findings += 1;
                Ok(())
            }
            Some(finding) if !self.disabled(finding.rule) => self.record(
                AttackCategory::Scanner,
                finding,
                value,
                0,
                &"header.user-agent",
            ),
            Some(_) => Ok(()),
            None => {
                memo::remember(memo::Kind::UserAgent, value);
                Ok(())
            }
        }
    }
}

/// Runs the detector of `category` on a value from `source`, as the scan does: with the
/// value's [`Classes`] (one shared pass instead of one per detector), and not at all when the
/// classes show that the detector's own first test would reject the value.
#[inline(always)]
fn run_detector(
    category: AttackCategory,
    source: Source,
    part: &str,
    classes: Classes,
    host: &str,
) -> Option<Finding> {
    use AttackCategory::*;
    match (source, category) {
        (Source::Path, Lfi) => lfi::detect_path(part),
        (Source::Query | Source::Body | Source::Upload, Lfi) => {
            lfi::detect_classified(part, classes.lfi()).or_else(|| {
                // (it needs a `:`)
                classes
                    .may_be_ssrf()
                    .then(|| lfi::detect_offsite(part, host))
                    .flatten()
            })
        }
        (_, Lfi) => lfi::detect_classified(part, classes.lfi()),
        (_, Rce) => rce::detect_classified(part, classes.rce()),
        (_, Ssrf) => classes.may_be_ssrf().then(|| ssrf::detect(part)).flatten(),
        (Source::Header | Source::Upload, CodeInjection) => {
            code::detect_classified(part, classes.code(), false)
                .or_else(|| code::script_file_name(part))
        }
        (Source::Path, CodeInjection) => {
            code::detect_classified(part, classes.code(), false).or_else(|| code::path_calls(part))
        }
        (_, CodeInjection) => code::detect_classified(part, classes.code(), false),
        (_, Sqli) => sqli::detect_hinted(part, classes.sqli()),
        (_, Xss) => classes
            .may_be_xss(part.len())
            .then(|| xss::detect_classified(part, classes.xss_decodable()))
            .flatten(),
        _ => detect(category, part),
    }
}

/// [`run_detector`] without the shared pass: each detector on its own, as [`detect`] runs
/// it. The corpus test checks that both agree.
#[cfg(test)]
fn run_detector_alone(
    category: AttackCategory,
    source: Source,
    part: &str,
    host: &str,
) -> Option<Finding> {
    match (source, category) {
        (Source::Path, AttackCategory::Lfi) => lfi::detect_path(part),
        (Source::Query | Source::Body | Source::Upload, AttackCategory::Lfi) => {
            lfi::detect(part).or_else(|| lfi::detect_offsite(part, host))
        }
        (Source::Header | Source::Upload, AttackCategory::CodeInjection) => {
            code::detect(part).or_else(|| code::script_file_name(part))
        }
        (Source::Path, AttackCategory::CodeInjection) => {
            code::detect(part).or_else(|| code::path_calls(part))
        }
        _ => detect(category, part),
    }
}

/// Longest value [`plain`] can accept.
pub(super) const PLAIN_MAX: usize = 64;

/// True for short values made only of ASCII letters, digits and `-`: words, numbers, slugs,
/// ids, codes, language tags — most query and JSON names and many values. No rule needs to see
/// them (a lone command word is not an attack on its own), so the detectors are not run on
/// them, bar the code-injection detector's look at what base64 can hide in them
/// ([`code::plain_may_hide`]: a Java serialization header, which always holds an `A`). `_` and `.` are not in the set: `xp_cmdshell`, `information_schema` and
/// `document.cookie` are tokens rules look for.
/// (The scan tells plain values by their [`Classes`]; this is the definition they implement,
/// which the tests hold them to.)
#[cfg_attr(not(test), allow(dead_code))]
pub(super) fn plain(value: &str) -> bool {
    value.len() <= PLAIN_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The matched part of `value`, cut to [`MAX_FRAGMENT`] characters.
fn fragment(value: &str, span: Range<usize>) -> String {
    let start = span.start.min(value.len());
    let end = span.end.clamp(start, value.len());
    let text = value
        .get(start..end)
        .unwrap_or_else(|| &value[floor_boundary(value, start)..floor_boundary(value, end)]);
    let mut out: String = text.chars().take(MAX_FRAGMENT).collect();
    if text.chars().nth(MAX_FRAGMENT).is_some() {
        out.push('…');
    }
    out
}

/// `[s, e)` clamped to `input` and widened to its char boundaries: the detectors' spans are
/// byte offsets into the value, which a rule may place inside a multi-byte character.
pub(crate) fn char_span(input: &str, s: usize, e: usize) -> Range<usize> {
    let len = input.len();
    let mut s = s.min(len);
    let mut e = e.clamp(s, len);
    while s > 0 && !input.is_char_boundary(s) {
        s -= 1;
    }
    while e < len && !input.is_char_boundary(e) {
        e += 1;
    }
    s..e
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests;
