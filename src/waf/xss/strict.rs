//! The paranoia level 2 rules (run by [`super::detect_strict`] when the level 1 rules found
//! nothing). Each is its own bounded pass over the (normalised) value; why each is shaped as it
//! is, and what benign text it fires on, is in the module docs.

use memchr::memmem;

use super::bytes::*;
use super::scan::Hit;
use super::script::plural_marker;

pub(super) const R_OPEN_TAG: &str = "xss-pl2-open-tag";
pub(super) const R_FORM_CONTROL: &str = "xss-pl2-form-control";
pub(super) const R_STYLE_ATTR: &str = "xss-pl2-style-attribute";
pub(super) const R_HANDLER_ANY: &str = "xss-pl2-event-handler";
pub(super) const R_STRING_BREAKOUT: &str = "xss-pl2-string-breakout";
pub(super) const R_COMMENT_CLOSE: &str = "xss-pl2-comment-close";
pub(super) const R_TEMPLATE_ANY: &str = "xss-pl2-template";
pub(super) const R_CALL_LOOSE: &str = "xss-pl2-js-call";

/// Runs the level 2 rules over `b`, in order; the first match wins.
pub(super) fn scan(b: &[u8], map: Option<&[u32]>, raw: &[u8]) -> Hit {
    markup(b, map, raw)
        .or_else(|| event_handler(b))
        .or_else(|| string_breakout(b))
        .or_else(|| comment_close(b))
        .or_else(|| template(b))
        .or_else(|| js_call(b))
}

/// Attributes that load or style something: what a left-open tag is dangerous with.
const URL_ATTRS: &[&str] = &[
    "action",
    "background",
    "codebase",
    "data",
    "dynsrc",
    "formaction",
    "href",
    "lowsrc",
    "ping",
    "poster",
    "src",
    "srcdoc",
    "srcset",
    "style",
    "xlink:href",
];

/// How a start tag read from its `<` ended.
enum TagEnd {
    /// Closed, or not a tag: the scan goes on from here.
    At(usize),
    /// Still open at the end of the value; `true` when it carries a [`URL_ATTRS`] attribute
    /// with a value.
    Open(bool),
    /// A rule fired on the tag (a form control with an attribute, a `style` attribute with a
    /// value); the fragment ends here.
    Fired(&'static str, usize),
}

/// Form controls: what an injected form (or a password field a browser autofills) is made of.
const CONTROLS: &[&str] = &["button", "input", "keygen", "select", "textarea"];

/// `xss-pl2-open-tag`, `xss-pl2-form-control` and `xss-pl2-style-attribute` (CRS
/// 941150/941320), over the start tags of the value:
/// - a tag carrying an `href`, `src`, `style` or other loading attribute with a value, left
///   open at the end of the value (`<a href="test"`, `<img src='//x/?`): the page's own markup
///   closes it (dangling markup). Values the scan cut into parts (longer than a part) are not
///   checked for it: a part may end inside an ordinary tag.
/// - a form control with an attribute (`<input type=password name=p>`, `<button formaction`),
///   open or closed: injected fields collect what users or password managers type.
/// - a `style` attribute with a value, on any tag, open or closed (`<div style="...">`): CSS
///   injection (restyling, overlays, `url()` requests); libinjection treats every `style`
///   attribute as dangerous.
///
/// The `<` must be written as such (or percent- or UTF-7-encoded): an entity or a JS escape
/// (`&lt;a href=`, as some crawlers' user agents carry) is text to an HTML parser, never a
/// tag.
fn markup(b: &[u8], map: Option<&[u32]>, raw: &[u8]) -> Hit {
    let whole = b.len() + 3 < crate::waf::CHUNK;
    let literal = |at: usize| match map {
        None => true,
        Some(m) => m
            .get(at)
            .and_then(|&o| raw.get(o as usize))
            .is_some_and(|c| matches!(c, b'<' | b'%' | b'+')),
    };
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'<', &b[i..]) {
        let lt = i + p;
        if !literal(lt) {
            i = lt + 1;
            continue;
        }
        match read_tag(b, lt) {
            TagEnd::At(k) => i = k,
            TagEnd::Fired(rule, e) => return Some((rule, lt, e)),
            TagEnd::Open(url) => return (url && whole).then_some((R_OPEN_TAG, lt, b.len())),
        }
    }
    None
}

