//! The file rules (`lfi-os-file`, `lfi-sensitive-file`) on a separator-normalised view, and
//! the path-only rules of [`detect_path`] (`lfi-restricted-path`, `lfi-hidden-path`).

use super::detect_impl;
use super::file_tables::{
    sql_backup, sql_backup_no_ws, unicode_marks, Kind, DOTSEG_FINDER, FILES, HIDDEN_FINDER,
};
use super::flags::{Flags, C_BSL, C_HIGH, C_NUL, C_QL, C_WS};
use crate::waf::Finding;
use std::borrow::Cow;

/// Separator-normalised view for the file rules: `\` and unicode slashes become `/`, runs of
/// `/` collapse, `/./` drops, NULs drop. Borrowed (identity offsets) when nothing changes.
pub(super) fn path_view(input: &str) -> (Cow<'_, str>, Option<Vec<u32>>) {
    let b = input.as_bytes();
    let needs = memchr::memchr2(b'\\', 0, b).is_some()
        || DOTSEG_FINDER.find(b).is_some()
        || (!b.is_ascii() && unicode_marks(b).slash);
    if !needs {
        return (Cow::Borrowed(input), None);
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut offs: Vec<u32> = Vec::with_capacity(b.len() + 1);
    // bytes the loop below looks at one by one; runs of the others are copied whole (a value
    // with a `\\` or a unicode slash every few hundred bytes costs a copy, not a byte loop)
    static PLAIN: [bool; 256] = {
        let mut t = [true; 256];
        t[b'/' as usize] = false;
        t[b'\\' as usize] = false;
        t[0] = false;
        t[0xe2] = false;
        t[0xef] = false;
        t
    };
    let mut i = 0;
    while i < b.len() {
        let run = b[i..]
            .iter()
            .take_while(|&&c| PLAIN[usize::from(c)])
            .count();
        if run > 0 {
            out.extend_from_slice(&b[i..i + run]);
            offs.extend(i as u32..(i + run) as u32);
            i += run;
            continue;
        }
        let c = b[i];
        let (c, n) = if c < 0x80 {
            (c, 1)
        } else {
            // unicode slashes: U+2215 U+2216 (e2 88 95/96), U+FF0F U+FF3C (ef bc 8f / ef bc bc)
            let t = &b[i..];
            if t.starts_with("\u{2215}".as_bytes())
                || t.starts_with("\u{2216}".as_bytes())
                || t.starts_with("\u{FF0F}".as_bytes())
                || t.starts_with("\u{FF3C}".as_bytes())
            {
                (b'/', 3)
            } else {
                (c, 1)
            }
        };
        let c = if c == b'\\' { b'/' } else { c };
        if c == 0 {
            i += n;
            continue;
        }
        if c == b'/' {
            let l = out.len();
            if l > 0 && out[l - 1] == b'/' {
                i += n;
                continue;
            }
            if l > 1 && out[l - 1] == b'.' && out[l - 2] == b'/' {
                // "/./" -> "/": drop the '.' already written
                out.pop();
                offs.pop();
                i += n;
                continue;
            }
        }
        out.push(c);
        offs.push(i as u32);
        i += n;
    }
    offs.push(b.len() as u32);
    // only ASCII bytes were dropped or replaced and whole 3-byte slashes replaced by '/':
    // the rest of every UTF-8 sequence was copied intact
    match String::from_utf8(out) {
        Ok(s) => (Cow::Owned(s), Some(offs)),
        Err(_) => (Cow::Borrowed(input), None),
    }
}

/// [`path_view`] as a loop over every byte: the reference of the tests.
#[cfg(test)]
pub(super) fn path_view_bytes(input: &str) -> (Cow<'_, str>, Option<Vec<u32>>) {
    let b = input.as_bytes();
    let needs = memchr::memchr2(b'\\', 0, b).is_some()
        || DOTSEG_FINDER.find(b).is_some()
        || (!b.is_ascii() && unicode_marks(b).slash);
    if !needs {
        return (Cow::Borrowed(input), None);
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut offs: Vec<u32> = Vec::with_capacity(b.len() + 1);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (c, n) = if c < 0x80 {
            (c, 1)
        } else {
            // unicode slashes: U+2215 U+2216 (e2 88 95/96), U+FF0F U+FF3C (ef bc 8f / ef bc bc)
            let t = &b[i..];
            if t.starts_with("\u{2215}".as_bytes())
                || t.starts_with("\u{2216}".as_bytes())
                || t.starts_with("\u{FF0F}".as_bytes())
                || t.starts_with("\u{FF3C}".as_bytes())
            {
                (b'/', 3)
            } else {
                (c, 1)
            }
        };
        let c = if c == b'\\' { b'/' } else { c };
        if c == 0 {
            i += n;
            continue;
        }
        if c == b'/' {
            let l = out.len();
            if l > 0 && out[l - 1] == b'/' {
                i += n;
                continue;
            }
            if l > 1 && out[l - 1] == b'.' && out[l - 2] == b'/' {
                // "/./" -> "/": drop the '.' already written
                out.pop();
                offs.pop();
                i += n;
                continue;
            }
        }
        out.push(c);
        offs.push(i as u32);
        i += n;
    }
    offs.push(b.len() as u32);
    // only ASCII bytes were dropped or replaced and whole 3-byte slashes replaced by '/':
    // the rest of every UTF-8 sequence was copied intact
    match String::from_utf8(out) {
        Ok(s) => (Cow::Owned(s), Some(offs)),
        Err(_) => (Cow::Borrowed(input), None),
    }
}

pub(super) fn is_delim(c: u8) -> bool {
    c.is_ascii_whitespace() || b"\"'`=:;,|&<>(){}[]*~@$!.".contains(&c)
}

pub(super) fn is_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_.~-".contains(&c)
}

