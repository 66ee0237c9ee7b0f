//! Cross-site scripting detector: a small HTML5-ish tokenizer plus a few narrow JavaScript-context
//! checks, in the spirit of libinjection's `xss` (not a pile of regexes).
//!
//! # Shape
//!
//! 1. **Cheap early exit.** Values of at most 64 bytes get one pass over a 256-entry byte table;
//!    without any byte that can start an XSS construct (`< > = : ( ` . [ { !`) and nothing to
//!    decode they are rejected at once (words, numbers, names, most header values). Longer values
//!    use `memchr` to decide whether decoding is needed, then the scanner skips boring bytes in
//!    8-byte chunks. (The WAF's scan makes the short-value test from its shared byte-class
//!    pass, [`super::classes`], and does not call the detector when it fails.)
//! 2. **Normalisation, only when needed.** When the value holds an HTML entity, `\x`/`\u`/CSS
//!    hex escapes, `%u`/left-over `%XX`, UTF-7 `+AD..`, NUL or fullwidth `＜＞＂＇`, a decoded copy is
//!    made: named entities (a small XSS-relevant set, case-insensitive, with or without `;`),
//!    decimal/hex numeric entities with any number of leading zeros and no `;`, `\xHH` (high bit
//!    stripped, as a US-ASCII reader would: `\xbc` is `<`), `\uHHHH`, `\u{H}`, CSS `\HH..`
//!    escapes that decode to printable ASCII, IIS `%uHHHH`, left-over `%XX` (cookie names are not
//!    URL-decoded), UTF-7 `+ADw-`/`+AD4-`/`+ACI-`/`+ACc-`, fullwidth brackets and quotes folded to
//!    ASCII, NUL dropped. Decoding runs twice at most (for `&amp;lt;`, `%2bADw-`), never more.
//!    A byte-offset map keeps spans pointing into the original input. Without decoding the
//!    scanner runs on the input bytes; every comparison is ASCII case-insensitive. Tabs, newlines
//!    and other control bytes are kept (they separate attributes) but skipped inside URL scheme
//!    names.
//! 3. **One linear scan** with a tokenizer state (text, tag name, attribute name, before value,
//!    quoted/unquoted value), so "inside a tag" and "this is an attribute name" are known when a
//!    handler, a URL scheme or a CSS construct shows up. A `<` inside an attribute value starts a
//!    new tag (more suspicious than a browser, never less). Every check triggered by a byte looks a
//!    bounded distance back or forward (at most ~128 bytes), so the work is O(n).
//!
//! # Rules
//!
//! - `xss-script-tag`: `<script`, `</script`, namespaced `<x:script`, spaced `< s c r i p t`.
//! - `xss-dangerous-tag`: tags dangerous as soon as they open: iframe, frame(set), object, embed,
//!   applet, svg (also `svg:`/`xsl:` prefixes), math, style, link, meta, base, form, isindex,
//!   import, xml, vmlframe, bgsound, (i)layer, noscript, comment, portal, handler, listener, `xss`;
//!   `<?import`, `<?xml-stylesheet`, SSI `<!--#`. Plain `<a`, `<img`, `<div`, `<body`, ... only
//!   fire with a dangerous attribute. Evasion shapes of ordinary tags also fire: a common element
//!   of 4+ letters spelled with spaces (`<d i a l o g`), a dangerous tag glued to a loading
//!   attribute (`<importimplementation=`, `<scriptsrc=`, `<svgonload=`), and a tag opened and
//!   closed by lone 8-bit escapes read as US-ASCII (`\xbctest\xbe`; escaped UTF-8 text such as
//!   `\xd0\xbc` does not count).
//! - `xss-event-handler`: inside any tag, an attribute named `on` + 3 or more letters followed by
//!   `=` (`<img/src=x onerror=`, `<xss onfoo=`); outside a tag, a *known* DOM event name (about 200,
//!   `onload`, `onmouseover`, `ontoggle`, ...) after a separator, or after `?`/`&`/`.` with a
//!   script-looking value (`(` or a backtick), e.g. a User-Agent `(compatible; onload=alert(1))`;
//!   any `on` + 3 letters glued to `=` when only whitespace precedes it in a one-line value (the
//!   breakout out of an unquoted attribute value, `  onabcdefgh=`).
//! - `xss-dangerous-attribute`: `formaction`, `srcdoc`, `attributename` (SVG animation of `href`),
//!   IE data binding (`datasrc`, `dataformatas`) inside a tag.
//! - `xss-attribute-breakout`: a quote (optionally then space or `/`) followed by a handler or
//!   `formaction=` (`" onmouseover=`, `'formaction=`); a quote, a space or `/` and *any*
//!   `on` + 3 letters `=` (`" onabcdefgh=`); a quote, an operator and `fetch(`/`import(`
//!   (`';fetch('//x')//`); a quote, the `in` operator and an assignment to a member, a sink
//!   (`location`, `name`, `onerror`, `valueOf`, ...) or an identifier written with `\u` escapes
//!   (`"in \u0076alueOf=`, `' in a.b=`); a value starting with a comment closer `-->`.
//! - `xss-js-url`: `javascript:`, `vbscript:`, `livescript:` (spaces, tabs, newlines, control bytes
//!   and entities allowed inside the scheme), `data:` with an HTML/script media type anywhere, and
//!   inside a tag `data:` with any non-image/audio/video/font type or a bare `data:,`. Outside a tag
//!   a plain `javascript:` fires only when obfuscated, inside CSS `url(`, or followed by something
//!   code-like (`javascript:alert(1)`, `javascript:/*`, `javascript: void(0)`), not for prose such
//!   as `JavaScript: The Good Parts`.
//! - `xss-style-expression`: CSS `expression(` after `:`/`=`/`;`/`{`/a quote or inside a tag,
//!   `url(javascript:` (also spaced and without the colon), `behavior:url(`, `-moz-binding:`.
//! - `xss-js-call`: calls of `alert`/`prompt`/`confirm` (no space before `(`), `eval`,
//!   `setTimeout`, `setInterval`, `setImmediate`, `execScript`, `fromCharCode`, `atob`/`btoa`,
//!   `importScripts`, `new Function(`, `.constructor(`; tagged templates (`` alert`1` ``,
//!   `` .call` ``), `${alert}`; JSFuck atoms (`!![]`, `(![]+[])`). Plural markers (`alert(s)`) and
//!   glued words (`1alert(1)`) do not fire; markdown images `![](x.png)` do not either.
//! - `xss-dom-access`: `document.cookie`/`.domain`/`.write`/`.createElement`/...,
//!   `window.location`, `location.href`, bracket access on globals (`window["alert"]`,
//!   `self[/**/"x"]`, `(document)["cookie"]`), with spaces and `/* */` comments around the dot.
//! - `xss-template`: `.constructor`/`.__proto__` inside `{{ }}` (AngularJS sandbox escapes).
//! - `xss-xml-injection`: `xmlns` attributes, `<!ENTITY`, `!ENTITY x SYSTEM`, `<?xml:namespace`
//!   (XML/XXE-style markup that CRS files under XSS).
//!
//! # Deliberately not done / known gaps
//!
//! - No JavaScript parser: script-only payloads avoiding the listed sinks are missed (e.g. a bare
//!   `import (` in prose or `import {x} from "y"` is *not* flagged; neither is `[].map.call(...)`).
//! - CSS parsing quirks (`font-family:foo}color=red`, `[a]color:red`) that only restyle the page
//!   are not flagged; CSS comments splitting `expression` are not removed.
//! - Unknown tags without dangerous attributes (`<test>`, `<a href="x">`, `<input pattern=..>`,
//!   `<dialog>`, `<a href="x"` cut short) are not flagged: they are common in benign HTML-ish text.
//! - Handler-like words outside tags fire only for known event names (`online=`, `onion=`,
//!   `one=1`, `onset=` do not), unless they break out of a value (after a quote and a space, or
//!   after leading whitespace in a one-line value with `=` glued). Residual risk: a one-line
//!   value that is an indented code line such as `    onvalue=1,` fires. Glued to a word
//!   (`...51onabcd=6y` in a signature, base64) never fires.
//! - `'  infoo.bar=` (IE-filter shape with `in` glued to the name) is not flagged: it is not
//!   valid script and `"input.file=x"`-style config strings look the same.
//! - A bare `-->` fires only at the start of a value (arrows in prose are common).
//! - In developer-oriented free text, mentions like `<form>`, `<meta>`, `window.location`,
//!   `document.body` or `javascript:void(0)` will fire: they are rare in other traffic.
use super::Finding;

/// Every rule id this detector can report.
pub const RULES: &[&str] = &[
    "xss-script-tag",
    "xss-dangerous-tag",
    "xss-event-handler",
    "xss-dangerous-attribute",
    "xss-attribute-breakout",
    "xss-js-url",
    "xss-style-expression",
    "xss-js-call",
    "xss-dom-access",
    "xss-template",
    "xss-xml-injection",
];

const R_SCRIPT: &str = "xss-script-tag";
const R_TAG: &str = "xss-dangerous-tag";
const R_HANDLER: &str = "xss-event-handler";
const R_ATTR: &str = "xss-dangerous-attribute";
const R_BREAKOUT: &str = "xss-attribute-breakout";
const R_URL: &str = "xss-js-url";
const R_STYLE: &str = "xss-style-expression";
const R_CALL: &str = "xss-js-call";
const R_DOM: &str = "xss-dom-access";
const R_TEMPLATE: &str = "xss-template";
const R_XML: &str = "xss-xml-injection";

/// The paranoia level 2 rules (run when [`detect`] found nothing and the agent runs at level
/// 2): none yet.
pub fn detect_strict(input: &str) -> Option<Finding> {
    let _ = input;
    None
}

