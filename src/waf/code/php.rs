//! PHP shapes that are not calls: open tags, `$` variables, bulletin-board tags, serialized
//! objects, `php.ini` directives and session file names.

use super::{
    code_position, ident_end, skip_blanks, starts_ci, Hit, R_PHP_CONFIG, R_PHP_DATA_URI,
    R_PHP_SERIALIZED, R_PHP_SESSION, R_PHP_TAG, R_PHP_VARIABLE,
};

/// `<?php`, `<?=`, `<? code`, `<?xml :code` (not `<?xml version=...`), and a value ending
/// in `<?`.
pub(super) fn open_tags(t: &[u8]) -> Option<Hit> {
    for p in memchr::memmem::find_iter(t, b"<?") {
        let a = p + 2;
        let hit = |e: usize| Some((R_PHP_TAG, p, e));
        if a >= t.trim_ascii_end().len() || t.get(a) == Some(&b'=') {
            return hit(a.min(t.len()));
        }
        let w = skip_blanks(t, a);
        if starts_ci(t, w, b"php") {
            return hit(w + 3);
        }
        if starts_ci(t, a, b"xml") {
            // `<?xml version="1.0"?>` is XML; `<?xml :echo 1;` and `<?xml ();` are PHP's
            // short tag followed by code
            let n = skip_blanks(t, a + 3);
            if t.get(n)
                .is_some_and(|&c| matches!(c, b':' | b'(' | b';' | b')'))
            {
                return hit(n + 1);
            }
            continue;
        }
        if w > a && t.get(w) == Some(&b'$') {
            return hit(w + 1);
        }
        if w > a && t.get(w).is_some_and(u8::is_ascii_alphabetic) {
            // `<? echo`, `<? exec(`: a statement word, or a word followed by code
            let e = ident_end(t, w);
            let next = skip_blanks(t, e);
            let code = matches!(t.get(next), Some(b'(' | b'\'' | b'"' | b'$' | b';' | b'`'));
            if code || STATEMENTS.iter().any(|k| t[w..e].eq_ignore_ascii_case(k)) {
                return hit(e);
            }
        }
    }
    None
}

/// Words that open a PHP statement after `<?`.
const STATEMENTS: &[&[u8]] = &[
    b"echo",
    b"print",
    b"include",
    b"require",
    b"eval",
    b"system",
    b"exec",
    b"passthru",
    b"phpinfo",
    b"die",
    b"exit",
    b"return",
    b"foreach",
    b"function",
    b"var_dump",
];

/// `[php]`, `[/php]`, `[\php]`, `{php}`, `{/php}`: PHP blocks of forum and template engines.
/// (`FAST`: not a bracket is read in a text without `php`.)
pub(super) fn bb_tags<const FAST: bool>(t: &[u8]) -> Option<Hit> {
    if FAST && find_ci(t, b"php").is_none() {
        return None;
    }
    for p in memchr::memchr2_iter(b'[', b'{', t) {
        let close = if t[p] == b'[' { b']' } else { b'}' };
        let mut a = p + 1;
        if matches!(t.get(a), Some(b'/' | b'\\')) {
            a += 1;
        }
        if starts_ci(t, a, b"php") && t.get(a + 3) == Some(&close) {
            return Some((R_PHP_TAG, p, a + 4));
        }
    }
    None
}

/// PHP's superglobals (case-sensitive, as in PHP).
pub(super) const SUPERGLOBALS: &[&[u8]] = &[
    b"_GET",
    b"_POST",
    b"_COOKIE",
    b"_REQUEST",
    b"_SERVER",
    b"_FILES",
    b"_ENV",
    b"_SESSION",
    b"GLOBALS",
    b"HTTP_RAW_POST_DATA",
    b"HTTP_GET_VARS",
    b"HTTP_POST_VARS",
    b"HTTP_COOKIE_VARS",
    b"HTTP_SERVER_VARS",
];

