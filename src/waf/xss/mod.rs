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
//! Files: `normalize` (the decoded copy and its offset map), `gate` (the cheap pass that
//! finds the spots where a rule may fire), `spots` (the tokenizer run at those spots only, its
//! state carried between them), `scan` (the tokenizer and the markup rules), `breakout` (the check at an `=` in text
//! or a value), `script` (URL, script and CSS contexts), `vocab` (tag, attribute, event and
//! sink names), `bytes` (bounded, case-insensitive byte helpers), `strict` (the paranoia level
//! 2 rules).
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
//! # Paranoia level 2 rules
//!
//! [`detect_strict`] runs them (`strict`), on the same normalised copy, when the agent runs at
//! paranoia 2 and the rules above found nothing. They follow what the CRS level 2 XSS rules
//! look for, narrowed where the CRS regex would flag ordinary HTML or prose:
//!
//! - `xss-pl2-open-tag` (CRS 941150 `href`/`src`/`style` ... `=`, 941320 any HTML tag): a start
//!   tag carrying a loading attribute (`href`, `src`, `style`, `action`, `background`, `data`,
//!   `poster`, `srcset`, ...) with a value, left open at the end of the value
//!   (`<a href="test"`, `<img src='//x/?`): dangling markup that the page's own `>` or quote
//!   closes. Not CRS's "any tag with attributes": closed links and spans (`<a href="/x">y</a>`)
//!   are ordinary in free text (a dozen benign corpus values are such HTML). The `<` must be
//!   literal (or percent/UTF-7 encoded): `&lt;a href=` is text to an HTML parser (crawler user
//!   agents carry it). Parts of values longer than the scan's 2 KiB parts are not checked (a
//!   part may end inside an ordinary tag). Fires on benign text cut off inside a link.
//! - `xss-pl2-form-control` (CRS 941320 for `input`, `button`, `select`, `textarea`,
//!   `keygen`): a form control start tag with an attribute (`<input type=password`,
//!   `<input pattern="x">`), open or closed, with a literal `<`: injected fields collect what
//!   users or password managers type. Fires on HTML snippets of forms in free text; a bare
//!   `<input>` mentioned in prose does not fire.
//! - `xss-pl2-style-attribute` (CRS 941150 `style` ... `=`; libinjection, CRS 941100, treats
//!   every `style` attribute as dangerous): a start tag of any element, literal `<`, with a
//!   `style` attribute carrying a value (`<div style="font-family:foo}color=red">`): CSS
//!   injection restyles the page, overlays it or sends requests through `url()`. Fires on rich
//!   text HTML with inline styles.
//! - `xss-pl2-event-handler` (CRS 941120 as CRS 4 writes it): `on` + 3 to 50 letters, `=`, a
//!   byte other than `=`, after a space, quote, `(`, `,`, `/`, `;`, `=`, backtick or a digit —
//!   so also glued inside a token (`...51onabcd=6y`, `...J9onload=.x`). Fires on signatures and
//!   tokens that happen to hold such a run, and on `a=1; onboarding=2`.
//! - `xss-pl2-string-breakout` (CRS 941330/941340, IE filter shapes): a quote, spaces, then
//!   `in` (also glued: `'  infoo.bar=`) or a separator/operator (closers may follow), then an
//!   assignment to a member path (`a.b=`) or a sink (`location=`, `name=`, `onerror=`, ...).
//!   `+`/`-` glued to a letter are not operators (`"-Djava.io.tmpdir=/tmp"`). Fires on quoted
//!   config strings such as `"input.file=x"`.
//! - `xss-pl2-comment-close` (CRS 941181 `-->` anywhere): a comment closer glued to what
//!   precedes it (`x-->`) or followed by markup (`--> <b>`); arrows between spaces in prose
//!   (`step 1 --> step 2`) and long arrows (`--->`) do not fire.
//! - `xss-pl2-template` (CRS 941380): any non-empty `{{ ... }}` closed within 256 bytes
//!   (template injection probes `{{7*7}}`). Fires on mustache text (`Hello {{name}}`).
//! - `xss-pl2-js-call` (CRS 941390, which CRS runs at level 1): `eval`, `alert`, `prompt`,
//!   `confirm`, `import`, `fetch`, `atob`, `btoa`, `setTimeout`, `setInterval`,
//!   `console.log`/`.dir`, `new Function` as a word, then spaces, then `(` or `{` (`import (`,
//!   `import { a } from`). Plural markers (`alert (s)`) do not fire; prose such as
//!   `willing to import (and wait)` does.
//!
//! None of them fires on the benign corpus values (libinjection false positives, BLNS, FuzzDB
//! user agents); each is one bounded pass.
//!
//! # Deliberately not done / known gaps
//!
//! - No JavaScript parser: script-only payloads avoiding the listed sinks are missed (e.g. a bare
//!   `import (` in prose or `import {x} from "y"` is *not* flagged at level 1, only by
//!   `xss-pl2-js-call`; `[].map.call(...)` is not flagged).
//! - CSS parsing quirks (`font-family:foo}color=red`, `[a]color:red`) that only restyle the page
//!   are not flagged at level 1 (`xss-pl2-style-attribute` flags any `style` attribute); CSS
//!   comments splitting `expression` are not removed.
//! - Unknown tags without dangerous attributes (`<test>`, `<a href="x">`, `<input pattern=..>`,
//!   `<dialog>`, `<a href="x"` cut short) are not flagged: they are common in benign HTML-ish text
//!   (at level 2 `xss-pl2-form-control` flags the third, `xss-pl2-open-tag` the last).
//! - Handler-like words outside tags fire only for known event names (`online=`, `onion=`,
//!   `one=1`, `onset=` do not), unless they break out of a value (after a quote and a space, or
//!   after leading whitespace in a one-line value with `=` glued). Residual risk: a one-line
//!   value that is an indented code line such as `    onvalue=1,` fires. Glued to a word
//!   (`...51onabcd=6y` in a signature, base64) fires only at level 2.
//! - `'  infoo.bar=` (IE-filter shape with `in` glued to the name) is flagged only at level 2:
//!   it is not valid script and `"input.file=x"`-style config strings look the same.
//! - A bare `-->` fires only at the start of a value (arrows in prose are common); at level 2
//!   also glued or before markup.
//! - In developer-oriented free text, mentions like `<form>`, `<meta>`, `window.location`,
//!   `document.body` or `javascript:void(0)` will fire: they are rare in other traffic.
use super::Finding;