/// Looks for a cross-site scripting attempt in one (already URL-decoded) input value.
///
/// Returns the first rule that matched and the byte range of the matched fragment in `input`.
pub fn detect(input: &str) -> Option<Finding> {
    let raw = input.as_bytes();
    if raw.is_empty() {
        return None;
    }
    let decode = if raw.len() <= SHORT {
        // Short values: one table-driven pass also tells whether anything is worth scanning.
        let mut special = false;
        let mut decode = false;
        for (i, &c) in raw.iter().enumerate() {
            match CLASS[c as usize] {
                0 => {}
                1 => special = true,
                _ => {
                    if needs_decoding(raw, i) {
                        decode = true;
                        break;
                    }
                    special = true;
                }
            }
        }
        if !special && !decode {
            return None;
        }
        decode
    } else {
        needs_norm(raw)
    };
    if decode {
        let norm = Norm::new(raw);
        let (rule, s, e) = Scan::new(&norm.buf, Some(&norm.map), raw).run()?;
        let (s, e) = norm.orig_span(s, e, raw.len());
        Some(finding(input, rule, s, e))
    } else {
        let (rule, s, e) = Scan::new(raw, None, raw).run()?;
        Some(finding(input, rule, s, e))
    }
}

/// Whether the value holds anything the normaliser would decode (memchr-fast on clean input).
fn needs_norm(raw: &[u8]) -> bool {
    for p in memchr::memchr3_iter(b'&', b'\\', b'%', raw) {
        if needs_decoding(raw, p) {
            return true;
        }
    }
    for p in memchr::memchr3_iter(b'+', 0xEF, 0, raw) {
        if needs_decoding(raw, p) {
            return true;
        }
    }
    false
}

/// Whether the class-2 byte at `i` really starts something the normaliser decodes.
fn needs_decoding(b: &[u8], i: usize) -> bool {
    match b[i] {
        b'+' => eq_ci(b, i + 1, b"ad") || eq_ci(b, i + 1, b"ac"),
        b'%' => lc_at(b, i + 1) == b'u' || hex_n(b, i + 1, 2).is_some(),
        b'\\' => {
            let c = lc_at(b, i + 1);
            c == b'x' || c == b'u' || c.is_ascii_hexdigit()
        }
        0xEF => b.get(i + 1) == Some(&0xBC),
        b'&' => parse_entity(b, i).is_some(),
        _ => true,
    }
}

fn finding(input: &str, rule: &'static str, s: usize, e: usize) -> Finding {
    let mut s = s.min(input.len());
    let mut e = e.clamp(s, input.len());
    while s > 0 && !input.is_char_boundary(s) {
        s -= 1;
    }
    while e < input.len() && !input.is_char_boundary(e) {
        e += 1;
    }
    Finding { rule, span: s..e }
}

/// Values up to this length get the table-driven early exit.
pub(super) const SHORT: usize = 64;

/// Byte classes for the early exit: 0 boring, 1 can start a construct, 2 needs decoding.
pub(super) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let special = b"<>=:(`.[{!";
    let mut i = 0;
    while i < special.len() {
        t[special[i] as usize] = 1;
        i += 1;
    }
    t[0] = 2;
    t[b'&' as usize] = 2;
    t[b'\\' as usize] = 2;
    t[b'%' as usize] = 2;
    t[b'+' as usize] = 2;
    t[0xEF] = 2; // fullwidth forms (U+FF00..) start with 0xEF
    t
};

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

struct Norm {
    buf: Vec<u8>,
    /// `map[i]`: offset in the original input of the unit that produced `buf[i]`.
    map: Vec<u32>,
}

impl Norm {
    fn new(raw: &[u8]) -> Norm {
        let mut first = Norm {
            buf: Vec::with_capacity(raw.len()),
            map: Vec::with_capacity(raw.len()),
        };
        let again = decode_into(raw, None, &mut first);
        if !again {
            return first;
        }
        // One more round for double-encoded entities (`&amp;lt;`); never more.
        let mut second = Norm {
            buf: Vec::with_capacity(first.buf.len()),
            map: Vec::with_capacity(first.buf.len()),
        };
        decode_into(&first.buf, Some(&first.map), &mut second);
        second
    }

    /// Maps a span of the decoded buffer back to the original input.
    fn orig_span(&self, s: usize, e: usize, len: usize) -> (usize, usize) {
        let start = self.map.get(s).map_or(len, |&m| m as usize);
        let last = if e > s { e - 1 } else { s };
        let last_orig = self.map.get(last).map_or(len, |&m| m as usize);
        let mut end = len;
        for &m in self.map.iter().skip(last + 1).take(64) {
            if m as usize > last_orig {
                end = m as usize;
                break;
            }
        }
        (start, end.max(start))
    }
}

/// Decodes `src` into `out` (lowercased). `srcmap` maps `src` offsets to original ones.
/// Returns true when the output still holds something a second round could decode.
fn decode_into(src: &[u8], srcmap: Option<&[u32]>, out: &mut Norm) -> bool {
    let orig = |i: usize| -> u32 {
        match srcmap {
            Some(m) => m.get(i).copied().unwrap_or(u32::MAX),
            None => i as u32,
        }
    };
    let mut again = false;
    let mut i = 0;
    let n = src.len();
    while i < n {
        let c = src[i];
        let o = orig(i);
        match c {
            0 => {
                i += 1;
            }
            b'&' => {
                if let Some((cp, len)) = parse_entity(src, i) {
                    let from_amp = cp == u32::from(b'&');
                    push_cp(out, cp, o);
                    if from_amp {
                        if let Some(&nx) = src.get(i + len) {
                            if nx == b'#' || nx.is_ascii_alphabetic() {
                                again = true;
                            }
                        }
                    }
                    i += len;
                } else {
                    push(out, b'&', o);
                    i += 1;
                }
            }
            b'\\' => {
                if let Some((cp, len)) = parse_backslash(src, i) {
                    push_cp(out, cp, o);
                    i += len;
                } else {
                    push(out, b'\\', o);
                    i += 1;
                }
            }
            b'%' => {
                if lc_at(src, i + 1) == b'u' {
                    if let Some(cp) = hex_n(src, i + 2, 4) {
                        push_cp(out, cp, o);
                        i += 6;
                        continue;
                    }
                }
                // Left-over percent-encoding (e.g. cookie names are not URL-decoded).
                if let Some(v) = hex_n(src, i + 1, 2) {
                    // `%26lt;`, `%2525`, `%2bADw-`: a second round finishes the job.
                    if v == u32::from(b'&')
                        || v == u32::from(b'%')
                        || (v == u32::from(b'+')
                            && (eq_ci(src, i + 3, b"ad") || eq_ci(src, i + 3, b"ac")))
                    {
                        again = true;
                    }
                    if v < 0x80 {
                        push_cp(out, v, o);
                        i += 3;
                        continue;
                    }
                }
                push(out, b'%', o);
                i += 1;
            }
            b'+' => {
                // UTF-7 encoded markup characters.
                let rep = if eq_ci(src, i + 1, b"adw") {
                    Some(b'<')
                } else if eq_ci(src, i + 1, b"ad4") {
                    Some(b'>')
                } else if eq_ci(src, i + 1, b"aci") {
                    Some(b'"')
                } else if eq_ci(src, i + 1, b"acc") {
                    Some(b'\'')
                } else {
                    None
                };
                if let Some(r) = rep {
                    push(out, r, o);
                    i += 4;
                    if src.get(i) == Some(&b'-') {
                        i += 1;
                    }
                } else {
                    push(out, b'+', o);
                    i += 1;
                }
            }
            0xEF if src.get(i + 1) == Some(&0xBC) => {
                // U+FF02 ＂, U+FF07 ＇, U+FF1C ＜, U+FF1E ＞
                let rep = match src.get(i + 2) {
                    Some(0x82) => Some(b'"'),
                    Some(0x87) => Some(b'\''),
                    Some(0x9C) => Some(b'<'),
                    Some(0x9E) => Some(b'>'),
                    _ => None,
                };
                if let Some(r) = rep {
                    push(out, r, o);
                    i += 3;
                } else {
                    push(out, c, o);
                    i += 1;
                }
            }
            _ => {
                push(out, c.to_ascii_lowercase(), o);
                i += 1;
            }
        }
    }
    again
}

fn push(out: &mut Norm, b: u8, o: u32) {
    out.buf.push(b);
    out.map.push(o);
}

fn push_cp(out: &mut Norm, cp: u32, o: u32) {
    match cp {
        0 => {}
        1..=0x7F => push(out, (cp as u8).to_ascii_lowercase(), o),
        0xFF02 => push(out, b'"', o),
        0xFF07 => push(out, b'\'', o),
        0xFF1C => push(out, b'<', o),
        0xFF1E => push(out, b'>', o),
        _ => {
            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
            let mut tmp = [0u8; 4];
            for &b in ch.encode_utf8(&mut tmp).as_bytes() {
                push(out, b, o);
            }
        }
    }
}

/// Named entities worth knowing for XSS (case-insensitive here, on purpose).
const ENTITIES: &[(&[u8], u8)] = &[
    (b"amp", b'&'),
    (b"apos", b'\''),
    (b"ast", b'*'),
    (b"bsol", b'\\'),
    (b"colon", b':'),
    (b"comma", b','),
    (b"dollar", b'$'),
    (b"equals", b'='),
    (b"excl", b'!'),
    (b"grave", b'`'),
    (b"gt", b'>'),
    (b"lbrack", b'['),
    (b"lcub", b'{'),
    (b"lowbar", b'_'),
    (b"lpar", b'('),
    (b"lsqb", b'['),
    (b"lt", b'<'),
    (b"nbsp", b' '),
    (b"newline", b'\n'),
    (b"num", b'#'),
    (b"percnt", b'%'),
    (b"period", b'.'),
    (b"plus", b'+'),
    (b"quest", b'?'),
    (b"quot", b'"'),
    (b"rbrack", b']'),
    (b"rcub", b'}'),
    (b"rpar", b')'),
    (b"rsqb", b']'),
    (b"semi", b';'),
    (b"sol", b'/'),
    (b"tab", b'\t'),
    (b"verbar", b'|'),
    (b"vert", b'|'),
];