/// Reads the start tag at `b[lt] == '<'`: name, then attributes (`name`, `name=value`,
/// quoted or not) up to `>` or the end of the value. Every byte is read once.
fn read_tag(b: &[u8], lt: usize) -> TagEnd {
    let n = b.len();
    let mut k = lt + 1;
    if !b.get(k).is_some_and(|c| c.is_ascii_alphabetic()) {
        return TagEnd::At(lt + 1);
    }
    while k < n && (b[k].is_ascii_alphanumeric() || matches!(b[k], b'-' | b':' | b'_')) {
        k += 1;
    }
    let control = in_list(b, lt + 1, k, CONTROLS);
    if k == n {
        return TagEnd::Open(false);
    }
    if b[k] == b'>' {
        return TagEnd::At(k + 1);
    }
    if !(is_ws(b[k]) || b[k] == b'/') {
        return TagEnd::At(k);
    }
    let mut url = false;
    loop {
        while k < n && (is_ws(b[k]) || b[k] == b'/') {
            k += 1;
        }
        if k == n {
            return TagEnd::Open(url);
        }
        match b[k] {
            b'>' => return TagEnd::At(k + 1),
            b'<' => return TagEnd::At(k),
            _ => {}
        }
        let ns = k;
        while k < n && !(is_ws(b[k]) || matches!(b[k], b'/' | b'>' | b'<' | b'=')) {
            k += 1;
        }
        let ne = k;
        k = skip_ws(b, k);
        if b.get(k) != Some(&b'=') {
            continue;
        }
        if control && ne > ns {
            return TagEnd::Fired(R_FORM_CONTROL, k + 1);
        }
        let loads = in_list(b, ns, ne, URL_ATTRS);
        let style = lower_eq(b, ns, ne, b"style");
        k = skip_ws(b, k + 1);
        match b.get(k) {
            // `<img src=` cut short: no value, nothing loaded.
            None => return TagEnd::Open(url),
            Some(&q) if q == b'"' || q == b'\'' => match memchr::memchr(q, &b[k + 1..]) {
                Some(p) => {
                    if style && p > 0 {
                        return TagEnd::Fired(R_STYLE_ATTR, k + p + 2);
                    }
                    url |= loads && p > 0;
                    k += p + 2;
                }
                // A quoted value left open.
                None => return TagEnd::Open(url || (loads && k + 1 < n)),
            },
            Some(_) => {
                let vs = k;
                while k < n && !(is_ws(b[k]) || b[k] == b'>') {
                    k += 1;
                }
                if style && k > vs {
                    return TagEnd::Fired(R_STYLE_ATTR, k);
                }
                url |= loads && k > vs;
            }
        }
    }
}

/// `xss-pl2-event-handler` (CRS 941120 as CRS 4 writes it): `on` + 3 to 50 letters, optional
/// spaces, `(`, `,` or `;`, then `=` and a byte that is not `=`, after a space, a quote, `(`,
/// `,`, `/`, `;`, `=`, a backtick or a *digit* — also glued inside a token
/// (`...51onabcd=6y`, `...J9onload=.x`), which level 1 leaves alone as base64-like.
fn event_handler(b: &[u8]) -> Hit {
    for eq in memchr::memchr_iter(b'=', b) {
        if matches!(b.get(eq + 1), None | Some(b'=')) {
            continue;
        }
        let mut e = eq;
        while e > 0 && eq - e < 16 && (is_ws(b[e - 1]) || matches!(b[e - 1], b'(' | b',' | b';')) {
            e -= 1;
        }
        let mut s = e;
        while s > 0 && e - s <= 52 && b[s - 1].is_ascii_alphabetic() {
            s -= 1;
        }
        if s == 0 || !(5..=52).contains(&(e - s)) || !eq_ci(b, s, b"on") {
            continue;
        }
        let p = b[s - 1];
        if (0x09..=0x0D).contains(&p)
            || p.is_ascii_digit()
            || matches!(
                p,
                b' ' | b'"' | b'\'' | b'(' | b',' | b'/' | b';' | b'=' | b'`'
            )
        {
            return Some((R_HANDLER_ANY, s, eq + 1));
        }
    }
    None
}

/// Names a string breakout assigns to without a member path (CRS 941330).
const SINKS: &[&str] = &[
    "href",
    "innerhtml",
    "location",
    "name",
    "onerror",
    "outerhtml",
    "src",
    "tostring",
    "valueof",
];

