//! The SQL tokenizer the injection verdict reads: a query's bytes to tokens with byte spans, per
//! dialect, keeping for every delimited token (string, quoted identifier, comment) where its
//! delimiters are, since an input that covers one of them ended or opened a literal.
//!
//! It never fails and never panics: bytes it does not know become one-byte [`Kind::Other`]
//! tokens, and an unterminated string or comment runs to the end of the query. It is one forward
//! pass (every scan moves past what it read; nested PostgreSQL comments keep a depth counter,
//! not a stack), so time is linear and memory is the token list, at most one token per byte.
//! Spans always fall on `char` boundaries: tokens are cut only at ASCII bytes, and non-ASCII
//! bytes are word characters or sit inside strings and comments.
//!
//! It is not a parser and does not need to be: the verdict only asks which tokens an input
//! overlaps, so what matters is that token boundaries fall where the database's own lexer puts
//! them — which is why the dialects differ (MySQL's backslash escapes and `#` comments,
//! PostgreSQL's dollar quotes and nested comments, SQLite's `[...]` identifiers).

use std::ops::Range;

use super::Dialect;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A word from the keyword list (`SELECT`, `OR`, `SLEEP`, ...), any case.
    Keyword,
    /// Any other word: identifiers, function names, type names.
    Word,
    /// `42`, `1.5e-3`, `.5`, `0x1F`, `0b101`.
    Number,
    /// A string literal: `'...'`, MySQL `"..."`, `E'...'`, `X'..'`, `$tag$...$tag$`.
    String,
    /// A quoted identifier: `"..."` (SQLite, PostgreSQL), `` `...` `` (MySQL, SQLite), `[...]`
    /// (SQLite).
    QuotedIdent,
    /// A bind parameter: `?`, `?1`, `$1`, `:name`, `@name`.
    Placeholder,
    /// `=`, `<>`, `||`, `::`, `->>`, ...
    Operator,
    /// `(`, `)`, `,`, `;`, `.`.
    Punct,
    /// `-- ...`, `# ...` (MySQL), `/* ... */`.
    Comment,
    /// A byte no other kind takes (`{`, a control byte, a stray backslash).
    Other,
}

/// One token: its kind, its bytes in the query and, for delimited kinds, its delimiters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) span: Range<usize>,
    /// Length of the opening delimiter at the start of `span` (`'`, `E'`, `$tag$`, `--`, `/*`);
    /// 0 for undelimited kinds.
    pub(crate) open: usize,
    /// Length of the closing delimiter at the end of `span`; 0 when there is none: an
    /// unterminated string or comment, or a line comment (which ends before its newline).
    pub(crate) close: usize,
    /// Whether a backslash escapes the next byte inside (MySQL strings, PostgreSQL `E'...'`).
    pub(crate) backslash: bool,
}

/// The query's tokens, whitespace left out, in order (all of them: the tests' view).
#[cfg(test)]
pub(crate) fn tokenize(query: &str, dialect: Dialect) -> Vec<Token> {
    TokenStream::new(query, dialect).upto(usize::MAX).to_vec()
}

/// The query's tokens, lexed only as far as asked: a verdict needs the tokens up to the one
/// that holds an occurrence's end, not the rest of the query.
pub(crate) struct TokenStream<'q> {
    lexer: Lexer<'q>,
    tokens: Vec<Token>,
    done: bool,
}

impl<'q> TokenStream<'q> {
    pub(crate) fn new(query: &'q str, dialect: Dialect) -> Self {
        TokenStream {
            lexer: Lexer {
                b: query.as_bytes(),
                i: 0,
                d: dialect,
            },
            tokens: Vec::with_capacity(32),
            done: false,
        }
    }

    /// Every token that starts before `end`, and the first one that does not (if any): all a
    /// verdict on an occurrence ending at `end` reads.
    pub(crate) fn upto(&mut self, end: usize) -> &[Token] {
        while !self.done && self.tokens.last().is_none_or(|t| t.span.start < end) {
            match self.lexer.next_token() {
                Some(t) => self.tokens.push(t),
                None => self.done = true,
            }
        }
        &self.tokens
    }
}

