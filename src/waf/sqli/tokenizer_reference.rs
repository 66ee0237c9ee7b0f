//! The tokenizer's main loop as first written, one branch per byte class building tokens as
//! it reads (tests only): the reference the lexer-driven [`super::tokenizer::tokenize`] must
//! give the same tokens as.

use super::token::*;
use super::tokenizer::{
    dollar_quoted, find_byte, is_word_char, is_word_start, is_ws, push, scan_number, scan_op,
    scan_string, settled, skip_ws_comments,
};
use super::words::{classify_word, is_catalog, is_pg_type};

/// Tokenizes `b` (as if preceded by quote `q` when `q != 0`) into `out`, folding as it goes.
/// Returns false when the context is meaningless (quote context whose string never closes).
///
/// With `limit` below `usize::MAX` it stops once more than `limit` leading tokens are
/// final: no later token can fold into them (see [`settled`]).
pub(super) fn tokenize_reference(
    b: &[u8],
    q: u8,
    ansi: bool,
    out: &mut Vec<Tok>,
    limit: usize,
) -> bool {
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

#[cfg(test)]
mod tests {
    use super::super::tokenizer::tokenize;
    use super::*;

    /// The tokens of `b` in every context, by [`tokenize`] and by [`tokenize_reference`], as
    /// comparable tuples.
    fn same_tokens(b: &[u8]) {
        let key = |t: &Tok| (t.t, t.a, t.f, t.g, t.s, t.e);
        let (mut a, mut r) = (Vec::new(), Vec::new());
        for (q, ansi) in [
            (0, false),
            (b'\'', false),
            (b'\'', true),
            (b'"', false),
            (b'`', false),
        ] {
            for limit in [2, 20, usize::MAX] {
                a.clear();
                r.clear();
                let ok = tokenize(b, q, ansi, &mut a, limit);
                assert_eq!(ok, tokenize_reference(b, q, ansi, &mut r, limit));
                assert_eq!(
                    a.iter().map(key).collect::<Vec<_>>(),
                    r.iter().map(key).collect::<Vec<_>>(),
                    "{q} {ansi} {limit} {:?}",
                    String::from_utf8_lossy(b)
                );
            }
        }
    }

    /// The lexer-driven tokenizer gives the tokens of the loop it replaced, on every corpus
    /// value and on random sequences of the bytes and words each branch reads.
    #[test]
    fn lexer_driven_tokenizer_gives_the_reference_tokens() {
        if let Some(values) = crate::waf::tests::corpus_values(true) {
            for v in &values {
                same_tokens(v.as_bytes());
            }
        }
        const TOKENS: &[&str] = &[
            " ",
            "'",
            "\"",
            "`",
            "\\",
            "\\'",
            "\\(",
            "md5",
            "(",
            ")",
            ",",
            ";",
            "#",
            "-",
            "--",
            "\n",
            "/",
            "*",
            "/*",
            "*/",
            "/*!",
            "50000",
            "$",
            "$$",
            "$a$",
            "@",
            "@@",
            ".",
            "..",
            "1",
            "0x",
            "0b1",
            "1e",
            "e",
            "-",
            "+",
            ".5",
            "1.e(",
            "N'",
            "x'",
            "E",
            "::",
            "int",
            "<",
            "=",
            ">",
            "!",
            "|",
            "&",
            "?",
            "~",
            "^",
            "%",
            ":",
            "{",
            "\u{a0}",
            "\u{e9}",
            "select",
            "union",
            "all",
            "from",
            "order",
            "by",
            "is",
            "not",
            "like",
            "or",
            "and",
            "sleep",
            "information_schema",
            "waitfor",
            "delay",
            "into",
            "outfile",
            "a",
            "x_y",
        ];
        for v in crate::waf::tests::token_sequences(0x6a09_e667_f3bc_c908u64, TOKENS, 30_000, 24) {
            same_tokens(v.as_bytes());
        }
    }
}
