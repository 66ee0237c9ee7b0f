//! Template and expression-language openers: `{{ }}`, `{% %}`, `${ }`, `#{ }`, `%{ }`,
//! `*{ }`, `<% %>`, Perl's `@{[ ]}`. An opener alone is ordinary (every template tutorial
//! shows `{{ name }}`); its contents decide: what an exploit needs to reach code
//! ([`codey`]) fires, a variable or a filter does not.

use super::{skip_blanks, Hit, R_EXPRESSION, R_PERL, R_PL2_TEMPLATE, R_TEMPLATE};

/// What the contents of an expression reach for (lower case, compared case-insensitively):
/// the runtime's classes and reflection, Python's and Jinja's objects that lead to `os`,
/// Node's loader, OGNL's context.
pub(super) const REACH: &[&[u8]] = &[
    b"__",
    b"getclass",
    b".class",
    b"forname",
    b"getruntime",
    b"runtime",
    b"processbuilder",
    b"exec(",
    b"popen",
    b"system(",
    b"eval(",
    b"import",
    b"_self",
    b".env",
    b"cycler",
    b"joiner",
    b"lipsum",
    b"request.application",
    b"self._",
    b"attr(",
    b"getattr",
    b"globals",
    b"builtins",
    b"constructor",
    b"require",
    b"mainmodule",
    b"child_process",
    b"java.",
    b"javax.",
    b"#_memberaccess",
    b"#context",
    b"#request",
    b"#response",
    b"#application",
    b"@java",
    b"@ognl",
    b"ognl",
    b"getmethod",
    b"invoke(",
    b"scriptengine",
    b"freemarker",
    b"?new(",
    b"getdeclared",
    b"newinstance",
    b"readdirsync",
    b"spawn(",
    b"_load(",
    b"self.module",
    b"config.items",
    b"url_for.__",
    b"get_flashed_messages",
    b"new(",
    b"file.read",
    b"open(",
    b"jndi:",
];

/// True when `inner` reads as an exploit's expression: an arithmetic probe on two numbers
/// (`7*7`), SpEL's `T(`, OGNL's `#var` / `(#` / `@class@`, or a [`REACH`] word.
fn codey(inner: &[u8], expression: bool) -> bool {
    shape(inner, expression) || REACH_AUTOMATON.is_match(inner.trim_ascii())
}

/// [`codey`] but for its [`REACH`] words: the shapes of the contents.
fn shape(inner: &[u8], expression: bool) -> bool {
    let i = inner.trim_ascii();
    probe(i) || (expression && expression_shape(i))
}

/// SpEL's `T(`, OGNL's `(#`, `#var` and `@class@` opening trimmed contents.
fn expression_shape(i: &[u8]) -> bool {
    (i.len() >= 2 && (i[0] | 0x20 == b't') && i[1] == b'(')
        || i.starts_with(b"(#")
        || ognl_variable(i)
        || ognl_static(i)
}

/// [`REACH`] as one automaton (ASCII case-insensitive): one pass over the contents.
static REACH_AUTOMATON: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(REACH)
            .expect("valid patterns")
    });

/// Builds the automaton now (see [`crate::waf::warm_up`]).
pub(super) fn warm_up() {
    std::sync::LazyLock::force(&REACH_AUTOMATON);
}

/// OGNL's context variables used as objects: `#_memberAccess[`, `#context.get(`, `#a=`.
fn ognl_variable(i: &[u8]) -> bool {
    if i.first() != Some(&b'#') {
        return false;
    }
    let e = super::ident_end(i, 1);
    e > 1 && matches!(i.get(e), Some(b'[' | b'.' | b'=' | b'('))
}

/// OGNL's static member syntax: `@java.lang.Runtime@getRuntime()`.
fn ognl_static(i: &[u8]) -> bool {
    i.first() == Some(&b'@') && i[1..].iter().take(64).any(|&c| c == b'@')
}

/// `7*7`, `7 * '7'`, `1337+1`: two numbers and an operator, the template engines' probe.
fn probe(i: &[u8]) -> bool {
    let num = |s: &[u8]| {
        let s = s.trim_ascii();
        let s = s
            .strip_prefix(b"'")
            .and_then(|s| s.strip_suffix(b"'"))
            .unwrap_or(s);
        !s.is_empty() && s.len() <= 12 && s.iter().all(u8::is_ascii_digit)
    };
    match i
        .iter()
        .position(|c| matches!(c, b'*' | b'+' | b'-' | b'/' | b'%'))
    {
        Some(op) if op > 0 => num(&i[..op]) && num(&i[op + 1..]),
        _ => false,
    }
}