struct Lexer<'q> {
    b: &'q [u8],
    i: usize,
    d: Dialect,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_word_start(c: u8, d: Dialect) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 || (c == b'$' && d == Dialect::MySql)
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl Lexer<'_> {
    fn at(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    /// The index of the first byte at or after `from` for which `f` is false.
    fn skip(&self, from: usize, f: impl Fn(u8) -> bool) -> usize {
        from + self.b[from.min(self.b.len())..]
            .iter()
            .take_while(|&&c| f(c))
            .count()
    }

    fn next_token(&mut self) -> Option<Token> {
        self.i = self.skip(self.i, is_space);
        let start = self.i;
        let c = *self.b.get(start)?;
        let d = self.d;
        let (kind, end, open, close, backslash) = match c {
            b'-' if self.at(1) == b'-' && (d != Dialect::MySql || self.at(2) <= b' ') => {
                self.line_comment(2)
            }
            b'#' if d == Dialect::MySql => self.line_comment(1),
            b'/' if self.at(1) == b'*' => self.block_comment(),
            b'\'' => self.quoted(Kind::String, 1, b'\'', d == Dialect::MySql),
            b'"' if d == Dialect::MySql => self.quoted(Kind::String, 1, b'"', true),
            b'"' => self.quoted(Kind::QuotedIdent, 1, b'"', false),
            b'`' if d != Dialect::Postgres => self.quoted(Kind::QuotedIdent, 1, b'`', false),
            b'[' if d == Dialect::Sqlite => self.bracketed(),
            b'$' if d == Dialect::Postgres && !self.at(1).is_ascii_digit() => self.dollar(),
            b'$' | b'?' if d != Dialect::MySql || c == b'?' => {
                let end = if c == b'$' && d == Dialect::Sqlite {
                    self.skip(start + 1, is_word_char)
                } else {
                    self.skip(start + 1, |c| c.is_ascii_digit())
                };
                (Kind::Placeholder, end, 0, 0, false)
            }
            b':' if is_word_start(self.at(1), d) => {
                let end = self.skip(start + 1, is_word_char);
                (Kind::Placeholder, end, 0, 0, false)
            }
            b'@' if d != Dialect::Postgres && (is_word_char(self.at(1)) || self.at(1) == b'@') => {
                let end = self.skip(start + 2, is_word_char);
                (Kind::Placeholder, end, 0, 0, false)
            }
            b'0'..=b'9' => self.number(),
            b'.' if self.at(1).is_ascii_digit() => self.number(),
            c if is_word_start(c, d) => self.word(),
            b'(' | b')' | b',' | b';' | b'.' => (Kind::Punct, start + 1, 0, 0, false),
            b'[' | b']' => (Kind::Punct, start + 1, 0, 0, false),
            _ => match operator_len(&self.b[start..]) {
                0 => (Kind::Other, start + 1, 0, 0, false),
                n => (Kind::Operator, start + n, 0, 0, false),
            },
        };
        // every arm moves forward; `max` makes that a property of this line, not of each arm
        self.i = end.max(start + 1).min(self.b.len());
        Some(Token {
            kind,
            span: start..self.i,
            open,
            close,
            backslash,
        })
    }

    /// A line comment whose opener is `open` bytes long: it ends before the newline.
    fn line_comment(&self, open: usize) -> (Kind, usize, usize, usize, bool) {
        let from = self.i + open;
        let end = memchr::memchr(b'\n', &self.b[from.min(self.b.len())..])
            .map_or(self.b.len(), |k| from + k);
        (Kind::Comment, end, open, 0, false)
    }

    /// `/* ... */`; PostgreSQL counts nested openers, the others end at the first `*/`.
    fn block_comment(&self) -> (Kind, usize, usize, usize, bool) {
        let b = self.b;
        let mut i = self.i + 2;
        let mut depth = 1usize;
        while let Some(k) = memchr::memchr(b'*', b.get(i..).unwrap_or_default()) {
            let j = i + k;
            if b.get(j + 1) == Some(&b'/') {
                depth -= 1;
                if depth == 0 || self.d != Dialect::Postgres {
                    return (Kind::Comment, j + 2, 2, 2, false);
                }
                i = j + 2;
            } else if self.d == Dialect::Postgres && j > i && b[j - 1] == b'/' {
                depth += 1;
                i = j + 1;
            } else {
                i = j + 1;
            }
        }
        (Kind::Comment, b.len(), 2, 0, false)
    }

    /// A literal or identifier opened by `open` bytes ending in `quote` and closed by the same
    /// quote; a doubled quote inside is one quote, and with `backslash` so is `\` + any byte.
    fn quoted(
        &self,
        kind: Kind,
        open: usize,
        quote: u8,
        backslash: bool,
    ) -> (Kind, usize, usize, usize, bool) {
        let b = self.b;
        let mut i = self.i + open;
        loop {
            let rest = b.get(i..).unwrap_or_default();
            let found = if backslash {
                memchr::memchr2(quote, b'\\', rest)
            } else {
                memchr::memchr(quote, rest)
            };
            let Some(k) = found else {
                return (kind, b.len(), open, 0, backslash);
            };
            let j = i + k;
            if b[j] == b'\\' || b.get(j + 1) == Some(&quote) {
                i = j + 2; // `\x` or a doubled quote
            } else {
                return (kind, j + 1, open, 1, backslash);
            }
        }
    }

    /// SQLite's `[identifier]`: no escapes, ends at the first `]`.
    fn bracketed(&self) -> (Kind, usize, usize, usize, bool) {
        let from = self.i + 1;
        match memchr::memchr(b']', &self.b[from.min(self.b.len())..]) {
            Some(k) => (Kind::QuotedIdent, from + k + 1, 1, 1, false),
            None => (Kind::QuotedIdent, self.b.len(), 1, 0, false),
        }
    }

    /// PostgreSQL's `$$...$$` and `$tag$...$tag$` (a tag is a word that does not start with a
    /// digit; `$1` was taken as a placeholder before); a lone `$` is [`Kind::Other`].
    fn dollar(&self) -> (Kind, usize, usize, usize, bool) {
        let start = self.i;
        let tag_end = self.skip(start + 1, |c| is_word_char(c) && c != b'$');
        if self.b.get(tag_end) != Some(&b'$') {
            return (Kind::Other, start + 1, 0, 0, false);
        }
        let delim = &self.b[start..=tag_end];
        let body = tag_end + 1;
        match memchr::memmem::find(&self.b[body..], delim) {
            Some(k) => (
                Kind::String,
                body + k + delim.len(),
                delim.len(),
                delim.len(),
                false,
            ),
            None => (Kind::String, self.b.len(), delim.len(), 0, false),
        }
    }

    /// Decimal (`1`, `1.5`, `.5`, `1e-3`), hex `0x1F` and binary `0b101` numbers.
    fn number(&self) -> (Kind, usize, usize, usize, bool) {
        let start = self.i;
        let radix = |c: u8| match c {
            b'x' | b'X' => Some(16),
            b'b' | b'B' => Some(2),
            _ => None,
        };
        if let (b'0', Some(r)) = (self.at(0), radix(self.at(1))) {
            let end = self.skip(start + 2, |c| (c as char).is_digit(r));
            if end > start + 2 {
                return (Kind::Number, end, 0, 0, false);
            }
        }
        let mut end = self.skip(start, |c| c.is_ascii_digit());
        if self.b.get(end) == Some(&b'.') {
            end = self.skip(end + 1, |c| c.is_ascii_digit());
        }
        if matches!(self.b.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.b.get(end + 1), Some(b'+' | b'-')));
            if self.b.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                end = self.skip(end + 1 + sign, |c| c.is_ascii_digit());
            }
        }
        (Kind::Number, end, 0, 0, false)
    }

    /// A word, or a prefixed string when a one-letter word touches a quote: `X'..'`, `B'..'`,
    /// `N'..'` everywhere, `E'..'` (backslash escapes) in PostgreSQL.
    fn word(&self) -> (Kind, usize, usize, usize, bool) {
        let start = self.i;
        let end = self.skip(start, is_word_char);
        if end == start + 1 && self.b.get(end) == Some(&b'\'') {
            let d = self.d;
            match self.b[start].to_ascii_uppercase() {
                b'N' => return self.quoted(Kind::String, 2, b'\'', d == Dialect::MySql),
                b'X' | b'B' => return self.quoted(Kind::String, 2, b'\'', false),
                b'E' if d == Dialect::Postgres => return self.quoted(Kind::String, 2, b'\'', true),
                _ => {}
            }
        }
        let kind = if is_keyword(&self.b[start..end]) {
            Kind::Keyword
        } else {
            Kind::Word
        };
        (kind, end, 0, 0, false)
    }
}

