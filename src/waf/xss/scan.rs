//! The scanner: one linear pass with a tokenizer state, dispatching on the bytes that can
//! start a construct; markup (tags, attributes, handlers) is handled here, script and URL
//! contexts in [`super::script`].

use std::cell::Cell;

use super::bytes::*;
use super::normalize::hex_n;
use super::vocab::*;
use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum St {
    Text,
    TagName,
    BeforeAttr,
    AttrName,
    AfterAttrName,
    BeforeValue,
    ValueQ(u8),
    ValueUnq,
}

pub(super) type Hit = Option<(&'static str, usize, usize)>;

pub(super) struct Scan<'a> {
    pub(super) b: &'a [u8],
    /// Original offsets (only when decoded), used to tell obfuscated schemes.
    pub(super) map: Option<&'a [u32]>,
    /// The original input (what `map` points into).
    pub(super) raw: &'a [u8],
    pub(super) st: St,
    /// Start of the current tag name / attribute name.
    pub(super) mark: usize,
    /// Position of the last unclosed `{{`.
    pub(super) braces: Option<usize>,
    /// `(from, stop)`: the first byte at or after `from` that decides [`super::script::js_value`]
    /// is at `stop` (or `stop` is the length): see [`Scan::js_value_at`].
    pub(super) js_stop: Cell<(usize, usize)>,
}

impl<'a> Scan<'a> {
    pub(super) fn new(b: &'a [u8], map: Option<&'a [u32]>, raw: &'a [u8]) -> Scan<'a> {
        Scan {
            b,
            map,
            raw,
            st: St::Text,
            mark: 0,
            braces: None,
            js_stop: Cell::new((usize::MAX, 0)),
        }
    }

    /// A `{{` opened at most 256 bytes before `i`.
    pub(super) fn in_braces(&self, i: usize) -> bool {
        self.braces.is_some_and(|p| i - p < 256)
    }

    pub(super) fn in_tag(&self) -> bool {
        self.st != St::Text
    }

    /// [`Scan::run`] without the cheap pass: the tokenizer over every value (the reference
    /// the differential tests hold the cheap pass and the spot-by-spot run to).
    #[cfg(test)]
    pub(super) fn run_ungated(&mut self) -> Hit {
        if let Some(h) = self.value_start() {
            return Some(h);
        }
        self.tokenize()
    }

    /// The tokenizer: one pass over the whole value, checks at the bytes that can start a
    /// construct.
    #[cfg(test)]
    fn tokenize(&mut self) -> Hit {
        let b = self.b;
        let n = b.len();
        let mut i = 0;
        while i < n {
            if self.st == St::Text {
                i = next_special(b, i);
                if i >= n {
                    break;
                }
            }
            if let Some(h) = self.visit(i) {
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

    /// The tokenizer at byte `i`: the checks that apply in any state, then the `<` check or
    /// the state's own check, and the state change.
    pub(super) fn visit(&mut self, i: usize) -> Hit {
        let c = self.b[i];
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
            return self.at_lt(i);
        }
        self.step(i, c)
    }

    /// The state's own check at byte `c` (anything but `<`), then the state change.
    pub(super) fn step(&mut self, i: usize, c: u8) -> Hit {
        let hit = match self.st {
            St::Text | St::ValueQ(_) | St::ValueUnq if c == b'=' => self.text_eq(i),
            St::TagName if !is_tag_name_byte(c) => self.tag_name_end(i),
            St::AttrName if c == b'=' => self.attr_name(self.mark, i, i),
            St::AfterAttrName if c == b'=' => {
                let end = back_ws_comments(self.b, i);
                self.attr_name(self.mark, end, i)
            }
            _ => None,
        };
        if hit.is_none() {
            self.transition(i, c);
        }
        hit
    }

    /// Tokenizer state transitions at byte `c` (everything except `<`), without the checks.
    #[inline(always)]
    pub(super) fn transition(&mut self, i: usize, c: u8) {
        match self.st {
            St::Text => {}
            St::TagName => {
                if !is_tag_name_byte(c) {
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
                b'=' => self.st = St::BeforeValue,
                b'>' => self.st = St::Text,
                b'/' => self.st = St::BeforeAttr,
                _ if is_ws(c) => self.st = St::AfterAttrName,
                _ => {}
            },
            St::AfterAttrName => match c {
                b'=' => self.st = St::BeforeValue,
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
                }
            }
            St::ValueUnq => {
                if is_ws(c) {
                    self.st = St::BeforeAttr;
                } else if c == b'>' {
                    self.st = St::Text;
                }
            }
        }
    }

    /// A value starting with a comment closer (`-->`), after optional quotes.
    pub(super) fn value_start(&self) -> Hit {
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

    pub(super) fn at_lt(&mut self, i: usize) -> Hit {
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
    pub(super) fn spaced_tag(&self, i: usize) -> Hit {
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
            if DANGEROUS_TAG_WORDS.contains(b, s2, e2) {
                return Some((R_TAG, i, e2));
            }
            return None;
        }
        spaced_letters(b, i, &mut j)
    }

    /// A tag name ended at `end`; decides whether the tag is dangerous by itself.
    pub(super) fn tag_name_end(&self, end: usize) -> Hit {
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
    pub(super) fn high_bit_escape(&self, i: usize) -> bool {
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
    pub(super) fn high_bit_tag(&self, lt: usize) -> Hit {
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
    pub(super) fn attr_name(&self, s: usize, e: usize, eq: usize) -> Hit {
        let b = self.b;
        let len = e.saturating_sub(s);
        if len >= 5 && eq_ci(b, s, b"on") && b[s + 2..e].iter().all(|c| c.is_ascii_alphabetic()) {
            return Some((R_HANDLER, s, eq + 1));
        }
        if lower_eq(b, s, e, b"xmlns") || (len > 6 && eq_ci(b, s, b"xmlns:")) {
            return Some((R_XML, s, eq + 1));
        }
        if DANGEROUS_ATTR_WORDS.contains(b, s, e) {
            return Some((R_ATTR, s, eq + 1));
        }
        None
    }
}

/// Index of the first byte at or after `i` that can start a construct (or `b.len()`).
#[cfg(test)]
pub(super) fn next_special(b: &[u8], i: usize) -> usize {
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

/// A byte the tag-name state keeps in the name.
pub(super) fn is_tag_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b':' | b'-' | b'_')
}

/// `implementation`, `src`, `href` or `on` + 3 letters at `b[s..e]` (glued after a tag name).
pub(super) fn glued_attr(b: &[u8], s: usize, e: usize) -> bool {
    in_list(
        b,
        s,
        e,
        &["implementation", "src", "href", "srcdoc", "formaction"],
    ) || (e - s >= 5 && eq_ci(b, s, b"on") && b[s + 2..e].iter().all(|c| c.is_ascii_alphabetic()))
}

/// Ordinary HTML elements of 4+ letters: spelled out with spaces (`<d i a l o g`) they are
/// only an evasion attempt, while benign text rarely spaces letters right after a `<`.
pub(super) const SPACED_ELEMENTS: &[&str] = &[
    "audio", "body", "button", "canvas", "details", "dialog", "html", "image", "input", "keygen",
    "marquee", "option", "picture", "select", "source", "table", "template", "textarea", "title",
    "track", "video",
];

/// `<f o r m`, `<d i a l o g`: single letters separated by whitespace spelling a dangerous tag
/// or a common element of 4+ letters.
pub(super) fn spaced_letters(b: &[u8], lt: usize, j: &mut usize) -> Hit {
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
