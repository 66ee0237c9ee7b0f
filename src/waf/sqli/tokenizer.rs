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

/// What the tokenizer reads at a position outside strings and comments ([`lex`]): the kind of
/// the next token, or of what the tokenizer steps over. One reading shared by [`tokenize`]
/// and by the passes that only need to know where strings and comments are (the windowed
/// scan, `super::spots`): they cannot disagree on where a token ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Lex {
    /// A blank byte (or a UTF-8 no-break space).
    Blank,
    /// A string (`'..'`, `".."`): its quote, closed or not.
    Str {
        quote: u8,
        closed: bool,
    },
    /// A prefixed string literal (`N'..'`, `X'..'`, `B'..'`, `E'..'`): closed or not. (A
    /// comment before it does not glue it, and [`tokenize_from`] does not stop right after
    /// it: the loop it replaced read it so.)
    Prefixed {
        closed: bool,
    },
    /// A PostgreSQL dollar-quoted string.
    Dollar,
    /// A backticked name.
    Backtick,
    /// A number; `quirk`: MySQL's `1.e(` / `1.e.` (a dangling exponent).
    Num {
        quirk: bool,
    },
    /// A variable (`@x`); `sys`: a system variable (`@@x`).
    Var {
        sys: bool,
    },
    /// A `#` or `--` comment ended by a newline (whitespace to SQL).
    LineComment,
    /// A closed `/* */` comment (whitespace, which glues the tokens around it).
    Block,
    /// A comment that runs to the end of the value (`strict`: see [`tokenize`]).
    Trailing {
        c: u8,
        strict: bool,
    },
    /// What the tokenizer steps over: `/*!` and its version digits, a stray `*/`, the `\` of
    /// `md5\(`.
    Skip,
    Lp,
    Rp,
    Comma,
    Semi,
    /// A word (a keyword, function, name; classified by the caller).
    Word,
    /// An operator: its token type and attribute.
    Op {
        t: u8,
        a: u8,
    },
}

