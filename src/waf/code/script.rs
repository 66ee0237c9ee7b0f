//! Dotted names and magic names: JDK and library classes, Java gadget chains, Node.js
//! objects, prototype pollution, Python dunders.

use super::{
    code_position, ident_end, ident_start, is_ident, starts_ci, Hit, R_JAVA_CLASS, R_JAVA_GADGET,
    R_NODE, R_PL2_JAVA, R_PROTO, R_PYTHON,
};

/// Class name segments that run code, load classes or reach naming services.
const DANGEROUS_CLASSES: &[&[u8]] = &[
    b"runtime",
    b"processbuilder",
    b"processimpl",
    b"unixprocess",
    b"classloader",
    b"urlclassloader",
    b"scriptenginemanager",
    b"templatesimpl",
    b"jdbcrowsetimpl",
    b"invokertransformer",
    b"objectinputstream",
    b"xmldecoder",
    b"initialcontext",
    b"methodhandles",
    b"unsafe",
    b"reflect",
    b"jndi",
    b"naming",
    b"script",
    b"rmi",
];

/// `commons-collections` and similar gadget classes chained after `ProcessBuilder` or
/// `Runtime` in deserialization payloads.
const GADGETS: &[&[u8]] = &[
    b"clonetransformer",
    b"forclosure",
    b"instantiatefactory",
    b"instantiatetransformer",
    b"invokertransformer",
    b"prototypeclonefactory",
    b"prototypeserializationfactory",
    b"whileclosure",
    b"chainedtransformer",
    b"constanttransformer",
    b"getproperty",
    b"filewriter",
    b"xmldecoder",
];

/// At most this many segments are read in one dotted name.
const MAX_SEGMENTS: usize = 12;

/// A dotted (or bracketed) name: its segments' ranges.
struct Path {
    start: usize,
    end: usize,
    segs: [(usize, usize); MAX_SEGMENTS],
    n: usize,
}

impl Path {
    fn seg<'a>(&self, t: &'a [u8], i: usize) -> &'a [u8] {
        let (s, e) = self.segs[i];
        &t[s..e]
    }

    fn is(&self, t: &[u8], i: usize, word: &[u8]) -> bool {
        i < self.n && self.seg(t, i).eq_ignore_ascii_case(word)
    }

    fn any(&self, t: &[u8], words: &[&[u8]]) -> Option<usize> {
        (0..self.n).find(|&i| words.iter().any(|w| self.seg(t, i).eq_ignore_ascii_case(w)))
    }
}

/// The dotted name that starts at `s`: segments separated by `.` or written as `[name]`,
/// `["name"]` (an unclosed `[name` ends it).
fn path_at(t: &[u8], s: usize) -> Path {
    let mut p = Path {
        start: s,
        end: s,
        segs: [(0, 0); MAX_SEGMENTS],
        n: 0,
    };
    let mut i = s;
    while p.n < MAX_SEGMENTS {
        let e = ident_end(t, i);
        if e == i {
            break;
        }
        p.segs[p.n] = (i, e);
        p.n += 1;
        p.end = e;
        match t.get(e) {
            Some(b'.') => i = e + 1,
            Some(b'[') => {
                let q = matches!(t.get(e + 1), Some(b'"' | b'\''));
                i = e + 1 + usize::from(q);
                let ie = ident_end(t, i);
                if ie == i || p.n == MAX_SEGMENTS {
                    break;
                }
                p.segs[p.n] = (i, ie);
                p.n += 1;
                let mut k = ie + usize::from(q);
                p.end = ie;
                if t.get(k) == Some(&b']') {
                    k += 1;
                    p.end = k;
                }
                match t.get(k) {
                    Some(b'.') => i = k + 1,
                    Some(b'[') => i = k,
                    _ => break,
                }
                if t.get(i) == Some(&b'[') {
                    // `a[b][c]`: read the next bracket as a segment
                    let q = matches!(t.get(i + 1), Some(b'"' | b'\''));
                    i = i + 1 + usize::from(q);
                }
            }
            _ => break,
        }
    }
    p
}