/// Parses an entity at `src[i] == '&'`. Returns (code point, length consumed).
fn parse_entity(src: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut j = i + 1;
    if src.get(j) == Some(&b'#') {
        j += 1;
        let hex = matches!(src.get(j), Some(b'x') | Some(b'X'));
        if hex {
            j += 1;
        }
        let start = j;
        let mut v: u32 = 0;
        while let Some(&c) = src.get(j) {
            let d = if hex {
                (c as char).to_digit(16)
            } else {
                (c as char).to_digit(10)
            };
            match d {
                Some(d) => {
                    v = v
                        .saturating_mul(if hex { 16 } else { 10 })
                        .saturating_add(d);
                    j += 1;
                }
                None => break,
            }
            if j - start > 32 {
                break;
            }
        }
        if j == start {
            return None;
        }
        if src.get(j) == Some(&b';') {
            j += 1;
        }
        let v = if v > 0x10FFFF { 0xFFFD } else { v };
        return Some((v, j - i));
    }
    let start = j;
    while j < src.len() && j - start < 10 && src[j].is_ascii_alphabetic() {
        j += 1;
    }
    if j == start {
        return None;
    }
    let name = &src[start..j];
    let lookup = |nm: &[u8]| {
        ENTITIES
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(nm))
            .map(|&(_, v)| v)
    };
    if let Some(v) = lookup(name) {
        let mut len = j - i;
        if src.get(j) == Some(&b';') {
            len += 1;
        }
        return Some((u32::from(v), len));
    }
    // Legacy entities decoded without `;` even when glued to letters (`&ltscript`).
    for (k, v) in [
        (&b"quot"[..], b'"'),
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
    ] {
        if name.len() > k.len() && name[..k.len()].eq_ignore_ascii_case(k) {
            return Some((u32::from(v), 1 + k.len()));
        }
    }
    None
}

/// Parses `\xHH`, `\uHHHH`, `\u{H..}` at `src[i] == '\\'`.
fn parse_backslash(src: &[u8], i: usize) -> Option<(u32, usize)> {
    match src.get(i + 1) {
        Some(b'x') | Some(b'X') => {
            let v = hex_n(src, i + 2, 2)?;
            // A US-ASCII reader drops the high bit: \xbc becomes '<'.
            let v = if v >= 0x80 { v & 0x7F } else { v };
            Some((v, 4))
        }
        Some(b'u') | Some(b'U') => {
            if src.get(i + 2) == Some(&b'{') {
                let mut j = i + 3;
                let mut v: u32 = 0;
                while let Some(d) = src.get(j).and_then(|&c| (c as char).to_digit(16)) {
                    v = v.saturating_mul(16).saturating_add(d);
                    j += 1;
                    if j - i > 12 {
                        return None;
                    }
                }
                if src.get(j) != Some(&b'}') || j == i + 3 {
                    return None;
                }
                Some((v.min(0x10FFFF), j + 1 - i))
            } else {
                Some((hex_n(src, i + 2, 4)?, 6))
            }
        }
        Some(c) if c.is_ascii_hexdigit() => {
            // CSS escape: 1-6 hex digits and an optional space; only ASCII results are kept.
            let mut j = i + 1;
            let mut v: u32 = 0;
            while j < src.len() && j - i <= 6 && src[j].is_ascii_hexdigit() {
                v = v * 16 + (src[j] as char).to_digit(16).unwrap_or(0);
                j += 1;
            }
            if j - i < 3 || !(0x20..0x7F).contains(&v) {
                return None;
            }
            if src.get(j) == Some(&b' ') {
                j += 1;
            }
            Some((v, j - i))
        }
        _ => None,
    }
}

fn hex_n(src: &[u8], i: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for k in 0..n {
        let d = (*src.get(i + k)? as char).to_digit(16)?;
        v = v * 16 + d;
    }
    Some(v)
}

// ---------------------------------------------------------------------------------------------
// Small byte helpers (all bounds-checked, all case-insensitive)
// ---------------------------------------------------------------------------------------------

fn lc_at(b: &[u8], i: usize) -> u8 {
    b.get(i).map_or(0, |c| c.to_ascii_lowercase())
}

