//! The SQL tokenizer: bytes to folded tokens (strings in their quote context, numbers,
//! words classed by the word tables, operators, comments), folding libinjection-style as
//! it goes (see [`push`]).

use super::token::*;
use super::words::{classify_word, is_catalog, is_pg_type};

#[inline]
pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0 | 0xa0)
}
pub(super) const C_WSTART: u8 = 1;
pub(super) const C_WCHAR: u8 = 2;

/// Byte classes for the word scanners: letters, `_`, `$` and non-ASCII start a word;
/// digits continue one.
pub(super) static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            t[i] = C_WSTART | C_WCHAR;
        } else if c.is_ascii_digit() {
            t[i] = C_WCHAR;
        }
        i += 1;
    }
    t
};

#[inline]
pub(super) fn is_word_start(c: u8) -> bool {
    BYTE_CLASS[c as usize] & C_WSTART != 0
}
#[inline]
pub(super) fn is_word_char(c: u8) -> bool {
    BYTE_CLASS[c as usize] & C_WCHAR != 0
}

/// Haystacks shorter than this are searched by a byte loop: below it, setting up a `memchr`
/// call costs more than the loop (most query parameters, header values and JSON strings).
const SHORT: usize = 32;

/// `memchr::memchr(c, hay)`, by a byte loop on a short `hay`.
#[inline]
pub(super) fn find_byte(c: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < SHORT {
        hay.iter().position(|&x| x == c)
    } else {
        memchr::memchr(c, hay)
    }
}

/// `memchr::memchr2(c1, c2, hay)`, by a byte loop on a short `hay`.
#[inline]
pub(super) fn find_byte2(c1: u8, c2: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < SHORT {
        hay.iter().position(|&x| x == c1 || x == c2)
    } else {
        memchr::memchr2(c1, c2, hay)
    }
}

/// Scans a string body starting at `i` (just after the opening quote). Returns (end, closed).
pub(super) fn scan_string(b: &[u8], mut i: usize, q: u8) -> (usize, bool) {
    while i < b.len() {
        match find_byte2(q, b'\\', &b[i..]) {
            None => return (b.len(), false),
            Some(k) => {
                let j = i + k;
                if b[j] == b'\\' {
                    i = j + 2;
                } else if j + 1 < b.len() && b[j + 1] == q {
                    i = j + 2; // doubled quote
                } else {
                    return (j + 1, true);
                }
            }
        }
    }
    (b.len(), false)
}

/// Skips whitespace and closed `/* */` comments from `i`; returns the next position.
pub(super) fn skip_ws_comments(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i + 1 < b.len() && b[i] == b'/' && b[i + 1] == b'*' && b.get(i + 2) != Some(&b'!') {
            match memchr::memmem::find(&b[i + 2..], b"*/") {
                Some(k) => i = i + 2 + k + 2,
                None => return i,
            }
        } else {
            return i;
        }
    }
}