/// Names with `.` or `[`: the first rule the name matches.
///
/// `FAST` skips what cannot change the answer (the plain loop is kept for the tests that
/// check it gives the same verdicts): a separator with nothing after it to read as a second
/// segment and no `name.` chain before it (a sentence's `. `, `e-mail.`), a chain walked back
/// before (each dot of `a.b.c.d...` would walk back to its start), a name judged before, and a
/// name [`may_fire`] rules out (version numbers, prices, host names).
pub(super) fn dotted<const FAST: bool>(t: &[u8], strict: bool) -> Option<Hit> {
    if FAST && !named_separator(t) {
        return None;
    }
    let mut done = 0;
    // (FAST) the last `.` seen; the last walk back (from, to); the last path read (start, end)
    let mut prev_dot = None::<usize>;
    let mut walked = (usize::MAX, 0);
    let mut read = (usize::MAX, 0);
    for d in super::positions(t, b'.', b'[') {
        let last_dot = prev_dot;
        if t[d] == b'.' {
            prev_dot = Some(d);
        }
        if d < done || d == 0 || !is_ident(t[d - 1]) {
            continue;
        }
        if FAST {
            // `path_at` would read one segment: no identifier after the separator (and its
            // quote), and no `.` in reach of a walk back (one identifier, at most 64 bytes)
            let after =
                d + 1 + usize::from(t[d] == b'[' && matches!(t.get(d + 1), Some(b'"' | b'\'')));
            if !t.get(after).is_some_and(|&c| is_ident(c)) && last_dot.is_none_or(|p| p + 66 <= d) {
                done = d + 1;
                continue;
            }
        }
        // the name's first segment: back over `a.b.` before it
        let mut s = ident_start(t, d);
        while s >= 2 && t[s - 1] == b'.' && is_ident(t[s - 2]) {
            if FAST && s - 1 == walked.0 {
                // the rest of the walk is the one made from that dot
                s = walked.1;
                break;
            }
            s = ident_start(t, s - 1);
        }
        if FAST {
            walked = (d, s);
            if s == read.0 {
                // the same path as before, which matched no rule
                done = read.1.max(d + 1);
                continue;
            }
        }
        let path = path_at(t, s);
        done = path.end.max(d + 1);
        if FAST {
            read = (s, path.end);
        }
        if path.n < 2 || (FAST && !may_fire(t, &path)) {
            continue;
        }
        if let Some(h) = judge(t, &path, strict) {
            return Some(h);
        }
    }
    None
}

/// (FAST) False when no path of two segments or more in `t` can pass [`may_fire`]. Such a
/// path has its first segment right before a separator (`.` or `[`) and every other segment
/// right after one (after a `[`, maybe after a quote), and the separator after its first
/// segment is followed by the second (or by a quote): so some separator followed by an
/// identifier's byte or a quote has one of [`FIRST_SEGMENTS`] or [`ANY_SEGMENTS`] right before
/// it, or one of [`ANY_SEGMENTS`] right after it. A sentence's `. ` and a text whose names are
/// others (`jane.doe@example.com`, `v1.2.3`) pass over the separators once, with no walk.
fn named_separator(t: &[u8]) -> bool {
    // (a padding of `../` or `..` reads no separator one by one)
    let named = |c: u8| is_ident(c) || c == b'"' || c == b'\'';
    super::positions_followed(t, b'.', b'[', named).any(|d| {
        let next = t.get(d + 1).copied().unwrap_or(b' ');
        let quoted = t[d] == b'[' && matches!(next, b'"' | b'\'');
        (is_ident(next) || quoted)
            && (name_before(t, d) || {
                let a = d + 1 + usize::from(quoted);
                ANY_SEGMENTS.iter().any(|w| starts_ci(t, a, w))
            })
    })
}

/// Every name [`may_fire`] looks for, first segments then anywhere segments.
const GATED: [&[u8]; FIRST_SEGMENTS.len() + ANY_SEGMENTS.len()] = {
    let mut all: [&[u8]; FIRST_SEGMENTS.len() + ANY_SEGMENTS.len()] =
        [b""; FIRST_SEGMENTS.len() + ANY_SEGMENTS.len()];
    let mut i = 0;
    while i < all.len() {
        all[i] = if i < FIRST_SEGMENTS.len() {
            FIRST_SEGMENTS[i]
        } else {
            ANY_SEGMENTS[i - FIRST_SEGMENTS.len()]
        };
        i += 1;
    }
    all
};

/// Three bytes lower-cased (ASCII letters; other bytes changed alike) as one number.
const fn key3(a: u8, b: u8, c: u8) -> u32 {
    (a | 0x20) as u32 | ((b | 0x20) as u32) << 8 | ((c | 0x20) as u32) << 16
}

/// The [`key3`] of each [`GATED`] name's last three letters (each name has three or more).
static GATED_ENDS: [u32; GATED.len()] = {
    let mut ends = [0u32; GATED.len()];
    let mut i = 0;
    while i < GATED.len() {
        let w = GATED[i];
        let n = w.len();
        ends[i] = key3(w[n - 3], w[n - 2], w[n - 1]);
        i += 1;
    }
    ends
};

/// One bit of 64 per [`key3`] (a multiplicative hash).
const fn key_bit(key: u32) -> u64 {
    1 << (key.wrapping_mul(0x9e37_79b1) >> 26)
}

