//! SQL injection at the sink: given the query the app is about to run and the request's inputs,
//! did an input change the query's syntax?
//!
//! An input that reached the query by concatenation occurs in it verbatim (or escaped, see
//! below). Where it occurs, the query is tokenized as the database would (`sql/tokenizer.rs`) and the
//! occurrence is an injection when it
//!
//! 1. **overlaps two or more tokens** — `1 OR 1=1` after `id = `, `books' OR '1'='1` or even
//!    `O'Brien` between the app's quotes (it splits the literal: harmless text this time, an
//!    exploit the next) — unless it is *plain data*: only numbers, commas and `+`/`-` (`-1`,
//!    `1,2,3` in an `IN (...)` list: values, never code), one whole dotted name (`p.price`: a
//!    name, as a lone identifier is), or a sort list right after the app's `ORDER BY`
//!    (`price DESC, name`: whole names, numbers, `.`, `,`, `ASC`/`DESC`/`NULLS`/`FIRST`/`LAST`);
//! 2. overlaps **one string, quoted identifier or comment and covers one of its delimiters** —
//!    the input opened or closed it — or ends with an escape whose second byte is the app's own
//!    closing quote (`foo\` before the app's `'` in MySQL, `abc'` before it anywhere): the literal
//!    now swallows the app's code. A comment whose opener the input wrote is a truncation.
//!
//!    One exception: an occurrence that is *exactly* one whole, terminated string or quoted
//!    identifier (`'abc'` after `x = `). The input carried its own quotes, so the app put it in
//!    code position, but what it made is one complete value where the app expected one: the
//!    query's shape is the app's, as with an input that is one whole number. (The app that
//!    quoted it itself shows `''abc''`: three tokens, flagged.)
//!
//! Anything else is not an injection: an input inside one literal (`shoes` in `'shoes'`), or
//! equal to or inside one number, word, keyword, placeholder or operator — the app could have
//! written it.
//!
//! **One-byte inputs** occur everywhere by chance (`a` in every word, `'` at every one of the
//! app's own quotes), so they count only as the classic probe: a lone quote that leaves a string
//! or quoted identifier unterminated (the query cannot run as the app wrote it). Empty and
//! whitespace-only inputs never match.
//!
//! **Escaping.** An app that escapes correctly produces a form of the input that lies inside a
//! literal, or does not contain the raw input at all (`O''Brien`): no match, as it should be.
//! An app that escapes *wrongly for its database* produces a form that breaks out, so when an
//! input holds a quote, the forms a naive escaper makes (`'` → `''` or `\'`, the same for `"`)
//! are looked for too, and judged by the same rules: MySQL reads `\'' OR 1=1 -- ` (the input
//! `\' OR 1=1 -- ` with its quote doubled) as an escaped quote and a closing one.
//!
//! **Known limits.** An input that occurs by coincidence in the app's own SQL across tokens
//! (a value `name, price` against `SELECT name, price`) is flagged: the check cannot tell who
//! wrote those bytes. Plain data can still add values to a list the app concatenated it into
//! (a `VALUES` row as well as an `IN` list), and a payload that is one whole literal put in code
//! position (`' OR '` after `id = `) passes: both are taken as data. MySQL's `NO_BACKSLASH_ESCAPES` mode and PostgreSQL with
//! `standard_conforming_strings` off are not modelled (their default is assumed).
//!
//! The search is the cost of a request whose inputs are not in the query: one search per input
//! (`sql/search.rs`), and the query is tokenized only once an input occurs in it, then shared by the
//! rest.

use std::borrow::Cow;
use std::ops::Range;

mod search;
mod tokenizer;
use search::Occurrences;
#[cfg(test)]
pub(crate) use tokenizer::tokenize;
pub(crate) use tokenizer::{Kind, Token, TokenStream};

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

/// SQL dialects the tokenizer knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite: `"..."`, `` `...` `` and `[...]` identifiers, `?1`/`:name`/`@name`/`$name`.
    Sqlite,
    /// PostgreSQL: `E'...'`, `$tag$...$tag$`, nested `/* */`, `$1`.
    Postgres,
    /// MySQL and MariaDB: `"..."` strings, backslash escapes, `#` comments, `-- ` with a space.
    MySql,
}

