//! WAF exclusions and per-route modes, compiled once per rules document ([`WafScopes`]) and
//! resolved once per request ([`WafScopes::resolve`]) into the request's mode and the
//! exclusions that apply to it ([`Applied`]), which the scan consults on each finding.
//!
//! Cost: with neither exclusions nor routes, resolving is one `is_empty` check. Otherwise the
//! candidates come from a table keyed by the first path segment of the patterns that start
//! with a literal one (`/forum/*` under `forum`), plus the patterns that do not (no path, or
//! `/*/...`); a request to a route that none names costs one hash of its first segment.
//!
//! Trust: an exclusion or a route with a mode weaker than the global one only weakens the WAF,
//! so it applies only to a path the router will read as the pattern does: a **canonical**
//! path — once percent-decoded, no `.` or `..` segment, no empty segment but a final one, no
//! encoded `/`, `\` or `%`, no `;`, no control character, at most [`MAX_PATH`] bytes. Any
//! other path (`/forum/../admin`, `/forum%2f..`, `/forum//x`) gets no exclusion and the global
//! mode. A method-scoped exclusion or route also needs the method to be unambiguous: no
//! method-override header (`X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override`) or
//! `_method` query parameter naming another method.
//!
//! A route whose mode is *stricter* than the global one must not be escaped by spelling the
//! path another way: when one exists, the request's path is also read loosely (decoded up to
//! three times, `\` as `/`, `;...` dropped from segments, empty and dot segments resolved,
//! lowercase, no trailing slash) and its method as any of the methods it or an override names,
//! and the request runs in the stricter of the two modes found. A loose path too long to read
//! gets the strictest route mode.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use http::{HeaderMap, Method, Uri};

use super::glob::{rule_matches, InputGlob, PathGlob};
use super::AttackCategory;
use crate::rules::{WafExclusion, WafMode, WafRoute};

/// Longest path exclusions and routes are matched on, in bytes (longer ones get none, or,
/// for a stricter route, the strictest mode).
pub(crate) const MAX_PATH: usize = 2048;

/// The headers that ask a framework to take the request as another method.
const OVERRIDE_HEADERS: [http::HeaderName; 3] = [
    http::HeaderName::from_static("x-http-method-override"),
    http::HeaderName::from_static("x-http-method"),
    http::HeaderName::from_static("x-method-override"),
];

/// Every category bit.
const ALL_CATEGORIES: u8 = u8::MAX;

/// One compiled exclusion.
#[derive(Debug)]
struct Exclusion {
    path: Option<PathGlob>,
    method: Option<Method>,
    inputs: Vec<InputGlob>,
    /// The rule ids its rule patterns match, outside the categories it wholly covers.
    rules: Vec<&'static str>,
    /// Categories it turns off whole (`categories`, every rule of one named by `rules`, or all
    /// of them when it names neither).
    categories: u8,
}

impl Exclusion {
    fn covers(&self, category: AttackCategory, rule: &str) -> bool {
        self.categories & category.bit() != 0 || self.rules.contains(&rule)
    }
}

/// One compiled route.
#[derive(Debug)]
struct Route {
    path: PathGlob,
    /// The pattern as loose paths are written.
    loose: PathGlob,
    method: Option<Method>,
    mode: WafMode,
}

/// Entries by the literal first segment of their path pattern, and the others.
#[derive(Debug, Default)]
struct Table {
    by_segment: HashMap<Box<str>, Vec<u32>>,
    anywhere: Vec<u32>,
    /// One bit per first segment in `by_segment` (see [`segment_bit`]): a segment whose bit is
    /// clear is not there, known without hashing it (with 100 segments, 9 in 10 others are
    /// told apart this way).
    filter: [u64; FILTER_WORDS],
}

const FILTER_WORDS: usize = 16;

/// The word and bit of a first segment in a [`Table`]'s filter (FNV-1a of its bytes).
fn segment_bit(segment: &str) -> (usize, u64) {
    let mut h: u32 = 0x811C_9DC5;
    for &b in segment.as_bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let bit = (h ^ (h >> 16)) as usize % (FILTER_WORDS * 64);
    (bit / 64, 1 << (bit % 64))
}