/// Tokenizes `b` (as if preceded by quote `q` when `q != 0`) into `out`, folding as it goes.
/// Returns false when the context is meaningless (quote context whose string never closes).
///
/// With `limit` below `usize::MAX` it stops once more than `limit` leading tokens are
/// final: no later token can fold into them (see [`settled`]).
pub(super) fn tokenize(b: &[u8], q: u8, ansi: bool, out: &mut Vec<Tok>, limit: usize) -> bool {
    let n = b.len();
    let mut i = 0;
    if q != 0 {
        let (e, closed) = if ansi {
            match find_byte(q, b) {
                Some(p) => (p + 1, true),
                None => (n, false),
            }
        } else {
            scan_string(b, 0, q)
        };
        if !closed {
            return false;
        }
        out.push(Tok {
            t: T_STR,
            a: q,
            f: F_CLOSED | F_BREAK | if ansi { F_BSLASH } else { 0 },
            g: false,
            s: 0,
            e,
        });
        i = e;
    }
    let mut glue = false;
    while i < n {
        let c = b[i];
        if is_ws(c) {
            i += 1;
            glue = false;
            continue;
        }
        let before = out.len();
        let glue_now = glue;
        glue = false;
        if c == 0xc2 && b.get(i + 1) == Some(&0xa0) {
            i += 2;
            continue;
        }
        let start = i;
        match c {
            b'\'' | b'"' => {
                let (e, closed) = scan_string(b, i + 1, c);
                push(
                    out,
                    Tok {
                        t: T_STR,
                        a: c,
                        f: if closed { F_CLOSED } else { 0 },
                        g: false,
                        s: start,
                        e,
                    },
                );
                i = e;
            }
            b'`' => {
                let e = match find_byte(b'`', &b[i + 1..]) {
                    Some(k) => i + 1 + k + 1,
                    None => n,
                };
                let inner = &b[(i + 1).min(e)..e.saturating_sub(1).max(i + 1)];
                let a = if is_catalog(inner) { W_CATALOG } else { 0 };
                push(
                    out,
                    Tok {
                        t: T_WORD,
                        a,
                        f: b'`',
                        g: false,
                        s: start,
                        e,
                    },
                );
                i = e;
            }
            b'0'..=b'9' => {
                i = scan_number(b, i);
                // MySQL `1.e(` / `1.e.tables`: a dangling exponent glued to `(` or `.name`
                let quirk = i >= 2
                    && b[i - 1] | 0x20 == b'e'
                    && b[i - 2] == b'.'
                    && matches!(b.get(i), Some(b'(') | Some(b'.'));
                push(out, tok(T_NUM, u8::from(quirk), start, i));
            }
            b'.' if i + 1 < n && b[i + 1].is_ascii_digit() => {
                i = scan_number(b, i);
                push(out, tok(T_NUM, 0, start, i));
            }
            b'@' => {
                let mut j = i + 1;
                let sys = j < n && b[j] == b'@';
                if sys {
                    j += 1;
                }
                let name_start = j;
                while j < n && (is_word_char(b[j]) || b[j] == b'.') {
                    j += 1;
                }
                let a = if sys && j > name_start { 1 } else { 0 };
                push(out, tok(T_VAR, a, start, j));
                i = j;
            }
            b'#' | b'-' if c == b'#' || (i + 1 < n && b[i + 1] == b'-') => {
                match find_byte(b'\n', &b[i..]) {
                    Some(k) => i += k + 1, // comment ends before input: whitespace
                    None => {
                        // MySQL needs `-- ` (whitespace after the dashes); `--word` is
                        // search syntax far more often than SQL
                        let body = b.get(i + if c == b'#' { 1 } else { 2 }).copied();
                        let strict = match body {
                            None => true,
                            Some(d) => c == b'#' || !d.is_ascii_alphanumeric(),
                        };
                        push(
                            out,
                            Tok {
                                t: T_COMMENT,
                                a: c,
                                f: u8::from(strict),
                                g: false,
                                s: start,
                                e: n,
                            },
                        );
                        i = n;
                    }
                }
            }
            b'/' if i + 1 < n && b[i + 1] == b'*' => {
                if i + 2 < n && b[i + 2] == b'!' {
                    // MySQL versioned comment: its body is SQL
                    i += 3;
                    let mut d = 0;
                    while i < n && d < 6 && b[i].is_ascii_digit() {
                        i += 1;
                        d += 1;
                    }
                } else {
                    match memchr::memmem::find(&b[i + 2..], b"*/") {
                        Some(k) => {
                            glue = i > 0 && !is_ws(b[i - 1]);
                            i = i + 2 + k + 2;
                        }
                        None => {
                            push(
                                out,
                                Tok {
                                    t: T_COMMENT,
                                    a: b'/',
                                    f: 1,
                                    g: false,
                                    s: start,
                                    e: n,
                                },
                            );
                            i = n;
                        }
                    }
                }
            }
            b'*' if i + 1 < n && b[i + 1] == b'/' => i += 2, // end of /*! */ (or stray)
            b'\\' if i > 0 && is_word_char(b[i - 1]) && b.get(i + 1) == Some(&b'(') => {
                i += 1; // `md5\(`: see the word branch
            }
            b'(' => {
                push(out, tok(T_LP, 1, start, i + 1));
                i += 1;
            }
            b')' => {
                push(out, tok(T_RP, 1, start, i + 1));
                i += 1;
            }
            b',' => {
                push(out, tok(T_COMMA, 0, start, i + 1));
                i += 1;
            }
            b';' => {
                push(out, tok(T_SEMI, 0, start, i + 1));
                i += 1;
            }
            b'$' if dollar_quoted(b, i).is_some() => {
                // PostgreSQL dollar quoting: `$$text$$`, `$tag$text$tag$`
                let e = dollar_quoted(b, i).unwrap_or(n);
                push(
                    out,
                    Tok {
                        t: T_STR,
                        a: b'$',
                        f: F_CLOSED,
                        g: false,
                        s: start,
                        e,
                    },
                );
                i = e;
            }
            _ if is_word_start(c) => {
                // prefixed string literals: N'..', X'..', B'..', E'..'
                if i + 1 < n
                    && b[i + 1] == b'\''
                    && matches!(c | 0x20, b'n' | b'x' | b'b' | b'e')
                    && (i == 0 || !is_word_char(b[i - 1]))
                {
                    let (e, closed) = scan_string(b, i + 2, b'\'');
                    push(
                        out,
                        Tok {
                            t: T_STR,
                            a: b'\'',
                            f: if closed { F_CLOSED } else { 0 },
                            g: false,
                            s: start,
                            e,
                        },
                    );
                    i = e;
                    continue;
                }
                let mut j = i + 1;
                while j < n {
                    let d = b[j];
                    let next = b.get(j + 1).copied().unwrap_or(b' ');
                    // `a.b` / `a..b` qualified names and e-mail addresses are one word
                    let joins = is_word_char(d)
                        || (d == b'.' && (is_word_start(next) || next == b'.'))
                        || (d == b'@' && is_word_char(next));
                    if !joins {
                        break;
                    }
                    j += 1;
                }
                let mut next = skip_ws_comments(b, j);
                if next == j && b.get(j) == Some(&b'\\') && b.get(j + 1) == Some(&b'(') {
                    // `md5\(`: a shell/regex-escaped call paren
                    next += 1;
                }
                let called = next < n && b[next] == b'(';
                push(out, classify_word(&b[i..j], called, start, j));
                i = j;
            }
            _ => {
                let (t, a, len) = scan_op(b, i);
                let mut a = a;
                if a == O_CAST {
                    // `x::int` — only when glued on both sides and the type is a pg type
                    let before = i > 0 && !is_ws(b[i - 1]);
                    let mut j = i + 2;
                    while j < n && is_word_char(b[j]) {
                        j += 1;
                    }
                    if before && j > i + 2 && is_pg_type(&b[i + 2..j]) {
                        a = O_CAST_PG;
                    }
                }
                push(
                    out,
                    Tok {
                        t,
                        a,
                        f: c,
                        g: false,
                        s: start,
                        e: i + len,
                    },
                );
                i += len;
            }
        }
        if glue_now && out.len() > before {
            if let Some(t) = out.last_mut() {
                t.g = true;
            }
        }
        if out.len() > limit && settled(out) {
            break;
        }
    }
    true
}