/// The contents of the opener whose `{` is at `p` (up to `close`, at most 256 bytes on) and
/// the offset after the closing bytes (the window's end when unclosed).
fn inner<'a>(t: &'a [u8], from: usize, close: &[u8]) -> (&'a [u8], usize) {
    let from = from.min(t.len());
    let limit = (from + 256).min(t.len());
    match memchr::memmem::find(&t[from..limit], close) {
        Some(q) => (&t[from..from + q], from + q + close.len()),
        // unclosed (a payload cut short): its first 64 bytes, so that a text of many
        // openers costs 64 bytes each
        None => {
            let short = (from + 64).min(limit);
            (&t[from..short], short)
        }
    }
}

/// The contents of a value's openers, read with what earlier openers of the value found
/// kept (`FAST`; without it, each opener reads its window afresh, as [`inner`] and [`codey`]
/// do): the next `}` and the first [`REACH`] word, so that a value of many openers (`${ ${
/// ${`) is searched once rather than once per opener, and the automaton reads only the
/// bytes around the value's words ([`Reader::next_reach`]). Same answers (a differential
/// test checks it).
struct Reader<'a, const FAST: bool> {
    t: &'a [u8],
    rbrace: super::NextByte,
    /// (`from`, [`super::first_run`] from `from`): the answer for every offset in
    /// `from..=at`.
    run: (usize, usize),
    /// (`from`, the earliest-ending [`REACH`] word starting at or after `from`): what a
    /// search from any offset in `from..=start` would find too (`from`: `usize::MAX` before
    /// the first search).
    reach: (usize, Option<(usize, usize)>),
}

impl<'a, const FAST: bool> Reader<'a, FAST> {
    /// `run`: [`super::first_run`] from 0.
    fn new(t: &'a [u8], run: usize) -> Self {
        Reader {
            t,
            rbrace: super::NextByte::new(b'}'),
            run: (0, run),
            reach: (usize::MAX, None),
        }
    }

    /// [`inner`]: the range of the contents and the offset after the closing bytes.
    fn inner(&mut self, from: usize, close: &[u8]) -> (std::ops::Range<usize>, usize) {
        let t = self.t;
        let from = from.min(t.len());
        if !FAST {
            let (i, e) = inner(t, from, close);
            return (from..from + i.len(), e);
        }
        let limit = (from + 256).min(t.len());
        let found = if close == b"}" {
            Some(self.rbrace.at(t, from)).filter(|&q| q < limit)
        } else {
            // (the first byte's occurrences, then the second: what `memmem` finds, without
            // building a searcher for each opener)
            memchr::memchr_iter(close[0], &t[from..limit])
                .map(|q| from + q)
                .find(|&q| t[q..limit].starts_with(close))
        };
        match found {
            Some(q) => (from..q, q + close.len()),
            None => {
                let short = (from + 64).min(limit);
                (from..short, short)
            }
        }
    }

    /// [`codey`] on the contents `t[r]`.
    fn codey(&mut self, r: std::ops::Range<usize>, expression: bool) -> bool {
        let t = self.t;
        if !FAST {
            return codey(&t[r], expression);
        }
        // the shapes open the contents: a probe with a number (maybe quoted), an expression
        // with `T(`, `(#`, `#` or `@`
        let s = super::skip_blanks(t, r.start).min(r.end);
        let number = |k: usize| k < r.end && t[k].is_ascii_digit();
        let shaped = match t.get(s) {
            _ if s == r.end => false,
            Some(b'\'') => number(s + 1),
            Some(&c) => number(s) || (expression && matches!(c, b't' | b'T' | b'(' | b'#' | b'@')),
            None => false,
        };
        if shaped && shape(&t[r.clone()], expression) {
            return true;
        }
        // (no word holds a blank: the contents trimmed or not hold the same words)
        let (from, found) = self.reach;
        if !(from <= r.start && found.is_none_or(|(s, _)| r.start <= s)) {
            self.reach = (r.start, self.next_reach(r.start));
        }
        self.reach.1.is_some_and(|(_, e)| e <= r.end)
    }

    /// The earliest-ending [`REACH`] word starting at or after `from`, the automaton run only
    /// around the text's words: every [`REACH`] word has three letters in a row or `__`
    /// starting in its first three bytes (a test checks the table), so a word starting at or
    /// after `from` starts at most two bytes before the next such run ([`super::first_run`]).
    /// The automaton reads [`REACH_WINDOW`] bytes from there; where it finds nothing, no word
    /// starts before the window's last [`REACH_MAX`] bytes, and the search goes on from them.
    /// A text of near-attack padding with a word every few hundred bytes is read by the
    /// automaton around its words only, not over the whole padding.
    fn next_reach(&mut self, from: usize) -> Option<(usize, usize)> {
        let t = self.t;
        let mut x = from;
        loop {
            let (rf, at) = self.run;
            let k = if rf <= x && x <= at {
                at
            } else {
                let k = super::first_run(t, x);
                self.run = (x, k);
                k
            };
            if k >= t.len() {
                return None;
            }
            let a = x.max(k.saturating_sub(2));
            let c = (k + REACH_WINDOW).min(t.len());
            let input = aho_corasick::Input::new(t).span(a..c);
            if let Some(m) = REACH_AUTOMATON.find(input) {
                return Some((m.start(), m.end()));
            }
            if c == t.len() {
                return None;
            }
            // (a word starting before this would end inside the window, and was not there)
            x = c + 1 - REACH_MAX;
        }
    }
}