/// `xss-pl2-string-breakout` (CRS 941330/941340, IE filter shapes): a quote closing a JS
/// string, optional spaces, then the `in` operator (also glued to the name: `'  infoo.bar=`)
/// or a separator or operator (`;`, `,`, `(`, `)`, `]`, `}`, `|`, `&`, `*`, `/`, `%`, `^`,
/// `!`, `?`, `+`, `-`; closers and separators may follow), then an assignment to a member
/// path (`a.b=`) or to a sink (`location=`), `=` not part of `==` or `=>`. `+`/`-` glued to a
/// letter are a sign or a command-line flag (`"-Djava.io.tmpdir=/tmp"`), not an operator: they
/// do not count.
fn string_breakout(b: &[u8]) -> Hit {
    for q in memchr::memchr2_iter(b'"', b'\'', b) {
        let mut j = q + 1;
        while j < b.len() && j - q <= 16 && b[j] == b' ' {
            j += 1;
        }
        let Some(&c) = b.get(j) else {
            break;
        };
        let start = if eq_ci(b, j, b"in") && b.get(j + 2).is_some_and(|&c| is_ident(c)) {
            j
        } else if eq_ci(b, j, b"in") && b.get(j + 2).is_some_and(|&c| is_ws(c)) {
            skip_ws(b, j + 2)
        } else if matches!(
            c,
            b';' | b',' | b'(' | b')' | b']' | b'}' | b'|' | b'&' | b'*' | b'/' | b'%' | b'^'
        ) || matches!(c, b'!' | b'?')
            || (matches!(c, b'+' | b'-') && !lc_at(b, j + 1).is_ascii_alphabetic())
        {
            // Closers and separators may follow (`'),location=`, `"});a.b=`).
            let mut k = skip_ws(b, j + 1);
            while k < b.len() && k - j < 8 && matches!(b[k], b')' | b']' | b'}' | b';' | b',') {
                k = skip_ws(b, k + 1);
            }
            k
        } else {
            continue;
        };
        // The assigned path `a.b.c` (bounded).
        let mut e = ident_fwd(b, start);
        if e == start {
            continue;
        }
        let mut last = start;
        let mut dots = 0;
        while dots < 8 && b.get(e) == Some(&b'.') && b.get(e + 1).is_some_and(|&c| is_ident(c)) {
            last = e + 1;
            e = ident_fwd(b, e + 1);
            dots += 1;
        }
        let k = skip_ws(b, e);
        if b.get(k) != Some(&b'=') || matches!(b.get(k + 1), Some(b'=') | Some(b'>')) {
            continue;
        }
        if dots > 0 || in_list(b, last, e, SINKS) {
            return Some((R_STRING_BREAKOUT, q, k + 1));
        }
    }
    None
}

/// `xss-pl2-comment-close` (CRS 941181): an HTML comment closer `-->` / `--!>` glued to what
/// precedes it (`x-->`, `"-->`) or followed by markup (`--> <svg`). An arrow between spaces in
/// prose (`step 1 --> step 2`) or a longer arrow (`--->`) does not fire.
fn comment_close(b: &[u8]) -> Hit {
    for gt in memchr::memchr_iter(b'>', b) {
        let s = if gt >= 2 && &b[gt - 2..gt] == b"--" {
            gt - 2
        } else if gt >= 3 && &b[gt - 3..gt] == b"--!" {
            gt - 3
        } else {
            continue;
        };
        let glued = s > 0 && !is_ws(b[s - 1]) && b[s - 1] != b'-';
        let markup = b.get(skip_ws(b, gt + 1)) == Some(&b'<');
        if glued || markup {
            return Some((R_COMMENT_CLOSE, s, gt + 1));
        }
    }
    None
}

/// `xss-pl2-template` (CRS 941380): a `{{ ... }}` expression (client-side template injection
/// probes such as `{{7*7}}`), closed within 256 bytes and not empty.
fn template(b: &[u8]) -> Hit {
    let mut i = 0;
    while let Some(p) = memmem::find(&b[i..], b"{{") {
        let s = i + p;
        let lim = (s + 2 + 256).min(b.len());
        if let Some(q) = memmem::find(&b[s + 2..lim], b"}}") {
            let inner = &b[s + 2..s + 2 + q];
            if inner.iter().any(|&c| !is_ws(c) && c != b'{') {
                return Some((R_TEMPLATE_ANY, s, s + q + 4));
            }
        }
        i = s + 2;
    }
    None
}

/// The calls of CRS 941390, matched with spaces before the bracket.
const LOOSE_CALLS: &[&str] = &[
    "alert",
    "atob",
    "btoa",
    "confirm",
    "eval",
    "fetch",
    "import",
    "prompt",
    "setinterval",
    "settimeout",
];

/// `xss-pl2-js-call` (CRS 941390): `eval`, `setTimeout`, `setInterval`, `new Function`,
/// `alert`, `atob`, `btoa`, `prompt`, `import`, `confirm`, `console.log`, `console.dir`,
/// `fetch` as a word, then spaces allowed, then `(` or `{` (`import (`, `import { a } from`,
/// `alert (1)`). Plural markers (`alert (s)`) do not fire.
fn js_call(b: &[u8]) -> Hit {
    for at in memchr::memchr2_iter(b'(', b'{', b) {
        let mut end = at;
        while end > 0 && at - end < 16 && is_ws(b[end - 1]) {
            end -= 1;
        }
        let s = ident_back(b, end);
        if s == end || (s > 0 && is_ident(b[s - 1])) {
            continue;
        }
        if b[at] == b'(' && plural_marker(b, at) {
            continue;
        }
        let name = if in_list(b, s, end, LOOSE_CALLS) {
            Some(s)
        } else if in_list(b, s, end, &["log", "dir"]) && s >= 8 && eq_ci(b, s - 8, b"console.") {
            Some(s - 8)
        } else if lower_eq(b, s, end, b"function") {
            let p = back_ws_comments(b, s);
            let ps = ident_back(b, p);
            (p < s && lower_eq(b, ps, p, b"new")).then_some(ps)
        } else {
            None
        };
        if let Some(start) = name {
            return Some((R_CALL_LOOSE, start, at + 1));
        }
    }
    None
}