/// Where `input` occurs in `query` such that it changes the query's syntax: the byte range of
/// the first such occurrence, or None. Inputs that are empty or only whitespace never match.
///
/// ```
/// use sqreen::rasp::sql::{injection, Dialect};
///
/// let input = "1 OR 1=1";
/// let query = format!("SELECT * FROM users WHERE id = {input}");
/// assert_eq!(injection(&query, Dialect::Sqlite, input), Some(31..39));
///
/// let query = "SELECT * FROM products WHERE category = 'shoes'";
/// assert_eq!(injection(query, Dialect::Sqlite, "shoes"), None);
/// ```
pub fn injection(query: &str, dialect: Dialect, input: &str) -> Option<Range<usize>> {
    first_injection(query, dialect, [input]).map(|(_, range)| range)
}

/// The same for many inputs against one query, tokenizing the query once (lazily: not at all
/// when no input occurs in it). Returns the index of the first input that is injected, and its
/// range.
pub fn first_injection<'a>(
    query: &str,
    dialect: Dialect,
    inputs: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, Range<usize>)> {
    let mut tokens = None;
    inputs.into_iter().enumerate().find_map(|(index, input)| {
        if input.trim().is_empty() || one_token_shape(input) {
            return None;
        }
        let range = std::iter::once(Cow::Borrowed(input))
            .chain(escaped_forms(input))
            .find_map(|form| injected_occurrence(query, dialect, &form, &mut tokens))?;
        Some((index, range))
    })
}

/// True for inputs that can never be an injection wherever they occur, so the query is not
/// tokenized for them: ASCII letters and `_` only, or ASCII digits only. Such an input always
/// lies within one token (a word, a keyword, a number, or a literal's or comment's text): the
/// tokenizer never splits a run of letters, or of digits, and neither holds a delimiter. (The
/// one token they could cover a delimiter of is a PostgreSQL dollar quote's `$tag$`: a tag the
/// app wrote, which an input without `$` cannot open.) Short values like these (`2`, `en`,
/// `price`) are the ones that occur in queries by chance.
fn one_token_shape(input: &str) -> bool {
    let b = input.as_bytes();
    b.iter().all(|c| c.is_ascii_alphabetic() || *c == b'_') || b.iter().all(u8::is_ascii_digit)
}

/// What a naive escaper makes of an input holding quotes (each form only when it differs).
fn escaped_forms(input: &str) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    // most inputs hold no quote: one scan says so; a lone quote is judged as itself only (its
    // escaped forms, `''` and `\'`, are in every query with an escaped quote)
    let quoted = input.len() > 1 && memchr::memchr2(b'\'', b'"', input.as_bytes()).is_some();
    [('\'', "''"), ('\'', "\\'"), ('"', "\"\""), ('"', "\\\"")]
        .into_iter()
        .filter(move |(quote, _)| quoted && input.contains(*quote))
        .map(|(quote, escaped)| input.replace(quote, escaped).into())
}

/// The first occurrence of `needle` in `query` that is an injection, every occurrence tried
/// (overlapping ones too); `tokens` is filled on the first occurrence found.
fn injected_occurrence<'q>(
    query: &'q str,
    dialect: Dialect,
    needle: &str,
    tokens: &mut Option<TokenStream<'q>>,
) -> Option<Range<usize>> {
    let hay = query.as_bytes();
    for start in Occurrences::new(hay, needle.as_bytes()) {
        let at = start..start + needle.len();
        let tokens = tokens.get_or_insert_with(|| {
            #[cfg(test)]
            tests::TOKENIZED.with(|n| n.set(n.get() + 1));
            TokenStream::new(query, dialect)
        });
        if is_injection(hay, tokens.upto(at.end), at.clone()) {
            return Some(at);
        }
    }
    None
}

/// The verdict on one occurrence `at` of an input in the query `q` (see the module docs).
fn is_injection(q: &[u8], tokens: &[Token], at: Range<usize>) -> bool {
    let first = tokens.partition_point(|t| t.span.end <= at.start);
    let touched = &tokens[first..];
    let n = touched.iter().take_while(|t| t.span.start < at.end).count();
    let touched = &touched[..n];
    match touched {
        [] => false,
        [t] if at.len() == 1 => lone_quote(t, &at),
        [t] => breaks_out(q, t, &at),
        _ => {
            !plain_data(q, touched)
                && !qualified_name(q, touched, &at)
                && !sort_list(q, &tokens[..first], touched, &at)
        }
    }
}