mod breakout;
mod bytes;
mod gate;
mod normalize;
mod scan;
mod script;
mod spots;
mod strict;
#[cfg(test)]
mod tests;
mod vocab;

use crate::waf::entity::parse as parse_entity;
use bytes::{eq_ci, lc_at};
use normalize::{hex_n, Norm};
use scan::Scan;

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
    "xss-pl2-open-tag",
    "xss-pl2-form-control",
    "xss-pl2-style-attribute",
    "xss-pl2-event-handler",
    "xss-pl2-string-breakout",
    "xss-pl2-comment-close",
    "xss-pl2-template",
    "xss-pl2-js-call",
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
/// 2): the `xss-pl2-*` rules listed in the module docs.
pub fn detect_strict(input: &str) -> Option<Finding> {
    run(input, strict::scan)
}

/// Looks for a cross-site scripting attempt in one (already URL-decoded) input value.
///
/// Returns the first rule that matched and the byte range of the matched fragment in `input`.
pub fn detect(input: &str) -> Option<Finding> {
    run(input, |b, map, raw| Scan::new(b, map, raw).run())
}

/// [`detect`] with the tokenizer over every value (no cheap pass first): the reference of the
/// differential tests.
#[cfg(test)]
fn detect_ungated(input: &str) -> Option<Finding> {
    run(input, |b, map, raw| Scan::new(b, map, raw).run_ungated())
}

/// [`detect`] on a value the caller's shared pass ([`super::classes`]) found without any byte
/// the normaliser decodes (`decodable` false): a long value then goes straight to the scan,
/// without [`needs_norm`]'s two passes (which look for those bytes).
pub(super) fn detect_classified(input: &str, decodable: bool) -> Option<Finding> {
    if decodable || input.len() <= SHORT {
        return detect(input);
    }
    let raw = input.as_bytes();
    let (rule, s, e) = Scan::new(raw, None, raw).run()?;
    Some(finding(input, rule, s, e))
}

/// Runs `rules` over the value (decoded when it holds anything to decode; `map` then maps the
/// decoded bytes to the input's) and maps the span back to `input`.
fn run(input: &str, rules: impl Fn(&[u8], Option<&[u32]>, &[u8]) -> scan::Hit) -> Option<Finding> {
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
        let (rule, s, e) = rules(&norm.buf, Some(&norm.map), raw)?;
        let (s, e) = norm.orig_span(s, e, raw.len());
        Some(finding(input, rule, s, e))
    } else {
        let (rule, s, e) = rules(raw, None, raw)?;
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
    Finding {
        rule,
        span: super::char_span(input, s, e),
    }
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