/// The length of the operator at the start of `b`, longest first; 0 if none starts there.
fn operator_len(b: &[u8]) -> usize {
    const THREE: [&[u8]; 2] = [b"->>", b"<=>"];
    const TWO: [&[u8]; 14] = [
        b"<=", b">=", b"<>", b"!=", b"||", b"::", b"&&", b"->", b"<<", b">>", b"==", b":=", b"@>",
        b"<@",
    ];
    if THREE.iter().any(|op| b.starts_with(op)) {
        3
    } else if TWO.iter().any(|op| b.starts_with(op)) {
        2
    } else if matches!(
        b.first(),
        Some(b'+' | b'-' | b'*' | b'/' | b'%' | b'=' | b'<' | b'>' | b'!' | b'~' | b'^')
            | Some(b'&' | b'|' | b'@' | b':' | b'#' | b'?')
    ) {
        1
    } else {
        0
    }
}

/// Whether `word` is one of the keywords that tell SQL code from names; the list is short on
/// purpose — the verdict does not depend on it beyond `ORDER BY` and `ASC`/`DESC`.
pub(crate) fn is_keyword(word: &[u8]) -> bool {
    if !(2..=10).contains(&word.len()) {
        return false;
    }
    // byte by byte: a `copy_from_slice` of a variable length is a call to `memmove`
    let mut buf = [0u8; 10];
    for (up, b) in buf.iter_mut().zip(word) {
        *up = b.to_ascii_uppercase();
    }
    matches!(
        &buf[..word.len()],
        b"SELECT"
            | b"FROM"
            | b"WHERE"
            | b"UNION"
            | b"ALL"
            | b"DISTINCT"
            | b"OR"
            | b"AND"
            | b"NOT"
            | b"XOR"
            | b"IS"
            | b"NULL"
            | b"LIKE"
            | b"IN"
            | b"BETWEEN"
            | b"EXISTS"
            | b"ORDER"
            | b"BY"
            | b"GROUP"
            | b"HAVING"
            | b"LIMIT"
            | b"OFFSET"
            | b"ASC"
            | b"DESC"
            | b"NULLS"
            | b"FIRST"
            | b"LAST"
            | b"INSERT"
            | b"INTO"
            | b"VALUES"
            | b"UPDATE"
            | b"SET"
            | b"DELETE"
            | b"DROP"
            | b"CREATE"
            | b"ALTER"
            | b"TABLE"
            | b"TRUNCATE"
            | b"EXEC"
            | b"EXECUTE"
            | b"DECLARE"
            | b"CALL"
            | b"CASE"
            | b"WHEN"
            | b"THEN"
            | b"ELSE"
            | b"END"
            | b"AS"
            | b"JOIN"
            | b"ON"
            | b"INTERSECT"
            | b"EXCEPT"
            | b"SLEEP"
            | b"BENCHMARK"
            | b"PG_SLEEP"
            | b"WAITFOR"
            | b"DELAY"
            | b"LOAD_FILE"
            | b"OUTFILE"
            | b"CAST"
    )
}