/// The token (or what is stepped over) that starts at `i` (outside strings and comments),
/// and where it ends.
#[inline(always)]
pub(super) fn lex(b: &[u8], i: usize) -> (Lex, usize) {
    let n = b.len();
    let c = b[i];
    if is_ws(c) {
        return (Lex::Blank, i + 1);
    }
    if c == 0xc2 && b.get(i + 1) == Some(&0xa0) {
        return (Lex::Blank, i + 2);
    }
    match c {
        b'\'' | b'"' => {
            let (e, closed) = scan_string(b, i + 1, c);
            (Lex::Str { quote: c, closed }, e)
        }
        b'`' => {
            let e = match find_byte(b'`', &b[i + 1..]) {
                Some(k) => i + 1 + k + 1,
                None => n,
            };
            (Lex::Backtick, e)
        }
        b'0'..=b'9' => {
            let e = scan_number(b, i);
            // MySQL `1.e(` / `1.e.tables`: a dangling exponent glued to `(` or `.name`
            let quirk = e >= 2
                && b[e - 1] | 0x20 == b'e'
                && b[e - 2] == b'.'
                && matches!(b.get(e), Some(b'(') | Some(b'.'));
            (Lex::Num { quirk }, e)
        }
        b'.' if i + 1 < n && b[i + 1].is_ascii_digit() => {
            (Lex::Num { quirk: false }, scan_number(b, i))
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
            (
                Lex::Var {
                    sys: sys && j > name_start,
                },
                j,
            )
        }
        b'#' | b'-' if c == b'#' || (i + 1 < n && b[i + 1] == b'-') => {
            match find_byte(b'\n', &b[i..]) {
                Some(k) => (Lex::LineComment, i + k + 1),
                None => {
                    // MySQL needs `-- ` (whitespace after the dashes); `--word` is
                    // search syntax far more often than SQL
                    let body = b.get(i + if c == b'#' { 1 } else { 2 }).copied();
                    let strict = match body {
                        None => true,
                        Some(d) => c == b'#' || !d.is_ascii_alphanumeric(),
                    };
                    (Lex::Trailing { c, strict }, n)
                }
            }
        }
        b'/' if i + 1 < n && b[i + 1] == b'*' => {
            if i + 2 < n && b[i + 2] == b'!' {
                // MySQL versioned comment: its body is SQL
                let mut j = i + 3;
                let mut d = 0;
                while j < n && d < 6 && b[j].is_ascii_digit() {
                    j += 1;
                    d += 1;
                }
                (Lex::Skip, j)
            } else {
                match memchr::memmem::find(&b[i + 2..], b"*/") {
                    Some(k) => (Lex::Block, i + 2 + k + 2),
                    None => (
                        Lex::Trailing {
                            c: b'/',
                            strict: true,
                        },
                        n,
                    ),
                }
            }
        }
        b'*' if i + 1 < n && b[i + 1] == b'/' => (Lex::Skip, i + 2), // end of /*! */ (or stray)
        b'\\' if i > 0 && is_word_char(b[i - 1]) && b.get(i + 1) == Some(&b'(') => {
            (Lex::Skip, i + 1) // `md5\(`: see the word branch of `tokenize`
        }
        b'(' => (Lex::Lp, i + 1),
        b')' => (Lex::Rp, i + 1),
        b',' => (Lex::Comma, i + 1),
        b';' => (Lex::Semi, i + 1),
        _ if is_word_start(c) => {
            if c == b'$' {
                // PostgreSQL dollar quoting: `$$text$$`, `$tag$text$tag$`
                if let Some(e) = dollar_quoted(b, i) {
                    return (Lex::Dollar, e);
                }
            }
            // prefixed string literals: N'..', X'..', B'..', E'..'
            if i + 1 < n
                && b[i + 1] == b'\''
                && matches!(c | 0x20, b'n' | b'x' | b'b' | b'e')
                && (i == 0 || !is_word_char(b[i - 1]))
            {
                let (e, closed) = scan_string(b, i + 2, b'\'');
                return (Lex::Prefixed { closed }, e);
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
            (Lex::Word, j)
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
            (Lex::Op { t, a }, i + len)
        }
    }
}

/// Tokenizes `b` (as if preceded by quote `q` when `q != 0`) into `out`, folding as it goes.
/// Returns false when the context is meaningless (quote context whose string never closes).
///
/// With `limit` below `usize::MAX` it stops once more than `limit` leading tokens are
/// final: no later token can fold into them (see [`settled`]).
pub(super) fn tokenize(b: &[u8], q: u8, ansi: bool, out: &mut Vec<Tok>, limit: usize) -> bool {
    let Some(i) = break_out(b, q, ansi, out) else {
        return false;
    };
    tokenize_from(b, i, out, |out, _| out.len() > limit && settled(out));
    true
}

/// In quote context `q` (not 0), pushes the break-out string (the value's bytes up to the
/// quote that closes the string it was pasted in) and returns where it ends: `None` when no
/// quote closes it. With `q` 0, pushes nothing and returns 0.
pub(super) fn break_out(b: &[u8], q: u8, ansi: bool, out: &mut Vec<Tok>) -> Option<usize> {
    if q == 0 {
        return Some(0);
    }
    let (e, closed) = if ansi {
        match find_byte(q, b) {
            Some(p) => (p + 1, true),
            None => (b.len(), false),
        }
    } else {
        scan_string(b, 0, q)
    };
    if !closed {
        return None;
    }
    out.push(Tok {
        t: T_STR,
        a: q,
        f: F_CLOSED | F_BREAK | if ansi { F_BSLASH } else { 0 },
        g: false,
        s: 0,
        e,
    });
    Some(e)
}

/// Tokenizes `b` from `i` (a token boundary outside strings and comments, where no comment
/// glues the next token to the previous) into `out`, until `stop(out, position)` holds after
/// a step that was not blank, or the end; returns where it stopped.
#[inline(always)]
pub(super) fn tokenize_from(
    b: &[u8],
    mut i: usize,
    out: &mut Vec<Tok>,
    mut stop: impl FnMut(&[Tok], usize) -> bool,
) -> usize {
    let n = b.len();
    let mut glue = false;
    while i < n {
        let (kind, e) = lex(b, i);
        let start = i;
        i = e;
        let glue_now = glue;
        glue = false;
        let t = match kind {
            Lex::Blank => continue,
            Lex::LineComment | Lex::Skip => None,
            Lex::Block => {
                glue = start > 0 && !is_ws(b[start - 1]);
                None
            }
            Lex::Str { quote, closed } => Some(Tok {
                t: T_STR,
                a: quote,
                f: if closed { F_CLOSED } else { 0 },
                g: false,
                s: start,
                e,
            }),
            Lex::Prefixed { closed } => {
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
                continue;
            }
            Lex::Dollar => Some(Tok {
                t: T_STR,
                a: b'$',
                f: F_CLOSED,
                g: false,
                s: start,
                e,
            }),
            Lex::Backtick => {
                let inner = &b[(start + 1).min(e)..e.saturating_sub(1).max(start + 1)];
                let a = if is_catalog(inner) { W_CATALOG } else { 0 };
                Some(Tok {
                    t: T_WORD,
                    a,
                    f: b'`',
                    g: false,
                    s: start,
                    e,
                })
            }
            Lex::Num { quirk } => Some(tok(T_NUM, u8::from(quirk), start, e)),
            Lex::Var { sys } => Some(tok(T_VAR, u8::from(sys), start, e)),
            Lex::Trailing { c, strict } => Some(Tok {
                t: T_COMMENT,
                a: c,
                f: u8::from(strict),
                g: false,
                s: start,
                e,
            }),
            Lex::Lp => Some(tok(T_LP, 1, start, e)),
            Lex::Rp => Some(tok(T_RP, 1, start, e)),
            Lex::Comma => Some(tok(T_COMMA, 0, start, e)),
            Lex::Semi => Some(tok(T_SEMI, 0, start, e)),
            Lex::Word => {
                let mut next = skip_ws_comments(b, e);
                if next == e && b.get(e) == Some(&b'\\') && b.get(e + 1) == Some(&b'(') {
                    // `md5\(`: a shell/regex-escaped call paren
                    next += 1;
                }
                let called = next < n && b[next] == b'(';
                Some(classify_word(&b[start..e], called, start, e))
            }
            Lex::Op { t, a } => Some(Tok {
                t,
                a,
                f: b[start],
                g: false,
                s: start,
                e,
            }),
        };
        if let Some(t) = t {
            let before = out.len();
            push(out, t);
            if glue_now && out.len() > before {
                if let Some(t) = out.last_mut() {
                    t.g = true;
                }
            }
        }
        if stop(out, i) {
            break;
        }
    }
    i
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