/// Any file rule in a separator-normalised view `v`. `path`: the request path (every kept
/// restricted entry applies), else a value (value-sensitive entries only).
pub(super) fn sensitive(
    v: &str,
    vb: &[u8],
    path: bool,
) -> Option<(&'static str, std::ops::Range<usize>)> {
    let fa = &*FILES;
    let has_sep = vb.contains(&b'/');
    let check = |kind: Kind, s: usize, e: usize| -> Option<&'static str> {
        let before = if s > 0 { Some(vb[s - 1]) } else { None };
        let after = vb.get(e).copied();
        let last = vb[e - 1];
        let seg_end = !last.is_ascii_alphanumeric()
            || !after.is_some_and(|n| n.is_ascii_alphanumeric() || n == b'_' || n == b'-');
        let ok = match kind {
            Kind::Root => {
                before.is_none_or(is_delim)
                    && if last == b'/' {
                        after.is_some_and(is_path_char)
                    } else {
                        after.is_none_or(|n| n == b'/' || !is_path_char(n))
                    }
            }
            Kind::Target => (before.is_none() || before == Some(b'/')) && seg_end,
            Kind::Drive => {
                before == Some(b':')
                    && s >= 2
                    && vb[s - 2].is_ascii_alphabetic()
                    && (s < 3 || !vb[s - 3].is_ascii_alphanumeric())
                    && seg_end
            }
            Kind::Restricted(value_ok) => {
                if !path && !value_ok {
                    return None;
                }
                let ok_before = vb[s] == b'/' || before == Some(b'/') || (s == 0 && has_sep);
                ok_before && seg_end
            }
        };
        ok.then_some(match kind {
            Kind::Restricted(true) => "lfi-sensitive-file",
            Kind::Restricted(false) => "lfi-restricted-path",
            _ => "lfi-os-file",
        })
    };
    // skip both automata unless some '/' (or the start) is followed by bytes that begin a
    // pattern (a few instructions a `/`, against the automaton's stop at each one)
    let gate = fa.may_match(vb);
    let found = (|| {
        if !gate {
            return sql_backup(v).map(|r| ("lfi-sensitive-file", r.start, r.end));
        }
        if vb.first() != Some(&b'/') {
            let input = aho_corasick::Input::new(v).anchored(aho_corasick::Anchored::Yes);
            if let Some(m) = fa.start.find(input) {
                let kind = fa.start_kinds[m.pattern().as_usize()];
                if let Some(rule) = check(kind, 0, m.end()) {
                    return Some((rule, 0, m.end()));
                }
            }
        }
        let ac = if vb.len() > 2048 {
            &fa.main_long
        } else {
            &fa.main
        };
        for m in ac.find_overlapping_iter(v) {
            let (kind, prefixed) = fa.main_kinds[m.pattern().as_usize()];
            let s = m.start() + usize::from(prefixed);
            if let Some(rule) = check(kind, s, m.end()) {
                return Some((rule, s, m.end()));
            }
        }
        sql_backup(v).map(|r| ("lfi-sensitive-file", r.start, r.end))
    })();
    let (rule, s, mut e) = found?;
    // extend OS matches to the end of the path token (bounded), for a readable span
    if rule == "lfi-os-file" {
        let lim = (e + 256).min(vb.len());
        while e < lim && (is_path_char(vb[e]) || vb[e] == b'/') {
            e += 1;
        }
    }
    Some((rule, s..e))
}