/// `$_GET`, `$GLOBALS`; variable functions (`$f(1)`, `$__['o'](5)`, `${'a'}(11)`,
/// `$foo->$bar()`); variable variables with PHP's own syntax (`$ {'a'}`, `${$x}`).
///
/// `FAST` skips the bracket matching of a `{` or `[` with no closing byte in reach (found once
/// per value, [`super::NextByte`]); the plain loop is kept for the tests that compare them.
pub(super) fn dollars<const FAST: bool>(t: &[u8]) -> Option<Hit> {
    let mut closers = (super::NextByte::new(b'}'), super::NextByte::new(b']'));
    let mut closing = |t: &[u8], open: usize| {
        if FAST {
            let close = if t[open] == b'[' {
                &mut closers.1
            } else {
                &mut closers.0
            };
            if close.at(t, open) >= (open + MATCHING_REACH).min(t.len()) {
                return None;
            }
        }
        matching(t, open)
    };
    let mut from = 0;
    let starts = if FAST {
        Dollars::Live(live_runs(t))
    } else {
        Dollars::All(super::positions(t, b'$', b'$'))
    };
    for p in starts {
        if p < from {
            continue;
        }
        let mut i = p + 1;
        while t.get(i) == Some(&b'$') {
            i += 1;
        }
        from = i;
        let e = ident_end(t, i);
        if e > i && SUPERGLOBALS.contains(&&t[i..e]) {
            return Some((R_PHP_VARIABLE, p, e));
        }
        // `$ {`: blanks between `$` and `{` are PHP's alone
        let brace = skip_blanks(t, i);
        let mut j;
        if t.get(brace) == Some(&b'{') {
            let Some(close) = closing(t, brace) else {
                continue;
            };
            let inner = skip_blanks(t, brace + 1);
            let quoted_or_var = matches!(t.get(inner), Some(b'\'' | b'"' | b'$' | b'@'));
            if brace > i || quoted_or_var {
                return Some((R_PHP_VARIABLE, p, close + 1));
            }
            j = close + 1;
        } else if e > i && !t[i].is_ascii_digit() {
            j = e;
        } else {
            continue;
        }
        // chains: `[...]`, `{...}`, `->name`, `::name`
        let mut blanks = false;
        loop {
            let n = skip_blanks(t, j);
            blanks |= n > j;
            match t.get(n) {
                Some(b'[' | b'{') => match closing(t, n) {
                    Some(c) => j = c + 1,
                    None => break,
                },
                Some(b'-') if t.get(n + 1) == Some(&b'>') => {
                    let s = n + 2 + usize::from(t.get(n + 2) == Some(&b'$'));
                    j = ident_end(t, s);
                }
                Some(b'(') => {
                    let at = if p > 0 && t[p - 1] == b'@' { p - 1 } else { p };
                    if !blanks || code_position(t, at) {
                        let end = memchr::memchr(b')', &t[n..(n + 128).min(t.len())])
                            .map_or(t.len().min(n + 128), |c| n + c + 1);
                        return Some((R_PHP_VARIABLE, at, end));
                    }
                    break;
                }
                _ => break,
            }
            if j <= n {
                break;
            }
        }
    }
    None
}

/// (FAST) False when [`dollars`] cannot fire on `t`, whose [`super::CLASS`] mask is `mask`:
/// it fires on a superglobal (each opens with `_`, `G` or `H`, right after a `$`), on a call
/// (a `(`), or on a `${...}` or `$ {...}` closed by [`matching`] (a `}` with a `{` in the
/// [`MATCHING_REACH`] bytes before it). A text of `${ ` openers with no `}` in reach, or words
/// but no `$_`, is not read `$` by `$`.
pub(super) fn dollars_may_fire(t: &[u8], mask: u16) -> bool {
    mask & super::T_PAREN != 0
        || (mask & (super::T_UNDERSCORE | super::T_UPPER) != 0
            && super::find_pair(
                t,
                |c| c == b'$',
                |c| matches!(c, b'_' | b'G' | b'H'),
                |_| true,
            )
            .is_some())
        || memchr::memchr_iter(b'}', t)
            .any(|q| memchr::memrchr(b'{', &t[q.saturating_sub(MATCHING_REACH - 1)..q]).is_some())
}

/// How far [`matching`] looks.
const MATCHING_REACH: usize = 64;

/// The offset of the bracket closing the one at `open` (at most [`MATCHING_REACH`] bytes on),
/// nesting counted: the brackets of the window from two block masks, read bit by bit.
fn matching(t: &[u8], open: usize) -> Option<usize> {
    let (o, c) = match t[open] {
        b'[' => (b'[', b']'),
        b'{' => (b'{', b'}'),
        _ => (b'(', b')'),
    };
    let opens = super::block_mask(t, open, |b| b == o);
    let mut m = opens | super::block_mask(t, open, |b| b == c);
    let mut depth = 0;
    while m != 0 {
        let k = m.trailing_zeros();
        m &= m - 1;
        if opens >> k & 1 == 1 {
            depth += 1;
        } else {
            depth -= 1;
            if depth == 0 {
                return Some(open + k as usize);
            }
        }
    }
    None
}

/// [`matching`] as a loop over the window's bytes: the reference of the tests.
#[cfg(test)]
pub(super) fn matching_bytes(t: &[u8], open: usize) -> Option<usize> {
    let (o, c) = match t[open] {
        b'[' => (b'[', b']'),
        b'{' => (b'{', b'}'),
        _ => (b'(', b')'),
    };
    let mut depth = 0;
    for (k, &b) in t[open..(open + MATCHING_REACH).min(t.len())]
        .iter()
        .enumerate()
    {
        if b == o {
            depth += 1;
        } else if b == c {
            depth -= 1;
            if depth == 0 {
                return Some(open + k);
            }
        }
    }
    None
}

