//! Template and expression-language openers: `{{ }}`, `{% %}`, `${ }`, `#{ }`, `%{ }`,
//! `*{ }`, `<% %>`, Perl's `@{[ ]}`. An opener alone is ordinary (every template tutorial
//! shows `{{ name }}`); its contents decide: what an exploit needs to reach code
//! ([`codey`]) fires, a variable or a filter does not.

use super::{skip_blanks, Hit, R_EXPRESSION, R_PERL, R_PL2_TEMPLATE, R_TEMPLATE};

/// What the contents of an expression reach for (lower case, compared case-insensitively):
/// the runtime's classes and reflection, Python's and Jinja's objects that lead to `os`,
/// Node's loader, OGNL's context.
const REACH: &[&[u8]] = &[
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
    let i = inner.trim_ascii();
    if probe(i) {
        return true;
    }
    if expression && i.len() >= 2 && (i[0] | 0x20 == b't') && i[1] == b'(' {
        return true;
    }
    if expression && (i.starts_with(b"(#") || ognl_variable(i) || ognl_static(i)) {
        return true;
    }
    REACH_AUTOMATON.is_match(i)
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
pub(super) fn braces(t: &[u8], strict: bool) -> Option<Hit> {
    for p in memchr::memchr_iter(b'{', t) {
        let prev = if p > 0 { t[p - 1] } else { 0 };
        match (prev, t.get(p + 1)) {
            (b'@', _) if t.get(skip_blanks(t, p + 1)) == Some(&b'[') => {
                return Some((R_PERL, p - 1, skip_blanks(t, p + 1) + 1))
            }
            (_, Some(b'{')) => {
                let (i, e) = inner(t, p + 2, b"}}");
                if codey(i, false) {
                    return Some((R_TEMPLATE, p, e));
                }
            }
            (_, Some(b'%')) => {
                let (i, e) = inner(t, p + 2, b"%}");
                if codey(i, false) || (is_statement(i) && statement_probe(t, e, b"{%")) {
                    return Some((R_TEMPLATE, p, e));
                }
                if strict && is_statement(i) {
                    return Some((R_PL2_TEMPLATE, p, e));
                }
            }
            (b'$' | b'#' | b'%' | b'*' | b'~', _) => {
                let (i, e) = inner(t, p + 1, b"}");
                if codey(i, true) {
                    return Some((R_EXPRESSION, p - 1, e));
                }
            }
            _ => {}
        }
    }
    None
}

/// Openers with `<`: `<%= 7*7 %>`, `<% system('id') %>`, `<%@ page import=... %>`.
pub(super) fn angle(t: &[u8], strict: bool) -> Option<Hit> {
    for p in memchr::memmem::find_iter(t, b"<%") {
        let mut a = p + 2;
        let directive = t.get(a) == Some(&b'@');
        if matches!(t.get(a), Some(b'=' | b'@' | b'-' | b'#')) {
            a += 1;
        }
        let (i, e) = inner(t, a, b"%>");
        if directive && super::contains_ci(i, b"import") {
            return Some((R_TEMPLATE, p, e));
        }
        if codey(i, false) || (is_statement(i) && statement_probe(t, e, b"<%")) {
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