/// The [`key_bit`]s of [`GATED_ENDS`]: a key whose bit is not set is none of them.
static GATED_BITS: u64 = {
    let mut bits = 0;
    let mut i = 0;
    while i < GATED_ENDS.len() {
        bits |= key_bit(GATED_ENDS[i]);
        i += 1;
    }
    bits
};

/// True when `t[..d]` ends with a [`GATED`] name (ASCII case-insensitively): its last three
/// bytes first (one bit of [`GATED_BITS`], then the keys), the whole name on a match.
fn name_before(t: &[u8], d: usize) -> bool {
    if d < 3 {
        return false;
    }
    let key = key3(t[d - 3], t[d - 2], t[d - 1]);
    if GATED_BITS & key_bit(key) == 0 {
        return false;
    }
    (0..GATED.len()).any(|i| {
        GATED_ENDS[i] == key && {
            let w = GATED[i];
            d >= w.len() && t[d - w.len()..d].eq_ignore_ascii_case(w)
        }
    })
}

/// First segments a rule of [`judge`] reads (lower case).
pub(super) const FIRST_SEGMENTS: &[&[u8]] = &[
    b"java",
    b"javax",
    b"jdk",
    b"sun",
    b"com",
    b"org",
    b"groovy",
    b"bsh",
    b"ognl",
    b"javassist",
    b"process",
    b"require",
    b"module",
    b"console",
];

/// Segments a rule of [`judge`] looks for anywhere in a name (lower case).
pub(super) const ANY_SEGMENTS: &[&[u8]] = &[b"processbuilder", b"runtime", b"constructor"];

/// False when no rule of [`judge`] can match `p`: its first segment is none of
/// [`FIRST_SEGMENTS`] and no segment is one of [`ANY_SEGMENTS`]. A rule keyed on another
/// name adds the name to one of the lists (the differential tests catch a rule left out).
fn may_fire(t: &[u8], p: &Path) -> bool {
    let first = p.seg(t, 0);
    FIRST_SEGMENTS.iter().any(|w| first.eq_ignore_ascii_case(w)) || p.any(t, ANY_SEGMENTS).is_some()
}

fn judge(t: &[u8], p: &Path, strict: bool) -> Option<Hit> {
    let hit = |rule| Some((rule, p.start, p.end));
    let first = p.seg(t, 0);
    let is = |i, w: &[u8]| p.is(t, i, w);
    // Java
    let jdk = [&b"java"[..], b"javax", b"jdk", b"sun"]
        .iter()
        .any(|w| first.eq_ignore_ascii_case(w))
        || (is(0, b"com") && is(1, b"sun"))
        || (is(0, b"org") && (is(1, b"omg") || is(1, b"w3c")));
    let lib = (is(0, b"org")
        && [
            &b"apache"[..],
            b"springframework",
            b"codehaus",
            b"mozilla",
            b"hibernate",
            b"jboss",
        ]
        .iter()
        .any(|w| is(1, w)))
        || [&b"groovy"[..], b"bsh", b"ognl", b"javassist"]
            .iter()
            .any(|w| first.eq_ignore_ascii_case(w))
        || (is(0, b"com") && (is(1, b"mchange") || is(1, b"alibaba") || is(1, b"opensymphony")));
    if let Some(i) = p.any(t, &[b"processbuilder", b"runtime"]) {
        if (0..p.n).any(|k| k != i && GADGETS.iter().any(|g| p.seg(t, k).eq_ignore_ascii_case(g))) {
            return hit(R_JAVA_GADGET);
        }
    }
    // `java.sun.com`, `docs.oracle.com`: host names, not classes
    let host = [&b"com"[..], b"org", b"net", b"io"]
        .iter()
        .any(|w| p.seg(t, p.n - 1).eq_ignore_ascii_case(w))
        || t.get(p.end) == Some(&b'/')
        || t[..p.start].ends_with(b"//");
    if (jdk || lib) && !host {
        if (1..p.n).any(|k| {
            DANGEROUS_CLASSES
                .iter()
                .any(|c| p.seg(t, k).eq_ignore_ascii_case(c))
        }) {
            return hit(R_JAVA_CLASS);
        }
        let whole = t.trim_ascii();
        let whole = whole
            .strip_prefix(b"\"")
            .and_then(|w| w.strip_suffix(b"\""))
            .unwrap_or(whole);
        if whole.len() == p.end - p.start && &t[p.start..p.end] == whole {
            return hit(R_JAVA_CLASS);
        }
        if strict && jdk {
            return hit(R_PL2_JAVA);
        }
    }
    // Node.js
    if is(0, b"process")
        && (is(1, b"mainmodule")
            || is(1, b"binding")
            || is(1, b"dlopen")
            || is(1, b"env") && code_position(t, p.start))
    {
        return hit(R_NODE);
    }
    if (is(0, b"process") || is(0, b"require")) && t.get(p.segs[0].1) == Some(&b'[') {
        return hit(R_NODE);
    }
    if is(0, b"require") && (is(1, b"main") || is(1, b"cache")) {
        return hit(R_NODE);
    }
    if let Some(i) = p.any(t, &[b"constructor"]) {
        match p
            .segs
            .get(i + 1)
            .filter(|_| i + 1 < p.n)
            .map(|&(s, e)| &t[s..e])
        {
            Some(w) if w.eq_ignore_ascii_case(b"prototype") => return hit(R_PROTO),
            Some(w) if w.eq_ignore_ascii_case(b"constructor") || w == b"_load" => {
                return hit(R_NODE)
            }
            _ => {}
        }
        if is(0, b"this") && i == 1 {
            return hit(R_NODE);
        }
    }
    if code_position(t, p.start)
        && ((is(0, b"module") && is(1, b"exports")) || is(0, b"console"))
        && p.start == super::skip_blanks(t, 0)
    {
        return hit(R_NODE);
    }
    None
}