#[cfg(test)]
pub(super) fn matching_masks(t: &[u8], open: usize) -> Option<usize> {
    matching(t, open)
}

// (one block mask covers the window)
const _: () = assert!(MATCHING_REACH == super::BLOCK);

/// The `$` positions [`dollars`] reads: all of them, or (FAST) [`live_runs`].
enum Dollars<'a> {
    All(super::Positions<'a, fn(u8) -> bool>),
    Live(LiveRuns<'a>),
}

impl Iterator for Dollars<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            Dollars::All(p) => p.next(),
            Dollars::Live(l) => l.next(),
        }
    }
}

/// (FAST) The first `$` of each run of `$` whose reading [`dollars`] goes on with: runs
/// followed by an identifier byte or a blank, or by a `{` with a `}` in the
/// [`MATCHING_REACH`] bytes from it (else `closing` gives up at once). After any other run
/// `dollars` stops at the byte that follows it, so a text dense with `${ ` openers and no
/// closer near them, or `$` before punctuation, gives no position: its `$` are found 64 bytes
/// at a time and none is read.
fn live_runs(t: &[u8]) -> LiveRuns<'_> {
    LiveRuns {
        t,
        closers: super::NextByte::new(b'}'),
        base: 0,
        mask: 0,
        started: false,
    }
}

struct LiveRuns<'a> {
    t: &'a [u8],
    closers: super::NextByte,
    /// The block `mask` describes...
    base: usize,
    /// ... and its last `$` of a run not yet looked at.
    mask: u64,
    started: bool,
}

impl LiveRuns<'_> {
    /// The last `$` of each run in the block at `base`.
    fn block(&self, base: usize) -> u64 {
        let t = self.t;
        let dollars = super::block_mask(t, base, |c| c == b'$');
        let next = t.get(base + super::BLOCK) == Some(&b'$');
        dollars & !(dollars >> 1 | u64::from(next) << 63)
    }
}

impl Iterator for LiveRuns<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let t = self.t;
        loop {
            while self.mask == 0 {
                if self.started {
                    self.base += super::BLOCK;
                }
                self.started = true;
                if self.base >= t.len() {
                    return None;
                }
                self.mask = self.block(self.base);
            }
            let last = self.base + self.mask.trailing_zeros() as usize;
            self.mask &= self.mask - 1;
            let i = last + 1;
            let go_on = match t.get(i) {
                Some(b'{') => self.closers.at(t, i) < (i + MATCHING_REACH).min(t.len()),
                Some(&c) => super::is_ident(c) || c.is_ascii_whitespace(),
                None => false,
            };
            if !go_on {
                continue;
            }
            let mut p = last;
            while p > 0 && t[p - 1] == b'$' {
                p -= 1;
            }
            return Some(p);
        }
    }
}

/// A PHP serialized object or array: `O:8:"stdClass":1:{`, `C:11:"ArrayObject":...`,
/// `a:2:{i:0;`.
pub(super) fn serialized(t: &[u8]) -> Option<Hit> {
    let digits = |mut i: usize| {
        let s = i;
        while i < t.len() && t[i].is_ascii_digit() && i - s < 6 {
            i += 1;
        }
        (i > s).then_some(i)
    };
    for p in memchr::memchr_iter(b':', t) {
        if p == 0 || (p >= 2 && t[p - 2].is_ascii_alphanumeric()) {
            continue;
        }
        let s = p - 1;
        match t[s] {
            b'O' | b'C' => {
                let Some(n) = digits(p + 1) else { continue };
                if t.get(n) != Some(&b':') || t.get(n + 1) != Some(&b'"') {
                    continue;
                }
                let Some(q) = memchr::memchr(b'"', &t[n + 2..(n + 2 + 128).min(t.len())]) else {
                    continue;
                };
                let q = n + 2 + q;
                if q == n + 2 || t.get(q + 1) != Some(&b':') {
                    continue;
                }
                let Some(m) = digits(q + 2) else { continue };
                if t.get(m) == Some(&b':') && t.get(m + 1) == Some(&b'{') {
                    return Some((R_PHP_SERIALIZED, s, m + 2));
                }
            }
            b'a' => {
                let Some(n) = digits(p + 1) else { continue };
                if t.get(n) == Some(&b':')
                    && t.get(n + 1) == Some(&b'{')
                    && t.get(n + 3) == Some(&b':')
                    && t.get(n + 2)
                        .is_some_and(|c| matches!(c, b'i' | b's' | b'b' | b'd' | b'a' | b'O'))
                {
                    return Some((R_PHP_SERIALIZED, s, n + 4));
                }
            }
            _ => {}
        }
    }
    None
}