impl Table {
    fn add(&mut self, index: usize, path: Option<&PathGlob>) {
        let index = index as u32;
        match path.and_then(PathGlob::first_literal) {
            Some(first) => {
                let (word, bit) = segment_bit(first);
                self.filter[word] |= bit;
                self.by_segment.entry(first.into()).or_default().push(index)
            }
            None => self.anywhere.push(index),
        }
    }

    /// False when no entry can match a path whose first segment, as received, is `raw_first`
    /// (a segment with an escape may decode to any segment).
    fn may_match(&self, raw_first: &str) -> bool {
        !self.anywhere.is_empty()
            || (!self.by_segment.is_empty() && {
                let (word, bit) = segment_bit(raw_first);
                self.filter[word] & bit != 0 || raw_first.contains('%')
            })
    }

    fn is_empty(&self) -> bool {
        self.by_segment.is_empty() && self.anywhere.is_empty()
    }

    /// The entries a path whose first segment is `first` may match, in document order.
    fn candidates(&self, first: &str) -> impl Iterator<Item = u32> + '_ {
        let named = self.by_segment.get(first).map_or(&[][..], Vec::as_slice);
        merge(named, &self.anywhere)
    }
}

/// Two ascending lists, merged in ascending order.
fn merge<'a>(a: &'a [u32], b: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x <= y => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => return None,
        };
        Some(next)
    })
}

/// The exclusions and routes of a rules document, compiled.
#[derive(Debug, Default)]
pub(crate) struct WafScopes {
    exclusions: Vec<Exclusion>,
    routes: Vec<Route>,
    exclusion_table: Table,
    route_table: Table,
    /// The strictest mode of any route.
    strictest: Option<WafMode>,
}

/// How strict a mode is: `off` < `monitor` < `block`.
fn strictness(mode: WafMode) -> u8 {
    match mode {
        WafMode::Off => 0,
        WafMode::Monitor => 1,
        WafMode::Block => 2,
    }
}

fn stricter(a: WafMode, b: WafMode) -> WafMode {
    if strictness(b) > strictness(a) {
        b
    } else {
        a
    }
}

impl WafScopes {
    /// Compiles validated exclusions and routes (an entry that does not compile, which
    /// validation rules out, is left out with a warning).
    pub(crate) fn compile(exclusions: &[WafExclusion], routes: &[WafRoute]) -> WafScopes {
        let mut scopes = WafScopes::default();
        for e in exclusions {
            match compile_exclusion(e) {
                Ok(compiled) => {
                    scopes
                        .exclusion_table
                        .add(scopes.exclusions.len(), compiled.path.as_ref());
                    scopes.exclusions.push(compiled);
                }
                Err(why) => tracing::warn!(target: "sqreen::rules", %why, "WAF exclusion left out"),
            }
        }
        for r in routes {
            let path = match PathGlob::parse(&r.path) {
                Ok(p) => p,
                Err(why) => {
                    tracing::warn!(target: "sqreen::rules", %why, "WAF route left out");
                    continue;
                }
            };
            scopes.route_table.add(scopes.routes.len(), Some(&path));
            scopes.strictest = Some(scopes.strictest.map_or(r.mode, |m| stricter(m, r.mode)));
            scopes.routes.push(Route {
                loose: path.loose(),
                path,
                method: r
                    .method
                    .as_deref()
                    .and_then(|m| Method::from_bytes(m.as_bytes()).ok()),
                mode: r.mode,
            });
        }
        scopes
    }

    /// True when the document has neither exclusions nor routes.
    pub(crate) fn is_empty(&self) -> bool {
        self.exclusion_table.is_empty() && self.route_table.is_empty()
    }

