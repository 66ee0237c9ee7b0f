//! Script, URL and CSS contexts of the scanner: `javascript:`/`data:` URLs, dangerous calls,
//! DOM access, template sandbox escapes, XML entities.

use super::bytes::*;
use super::scan::{Hit, Scan};
use super::vocab::*;
use super::*;

/// The lengths of the [`GLOBALS`] (bit `n` set for a global of `n` bytes; all are shorter
/// than 16).
const GLOBAL_LENS: u16 = {
    let mut m = 0u16;
    let mut i = 0;
    while i < GLOBALS.len() {
        assert!(GLOBALS[i].len() < 16);
        m |= 1 << GLOBALS[i].len();
        i += 1;
    }
    m
};

/// The last two letters of the [`GLOBALS`] (all have three or more): for each last letter,
/// the letters before it (bit `n` for the `n`-th letter of the alphabet).
const GLOBAL_TAILS: [u32; 26] = {
    let mut t = [0u32; 26];
    let mut i = 0;
    while i < GLOBALS.len() {
        let w = GLOBALS[i].as_bytes();
        let (a, z) = (w[w.len() - 2], w[w.len() - 1]);
        assert!(w.len() >= 3 && a.is_ascii_lowercase() && z.is_ascii_lowercase());
        t[(z - b'a') as usize] |= 1 << (a - b'a');
        i += 1;
    }
    t
};

/// Whether the word ending at `end` may be one of the [`GLOBALS`], by its last two letters.
fn global_tail(b: &[u8], end: usize) -> bool {
    let (a, z) = (lc_at(b, end.wrapping_sub(2)), lc_at(b, end.wrapping_sub(1)));
    end >= 3
        && z.is_ascii_lowercase()
        && a.is_ascii_lowercase()
        && GLOBAL_TAILS[usize::from(z - b'a')] >> (a - b'a') & 1 != 0
}