/// `php.ini` directives that change what PHP may do (written for this crate from the
/// manual's directive list); set with `=` at a line's start they fire anywhere.
pub(super) const DIRECTIVES: &[&str] = &[
    "allow_url_include",
    "allow_url_fopen",
    "auto_prepend_file",
    "auto_append_file",
    "disable_functions",
    "disable_classes",
    "open_basedir",
    "safe_mode",
    "register_globals",
    "magic_quotes_gpc",
    "display_errors",
    "error_log",
    "log_errors",
    "memory_limit",
    "max_execution_time",
    "upload_tmp_dir",
    "extension_dir",
    "include_path",
    "sendmail_path",
    "short_open_tag",
    "file_uploads",
    "post_max_size",
    "upload_max_filesize",
    "zend_extension",
    "unserialize_max_depth",
    "unserialize_callback_func",
    "user_ini.filename",
    "doc_root",
];

/// Directive families (`opcache.jit`, `session.save_path`).
pub(super) const FAMILIES: &[&str] = &[
    "opcache.",
    "mbstring.",
    "session.",
    "suhosin.",
    "xdebug.",
    "pcre.",
    "phar.",
    "zend.",
    "mysqli.",
    "assert.",
];

/// Directives that are plain words: only a value that is nothing but `name=value`.
const PLAIN: &[&str] = &["engine", "extension", "precision", "smtp", "smtp_port"];

/// A `php.ini` directive set at a line's start: `allow_url_include=1`,
/// `opcache.jit_max_polymorphic_calls=50`, `memory_limit = 512M`; a plain-word directive
/// (`engine=true`) only as the whole value.
pub(super) fn config(t: &[u8], _strict: bool) -> Option<Hit> {
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', t).map(|p| p + 1));
    for s in starts {
        let s = skip_blanks(t, s);
        let mut e = s;
        while e < t.len()
            && e - s < 64
            && (t[e].is_ascii_alphanumeric() || matches!(t[e], b'_' | b'.'))
        {
            e += 1;
        }
        if e == s {
            continue;
        }
        let eq = skip_blanks(t, e);
        if t.get(eq) != Some(&b'=') {
            continue;
        }
        let name = &t[s..e];
        // (every directive and family holds a `_` or a `.`: a test checks)
        let known = name.iter().any(|&c| c == b'_' || c == b'.')
            && (DIRECTIVES
                .iter()
                .any(|d| name.eq_ignore_ascii_case(d.as_bytes()))
                || FAMILIES
                    .iter()
                    .any(|f| starts_ci(name, 0, f.as_bytes()) && name.len() > f.len()));
        let plain = s == 0
            && PLAIN
                .iter()
                .any(|d| name.eq_ignore_ascii_case(d.as_bytes()))
            && {
                let v = t[eq + 1..].trim_ascii();
                !v.is_empty()
                    && v.len() <= 64
                    && !v.iter().any(|c| c.is_ascii_whitespace() || *c == b'=')
            };
        if known || plain {
            return Some((R_PHP_CONFIG, s, eq + 1));
        }
    }
    None
}

/// A PHP session file name: `sess_` and at least 20 id characters, at the value's start or
/// after a path separator (`/tmp/sess_...`).
pub(super) fn session_file(t: &[u8]) -> Option<Hit> {
    let mut from = 0;
    while let Some(q) = find_ci(&t[from..], b"sess_") {
        let p = from + q;
        from = p + 5;
        if p > 0 && !matches!(t[p - 1], b'/' | b'\\' | b' ' | b'"' | b'\'' | b'=') {
            continue;
        }
        let mut e = p + 5;
        while e < t.len() && (t[e].is_ascii_alphanumeric() || matches!(t[e], b',' | b'-')) {
            e += 1;
        }
        if e - (p + 5) >= 20 && (e == t.len() || !t[e].is_ascii_punctuation() || t[e] == b'"') {
            return Some((R_PHP_SESSION, p, e));
        }
    }
    None
}

/// The first ASCII case-insensitive occurrence of `needle` (lower case) in `h`.
fn find_ci(h: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), h).find(|&i| starts_ci(h, i, needle))
}

/// `data:text/plain`, `data:application/x-httpd-php` opening the value: PHP's `data:`
/// stream wrapper, which `include` runs.
pub(super) fn data_uri(t: &[u8]) -> Option<Hit> {
    let s = skip_blanks(t, 0);
    if !starts_ci(t, s, b"data:") {
        return None;
    }
    let a = s + 5 + usize::from(t[s + 5..].starts_with(b"//"));
    [
        &b"text/plain"[..],
        b"application/x-httpd-php",
        b"text/x-php",
    ]
    .iter()
    .find(|m| starts_ci(t, a, m))
    .map(|m| (R_PHP_DATA_URI, s, a + m.len()))
}