/// The longest [`REACH`] word.
const REACH_MAX: usize = {
    let mut m = 0;
    let mut i = 0;
    while i < REACH.len() {
        if REACH[i].len() > m {
            m = REACH[i].len();
        }
        i += 1;
    }
    m
};

/// How many bytes from a run of letters [`Reader::next_reach`] gives the automaton at once
/// (more than [`REACH_MAX`], so that each window moves the search on).
const REACH_WINDOW: usize = 64;

/// Template statements (`{% if %}`, `{% for %}`...): the words that open one.
const STATEMENTS: &[&[u8]] = &[
    b"if", b"for", b"set", b"import", b"include", b"extends", b"macro", b"block", b"raw", b"from",
    b"with", b"print", b"do",
];

/// A template statement whose body is only a number and an end tag (`{% if x %}49{% endif
/// %}`): the conditional-render probe.
fn statement_probe(t: &[u8], after: usize, open: &[u8]) -> bool {
    let mut k = after;
    while k < t.len() && k - after < 16 && t[k].is_ascii_digit() {
        k += 1;
    }
    k > after && t[k..].starts_with(open) && {
        let w = skip_blanks(t, k + open.len());
        super::starts_ci(t, w, b"end")
    }
}

fn is_statement(inner: &[u8]) -> bool {
    let i = inner.trim_ascii_start();
    let i = i.strip_prefix(b"-").unwrap_or(i).trim_ascii_start();
    STATEMENTS.iter().any(|w| {
        super::starts_ci(i, 0, w) && i.get(w.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

/// Openers with `{`.
///
/// `run`: where three ASCII letters or `__` first occur ([`super::first_run`], with `FAST`).
pub(super) fn braces<const FAST: bool>(t: &[u8], strict: bool, run: usize) -> Option<Hit> {
    let mut r = Reader::<FAST>::new(t, run);
    for p in super::positions(t, b'{', b'{') {
        let prev = if p > 0 { t[p - 1] } else { 0 };
        match (prev, t.get(p + 1)) {
            (b'@', _) if t.get(skip_blanks(t, p + 1)) == Some(&b'[') => {
                return Some((R_PERL, p - 1, skip_blanks(t, p + 1) + 1))
            }
            (_, Some(b'{')) => {
                let (i, e) = r.inner(p + 2, b"}}");
                if r.codey(i, false) {
                    return Some((R_TEMPLATE, p, e));
                }
            }
            (_, Some(b'%')) => {
                let (i, e) = r.inner(p + 2, b"%}");
                if r.codey(i.clone(), false)
                    || (is_statement(&t[i.clone()]) && statement_probe(t, e, b"{%"))
                {
                    return Some((R_TEMPLATE, p, e));
                }
                if strict && is_statement(&t[i]) {
                    return Some((R_PL2_TEMPLATE, p, e));
                }
            }
            (b'$' | b'#' | b'%' | b'*' | b'~', _) => {
                let (i, e) = r.inner(p + 1, b"}");
                if r.codey(i, true) {
                    return Some((R_EXPRESSION, p - 1, e));
                }
            }
            _ => {}
        }
    }
    None
}

/// Openers with `<`: `<%= 7*7 %>`, `<% system('id') %>`, `<%@ page import=... %>`.
pub(super) fn angle<const FAST: bool>(t: &[u8], strict: bool, run: usize) -> Option<Hit> {
    let mut r = Reader::<FAST>::new(t, run);
    for p in memchr::memmem::find_iter(t, b"<%") {
        let mut a = p + 2;
        let directive = t.get(a) == Some(&b'@');
        if matches!(t.get(a), Some(b'=' | b'@' | b'-' | b'#')) {
            a += 1;
        }
        let (ir, e) = r.inner(a, b"%>");
        let i = &t[ir.clone()];
        if directive && super::contains_ci(i, b"import") {
            return Some((R_TEMPLATE, p, e));
        }
        if r.codey(ir, false) || (is_statement(i) && statement_probe(t, e, b"<%")) {
            return Some((R_TEMPLATE, p, e));
        }
        if strict
            && (is_statement(i) || i.trim_ascii().len() > 1)
            && e <= t.len()
            && t[..e].ends_with(b"%>")
        {
            return Some((R_PL2_TEMPLATE, p, e));
        }
    }
    None
}