impl Scan<'_> {
    pub(super) fn at_colon(&self, i: usize) -> Hit {
        let b = self.b;
        // the scheme's last letter, read as `scheme_before` reads it, tells which can match
        // (tests: every scheme, as before this shortcut)
        #[cfg(test)]
        let all = linear_lookups();
        #[cfg(not(test))]
        let all = false;
        let schemes: &[&[u8]] = match scheme_last_byte(b, i) {
            _ if all => &[b"javascript", b"vbscript", b"livescript", b"data"],
            b't' => &[b"javascript", b"vbscript", b"livescript"],
            b'a' => &[b"data"],
            _ => &[],
        };
        for &scheme in schemes {
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
    pub(super) fn css_url_before(&self, s: usize) -> bool {
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
    pub(super) fn data_url(&self, s: usize, colon: usize) -> Hit {
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
    pub(super) fn decoded(&self, s: usize, e: usize) -> bool {
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

    pub(super) fn at_paren(&self, i: usize) -> Hit {
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
    pub(super) fn call_name(&self, s: usize, end: usize, tight: bool, at: usize) -> Hit {
        let b = self.b;
        if s > 0 && is_ident(b[s - 1]) {
            return None;
        }
        if plural_marker(b, at) {
            return None;
        }
        if let Some(k) = CALL_WORDS.find(b, s, end) {
            if tight || CALLS[k].1 {
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

    pub(super) fn at_backtick(&self, i: usize) -> Hit {
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

    pub(super) fn at_dot(&self, i: usize) -> Hit {
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
    pub(super) fn global_before(&self, i: usize) -> Option<(usize, usize)> {
        let b = self.b;
        if i > 0 && b[i - 1].is_ascii_digit() {
            return None;
        }
        let mut end = back_ws_comments(b, i);
        if end > 0 && b[end - 1] == b')' {
            end = back_ws_comments(b, end - 1);
        }
        // most words before a `.` (prose) end unlike any global: not read any further
        if !global_tail(b, end) {
            return None;
        }
        // (no global is 16 bytes long: a longer word is read no further)
        let s = ident_back_within(b, end, 16);
        if s == end || (s > 0 && is_ident(b[s - 1])) {
            return None;
        }
        // most words before a `.` (prose, e-mail addresses) have no global's length
        if end - s >= 16 || GLOBAL_LENS >> (end - s) & 1 == 0 {
            return None;
        }
        if in_list(b, s, end, GLOBALS) {
            Some((s, end))
        } else {
            None
        }
    }

    pub(super) fn at_bracket(&self, i: usize) -> Hit {
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

    pub(super) fn at_brace(&mut self, i: usize) -> Hit {
        let b = self.b;
        if b.get(i + 1) == Some(&b'{') {
            self.braces = Some(i);
            return None;
        }
        // `${alert}` in a template literal
        if i > 0 && b[i - 1] == b'$' {
            let j = skip_ws(b, i + 1);
            let e = ident_fwd(b, j);
            if CALL_WORDS.contains(b, j, e) {
                let k = skip_ws(b, e);
                if matches!(b.get(k), Some(b'}') | Some(b'(')) {
                    return Some((R_CALL, i - 1, k + 1));
                }
            }
        }
        None
    }

    pub(super) fn at_bang(&self, i: usize) -> Hit {
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

/// Matches `scheme` ending right before the `:` at `colon`, allowing spaces and control bytes
/// between letters and before the colon. Returns (start, had-junk-inside).
pub(super) fn scheme_before(b: &[u8], colon: usize, scheme: &[u8]) -> Option<(usize, bool)> {
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

/// The byte [`scheme_before`] compares with a scheme's last letter (lower-cased; 0 when it
/// reads none): the last byte above 0x20 before `colon`, at most 24 bytes back.
fn scheme_last_byte(b: &[u8], colon: usize) -> u8 {
    let mut k = colon;
    let mut lim = 0usize;
    loop {
        if k == 0 || lim > 24 {
            return 0;
        }
        let c = b[k - 1];
        if c > 0x20 {
            return c.to_ascii_lowercase();
        }
        k -= 1;
        lim += 1;
    }
}

/// Matches `scheme` starting at `i` (letters possibly separated by control bytes/spaces).
pub(super) fn scheme_after(b: &[u8], mut i: usize, scheme: &[u8]) -> bool {
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
pub(super) fn code_follows(b: &[u8], i: usize) -> bool {
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

/// The value after an `=` looks like script (the reference of [`Scan::js_value_at`], which
/// remembers where it stopped).
#[cfg(test)]
pub(super) fn js_value(b: &[u8], i: usize) -> bool {
    let mut j = skip_ws(b, i);
    if b.get(j).is_some_and(|&c| is_quote(c)) {
        j += 1;
    }
    let lim = (j + 48).min(b.len());
    #[cfg(test)]
    if linear_lookups() {
        let mut k = j;
        while k < lim {
            match b[k] {
                b'(' | b'`' => return true,
                b'&' | b'>' | b'"' | b'\'' => return false,
                _ => k += 1,
            }
        }
        return false;
    }
    // the first of `(` `` ` `` (code) and `&` `>` `"` `'` (end of the value) decides; eight
    // bytes at a time through a table, as the check runs at every `=` that may be a handler's
    let Some(w) = b.get(j..lim) else {
        return false;
    };
    first_stop(w).is_some_and(|k| JS_STOP[usize::from(w[k])] == 1)
}

/// Where in `w` the first of [`js_value`]'s stops is, eight bytes at a time.
fn first_stop(w: &[u8]) -> Option<usize> {
    let mut off = 0;
    for ch in w.chunks_exact(8) {
        if ch.iter().fold(0u8, |a, &c| a | JS_STOP[usize::from(c)]) != 0 {
            break;
        }
        off += 8;
    }
    w[off..]
        .iter()
        .position(|&c| JS_STOP[usize::from(c)] != 0)
        .map(|k| off + k)
}

/// The first of [`js_value`]'s stops at or after `j` (or `b.len()`), eight bytes at a time.
pub(super) fn js_stop(b: &[u8], j: usize) -> usize {
    let Some(w) = b.get(j..) else {
        return b.len();
    };
    first_stop(w).map_or(b.len(), |k| j + k)
}

/// [`js_value`]'s stops: 1 for `(` and `` ` ``, 2 for `&` `>` `"` `'`.
static JS_STOP: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'(' as usize] = 1;
    t[b'`' as usize] = 1;
    t[b'&' as usize] = 2;
    t[b'>' as usize] = 2;
    t[b'"' as usize] = 2;
    t[b'\'' as usize] = 2;
    t
};

/// `(s)`, `(es)`, `(ed)`: plural/suffix markers in prose.
pub(super) fn plural_marker(b: &[u8], at: usize) -> bool {
    let e = ident_fwd(b, at + 1);
    e > at + 1
        && e - at <= 4
        && b.get(e) == Some(&b')')
        && b[at + 1..e].iter().all(|c| c.is_ascii_alphabetic())
}