pub(super) fn files(input: &str, path: bool, fl: Flags) -> Option<Finding> {
    if !fl.has(C_BSL | C_NUL | C_HIGH) && !FILES.may_match(input.as_bytes()) {
        // the normalised view is the value itself (no "\\", NUL, unicode slash or "/./"),
        // and no pattern can start in it: only the SQL dump names and hidden segments remain
        if let Some(span) = (!fl.has(C_WS) && fl.has(C_QL))
            .then(|| sql_backup_no_ws(input))
            .flatten()
        {
            return Some(Finding {
                rule: "lfi-sensitive-file",
                span,
            });
        }
        if path {
            return hidden_segment(input).map(|span| Finding {
                rule: "lfi-hidden-path",
                span,
            });
        }
        return None;
    }
    let (view, offs) = path_view(input);
    let v = view.as_ref();
    let vb = v.as_bytes();
    let map = |r: std::ops::Range<usize>| match &offs {
        Some(o) => o[r.start] as usize..o[r.end] as usize,
        None => r,
    };
    if let Some((rule, r)) = sensitive(v, vb, path) {
        return Some(Finding { rule, span: map(r) });
    }
    if path {
        return hidden_segment(v).map(|r| Finding {
            rule: "lfi-hidden-path",
            span: map(r),
        });
    }
    None
}

/// The request path: everything [`detect`](super::detect) looks for, plus restricted files
/// that are only suspicious as a path (`/.gitignore`, `/wp-content/debug.log`, `/@id/…`; rule
/// `lfi-restricted-path`) and hidden segments (`lfi-hidden-path`: a segment starting with `.`
/// and a letter, digit or `_`, e.g. `/.claude/settings.json`, except `/.well-known/`).
/// Applications behind this layer do not route hidden directories; scanners probe them.
/// Project files such as `/package.json` or `/config.json` are left to the 404-only scanner
/// signal (`scanner::detect_probe_path`): an application may really serve those.
pub fn detect_path(path: &str) -> Option<Finding> {
    detect_impl(path, true)
}

/// A `/.name` segment (not `.well-known`) in a normalised path: the segment's range.
pub(super) fn hidden_segment(v: &str) -> Option<std::ops::Range<usize>> {
    let vb = v.as_bytes();
    for i in HIDDEN_FINDER.find_iter(vb) {
        let s = i + 1;
        let Some(&c) = vb.get(s + 1) else { continue };
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        let mut e = s + 1;
        while e < vb.len() && vb[e] != b'/' && vb[e] != b'?' {
            e += 1;
        }
        while !v.is_char_boundary(e) {
            e -= 1;
        }
        if v[s..e].eq_ignore_ascii_case(".well-known") {
            continue;
        }
        return Some(s..e);
    }
    None
}

/// A value that is a shell redirection into an absolute path (`>/tmp/x`, `>>/var/www/x.php`;
/// rule `lfi-shell-redirect`, CRS 930120): the value, meant as an argument, writes a file
/// where the shell puts it. The `>` must start the value and touch the path, the path have two
/// segments, and the value hold no blank: `> /r/rust is great` (a quote) and `a > /b` do not
/// fire.
pub(super) fn shell_redirect(input: &str) -> Option<Finding> {
    let lead = input.len() - input.trim_start().len();
    let t = input[lead..].trim_end();
    let tb = t.as_bytes();
    let k = match tb {
        [b'>', b'>', ..] => 2,
        [b'>', ..] => 1,
        _ => return None,
    };
    let path = &tb[k..];
    let ok = path.len() >= 4
        && path[0] == b'/'
        && (path[1].is_ascii_alphanumeric() || matches!(path[1], b'.' | b'_'))
        && memchr::memchr(b'/', &path[1..]).is_some_and(|p| p + 2 < path.len())
        && !tb.iter().any(u8::is_ascii_whitespace);
    ok.then(|| Finding {
        rule: "lfi-shell-redirect",
        span: lead..lead + t.len(),
    })
}