/// `b[i..]` starts with `pat` (pat is lowercase).
fn eq_ci(b: &[u8], i: usize, pat: &[u8]) -> bool {
    match b.get(i..i + pat.len()) {
        Some(s) => s.eq_ignore_ascii_case(pat),
        None => false,
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn is_quote(c: u8) -> bool {
    matches!(c, b'"' | b'\'' | b'`')
}

/// Skips whitespace forward from `i` (bounded).
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    let lim = i + 32;
    while i < b.len() && i < lim && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Skips whitespace and `/* */` comments forward from `i` (bounded).
fn skip_ws_comments(b: &[u8], mut i: usize) -> usize {
    for _ in 0..4 {
        i = skip_ws(b, i);
        if b.get(i) == Some(&b'/') && b.get(i + 1) == Some(&b'*') {
            let mut j = i + 2;
            let lim = (i + 128).min(b.len());
            while j + 1 < lim && !(b[j] == b'*' && b[j + 1] == b'/') {
                j += 1;
            }
            if j + 1 >= lim {
                return i;
            }
            i = j + 2;
        } else {
            break;
        }
    }
    i
}

/// Position just after the last non-space, non-comment byte before `i` (bounded).
fn back_ws_comments(b: &[u8], mut i: usize) -> usize {
    for _ in 0..4 {
        let lim = i.saturating_sub(32);
        while i > lim && is_ws(b[i - 1]) {
            i -= 1;
        }
        if i >= 2 && b[i - 1] == b'/' && b[i - 2] == b'*' {
            let lim = i.saturating_sub(128);
            let mut j = i - 2;
            while j >= lim + 2 && !(b[j - 2] == b'/' && b[j - 1] == b'*') {
                j -= 1;
            }
            if j < lim + 2 {
                return i;
            }
            i = j - 2;
        } else {
            break;
        }
    }
    i
}

/// The identifier (`[a-z0-9_$]`, at most 48 bytes) ending just before `end`: returns its start.
fn ident_back(b: &[u8], end: usize) -> usize {
    let mut s = end;
    let lim = end.saturating_sub(48);
    while s > lim && is_ident(b[s - 1]) {
        s -= 1;
    }
    s
}

/// The identifier starting at `i`: returns its end.
fn ident_fwd(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && e - i < 48 && is_ident(b[e]) {
        e += 1;
    }
    e
}

fn lower_eq(b: &[u8], s: usize, e: usize, pat: &[u8]) -> bool {
    e >= s && e - s == pat.len() && eq_ci(b, s, pat)
}

fn in_list(b: &[u8], s: usize, e: usize, list: &[&str]) -> bool {
    list.iter().any(|w| lower_eq(b, s, e, w.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

/// Tags that are dangerous as soon as they open.
const DANGEROUS_TAGS: &[&str] = &[
    "applet", "base", "bgsound", "comment", "embed", "form", "frame", "frameset", "handler",
    "iframe", "ilayer", "import", "isindex", "layer", "link", "listener", "math", "meta",
    "noscript", "object", "portal", "style", "svg", "vmlframe", "xml", "xss",
];

/// The rule for a dangerous tag name `b[s..e]`, if any.
fn tag_rule(b: &[u8], s: usize, e: usize) -> Option<&'static str> {
    let len = e.checked_sub(s)?;
    if !(3..=8).contains(&len) {
        return None;
    }
    if lower_eq(b, s, e, b"script") {
        return Some(R_SCRIPT);
    }
    if in_list(b, s, e, DANGEROUS_TAGS) {
        return Some(R_TAG);
    }
    None
}

/// Attributes that only make sense for script execution or markup takeover.
const DANGEROUS_ATTRS: &[&str] = &[
    "attributename",
    "dataformatas",
    "datasrc",
    "formaction",
    "srcdoc",
];

/// DOM event names (without the `on` prefix), sorted for binary search.
const EVENTS: &[&str] = &[
    "abort",
    "activate",
    "addtrack",
    "afterprint",
    "afterscriptexecute",
    "afterupdate",
    "animationcancel",
    "animationend",
    "animationiteration",
    "animationstart",
    "appinstalled",
    "auxclick",
    "beforeactivate",
    "beforecopy",
    "beforecut",
    "beforedeactivate",
    "beforeeditfocus",
    "beforeinput",
    "beforematch",
    "beforepaste",
    "beforeprint",
    "beforescriptexecute",
    "beforetoggle",
    "beforeunload",
    "beforeupdate",
    "begin",
    "blur",
    "bounce",
    "cancel",
    "canplay",
    "canplaythrough",
    "cellchange",
    "change",
    "click",
    "close",
    "contentvisibilityautostatechange",
    "contextlost",
    "contextmenu",
    "contextrestored",
    "controlselect",
    "copy",
    "cuechange",
    "cut",
    "dataavailable",
    "datasetchanged",
    "datasetcomplete",
    "dblclick",
    "deactivate",
    "devicemotion",
    "deviceorientation",
    "drag",
    "dragdrop",
    "dragend",
    "dragenter",
    "dragexit",
    "dragleave",
    "dragover",
    "dragstart",
    "drop",
    "durationchange",
    "emptied",
    "encrypted",
    "end",
    "ended",
    "error",
    "errorupdate",
    "filterchange",
    "finish",
    "focus",
    "focusin",
    "focusout",
    "formchange",
    "formdata",
    "forminput",
    "fullscreenchange",
    "fullscreenerror",
    "gotpointercapture",
    "hashchange",
    "help",
    "input",
    "invalid",
    "keydown",
    "keypress",
    "keyup",
    "languagechange",
    "layoutcomplete",
    "load",
    "loadeddata",
    "loadedmetadata",
    "loadend",
    "loadstart",
    "losecapture",
    "lostpointercapture",
    "message",
    "messageerror",
    "mousedown",
    "mouseenter",
    "mouseleave",
    "mousemove",
    "mouseout",
    "mouseover",
    "mouseup",
    "mousewheel",
    "move",
    "moveend",
    "movestart",
    "mozfullscreenchange",
    "offline",
    "online",
    "orientationchange",
    "pagehide",
    "pageshow",
    "paste",
    "pause",
    "play",
    "playing",
    "pointercancel",
    "pointerdown",
    "pointerenter",
    "pointerleave",
    "pointermove",
    "pointerout",
    "pointerover",
    "pointerrawupdate",
    "pointerup",
    "popstate",
    "progress",
    "propertychange",
    "ratechange",
    "readystatechange",
    "rejectionhandled",
    "repeat",
    "reset",
    "resize",
    "rowenter",
    "rowexit",
    "rowsdelete",
    "rowsinserted",
    "scroll",
    "scrollend",
    "search",
    "securitypolicyviolation",
    "seeked",
    "seeking",
    "select",
    "selectionchange",
    "selectstart",
    "show",
    "slotchange",
    "stalled",
    "start",
    "stop",
    "storage",
    "submit",
    "suspend",
    "timeout",
    "timeupdate",
    "toggle",
    "touchcancel",
    "touchend",
    "touchmove",
    "touchstart",
    "transitioncancel",
    "transitionend",
    "transitionrun",
    "transitionstart",
    "unhandledrejection",
    "unload",
    "volumechange",
    "waiting",
    "webkitanimationend",
    "webkitanimationiteration",
    "webkitanimationstart",
    "webkitmouseforcechanged",
    "webkitmouseforcedown",
    "webkitmouseforceup",
    "webkitmouseforcewillbegin",
    "webkitplaybacktargetavailabilitychanged",
    "webkittransitionend",
    "wheel",
    "zoom",
];

fn is_event(b: &[u8], s: usize, e: usize) -> bool {
    if e - s > 48 {
        return false;
    }
    let mut tmp = [0u8; 48];
    let name = &mut tmp[..e - s];
    for (d, &c) in name.iter_mut().zip(&b[s..e]) {
        *d = c.to_ascii_lowercase();
    }
    let name = &*name;
    EVENTS.binary_search_by(|w| w.as_bytes().cmp(name)).is_ok()
}

/// Function names whose call is flagged; `true` = a space before `(` is allowed.
const CALLS: &[(&str, bool)] = &[
    ("alert", false),
    ("prompt", false),
    ("confirm", false),
    ("eval", true),
    ("settimeout", true),
    ("setinterval", true),
    ("setimmediate", true),
    ("execscript", true),
    ("fromcharcode", true),
    ("atob", true),
    ("btoa", true),
    ("importscripts", true),
];

const GLOBALS: &[&str] = &[
    "document",
    "window",
    "self",
    "top",
    "parent",
    "opener",
    "frames",
    "globalthis",
    "location",
];

const DOCUMENT_PROPS: &[&str] = &[
    "all",
    "baseuri",
    "body",
    "cookie",
    "createelement",
    "createrange",
    "defaultview",
    "documentelement",
    "documenturi",
    "domain",
    "evaluate",
    "execcommand",
    "forms",
    "getelementbyid",
    "getelementsbyclassname",
    "getelementsbyname",
    "getelementsbytagname",
    "head",
    "images",
    "implementation",
    "links",
    "location",
    "open",
    "queryselector",
    "queryselectorall",
    "referrer",
    "scripts",
    "url",
    "write",
    "writeln",
];

const WINDOW_PROPS: &[&str] = &[
    "alert",
    "atob",
    "confirm",
    "constructor",
    "document",
    "eval",
    "execscript",
    "fetch",
    "localstorage",
    "location",
    "name",
    "onerror",
    "onload",
    "open",
    "opener",
    "postmessage",
    "prompt",
    "sessionstorage",
    "setinterval",
    "settimeout",
];

const LOCATION_PROPS: &[&str] = &["assign", "hash", "href", "replace"];

// ---------------------------------------------------------------------------------------------
// The scanner
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    Text,
    TagName,
    BeforeAttr,
    AttrName,
    AfterAttrName,
    BeforeValue,
    ValueQ(u8),
    ValueUnq,
}

type Hit = Option<(&'static str, usize, usize)>;

struct Scan<'a> {
    b: &'a [u8],
    /// Original offsets (only when decoded), used to tell obfuscated schemes.
    map: Option<&'a [u32]>,
    /// The original input (what `map` points into).
    raw: &'a [u8],
    st: St,
    /// Start of the current tag name / attribute name.
    mark: usize,
    /// Position of the last unclosed `{{`.
    braces: Option<usize>,
}

impl<'a> Scan<'a> {
    fn new(b: &'a [u8], map: Option<&'a [u32]>, raw: &'a [u8]) -> Scan<'a> {
        Scan {
            b,
            map,
            raw,
            st: St::Text,
            mark: 0,
            braces: None,
        }
    }

    /// A `{{` opened at most 256 bytes before `i`.
    fn in_braces(&self, i: usize) -> bool {
        self.braces.is_some_and(|p| i - p < 256)
    }

    fn in_tag(&self) -> bool {
        self.st != St::Text
    }

    fn run(&mut self) -> Hit {
        let b = self.b;
        let n = b.len();
        if let Some(h) = self.value_start() {
            return Some(h);
        }
        let mut i = 0;
        while i < n {
            if self.st == St::Text {
                i = next_special(b, i);
                if i >= n {
                    break;
                }
            }
            let c = b[i];
            // Checks that apply in any state.
            let hit = match c {
                b':' => self.at_colon(i),
                b'(' => self.at_paren(i),
                b'`' => self.at_backtick(i),
                b'.' => self.at_dot(i),
                b'[' => self.at_bracket(i),
                b'{' => self.at_brace(i),
                b'!' => self.at_bang(i),
                _ => None,
            };
            if hit.is_some() {
                return hit;
            }
            if c == b'<' {
                if let Some(h) = self.at_lt(i) {
                    return Some(h);
                }
                i += 1;
                continue;
            }
            if let Some(h) = self.step(i, c) {
                return Some(h);
            }
            i += 1;
        }
        // A tag or attribute name cut by the end of the input.
        match self.st {
            St::TagName => self.tag_name_end(n),
            _ => None,
        }
    }

    /// Tokenizer state transitions (everything except `<`).
    fn step(&mut self, i: usize, c: u8) -> Hit {
        match self.st {
            St::Text => {
                if c == b'=' {
                    return self.text_eq(i);
                }
            }
            St::TagName => {
                if !(c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'_')) {
                    if let Some(h) = self.tag_name_end(i) {
                        return Some(h);
                    }
                    self.st = if c == b'>' { St::Text } else { St::BeforeAttr };
                }
            }
            St::BeforeAttr => {
                if c == b'>' {
                    self.st = St::Text;
                } else if !(is_ws(c) || c == b'/' || is_quote(c) || c < 0x20) {
                    self.st = St::AttrName;
                    self.mark = i;
                }
            }
            St::AttrName => match c {
                b'=' => {
                    self.st = St::BeforeValue;
                    return self.attr_name(self.mark, i, i);
                }
                b'>' => self.st = St::Text,
                b'/' => self.st = St::BeforeAttr,
                _ if is_ws(c) => self.st = St::AfterAttrName,
                _ => {}
            },
            St::AfterAttrName => match c {
                b'=' => {
                    self.st = St::BeforeValue;
                    let end = back_ws_comments(self.b, i);
                    return self.attr_name(self.mark, end, i);
                }
                b'>' => self.st = St::Text,
                b'/' => self.st = St::BeforeAttr,
                _ if is_ws(c) => {}
                _ => {
                    self.st = St::AttrName;
                    self.mark = i;
                }
            },
            St::BeforeValue => match c {
                b'"' | b'\'' | b'`' => self.st = St::ValueQ(c),
                b'>' => self.st = St::Text,
                _ if is_ws(c) => {}
                _ => self.st = St::ValueUnq,
            },
            St::ValueQ(q) => {
                if c == q {
                    self.st = St::BeforeAttr;
                } else if c == b'=' {
                    return self.text_eq(i);
                }
            }
            St::ValueUnq => {
                if is_ws(c) {
                    self.st = St::BeforeAttr;
                } else if c == b'>' {
                    self.st = St::Text;
                } else if c == b'=' {
                    return self.text_eq(i);
                }
            }
        }
        None
    }

    /// A value starting with a comment closer (`-->`), after optional quotes.
    fn value_start(&self) -> Hit {
        let b = self.b;
        let mut i = 0;
        while i < b.len() && i < 8 && (is_ws(b[i]) || is_quote(b[i])) {
            i += 1;
        }
        if eq_ci(b, i, b"-->") || eq_ci(b, i, b"--!>") {
            return Some((R_BREAKOUT, i, i + 3));
        }
        None
    }

    fn at_lt(&mut self, i: usize) -> Hit {
        let b = self.b;
        if self.map.is_some() {
            if let Some(h) = self.high_bit_tag(i) {
                return Some(h);
            }
        }
        let c1 = lc_at(b, i + 1);
        if c1.is_ascii_alphabetic() && b.get(i + 2).is_some_and(|&c| is_ws(c)) {
            let mut j = i + 1;
            if let Some(h) = spaced_letters(b, i, &mut j) {
                return Some(h);
            }
        }
        if c1.is_ascii_alphabetic() || c1 == b':' {
            self.st = St::TagName;
            self.mark = i + 1;
            return None;
        }
        // Not a tag start: a `<` inside an attribute value keeps the tag state.
        match c1 {
            b'/' => {
                let s = i + 2;
                let e = ident_fwd(b, s);
                if lower_eq(b, s, e, b"script") {
                    return Some((R_SCRIPT, i, e));
                }
            }
            b'!' => {
                if eq_ci(b, i + 2, b"--#") {
                    return Some((R_TAG, i, i + 5));
                }
                if eq_ci(b, i + 2, b"entity") {
                    return Some((R_XML, i, i + 8));
                }
            }
            b'?' => {
                if eq_ci(b, i + 2, b"import") || eq_ci(b, i + 2, b"xml-stylesheet") {
                    return Some((R_TAG, i, i + 8));
                }
                if eq_ci(b, i + 2, b"xml:namespace") {
                    return Some((R_XML, i, i + 15));
                }
            }
            _ if is_ws(c1) => return self.spaced_tag(i),
            _ => {}
        }
        None
    }

    /// `< x: script`, `<f o r m`, `< s c r i p t`: names split by spaces.
    fn spaced_tag(&self, i: usize) -> Hit {
        let b = self.b;
        let mut j = skip_ws(b, i + 1);
        // `< ns: name`
        let e = ident_fwd(b, j);
        if e > j && b.get(e) == Some(&b':') {
            let s2 = skip_ws(b, e + 1);
            let e2 = ident_fwd(b, s2);
            if lower_eq(b, s2, e2, b"script") {
                return Some((R_SCRIPT, i, e2));
            }
            if in_list(b, s2, e2, DANGEROUS_TAGS) {
                return Some((R_TAG, i, e2));
            }
            return None;
        }
        spaced_letters(b, i, &mut j)
    }

    /// A tag name ended at `end`; decides whether the tag is dangerous by itself.
    fn tag_name_end(&self, end: usize) -> Hit {
        let b = self.b;
        let mut s = self.mark;
        // Namespaced: keep the local part (`x:script`, `:vmlframe`).
        for k in (self.mark..end).rev() {
            if b[k] == b':' {
                s = k + 1;
                break;
            }
        }
        let start = self.mark.saturating_sub(1);
        if let Some(rule) = tag_rule(b, s, end) {
            return Some((rule, start, end));
        }
        // `<svg:foo`: a dangerous namespace prefix.
        if s > self.mark + 1 {
            let pe = ident_fwd(b, self.mark);
            if pe < s && (lower_eq(b, self.mark, pe, b"svg") || lower_eq(b, self.mark, pe, b"xsl"))
            {
                return Some((R_TAG, start, end));
            }
        }
        // `<importimplementation=`, `<scriptsrc=`, `<svgonload=`: a dangerous tag glued to a
        // script-loading attribute (evades "tag name then space" filters).
        if b.get(skip_ws(b, end)) == Some(&b'=') && end - s > 4 {
            for t in DANGEROUS_TAGS.iter().chain(&["script"]) {
                let ts = s + t.len();
                if ts < end && eq_ci(b, s, t.as_bytes()) && glued_attr(b, ts, end) {
                    return Some((R_TAG, start, end + 1));
                }
            }
        }
        None
    }

    /// `b[i]` is a `<` or `>` written as a lone `\xbc` / `\xbe`: an 8-bit escape that only
    /// becomes markup for a reader dropping the high bit (US-ASCII). No encoder writes markup
    /// that way. Escaped UTF-8 text (`\xd0\xbc` is Cyrillic `м`) is not that: the byte must not
    /// follow another 8-bit escape.
    fn high_bit_escape(&self, i: usize) -> bool {
        let Some(map) = self.map else {
            return false;
        };
        let Some(&o) = map.get(i) else {
            return false;
        };
        let o = o as usize;
        let high = |at: usize| {
            self.raw
                .get(at..at + 2)
                .is_some_and(|x| x.eq_ignore_ascii_case(b"\\x"))
                && hex_n(self.raw, at + 2, 2).is_some_and(|v| v >= 0x80)
        };
        high(o) && (o < 4 || !high(o - 4))
    }

    /// `\xbctest\xbe`: a tag opened and closed by 8-bit escapes, with a literal name.
    fn high_bit_tag(&self, lt: usize) -> Hit {
        let b = self.b;
        let map = self.map?;
        let e = ident_fwd(b, lt + 1);
        if e == lt + 1 || !b[lt + 1].is_ascii_alphabetic() || !self.high_bit_escape(lt) {
            return None;
        }
        // The name is written literally (not a run of `\xHH` bytes).
        if (lt..e - 1).any(|k| {
            let step = if k == lt { 4 } else { 1 };
            map.get(k + 1) != Some(&map[k].wrapping_add(step))
        }) {
            return None;
        }
        let lim = (e + 128).min(b.len());
        let gt = e + b[e..lim].iter().position(|&c| c == b'>' || c == b'<')?;
        if b[gt] == b'>' && self.high_bit_escape(gt) {
            return Some((R_TAG, lt, gt + 1));
        }
        None
    }

    /// An attribute name `b[s..e]` followed by `=` at `eq`.
    fn attr_name(&self, s: usize, e: usize, eq: usize) -> Hit {
        let b = self.b;
        let len = e.saturating_sub(s);
        if len >= 5 && eq_ci(b, s, b"on") && b[s + 2..e].iter().all(|c| c.is_ascii_alphabetic()) {
            return Some((R_HANDLER, s, eq + 1));
        }
        if lower_eq(b, s, e, b"xmlns") || (len > 6 && eq_ci(b, s, b"xmlns:")) {
            return Some((R_XML, s, eq + 1));
        }
        if in_list(b, s, e, DANGEROUS_ATTRS) {
            return Some((R_ATTR, s, eq + 1));
        }
        None
    }

    /// `=` outside an attribute name: `onload=` after a separator, `" onmouseover=`,
    /// `'formaction=`.
    fn text_eq(&self, i: usize) -> Hit {
        let b = self.b;
        let end = back_ws_comments(b, i);
        let s = ident_back(b, end);
        if end - s < 5 || !eq_ci(b, s, b"on") {
            if lower_eq(b, s, end, b"formaction") {
                let before = back_ws_comments(b, s);
                if before > 0 && is_quote(b[before - 1]) {
                    return Some((R_BREAKOUT, before - 1, i + 1));
                }
            }
            // Cheap gate: the assigned name follows a space (`in x=`) or a dot (`in a.b=`).
            if s > 0 && s < end && (is_ws(b[s - 1]) || b[s - 1] == b'.') {
                return self.in_assignment(i, end);
            }
            return None;
        }
        if !b[s + 2..end].iter().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let prev = if s == 0 { b' ' } else { b[s - 1] };
        if is_ident(prev) {
            return None;
        }
        let known = is_event(b, s + 2, end);
        let quoted = {
            let p = back_ws_comments(b, s);
            let p2 = if p > 0 && b[p - 1] == b'/' { p - 1 } else { p };
            p2 > 0 && is_quote(b[p2 - 1])
        };
        let js = js_value(b, i + 1);
        let rule = if quoted { R_BREAKOUT } else { R_HANDLER };
        let sep = is_ws(prev)
            || is_quote(prev)
            || matches!(
                prev,
                b'/' | b';' | b',' | b'(' | b'|' | b'\\' | b'>' | b'<' | b'{' | b'*'
            )
            || prev < 0x20;
        if (known && (sep || js)) || (js && (quoted || is_ws(prev))) {
            return Some((rule, s, i + 1));
        }
        // Any `on...=` name that breaks out of an attribute value: after a quote and a space
        // (`" onfoo=`), or after leading whitespace only (an unquoted value ` onfoo=`).
        let mut gap = s;
        for _ in 0..2 {
            gap = back_ws_comments(b, gap);
            if gap > 0 && b[gap - 1] == b'/' {
                gap -= 1;
            }
        }
        if gap < s && gap > 0 && is_quote(b[gap - 1]) {
            return Some((R_BREAKOUT, gap - 1, i + 1));
        }
        // The unquoted case only for one-line values with `=` glued to the name: indented code
        // (`    onceregistry = {}`) is common in pasted snippets, an HTML attribute is not spaced.
        if gap < s && gap == 0 && end == i && !self.in_tag() && memchr::memchr(b'\n', b).is_none() {
            return Some((R_HANDLER, s, i + 1));
        }
        None
    }

    /// `"in location=`, `' in a.b=`, `"in \u0076aluef=`: a quoted string closed, then the `in`
    /// operator and an assignment to a member, a sink or an escaped identifier (IE-filter
    /// shape of a JS string breakout). `end` ends the name before the `=` at `i`.
    #[inline(never)]
    fn in_assignment(&self, i: usize, end: usize) -> Hit {
        let b = self.b;
        if matches!(b.get(i + 1), Some(b'=') | Some(b'>')) || end == 0 {
            return None;
        }
        // The assigned path `a.b.c` (bounded).
        let mut ps = end;
        let mut dot = false;
        while ps > 0 && end - ps < 64 && (is_ident(b[ps - 1]) || b[ps - 1] == b'.') {
            ps -= 1;
            dot |= b[ps] == b'.' && ps + 1 < end && ps > 0 && is_ident(b[ps - 1]);
        }
        if ps == end || !is_ident(b[ps]) || b[end - 1] == b'.' {
            return None;
        }
        // `in` as a word, after the quote and optional spaces.
        let w = back_ws_comments(b, ps);
        if w == ps || w < 3 || !eq_ci(b, w - 2, b"in") {
            return None;
        }
        let q = back_ws_comments(b, w - 2);
        if q == 0 || !is_quote(b[q - 1]) {
            return None;
        }
        let sink = in_list(
            b,
            ps,
            end,
            &["location", "name", "onerror", "valueof", "tostring", "href"],
        );
        if dot || sink || self.decoded(ps, end) {
            return Some((R_BREAKOUT, q - 1, i + 1));
        }
        None
    }

    fn at_colon(&self, i: usize) -> Hit {
        let b = self.b;
        for scheme in [&b"javascript"[..], b"vbscript", b"livescript", b"data"] {
            if let Some((s, obf)) = scheme_before(b, i, scheme) {
                let obf = obf || self.decoded(s, i + 1);
                if scheme == b"data" {
                    return self.data_url(s, i);
                }
                if obf || self.in_tag() || code_follows(b, i + 1) || self.css_url_before(s) {
                    return Some((R_URL, s, i + 1));
                }
                return None;
            }
        }
        // CSS: `behavior: url(`, `-moz-binding:`
        let end = back_ws_comments(b, i);
        let s = ident_back(b, end);
        if lower_eq(b, s, end, b"binding") {
            if s >= 5 && eq_ci(b, s - 5, b"-moz-") {
                return Some((R_STYLE, s - 5, i + 1));
            }
            let j = skip_ws(b, i + 1);
            if self.in_tag() && eq_ci(b, j, b"url") {
                return Some((R_STYLE, s, j + 3));
            }
        }
        if lower_eq(b, s, end, b"behavior") || lower_eq(b, s, end, b"behaviour") {
            let j = skip_ws(b, i + 1);
            if eq_ci(b, j, b"url") {
                return Some((R_STYLE, s, j + 3));
            }
        }
        None
    }

    /// `url(` right before a scheme starting at `s` (CSS context).
    fn css_url_before(&self, s: usize) -> bool {
        let b = self.b;
        let mut p = back_ws_comments(b, s);
        if p > 0 && matches!(b[p - 1], b'"' | b'\'') {
            p = back_ws_comments(b, p - 1);
        }
        p > 0 && b[p - 1] == b'(' && {
            let e = back_ws_comments(b, p - 1);
            lower_eq(b, ident_back(b, e), e, b"url")
        }
    }

    /// `data:` at `s..=colon`.
    fn data_url(&self, s: usize, colon: usize) -> Hit {
        let b = self.b;
        let j = skip_ws(b, colon + 1);
        const ALWAYS: &[&[u8]] = &[
            b"text/html",
            b"application/xhtml",
            b"text/javascript",
            b"application/javascript",
            b"application/x-javascript",
            b"text/ecmascript",
            b"application/ecmascript",
            b"text/vbscript",
        ];
        const IN_TAG: &[&[u8]] = &[b"image/svg", b"text/xml", b"application/xml"];
        if ALWAYS.iter().any(|m| eq_ci(b, j, m)) {
            return Some((R_URL, s, j + 9));
        }
        if self.in_tag() && IN_TAG.iter().any(|m| eq_ci(b, j, m)) {
            return Some((R_URL, s, j + 9));
        }
        const HARMLESS: &[&[u8]] = &[
            b"image/png",
            b"image/jp",
            b"image/gif",
            b"image/webp",
            b"image/bmp",
            b"image/x-icon",
            b"image/avif",
            b"audio/",
            b"video/",
            b"font/",
            b"text/plain",
            b"text/css",
        ];
        if self.in_tag()
            && b.get(j).is_some_and(|c| c.is_ascii_alphabetic())
            && !HARMLESS.iter().any(|m| eq_ci(b, j, m))
        {
            let e = ident_fwd(b, j);
            if b.get(e) == Some(&b'/') {
                return Some((R_URL, s, e + 1));
            }
        }
        if b.get(j) == Some(&b',') {
            if self.in_tag() {
                return Some((R_URL, s, j + 1));
            }
            // Bare `data:,` followed by markup or a call.
            let lim = (j + 64).min(b.len());
            if b[j..lim].iter().any(|&c| c == b'<' || c == b'(') {
                return Some((R_URL, s, j + 1));
            }
        }
        None
    }

    /// True when `b[s..e]` was produced by decoding something longer (entities...).
    fn decoded(&self, s: usize, e: usize) -> bool {
        match self.map {
            Some(m) if e > s && e < m.len() => {
                (m[e] as usize).saturating_sub(m[s] as usize) != e - s
                    || (s..e).any(|k| m.get(k + 1) == m.get(k))
            }
            Some(m) if e > s && e >= m.len() => {
                (s + 1..m.len()).any(|k| m[k] as usize != m[k - 1] as usize + 1)
            }
            _ => false,
        }
    }

    fn at_paren(&self, i: usize) -> Hit {
        let b = self.b;
        let end_tight = i;
        let end = back_ws_comments(b, i);
        if end == 0 || !b[end - 1].is_ascii_alphabetic() {
            return None;
        }
        let s = ident_back(b, end);
        // CSS
        if lower_eq(b, s, end, b"expression") {
            let p = back_ws_comments(b, s);
            let prev = if p == 0 { b' ' } else { b[p - 1] };
            if self.in_tag() || matches!(prev, b':' | b'=' | b';' | b'{' | b'"' | b'\'') {
                return Some((R_STYLE, s, i + 1));
            }
        }
        if lower_eq(b, s, end, b"url") {
            let mut j = skip_ws_comments(b, i + 1);
            if matches!(b.get(j), Some(b'"') | Some(b'\'')) {
                j = skip_ws(b, j + 1);
            }
            for scheme in [&b"javascript"[..], b"vbscript", b"livescript"] {
                if scheme_after(b, j, scheme) {
                    return Some((R_STYLE, s, j + scheme.len()));
                }
            }
        }
        if s > 0 && is_ident(b[s - 1]) {
            return None;
        }
        if let Some(h) = self.call_name(s, end, end == end_tight, i) {
            return Some(h);
        }
        // `';fetch('//x')//`, `"-import('//x')-"`: only right after a quote and an operator.
        if in_list(b, s, end, &["fetch", "import"]) {
            let p = back_ws_comments(b, s);
            if p > 0 && matches!(b[p - 1], b';' | b'+' | b'-' | b'|' | b'&' | b',' | b'*') {
                let mut q = back_ws_comments(b, p - 1);
                while q > 0 && q + 4 > p && matches!(b[q - 1], b')' | b'}') {
                    q -= 1;
                }
                if q > 0 && is_quote(b[q - 1]) {
                    return Some((R_BREAKOUT, q - 1, i + 1));
                }
            }
        }
        None
    }

    /// `name(` or name`...`: a dangerous call.
    fn call_name(&self, s: usize, end: usize, tight: bool, at: usize) -> Hit {
        let b = self.b;
        if s > 0 && is_ident(b[s - 1]) {
            return None;
        }
        if plural_marker(b, at) {
            return None;
        }
        for &(name, loose) in CALLS {
            if lower_eq(b, s, end, name.as_bytes()) && (tight || loose) {
                return Some((R_CALL, s, at + 1));
            }
        }
        if lower_eq(b, s, end, b"function") {
            let p = back_ws_comments(b, s);
            let ps = ident_back(b, p);
            if p < s && lower_eq(b, ps, p, b"new") {
                return Some((R_CALL, ps, at + 1));
            }
        }
        if lower_eq(b, s, end, b"constructor") && s > 0 {
            let p = back_ws_comments(b, s);
            if p > 0 && b[p - 1] == b'.' {
                let rule = if self.in_braces(at) {
                    R_TEMPLATE
                } else {
                    R_CALL
                };
                return Some((rule, s, at + 1));
            }
        }
        None
    }

    fn at_backtick(&self, i: usize) -> Hit {
        let b = self.b;
        let end = back_ws_comments(b, i);
        let s = ident_back(b, end);
        if s == end {
            return None;
        }
        if ["call", "apply", "bind"]
            .iter()
            .any(|w| lower_eq(b, s, end, w.as_bytes()))
        {
            let p = back_ws_comments(b, s);
            if p > 0 && b[p - 1] == b'.' {
                return Some((R_CALL, s, i + 1));
            }
        }
        if end == i {
            return self.call_name(s, end, true, i);
        }
        None
    }

    fn at_dot(&self, i: usize) -> Hit {
        let b = self.b;
        if self.in_braces(i) {
            // `{{ 'a'.constructor.prototype ...}}`, `{{ $on.constructor(...) }}`
            let j = skip_ws_comments(b, i + 1);
            let e = ident_fwd(b, j);
            if lower_eq(b, j, e, b"constructor") || lower_eq(b, j, e, b"__proto__") {
                return Some((R_TEMPLATE, i, e));
            }
        }
        let (s, end) = self.global_before(i)?;
        let j = skip_ws_comments(b, i + 1);
        let e = ident_fwd(b, j);
        if e == j {
            return None;
        }
        let props: &[&str] = if lower_eq(b, s, end, b"document") {
            DOCUMENT_PROPS
        } else if lower_eq(b, s, end, b"location") {
            LOCATION_PROPS
        } else {
            WINDOW_PROPS
        };
        if !in_list(b, j, e, props) {
            return None;
        }
        // `self.name` / `self.open` are common in Python; keep those to `window`.
        if (lower_eq(b, s, end, b"self")
            || lower_eq(b, s, end, b"top")
            || lower_eq(b, s, end, b"parent"))
            && (lower_eq(b, j, e, b"name") || lower_eq(b, j, e, b"open"))
        {
            return None;
        }
        if self.in_braces(i) && lower_eq(b, j, e, b"constructor") {
            return Some((R_TEMPLATE, s, e));
        }
        Some((R_DOM, s, e))
    }

    /// A JS global right before `i` (through spaces, comments and one `)`).
    fn global_before(&self, i: usize) -> Option<(usize, usize)> {
        let b = self.b;
        if i > 0 && b[i - 1].is_ascii_digit() {
            return None;
        }
        let mut end = back_ws_comments(b, i);
        if end > 0 && b[end - 1] == b')' {
            end = back_ws_comments(b, end - 1);
        }
        let s = ident_back(b, end);
        if s == end || (s > 0 && is_ident(b[s - 1])) {
            return None;
        }
        if in_list(b, s, end, GLOBALS) {
            Some((s, end))
        } else {
            None
        }
    }

    fn at_bracket(&self, i: usize) -> Hit {
        let b = self.b;
        // window["alert"], (document)['cookie']
        if let Some((s, end)) = self.global_before(i) {
            if !lower_eq(b, s, end, b"location") {
                let j = skip_ws_comments(b, i + 1);
                if b.get(j).is_some_and(|&c| is_quote(c)) {
                    return Some((R_DOM, s, j + 1));
                }
            }
        }
        // JSFuck atom `![]`
        let p = back_ws_comments(b, i);
        if p > 0 && b[p - 1] == b'!' {
            let j = skip_ws(b, i + 1);
            if b.get(j) == Some(&b']') {
                if b.get(j + 1) == Some(&b'(') {
                    return None; // markdown image `![](x.png)`
                }
                let before = back_ws_comments(b, p - 1);
                let prev = if before == 0 { 0 } else { b[before - 1] };
                let after = skip_ws(b, j + 1);
                let next = b.get(after).copied().unwrap_or(0);
                if matches!(prev, b'!' | b'+' | b'(' | b'[')
                    || matches!(next, b'[' | b'+' | b'!' | b')' | b']')
                {
                    return Some((R_CALL, p - 1, j + 1));
                }
            }
        }
        None
    }

    fn at_brace(&mut self, i: usize) -> Hit {
        let b = self.b;
        if b.get(i + 1) == Some(&b'{') {
            self.braces = Some(i);
            return None;
        }
        // `${alert}` in a template literal
        if i > 0 && b[i - 1] == b'$' {
            let j = skip_ws(b, i + 1);
            let e = ident_fwd(b, j);
            if CALLS.iter().any(|(w, _)| lower_eq(b, j, e, w.as_bytes())) {
                let k = skip_ws(b, e);
                if matches!(b.get(k), Some(b'}') | Some(b'(')) {
                    return Some((R_CALL, i - 1, k + 1));
                }
            }
        }
        None
    }

    fn at_bang(&self, i: usize) -> Hit {
        let b = self.b;
        // `!ENTITY % name SYSTEM "..."` without the `<`
        if eq_ci(b, i + 1, b"entity") && b.get(i + 7).is_some_and(|&c| is_ws(c)) {
            let lim = (i + 96).min(b.len());
            let mut k = i + 7;
            while k + 6 <= lim {
                if eq_ci(b, k, b"system") || eq_ci(b, k, b"public") {
                    return Some((R_XML, i, k + 6));
                }
                k += 1;
            }
        }
        None
    }
}

/// Index of the first byte at or after `i` that can start a construct (or `b.len()`).
#[inline(never)]
fn next_special(b: &[u8], i: usize) -> usize {
    let Some(rest) = b.get(i..) else {
        return b.len();
    };
    // Branch-free over 8-byte chunks, then byte by byte inside the first interesting chunk.
    let mut off = 0;
    let mut chunks = rest.chunks_exact(8);
    for ch in &mut chunks {
        let any = ch.iter().fold(0u8, |a, &c| a | CLASS[c as usize]);
        if any != 0 {
            break;
        }
        off += 8;
    }
    rest[off..]
        .iter()
        .position(|&c| CLASS[c as usize] != 0)
        .map_or(b.len(), |p| i + off + p)
}

/// Matches `scheme` ending right before the `:` at `colon`, allowing spaces and control bytes
/// between letters and before the colon. Returns (start, had-junk-inside).
fn scheme_before(b: &[u8], colon: usize, scheme: &[u8]) -> Option<(usize, bool)> {
    let mut k = colon;
    let mut junk = false;
    let mut lim = 0usize;
    for (idx, &want) in scheme.iter().rev().enumerate() {
        loop {
            if k == 0 || lim > 24 {
                return None;
            }
            let c = b[k - 1];
            if c <= 0x20 {
                k -= 1;
                lim += 1;
                if idx > 0 {
                    junk = true;
                }
                continue;
            }
            break;
        }
        if b[k - 1].to_ascii_lowercase() != want {
            return None;
        }
        k -= 1;
    }
    if k > 0 && b[k - 1].is_ascii_alphanumeric() {
        return None;
    }
    Some((k, junk))
}

/// Matches `scheme` starting at `i` (letters possibly separated by control bytes/spaces).
fn scheme_after(b: &[u8], mut i: usize, scheme: &[u8]) -> bool {
    let mut junk = 0;
    for &want in scheme {
        while i < b.len() && b[i] <= 0x20 && junk < 24 {
            i += 1;
            junk += 1;
        }
        if lc_at(b, i) != want {
            return false;
        }
        i += 1;
    }
    true
}

/// After `javascript:` outside a tag: is this code rather than prose?
fn code_follows(b: &[u8], i: usize) -> bool {
    let j = skip_ws(b, i);
    let Some(&c) = b.get(j) else {
        return false;
    };
    if !c.is_ascii_alphabetic() {
        return matches!(
            c,
            b'/' | b'('
                | b'\''
                | b'"'
                | b'`'
                | b'\\'
                | b'['
                | b'{'
                | b'!'
                | b'~'
                | b'+'
                | b'-'
                | b';'
                | b'%'
                | b'&'
                | b'<'
        ) || !(0x20..0x80).contains(&c);
    }
    let e = ident_fwd(b, j);
    if in_list(
        b,
        j,
        e,
        &[
            "alert", "eval", "void", "prompt", "confirm", "document", "window",
        ],
    ) {
        return true;
    }
    let k = skip_ws(b, e);
    matches!(
        b.get(k),
        Some(b'(') | Some(b'.') | Some(b'=') | Some(b'[') | Some(b'`') | Some(b';') | Some(b'/')
    )
}

/// The value after an `=` looks like script.
fn js_value(b: &[u8], i: usize) -> bool {
    let mut j = skip_ws(b, i);
    if b.get(j).is_some_and(|&c| is_quote(c)) {
        j += 1;
    }
    let lim = (j + 48).min(b.len());
    let mut k = j;
    while k < lim {
        match b[k] {
            b'(' | b'`' => return true,
            b'&' | b'>' | b'"' | b'\'' => return false,
            _ => k += 1,
        }
    }
    false
}

/// `(s)`, `(es)`, `(ed)`: plural/suffix markers in prose.
fn plural_marker(b: &[u8], at: usize) -> bool {
    let e = ident_fwd(b, at + 1);
    e > at + 1
        && e - at <= 4
        && b.get(e) == Some(&b')')
        && b[at + 1..e].iter().all(|c| c.is_ascii_alphabetic())
}

/// `implementation`, `src`, `href` or `on` + 3 letters at `b[s..e]` (glued after a tag name).
fn glued_attr(b: &[u8], s: usize, e: usize) -> bool {
    in_list(
        b,
        s,
        e,
        &["implementation", "src", "href", "srcdoc", "formaction"],
    ) || (e - s >= 5 && eq_ci(b, s, b"on") && b[s + 2..e].iter().all(|c| c.is_ascii_alphabetic()))
}

/// Ordinary HTML elements of 4+ letters: spelled out with spaces (`<d i a l o g`) they are
/// only an evasion attempt, while benign text rarely spaces letters right after a `<`.
const SPACED_ELEMENTS: &[&str] = &[
    "audio", "body", "button", "canvas", "details", "dialog", "html", "image", "input", "keygen",
    "marquee", "option", "picture", "select", "source", "table", "template", "textarea", "title",
    "track", "video",
];

/// `<f o r m`, `<d i a l o g`: single letters separated by whitespace spelling a dangerous tag
/// or a common element of 4+ letters.
fn spaced_letters(b: &[u8], lt: usize, j: &mut usize) -> Hit {
    let mut word = [0u8; 16];
    let mut len = 0;
    let mut k = *j;
    loop {
        let c = lc_at(b, k);
        if !c.is_ascii_alphabetic() || len == word.len() {
            break;
        }
        if lc_at(b, k + 1).is_ascii_alphanumeric() {
            if len == 0 {
                return None;
            }
            break;
        }
        word[len] = c;
        len += 1;
        k += 1;
        let k2 = skip_ws(b, k);
        if k2 == k || k2 - k > 2 {
            break;
        }
        if !lc_at(b, k2).is_ascii_alphabetic() {
            break;
        }
        k = k2;
    }
    if len < 3 {
        return None;
    }
    let w = &word[..len];
    if w == b"script" {
        return Some((R_SCRIPT, lt, k));
    }
    if DANGEROUS_TAGS.iter().any(|t| t.as_bytes() == w)
        || (len >= 4 && SPACED_ELEMENTS.iter().any(|t| t.as_bytes() == w))
    {
        return Some((R_TAG, lt, k));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(s: &str) -> Option<&'static str> {
        detect(s).map(|f| f.rule)
    }

    #[test]
    fn rule_ids_are_listed() {
        for r in [
            R_SCRIPT, R_TAG, R_HANDLER, R_ATTR, R_BREAKOUT, R_URL, R_STYLE, R_CALL, R_DOM,
            R_TEMPLATE, R_XML,
        ] {
            assert!(RULES.contains(&r), "{r}");
            assert!(r.starts_with("xss-"));
        }
        assert_eq!(RULES.len(), 11);
    }

    #[test]
    fn events_sorted() {
        assert!(EVENTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn attacks() {
        let cases = [
            ("<script>alert(1)</script>", R_SCRIPT),
            ("<ScRiPt src=//x.y>", R_SCRIPT),
            ("</script><script>alert(1)</script>", R_SCRIPT),
            ("&lt;script&gt;alert(1)&lt;/script&gt;", R_SCRIPT),
            ("&#60;script&#62;", R_SCRIPT),
            ("\u{ff1c}script\u{ff1e}alert(1)", R_SCRIPT),
            ("+ADw-script+AD4-alert(1)", R_SCRIPT),
            ("<img src=x onerror=alert(1)>", R_HANDLER),
            ("<svg/onload=alert(1)>", R_TAG),
            ("<body/onload=alert(1)>", R_HANDLER),
            ("<xss onbeforehellfreezes=x>", R_TAG),
            ("<div onmouseover=\"x\">", R_HANDLER),
            ("\" onmouseover=\"alert(1)", R_BREAKOUT),
            ("' onselect=x '", R_BREAKOUT),
            ("'formaction=", R_BREAKOUT),
            ("javascript:alert(1)", R_URL),
            ("java\tscript:alert(1)", R_URL),
            ("jav&#x09;ascript:alert(1)", R_URL),
            ("ja&Tab;vascript&colon;alert(1)", R_URL),
            ("<a href=\"javascript:void(0)\">x</a>", R_URL),
            ("data:text/html;base64,PHNjcmlwdD4=", R_URL),
            ("<p style=\"x:expression(alert(1))\">", R_STYLE),
            ("style=background:url(javascript:alert(1))", R_STYLE),
            ("<iframe src=x>", R_TAG),
            ("<meta http-equiv=refresh>", R_TAG),
            ("alert(1)", R_CALL),
            ("x\";setTimeout(name, 1)//", R_CALL),
            ("[].sort.call`${alert}1337`", R_CALL),
            ("!![]", R_CALL),
            ("document.cookie", R_DOM),
            ("window[\"alert\"](1)", R_DOM),
            ("document /*x*/ . cookie", R_DOM),
            ("{{constructor.constructor('alert(1)')()}}", R_TEMPLATE),
            ("<x xmlns=\"http://a.b/\">", R_XML),
            ("-->", R_BREAKOUT),
            ("Mozilla/5.0 (compatible; onload=x)", R_HANDLER),
            ("<f o r m", R_TAG),
            ("\\x3cscript\\x3e", R_SCRIPT),
            ("<img src=x onerror = alert(1)>", R_HANDLER),
            ("<a href=\" j&#x61;va\tscript:x\">", R_URL),
            ("<details open ontoggle=x>", R_HANDLER),
            ("<button formaction=x>", R_ATTR),
            ("';fetch('//evil')//", R_BREAKOUT),
            ("%3Cscript%3E", R_SCRIPT),
            ("<!ENTITY x SYSTEM \"file:///etc/passwd\">", R_XML),
            ("<div style=\"-moz-binding:url(x)\">", R_STYLE),
            ("\"><svg/onload=confirm(1)>", R_TAG),
            // unknown handler names breaking out of an attribute value
            ("  onabcdefgh= ", R_HANDLER),
            ("\tonfoobar=x", R_HANDLER),
            ("x\" onfoobar=1", R_BREAKOUT),
            ("x' /onfoobar=1", R_BREAKOUT),
            // `in` + assignment after a closed string
            ("\"in \\u0076\\u0061l\\u0075e\\u004F\\u0066=", R_BREAKOUT),
            ("' in location=1", R_BREAKOUT),
            ("\" in foo.bar=1", R_BREAKOUT),
            // second decoding round for UTF-7 behind a percent-encoded `+`
            ("%2bADw-script%2bAD4-", R_SCRIPT),
            // 8-bit escapes read as US-ASCII
            ("\\xbctest\\xbetest(\\xa2XSS\\xa2)\\xbc/test\\xbe", R_TAG),
            // spaced-out element names, dangerous tags glued to loading attributes
            ("$<d i a l o g", R_TAG),
            ("< i n p u t", R_TAG),
            ("<importimplementation=", R_TAG),
            ("<scriptsrc=//x.y>", R_TAG),
            ("<svgonload=x>", R_TAG),
        ];
        for (s, r) in cases {
            assert_eq!(hit(s), Some(r), "{s:?}");
        }
    }

    #[test]
    fn benign() {
        let cases = [
            "O'Brien",
            "select a plan",
            "1 or 2 bedrooms",
            "a<b && c>d",
            "x < 5 and y > 3",
            "I'm 5'10\"",
            "rock & roll",
            "/home/user/docs",
            "https://example.com/a?b=c",
            "john.doe@example.com",
            "<john@example.com>",
            "C:\\Program Files",
            "C:\\xampp\\htdocs",
            "Mozilla/5.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
            "{\"name\": \"x\", \"tags\": [\"a\", \"b\"], \"n\": 1}",
            "I <3 <3 you",
            "online=1",
            "onion=3&one=1",
            "Data: 5",
            "JavaScript: The Good Parts",
            "set up price alert(s)",
            "1alert(1)",
            "BLAH <A HREF=\"/PATH1/\">FOO</A>",
            "V1_OTHER_1\"><IMG CLASS=\"SIZE-FULL WP-IMAGE-2764",
            "![](image.png) and [![badge](x.svg)](y)",
            "step 1 --> step 2",
            "regular expression (regex)",
            "<!-- more -->",
            "data:image/png;base64,iVBORw0KGgo=",
            "self.name = name",
            "**bold** _it_ `code` [link](https://x.y)",
            "x = 1; y = (2 + 3) * 4",
            "price: $5.00 (incl. tax)",
            "2024-01-01T10:00:00Z",
            "550e8400-e29b-41d4-a716-446655440000",
            "SGVsbG8gd29ybGQ=",
            "dXNlcj1vbmxvYWQ=onload",
            // near misses of the breakout / escape / spaced-tag rules
            "onboarding=done",
            "x onfoobar=1",
            "\"onboarding=done\"",
            "{\"flags\": \"onboarding=done\"}",
            "a=1; onboarding=2",
            "5257a869e7ecebeda32affa62cdca3fa51onabcd=6yJV_adQssw5c",
            "\"input.file=foo.txt\"",
            "\"in stock\" item.count=5",
            "'  infoo.bar=",
            "\"-Djava.io.tmpdir=/tmp\"",
            "I'm in: a.b = c",
            "\\xd0\\xbc\\xd0\\xbe\\xd1\\x81test\\xd0\\xbe",
            "b'\\xbc\\x41\\x42\\xbe'",
            "\\xbc\\xbe",
            "<< N E W >>",
            "< W E L C O M E >",
            "x<a b c",
            "<importance=high>",
            "<metadata=x>",
            "<input pattern=\"^a regex$\">",
            "<a href=\"test\"",
            "If you're willing to import (and wait)",
            "import { sayHi } from \"./greeting.js\";",
            "Contact: <john.doe@example.com>",
            "Use `a < b` and `c > d` in **markdown**",
            "// if (x.y == 2) { return a.b; }",
            "e^(i*pi) + 1 = 0, f(x) = x^2 < 3",
            "{\"in\": \"x\", \"a.b\": 1}",
            "\"\\u00e9t\\u00e9\" = summer",
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        ];
        for s in cases {
            assert_eq!(detect(s), None, "{s:?}");
        }
    }

    #[test]
    fn spans_are_in_input() {
        let s = "abc &lt;script&gt;alert(1)";
        let f = detect(s).expect("hit");
        assert!(s.get(f.span.clone()).is_some());
        assert!(s[f.span].starts_with("&lt;"));
    }

    #[test]
    fn no_panic_on_random_bytes() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for round in 0..5_000 {
            let len = round % 200;
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Bias towards the bytes the scanner cares about.
                let pick = b"<>=:(`.[{!&#\\%+;\"' /*xXuU0a9onsj";
                let byte = if x & 1 == 0 {
                    pick[(x >> 8) as usize % pick.len()]
                } else {
                    (x >> 16) as u8
                };
                v.push(byte);
            }
            let s = String::from_utf8_lossy(&v);
            if let Some(f) = detect(&s) {
                assert!(s.get(f.span.clone()).is_some(), "{s:?} {f:?}");
            }
        }
    }

    #[test]
    fn long_inputs_are_linear() {
        for unit in ["<a ", "&#", "{{", "!![", "on=", "document.", "\\x3", "<!--"] {
            let s = unit.repeat(65536 / unit.len());
            let t = std::time::Instant::now();
            let _ = detect(&s);
            assert!(t.elapsed().as_millis() < 500, "{unit:?}");
        }
    }

    #[test]
    fn no_panic_on_random_input() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet: &[&str] = &[
            "<",
            ">",
            "&",
            "#",
            "x",
            ";",
            "\\",
            "u",
            "%",
            "+ADw-",
            "\u{ff1c}",
            "é",
            "\u{0}",
            "\"",
            "'",
            "`",
            "=",
            "on",
            "load",
            ":",
            "javascript",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "!",
            "/",
            "*",
            ".",
            "document",
            " ",
            "\t",
            "script",
            "&#",
            "0",
            "9",
            "f",
            "\u{10ffff}",
            "\u{fffd}",
        ];
        for _ in 0..20_000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            if let Some(f) = detect(&s) {
                assert!(s.get(f.span.clone()).is_some(), "{s:?} {f:?}");
            }
            let bytes: Vec<u8> = s.bytes().map(|b| b ^ (x as u8 & 0x81)).collect();
            let lossy = String::from_utf8_lossy(&bytes);
            if let Some(f) = detect(&lossy) {
                assert!(lossy.get(f.span.clone()).is_some());
            }
        }
    }
}