/// A PostgreSQL dollar-quoted string at `i` (`$$..$$`, `$tag$..$tag$`, not glued to a word
/// before it), closed within [`DOLLAR_BODY`] bytes: the end of its closing delimiter. An
/// unclosed one (`$$10`) is read as before, as a word.
pub(super) fn dollar_quoted(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && is_word_char(b[i - 1]) {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() && j - i <= 16 && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    if b.get(j) != Some(&b'$') || b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let tag = &b[i..=j];
    let body = &b[j + 1..b.len().min(j + 1 + DOLLAR_BODY + tag.len())];
    memchr::memmem::find(body, tag).map(|k| j + 1 + k + tag.len())
}

/// How far a dollar-quoted string's closing delimiter is looked for (probes quote a few
/// bytes; the bound keeps a value full of `$tag$` openers linear).
const DOLLAR_BODY: usize = 256;

/// Are all tokens but the last final? Folding (see [`push`]) only ever pops trailing
/// operators, merges into the last token or the operand before a trailing operator (or
/// `||`), or
/// removes a `(` right before a trailing operand: none can reach past a last token that
/// is neither an operator nor `(` and does not follow a `(`.
pub(super) fn settled(out: &[Tok]) -> bool {
    let n = out.len();
    n >= 2
        && !matches!(out[n - 1].t, T_OP | T_LP)
        && !(out[n - 1].t == T_LOGIC && out[n - 1].f == b'|')
        && out[n - 2].t != T_LP
}

pub(super) fn scan_number(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    if b[i] == b'0' && i + 1 < n && matches!(b[i + 1], b'x' | b'X' | b'b' | b'B') {
        let hex = b[i + 1] | 0x20 == b'x';
        let mut j = i + 2;
        while j < n
            && (if hex {
                b[j].is_ascii_hexdigit()
            } else {
                matches!(b[j], b'0' | b'1')
            })
        {
            j += 1;
        }
        if j > i + 2 {
            return j;
        }
    }
    while i < n && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < n && b[i] == b'.' {
        i += 1;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < n && (b[i] | 0x20) == b'e' {
        // exponent (MySQL also accepts `1.e` with no digits)
        let mut j = i + 1;
        if j < n && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let ds = j;
        while j < n && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > ds || j >= n || !is_word_char(b[j]) {
            i = j;
        }
    }
    i
}

pub(super) fn scan_op(b: &[u8], i: usize) -> (u8, u8, usize) {
    let c = b[i];
    let d = b.get(i + 1).copied().unwrap_or(0);
    let e = b.get(i + 2).copied().unwrap_or(0);
    match (c, d, e) {
        (b'<', b'=', b'>') => (T_CMP, C_OTHER, 3),
        (b'-', b'>', b'>') => (T_OP, O_ARITH, 3),
        (b'<', b'=', _) | (b'>', b'=', _) | (b'<', b'>', _) | (b'!', b'=', _) | (b'=', b'=', _) => {
            (T_CMP, C_OTHER, 2)
        }
        (b'!', b'<', _) | (b'!', b'>', _) | (b'<', b'@', _) | (b'@', b'>', _) => {
            (T_CMP, C_OTHER, 2)
        }
        (b'?', b'|', _) | (b'?', b'&', _) => (T_CMP, C_OTHER, 2),
        (b'|', b'|', _) | (b'&', b'&', _) => (T_LOGIC, 0, 2),
        (b':', b'=', _) => (T_OP, O_OTHER, 2),
        (b':', b':', _) => (T_OP, O_CAST, 2),
        (b'-', b'>', _) => (T_OP, O_ARITH, 2),
        (b'<', b'<', _) | (b'>', b'>', _) => (T_OP, O_ARITH, 2),
        (b'=', _, _) | (b'<', _, _) | (b'>', _, _) | (b'?', _, _) => (T_CMP, C_OTHER, 1),
        (b'*', _, _) => (T_OP, O_STAR, 1),
        (b'+', _, _)
        | (b'-', _, _)
        | (b'/', _, _)
        | (b'%', _, _)
        | (b'^', _, _)
        | (b'|', _, _)
        | (b'&', _, _) => (T_OP, O_ARITH, 1),
        (b'~', _, _) | (b'!', _, _) => (T_OP, O_UNARY, 1),
        _ => {
            // any other byte (incl. stray UTF-8 continuation bytes): one whole char
            let mut len = 1;
            while i + len < b.len() && (b[i + len] & 0xc0) == 0x80 {
                len += 1;
            }
            (T_OP, O_OTHER, len)
        }
    }
}

#[inline]
pub(super) fn is_operand(t: u8) -> bool {
    matches!(t, T_NUM | T_STR | T_WORD | T_VAR)
}

/// Appends a token, applying libinjection-style folding against the previous tokens.
pub(super) fn push(out: &mut Vec<Tok>, mut t: Tok) {
    let len = out.len();
    if let Some(last) = out.last_mut() {
        // multi-word keywords
        match (last.t, last.a, t.t, t.a) {
            (T_UNION, _, T_KW, K_ALL) => {
                last.e = t.e;
                return;
            }
            (T_STMT, S_SELECT, T_KW, K_ALL) => {
                last.e = t.e;
                return;
            }
            (T_WORD, W_ORDER | W_GROUP, T_WORD, W_BY) => {
                last.t = T_CLAUSE;
                last.e = t.e;
                return;
            }
            (T_STMT, S_WAITFOR, T_KW, K_DELAY) => {
                last.a = S_WAITFOR_DELAY;
                last.e = t.e;
                return;
            }
            (T_KW, K_INTO, T_KW, K_OUTFILE) | (T_KW, K_PROCEDURE, T_WORD, W_ANALYSE) => {
                last.t = T_KW;
                last.a = K_OUTFILE;
                last.e = t.e;
                return;
            }
            (T_CMP, C_IS, T_OP, O_NOT) => {
                last.e = t.e;
                return;
            }
            (T_OP, O_NOT, T_CMP, C_LIKE | C_IS) | (T_WORD, W_SOUNDS, T_CMP, C_LIKE) => {
                last.t = T_CMP;
                last.a = C_LIKE;
                last.e = t.e;
                return;
            }
            (T_WORD, W_SIMILAR, T_KW, K_TO) => {
                last.t = T_CMP;
                last.a = C_LIKE;
                last.e = t.e;
                return;
            }
            (T_LP, _, T_LP, _) | (T_RP, _, T_RP, _) => {
                last.a = last.a.saturating_add(t.a);
                last.e = t.e;
                return;
            }
            _ => {}
        }
        // `( operand )` -> operand, unless the parens are a call's argument list
        if t.t == T_RP && len >= 2 {
            let inner = out[len - 1];
            let lp = out[len - 2];
            let callee = if len >= 3 { out[len - 3].t } else { T_END };
            if lp.t == T_LP && is_operand(inner.t) && callee != T_FUNC && callee != T_WORD {
                let m = lp.a.min(t.a);
                out.truncate(len - 2);
                let mut op = inner;
                if lp.a > m {
                    out.push(Tok { a: lp.a - m, ..lp });
                } else {
                    op.s = lp.s;
                }
                if t.a > m {
                    push(out, op);
                    push(out, Tok { a: t.a - m, ..t });
                } else {
                    op.e = t.e;
                    push(out, op);
                }
                return;
            }
        }
        // unary operators before an operand
        let last = out[len - 1];
        let operand_like = is_operand(t.t) || matches!(t.t, T_FUNC | T_LP | T_STMT);
        if operand_like
            && last.t == T_OP
            && (matches!(last.a, O_UNARY | O_NOT)
                || (last.a == O_ARITH && matches!(b_of(&last), b'-' | b'+')))
        {
            let prev_t = if len >= 2 { out[len - 2].t } else { T_END };
            if !(is_operand(prev_t) || prev_t == T_RP) {
                let s = out[len - 1].s;
                out.pop();
                t.s = s;
                push(out, t);
                return;
            }
        }
        // string concatenation: `'a'||'b'`, `$$a$$||$$b$$` -> one string (not after a
        // break-out: `x' || 'a'='a` is the probe itself)
        if t.t == T_STR && t.f & F_CLOSED != 0 && len >= 2 {
            let (last, prev) = (out[len - 1], out[len - 2]);
            if last.t == T_LOGIC
                && last.f == b'|'
                && prev.t == T_STR
                && prev.f & (F_CLOSED | F_BREAK) == F_CLOSED
            {
                out.pop();
                out[len - 2].e = t.e;
                return;
            }
        }
        // arithmetic folding: operand op operand -> operand
        if matches!(t.t, T_NUM | T_WORD | T_VAR | T_STR) && len >= 2 {
            let last = out[len - 1];
            let prev = out[len - 2];
            if last.t == T_OP
                && matches!(last.a, O_ARITH | O_STAR)
                && matches!(prev.t, T_NUM | T_WORD | T_VAR | T_STR)
                && prev.f & F_BREAK == 0
                && prev.a != W_CATALOG
                && !(prev.t == T_NUM && prev.a == 1)
            {
                out.pop();
                let p = &mut out[len - 2];
                if !(p.t == T_NUM && t.t == T_NUM) {
                    p.t = T_WORD;
                    p.a = 0;
                }
                p.e = t.e;
                return;
            }
        }
    }
    out.push(t);
}

/// First byte of an operator token (stored in `f` for operators).
pub(super) fn b_of(t: &Tok) -> u8 {
    t.f
}