    /// The request's mode (`global` unless a route says otherwise) and the exclusions that
    /// apply to it (see the module docs).
    pub(crate) fn resolve(
        self: &Arc<Self>,
        global: WafMode,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> RequestScope {
        if self.is_empty() {
            return RequestScope {
                mode: global,
                applied: None,
            };
        }
        let raw = uri.path();
        let raw_first = first_segment(raw);
        // most requests: no exclusion or route can name them (no hashing, no decoding)
        let exact =
            if self.exclusion_table.may_match(raw_first) || self.route_table.may_match(raw_first) {
                canonical(raw)
            } else {
                None
            };
        let mut overrides: Option<Vec<String>> = None;
        let overridden = |overrides: &mut Option<Vec<String>>| -> bool {
            overrides
                .get_or_insert_with(|| method_overrides(uri, headers))
                .iter()
                .any(|m| !m.eq_ignore_ascii_case(method.as_str()))
        };
        // the exact reading: routes and exclusions
        let mut mode = global;
        let mut applied = Vec::new();
        if let Some(path) = &exact {
            let first = first_segment(path);
            for i in self.route_table.candidates(first) {
                let route = &self.routes[i as usize];
                if route.path.matches(path)
                    && route
                        .method
                        .as_ref()
                        .is_none_or(|m| m == method && !overridden(&mut overrides))
                {
                    mode = route.mode;
                    break;
                }
            }
            for i in self.exclusion_table.candidates(first) {
                let e = &self.exclusions[i as usize];
                if e.path.as_ref().is_none_or(|p| p.matches(path))
                    && e.method
                        .as_ref()
                        .is_none_or(|m| m == method && !overridden(&mut overrides))
                {
                    applied.push(i);
                }
            }
        }
        // the loose reading, when some route is stricter than what the exact one found
        if self
            .strictest
            .is_some_and(|s| strictness(s) > strictness(mode))
        {
            let loose_mode = match loose_path(raw) {
                Some(loose) => {
                    let overrides = overrides.get_or_insert_with(|| method_overrides(uri, headers));
                    self.routes
                        .iter()
                        .find(|r| {
                            r.loose.matches(&loose)
                                && r.method.as_ref().is_none_or(|m| {
                                    m.as_str().eq_ignore_ascii_case(method.as_str())
                                        || overrides
                                            .iter()
                                            .any(|o| m.as_str().eq_ignore_ascii_case(o))
                                })
                        })
                        .map_or(global, |r| r.mode)
                }
                None => self.strictest.unwrap_or(global),
            };
            mode = stricter(mode, loose_mode);
        }
        let applied = (!applied.is_empty()).then(|| {
            let skip = applied
                .iter()
                .map(|&i| &self.exclusions[i as usize])
                .filter(|e| e.inputs.is_empty())
                .fold(0u8, |skip, e| skip | e.categories);
            Applied {
                scopes: Arc::clone(self),
                indices: applied.into_boxed_slice(),
                skip,
            }
        });
        RequestScope { mode, applied }
    }
}

fn compile_exclusion(e: &WafExclusion) -> Result<Exclusion, String> {
    let path = e.path.as_deref().map(PathGlob::parse).transpose()?;
    let method = match &e.method {
        Some(m) => Some(Method::from_bytes(m.as_bytes()).map_err(|e| e.to_string())?),
        None => None,
    };
    let inputs = e
        .inputs
        .iter()
        .map(|i| InputGlob::parse(i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut categories = e.categories.iter().fold(0u8, |m, c| m | c.bit());
    if e.excludes_everything() {
        categories = ALL_CATEGORIES;
    }
    let mut rules = Vec::new();
    for category in AttackCategory::ALL {
        let named: Vec<&'static str> = category
            .rules()
            .iter()
            .copied()
            .filter(|r| e.rules.iter().any(|p| rule_matches(p, r)))
            .collect();
        if !named.is_empty() && named.len() == category.rules().len() {
            // every rule of the category: the detector need not run
            categories |= category.bit();
        } else if categories & category.bit() == 0 {
            rules.extend(named);
        }
    }
    Ok(Exclusion {
        path,
        method,
        inputs,
        rules,
        categories,
    })
}

/// What the WAF does for one request: its mode and the exclusions that apply.
#[derive(Debug)]
pub(crate) struct RequestScope {
    pub(crate) mode: WafMode,
    pub(crate) applied: Option<Applied>,
}

/// The exclusions that apply to one request.
#[derive(Debug)]
pub(crate) struct Applied {
    scopes: Arc<WafScopes>,
    indices: Box<[u32]>,
    /// Categories excluded for every input of the request: their detectors do not run.
    pub(crate) skip: u8,
}

/// How an exclusion covers a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cover {
    /// Its rule only: another rule of the category may still be reported in that input.
    Rule,
    /// Its whole category, in that input: nothing of the category is reported there.
    Category,
}

impl Applied {
    /// True when an applying exclusion covers a finding of `rule` (of `category`) in the input
    /// `name` (see [`Applied::cover`]).
    pub(crate) fn excludes(
        &self,
        category: AttackCategory,
        rule: &str,
        name: &dyn fmt::Display,
        scratch: &mut String,
    ) -> bool {
        self.cover(category, rule, name, scratch).is_some()
    }

    /// How the applying exclusions cover a finding of `rule` (of `category`) in the input
    /// `name`, if they do: by its whole category when one does; `scratch` holds the name once
    /// written (a finding in an input-scoped exclusion's rules is the only time the name is
    /// written).
    pub(crate) fn cover(
        &self,
        category: AttackCategory,
        rule: &str,
        name: &dyn fmt::Display,
        scratch: &mut String,
    ) -> Option<Cover> {
        let mut written = false;
        let mut found = None;
        for &i in self.indices.iter() {
            let e = &self.scopes.exclusions[i as usize];
            if !e.covers(category, rule) {
                continue;
            }
            if !e.inputs.is_empty() {
                if !written {
                    scratch.clear();
                    let _ = write!(scratch, "{name}");
                    written = true;
                }
                if !e.inputs.iter().any(|g| g.matches(scratch)) {
                    continue;
                }
            }
            if e.categories & category.bit() != 0 {
                return Some(Cover::Category);
            }
            found = Some(Cover::Rule);
        }
        found
    }
}

/// The first segment of a path (`forum` of `/forum/1`).
fn first_segment(path: &str) -> &str {
    let rest = path.strip_prefix('/').unwrap_or(path);
    match memchr::memchr(b'/', rest.as_bytes()) {
        Some(end) => &rest[..end],
        None => rest,
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The request path decoded once, when it is canonical (see the module docs); `None`
/// otherwise.
pub(crate) fn canonical(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('/') || raw.len() > MAX_PATH {
        return None;
    }
    let bytes = raw.as_bytes();
    let bad = |b: u8| b.is_ascii_control() || matches!(b, b'\\' | b';' | b'%');
    let decoded: Cow<'_, str> = if !bytes.contains(&b'%') {
        if bytes.iter().any(|&b| bad(b)) {
            return None;
        }
        Cow::Borrowed(raw)
    } else {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'%' {
                let v = match (
                    bytes.get(i + 1).and_then(|&h| hex(h)),
                    bytes.get(i + 2).and_then(|&l| hex(l)),
                ) {
                    (Some(h), Some(l)) => h << 4 | l,
                    _ => return None,
                };
                if v == b'/' || bad(v) {
                    return None;
                }
                out.push(v);
                i += 3;
            } else if bad(b) {
                return None;
            } else {
                out.push(b);
                i += 1;
            }
        }
        Cow::Owned(String::from_utf8(out).ok()?)
    };
    // no `.` or `..` segment, no empty one but the last
    let b = decoded.as_bytes();
    let mut start = 1;
    for end in (1..=b.len()).filter(|&i| i == b.len() || b[i] == b'/') {
        let segment = &b[start..end];
        if matches!(segment, b"." | b"..") || (segment.is_empty() && end != b.len()) {
            return None;
        }
        start = end + 1;
    }
    Some(decoded)
}

/// The path as a lenient server might read it (see the module docs); `None` when longer than
/// [`MAX_PATH`] bytes after decoding.
pub(crate) fn loose_path(raw: &str) -> Option<String> {
    if raw.len() > 4 * MAX_PATH {
        return None;
    }
    let decoded = super::inputs::decode(raw.as_bytes(), false);
    if decoded.len() > MAX_PATH {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        let segment = segment.split(';').next().unwrap_or("");
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s.to_ascii_lowercase()),
        }
    }
    Some(format!("/{}", out.join("/")))
}

/// The methods the request's override headers and `_method` query parameter name (trimmed).
fn method_overrides(uri: &Uri, headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for name in &OVERRIDE_HEADERS {
        for value in headers.get_all(name) {
            out.push(String::from_utf8_lossy(value.as_bytes()).trim().to_owned());
        }
    }
    let named = |q: &str| memchr::memmem::find(q.as_bytes(), b"method").is_some();
    if let Some(query) = uri.query().filter(|q| named(q)) {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            if k.trim().eq_ignore_ascii_case("_method") {
                out.push(v.trim().to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