/// (FAST) What the names with a `_` need, in one pass over the `_`s of `t`: whether a name
/// [`dunders`] looks for may be there (each holds `__`, or is `nd_func$$` or `child_process`),
/// and whether a PHP session file name may be (`sess_`, see `php::session_file`).
pub(super) fn underscore_names(t: &[u8]) -> (bool, bool) {
    let ends_ci = |i: usize, w: &[u8]| i >= w.len() && t[i - w.len()..i].eq_ignore_ascii_case(w);
    let (mut dunder, mut session) = (false, false);
    for i in super::positions(t, b'_', b'_') {
        dunder = dunder
            || t.get(i + 1) == Some(&b'_')
            || (ends_ci(i, b"nd") && starts_ci(t, i + 1, b"func$$"))
            || (ends_ci(i, b"child") && starts_ci(t, i + 1, b"process"));
        session = session || ends_ci(i, b"sess");
        if dunder && session {
            break;
        }
    }
    (dunder, session)
}

/// Magic names: Python dunder chains, `__proto__`, Node.js serialized functions.
pub(super) fn dunders(t: &[u8]) -> Option<Hit> {
    if let Some(p) = find_ci(t, b"nd_func$$") {
        return Some((R_NODE, p.saturating_sub(3), (p + 10).min(t.len())));
    }
    if let Some(p) = find_ci(t, b"__js_function") {
        return Some((R_NODE, p, p + 13));
    }
    if let Some(h) = child_process(t) {
        return Some(h);
    }
    let mut from = 0;
    while let Some(q) = memchr::memmem::find(&t[from..], b"__") {
        let p = from + q;
        let s = ident_start(t, p);
        let e = ident_end(t, p);
        from = e.max(p + 2);
        let name = &t[s..e];
        let lower = |w: &[u8]| name.eq_ignore_ascii_case(w);
        if lower(b"__proto__") {
            return Some((R_PROTO, s, e));
        }
        if [
            &b"__globals__"[..],
            b"__builtins__",
            b"__subclasses__",
            b"__mro__",
            b"__bases__",
            b"__base__",
            b"__import__",
            b"__getattribute__",
            b"__reduce__",
            b"__code__",
        ]
        .iter()
        .any(|w| lower(w))
        {
            return Some((R_PYTHON, s, e));
        }
        if lower(b"__class__") && matches!(t.get(e), Some(b'.' | b'[')) {
            return Some((R_PYTHON, s, e));
        }
    }
    None
}

/// React Server Components references that walk to a constructor or a prototype:
/// `"$1:constructor:constructor"`, `"$7:Module:prototype"`.
pub(super) fn flight_references(t: &[u8]) -> Option<Hit> {
    if let Some(p) = memchr::memmem::find(t, b":constructor:") {
        return Some((R_PROTO, p, p + 13));
    }
    if let Some(p) = memchr::memmem::find(t, b":prototype") {
        if t[..p].ends_with(b":Module") || t[..p].ends_with(b":constructor") {
            return Some((R_PROTO, p, p + 10));
        }
    }
    None
}

/// `child_process` inside code: quoted, or followed by `)` or `.`.
fn child_process(t: &[u8]) -> Option<Hit> {
    let p = find_ci(t, b"child_process")?;
    let e = p + 13;
    let quoted = p > 0 && matches!(t[p - 1], b'"' | b'\'' | b'`' | b'(' | b'=');
    let code = matches!(t.get(e), Some(b')' | b'.' | b'"' | b'\'' | b'`' | b';'));
    (quoted || code).then_some((R_NODE, p, e))
}

/// The first ASCII case-insensitive occurrence of `needle` (lower case) in `h`.
fn find_ci(h: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), h).find(|&i| starts_ci(h, i, needle))
}