/// Rule for one-byte inputs: the byte opened a string or identifier that never ends.
fn lone_quote(t: &Token, at: &Range<usize>) -> bool {
    matches!(t.kind, Kind::String | Kind::QuotedIdent)
        && t.close == 0
        && at.start < t.span.start + t.open
}

/// Rule 2: an occurrence within one token covers a delimiter of it, or escapes its closer.
fn breaks_out(q: &[u8], t: &Token, at: &Range<usize>) -> bool {
    let opens = at.start < t.span.start + t.open;
    let closes = t.close > 0 && at.end > t.span.end - t.close;
    match t.kind {
        Kind::String | Kind::QuotedIdent if *at == t.span && t.close > 0 => false,
        Kind::String | Kind::QuotedIdent => opens || closes || escapes_past(q, t, at.end),
        Kind::Comment => opens || closes,
        _ => false,
    }
}

/// Whether the occurrence ending at `end`, inside the literal `t`, ends with the first byte of
/// an escape (`\'` or `''`) whose second byte is the quote at `end`: the input's last byte
/// turned the app's closing quote into text, and the literal runs on over the app's code.
///
/// A quote pair counts only if the literal does not close right after it: `'abc'''` is an app
/// that doubled the input `abc'` correctly (the raw input does occur, ending mid-pair), while
/// `'abc'' ORDER BY x` runs on. A backslash before a backslash (`\\`) is the input's own text.
fn escapes_past(q: &[u8], t: &Token, end: usize) -> bool {
    let content = t.span.start + t.open;
    let quote = q[content - 1];
    if end <= content || q.get(end) != Some(&quote) || !matches!(quote, b'\'' | b'"' | b'`') {
        return false; // dollar quotes and `[...]` have no escapes
    }
    let run = |upto: usize, c: u8| {
        q[content..upto]
            .iter()
            .rev()
            .take_while(|&&b| b == c)
            .count()
    };
    let last = q[end - 1];
    if t.backslash && last == b'\\' {
        return run(end, b'\\') % 2 == 1;
    }
    if last != quote {
        return false;
    }
    let quotes = run(end, quote);
    // a backslash before the run escapes its first quote; the rest pair up from there
    let escaped = usize::from(t.backslash && run(end - quotes, b'\\') % 2 == 1);
    let run_end = end + q[end..].iter().take_while(|&&b| b == quote).count();
    (quotes - escaped) % 2 == 1 && !(t.close > 0 && run_end == t.span.end)
}

/// Numbers, commas and signs only: a value or a list of values, whoever wrote it.
fn plain_data(q: &[u8], touched: &[Token]) -> bool {
    touched.iter().all(|t| match t.kind {
        Kind::Number => true,
        Kind::Punct | Kind::Operator => matches!(&q[t.span.clone()], b"," | b"+" | b"-"),
        _ => false,
    })
}

/// One dotted name, whole (`p.price`, `"s"."t"`): a name where the app takes a name, as a
/// single identifier is — and one that the app's own column list is full of.
fn qualified_name(q: &[u8], touched: &[Token], at: &Range<usize>) -> bool {
    let whole = |t: &Token| at.start <= t.span.start && t.span.end <= at.end;
    touched.len() % 2 == 1
        && touched.iter().enumerate().all(|(i, t)| {
            whole(t)
                && match t.kind {
                    Kind::Word => i % 2 == 0,
                    Kind::QuotedIdent => i % 2 == 0 && t.close > 0,
                    Kind::Punct => i % 2 == 1 && q[t.span.start] == b'.',
                    _ => false,
                }
        })
}

/// A sort list put whole right after the app's `ORDER BY`: names, positions, `ASC`/`DESC`.
fn sort_list(q: &[u8], before: &[Token], touched: &[Token], at: &Range<usize>) -> bool {
    let text = |t: &Token| &q[t.span.clone()];
    let [.., order, by] = before else {
        return false;
    };
    text(order).eq_ignore_ascii_case(b"ORDER")
        && text(by).eq_ignore_ascii_case(b"BY")
        && touched.iter().all(|t| {
            at.start <= t.span.start
                && t.span.end <= at.end
                && match t.kind {
                    Kind::Word | Kind::Number => true,
                    Kind::QuotedIdent => t.close > 0,
                    Kind::Punct => matches!(text(t), b"," | b"."),
                    Kind::Keyword => [&b"ASC"[..], b"DESC", b"NULLS", b"FIRST", b"LAST"]
                        .iter()
                        .any(|k| text(t).eq_ignore_ascii_case(k)),
                    _ => false,
                }
        })
}
