//! SQL injection detector, shaped like libinjection: a small SQL tokenizer plus structural
//! rules over the folded token stream ("fingerprint"), not a pile of regexes.
//!
//! # How it works
//! * **Tokenizer** (bytes, case-insensitive keywords): strings (quote char, closed or not),
//!   numbers (`0x..`, `0b..`, `1e5`, `.5`, `1.e`), barewords (with `.`/`$`, backticks), keywords
//!   classed as UNION-like, statement starters (SELECT, INSERT, EXEC, DECLARE, WAITFOR, ...),
//!   clauses (ORDER BY / GROUP BY), logic operators (AND/OR/XOR/`&&`/`||`), comparisons
//!   (`=`, `<>`, LIKE, IN, IS (NOT), REGEXP, ...), other operators, known SQL functions (a name
//!   in the function table followed by `(`), variables (`@x`, `@@version`), `,` `;` `(` `)` and
//!   *trailing* comments. Comments that end before the input does (`/* */`, `--..\n`, `#..\n`)
//!   are whitespace to SQL and are dropped; MySQL `/*! ... */` bodies are tokenized.
//! * **Folding** keeps the stream short and canonical: `UNION ALL` → UNION, `ORDER BY` → clause,
//!   `IS NOT`/`NOT LIKE` → comparison, `WAITFOR DELAY` → one token, unary `- + ~ ! NOT` dropped,
//!   `1+2`/`2010-01-01` folded to one operand, runs of `(` or `)` merged.
//! * **Contexts**: like libinjection the input is tokenized as-is, as if preceded by `'` (when
//!   it contains `'`) and as if preceded by `"` (when it contains `"`) — i.e. as if the value
//!   had been pasted inside a string literal. In a quote context the first token is the
//!   "break-out" string; it must be closed inside the input, otherwise that context is skipped.
//!   When the first quote is escaped (`admin\' or 1=1`), the quote context is also read with
//!   backslash *not* escaping (standard SQL strings, or an app whose own escaping `\'` →
//!   `\\'` re-opens the string). A backtick context (value pasted inside a MySQL
//!   identifier) runs only three narrow shapes (see `backtick_rules`), because backticks
//!   are also markdown code spans.
//! * **Rules** (derived from SQL grammar, not harvested from the corpus): positional rules
//!   look at the first folded tokens after the injection point (break-out string, leading
//!   number, or start of input) and "anywhere" rules look for constructs that only make sense
//!   as SQL wherever they are (`UNION SELECT`, `; DROP TABLE`, `WAITFOR DELAY`, `@@version`,
//!   `information_schema`, `sleep(…)` in operator position, `::int` casts, ...).
//!
//! # Rule ids
//! * `sqli-union` — UNION [ALL|DISTINCT] [(] SELECT/VALUES, or a break-out followed by UNION.
//! * `sqli-stacked` — `;` followed by a statement whose continuation is SQL-shaped
//!   (`; DROP TABLE`, `; EXEC xp_..`, `; DECLARE @x`, `; SELECT 1`, ...).
//! * `sqli-tautology` — a logic operator after the injection point followed by a comparison,
//!   a sub-select, EXISTS or a lone truthy value before a comment (`1 or 1=1`, `' or 'a'='a`,
//!   `') and (1=2`, `' or 1--`), XOR right after a break-out (`' xor x`: XOR is not
//!   English), `HAVING <literal> <cmp>`, or a bare comparison right after a break-out (`x'='x`,
//!   `'glob 1;`); AND/OR glued between quotes (`a'or'a`, `\'and`); comparisons chained
//!   between literals (`'a' < 'b' = 7`); `'1' not regexp '2'`; a value opening with
//!   `) like (`.
//! * `sqli-comment` — break-out string (optionally `)`) followed by a trailing comment or
//!   `;` + comment (`admin'--`, `')/*`, `admin'#`, `' notnull --`); a `/* */` comment used
//!   as whitespace right after `<number|break-out> OR` or after a `(` that follows it
//!   (`9999 or /*+hint*/ true`, `1 or length((/*!50000select`); a statement / UNION /
//!   FROM / WHERE keyword cut in two by an inline comment (`UN/**/ION`, `DR/**/OP`).
//! * `sqli-function` — known SQL functions where only SQL would put them: after a logic
//!   operator or a break-out, at the very start of the value with SQL-literal arguments, or
//!   an attack-typical function (`sleep`, `benchmark`, `extractvalue`, `load_file`, ...) in
//!   operator position anywhere; `ascii(substring(` anywhere; `x AND cos(3)=...`; an
//!   information function (`user`, `database`, `version`, `schema`, `sysdate`) glued to a
//!   `(` that ends the value (`... user(`). A shell/regex-escaped paren (`md5\(`) counts as
//!   a call paren.
//! * `sqli-statement` — the value is (or a break-out/sub-select starts) a SQL statement with
//!   SQL-shaped continuation (`SELECT * ...`, `CREATE TABLE t (`, `DECLARE @q`, `(select 1,`,
//!   `DROP t;--`, `select 0x616263`); a select-list tail `` `x` AS `y` FROM``; `CASE WHEN
//!   (SQL-looking condition) THEN` (CASE first or after `(`/`,`/SELECT — "in case when" is
//!   English) and `) WHEN 1 THEN`; a value opening with `FROM <coded table name>` and then
//!   WHERE + condition / LIMIT / JOIN / ORDER BY (`FROM `t` WHERE `id` = 1`, `FROM a_b
//!   WHERE`); `VALUES ('x', 1)` at the start or after `)`.
//! * `sqli-fingerprint` — other SQL-only constructs: `ORDER BY n--`, `WAITFOR DELAY`,
//!   `INTO OUTFILE`, `@@system_var`, system catalog names (`information_schema`,
//!   `sysobjects`, `xp_cmdshell`, ...), PostgreSQL casts `x::int` (no spaces, lowercase or
//!   uppercase type name).
//! * Time-based and heavy-query probes: a procedure of an Oracle package (`dbms_pipe`,
//!   `dbms_lock`, `dbms_session`, `user_lock`, ...) called by its qualified name is a strong
//!   function, also as a PL/SQL block's statement (`BEGIN DBMS_LOCK.SLEEP(5); END`, `THEN
//!   sys.dbms_pipe.receive_message(..)`); `WAITFOR TIME '..'`; a `regexp_*` call over
//!   `repeat(..)`; Firebird's `RDB$` system tables are catalog names; `SELECT TOP n` /
//!   `SELECT FIRST n` continue a statement. A call that opens the value counts only when
//!   SQL follows it (`sleep(5)--`, not "sleep(8) hours a night").
//! * Probes after a closing token: `WHERE <literal> <cmp> <literal>` right after a `)`, a
//!   backticked name or a break-out, optionally through `AS alias` (`') AS abcd WHERE
//!   1234=1234 OR 5678=5678-- x`, `` ` WHERE 1=1 HAVING 2=3-- ``); a break-out closed
//!   through a MySQL full-text modifier (`') IN BOOLEAN MODE) AND 1=1#`) reads on after it.
//! * PostgreSQL dollar-quoted strings (`$$abc$$`, `$q$x$q$`) are strings, and strings joined
//!   by `||` fold into one (`$$a$$||$$b$$=$$ab$$`), except a break-out.
//! * `sqli-union` also covers `unionselect` glued inside one word (`1unionselect1`).
//! * `sqli-nosql-operator` — MongoDB query operators where a JSON/qs parser would build a
//!   query object from them: the whole value is `$ne`/`$where`/`$text`/..., a bracketed key
//!   part `[$ne]`, or a dotted key ending in one (`user.$exists`). Not SQL, but the same
//!   class of query injection (CRS files it in 942290). Apps that accept Mongo-style filter
//!   syntax by design (Strapi-style `filters[x][$eq]`) should disable this rule id.
//!
//! # Paranoia level 2
//! At level 2 (`detect_strict`, run only when `detect` found nothing) the detector also
//! reports the shapes the CRS level-2 rules (942120 to 942522) look for, which level 1
//! leaves alone because they also occur in ordinary text. Each is a linear regex (one
//! `RegexSet` pass, in `strict`) or a bounded pass; a value that still holds `%XX` is read
//! once more form-decoded, as at level 1. The rules keep to whole-value or anchored shapes,
//! so that prose containing the same words does not fire:
//! * `sqli-pl2-function` — a SQL built-in name (the CRS 942410 list kind: `length`, `date`,
//!   `version`, `in`, `values`, ...) followed by at most eight non-word bytes and a `(` that
//!   ends the value (`time (`, `length&&!!!$(`, `version=(`): a call left open for the
//!   query's own `)`. A `(` followed by more text is prose or code (`Work Time (Rosewood)`,
//!   `User(foo)`). Also `sleep(`/`benchmark(` with a number anywhere (`time.sleep(12)`) and
//!   chained char codes (`chr(122).chr(97)`). Would fire on a value such as `see date (`.
//! * `sqli-pl2-operator` — the whole value one SQL operator (`&&`, `<=`, `<=>`, `->`, `IS
//!   NULL`, `LIKE NULL`, `not between`); a value opening with `IN (` and a literal list
//!   (`in (0,1)`); `&&(x==`; `9||t.col`; a quote then `REGEXP`/`RLIKE`/`SOUNDS LIKE`; a
//!   value ending in `x LIKE '`; the whole value one inequality between two operands
//!   (`1!=11`, `1 is not 2`); `, x=x`. Fires on a value that is itself a comparison (`a <=
//!   b`, `x != y`); `a<b && c>d` is more than one operator, `born in (1990)` does not open
//!   with IN, and `is null` in a sentence is not a whole value.
//! * `sqli-pl2-logic` — a value ending in a dangling AND/OR/XOR after an operand (`/3 or `);
//!   starting with one followed by a literal (`or 88`, `and '5'`); starting with a
//!   (quoted) literal, AND/OR and an operand glued to an operator (`\"1 or 1-`; "5 or 6 -
//!   whichever" has a space); a quote, OR and an operator within 20 bytes (`' or xyz!`);
//!   `' or--`; an escaped quote then AND/OR (`` \`or`1 ``). English "parents' and yours"
//!   and `"foo" AND "bar" AND` (search syntax) do not fire: AND after a quote is not enough.
//!   Fires on a search that ends in "or" after a word.
//! * `sqli-pl2-probe` — a value opening with quotes and then an operator standing alone or
//!   `;` (`' * from`, `'? # = --`, `';`), `^'`, `3' ' 1`, exactly two different quote
//!   characters (`"'`), twelve or more of `()'";=#*-` and nothing else, an escaped quote in
//!   hex (`\x27`), a list of literals opening with a string (`'abc', 0x1a`), a hex literal
//!   `0x` of three digits or more, a value that is one backticked identifier, `admin'`, a
//!   value opening `,name"`, and typographic quotes (’ ‘ ´) used as SQL quotes (the level-1
//!   rules re-read with them as `'`: `1’ OR ’1’=’x’#`). Fires on hex numbers in text
//!   (`color: 0xFF00FF`) and on markdown-like `` `name` `` values.
//! * `sqli-pl2-statement` — the whole value `EXEC[UTE] name` or `ORDER BY [col]`; a value
//!   opening with quotes/non-letters then ALTER/UNION with no closing quote (`'alter a`;
//!   the title `'Alter Bridge'` closes its quote); `= (SELECT`; `SET @var`; `;` then ALTER,
//!   DROP, INSERT or UPDATE and one name ending the statement (`; UpdateUserTypeTracking`,
//!   `; drop users;` — not "; drop me a line"); `AS x FROM` after punctuation or with a
//!   quoted alias after a number (`! As' from`, `6 As" from`). Fires on a search for
//!   `order by date`.
//!
//! None of the 3,108 benign values of the development corpus fires at level 2. Still
//! missed at level 2: values the scan skips as plain words (`XOR`, `RLIKE`, `varchar`,
//! `--alter`), HTML `div id="` (942210 reads `DIV` as the operator), JavaScript busy-wait
//! payloads, `it is your parents' and yours`, runs of quotes and dots, keyboard rows
//! (`!@#$%^&*()-=`, the same shape as benign `!@#$%^&*()`~`), `2+union+all` in a path.
//!
//! # Layout
//! `token` (token types and `Tok`), `prefilter` (the byte pre-filter), `reach` (whether
//! the "anywhere" rules can fire at all), `skip` (its
//! 64-byte-block skipping of plain runs and ungated words in long values), `tokenizer`
//! (bytes to folded tokens), `words` (keyword, function and catalog tables), `rules` (the
//! rule driver and whole-value shapes), `positional` (rules at the injection point),
//! `anywhere` (rules over the whole token stream), `spots` (those rules read in windows
//! around their places on long values), `strict` (the level-2 rules), `tests`,
//! `tokenizer_reference` (the tokenizer's loop as first written: the tests' reference),
//! `probe_tests` (time-based, heavy-query and closing-token probes per database, generated
//! from cores, injection points and spellings).
//!
//! # Percent-encoded values
//! The framework URL-decodes query/form/path values but not XML attribute values and text
//! nodes, which applications may still form-decode. A value that still holds a `%XX`
//! escape and did not fire as-is is decoded once (`%XX`, `+` → space) and scanned again;
//! the finding then spans the whole value. Values without `%XX` pay one `memchr`.
//!
//! # Deliberately not flagged at level 1 (known gaps)
//! * Lone operators or keywords (`&&`, `<=`, `ORDER BY`, `LIKE NULL`, `1=1` alone), lone
//!   `';`, quotes-only values, bare function names followed by ` (` with a space — CRS PL2
//!   flags these, but they are everyday text and code. Also not flagged: values that are
//!   plain SQL without attack shape (`select x from y where`). Level 2 flags most of
//!   these (see above).
//! * `$ne` etc. in free text (only whole values and key shapes count), JavaScript time-based
//!   payloads, overflow / "magic" numbers (`2.2250738585072011e-308` is in the BLNS benign
//!   list and Rust parsers are not affected), DB names as bare words (`northwind`), lone
//!   type names (`varchar`), typographic quotes used as SQL quotes (`1’ OR ’1’=’1`: prose is
//!   full of ’), a break-out followed by `ALTER x`/`UNION x` with nothing SQL after it
//!   (band and brand names: `'Alter Bridge'`, `"Union Pacific"`), `ord(substr(` (PHP code;
//!   the older start-of-value function rule still flags it).
//! * Fourth pass (corpus v2) rejected: `X AS" FROM` / `! As' from` (an alias quote glued to
//!   AS; inch marks and titles look the same), `" | type ... | "` (shell, and markdown
//!   table cells), `encode=(`, `';print'` (Python 2 code), `1='1' or-- -`, JSON-path
//!   operators with no cast (`'{..}' ? 'a'`), PostgreSQL `~` as a comparison. PL1 misses
//!   that never reach the detector: short `[A-Za-z0-9-]` values the framework skips
//!   (`tempdb`, `msdb`, `Northwind`, `MSysAccessObjects`, `Xunionselectfrom`,
//!   `4294967296`).
//! * Positional rules read only a few (at most ~12) folded tokens after the injection point,
//!   like libinjection's 5-token fingerprint, so an injection preceded by a long benign
//!   prefix is only found by the "anywhere" rules.
//! * Speed: a one-pass byte pre-filter (see `prefilter`) rejects values with no quote,
//!   comment marker, SQL anchor word or known `function(` before any tokenizing. On values
//!   of 64 bytes or more it steps over what cannot change its verdict (plain runs, words the
//!   three-byte gate rejects) from two bit masks per 64-byte block (see `skip`).
//!   Values whose only anchors are AND/OR/XOR/ORDER/GROUP (prose) are tokenized only up to
//!   the positional window (16 final folded tokens), in the plain context, and first only
//!   to its first two final tokens: on prose (a word, then a word that is no operator) the
//!   rules read no further; a rule reading past them sends the value to the whole window. Values over 256
//!   bytes that the pre-filter sends to the full scan but on which no "anywhere" rule can
//!   fire (`reach`: none of their trigger words or byte pairs occurs) and that do not open
//!   with `(` are tokenized, in each context, to their first 40 folded tokens only; a rule
//!   that reads past the tokens known final sends that context to the whole stream. Where an
//!   "anywhere" rule can fire, a long value with at most one of their places per 64 bytes is
//!   read around those places (see `spots`), the other rules on a prefix of the stream.

use super::Finding;
use std::cell::RefCell;
use std::sync::LazyLock;

/// Every rule id this detector can report.
pub const RULES: &[&str] = &[
    "sqli-union",
    "sqli-stacked",
    "sqli-tautology",
    "sqli-comment",
    "sqli-function",
    "sqli-statement",
    "sqli-fingerprint",
    "sqli-nosql-operator",
    "sqli-pl2-function",
    "sqli-pl2-operator",
    "sqli-pl2-logic",
    "sqli-pl2-probe",
    "sqli-pl2-statement",
];

mod anywhere;
mod positional;
mod prefilter;
#[cfg(test)]
mod probe_tests;
mod reach;
mod rules;
mod skip;
mod spots;
mod strict;
#[cfg(test)]
mod tests;
mod token;
mod tokenizer;
#[cfg(test)]
mod tokenizer_reference;
mod words;

use prefilter::{prefilter, PRE, PRE_GATE, SCAN_NONE, SCAN_WINDOW, SKIP_GATE};
use rules::{analyze, analyze_window, backtick_rules, View, WINDOW, WINDOW_FIRST};
use token::*;
use tokenizer::tokenize;
use words::WORDS;

thread_local! {
    static BUF: RefCell<Vec<Tok>> = const { RefCell::new(Vec::new()) };
}

/// The paranoia level 2 rules (run when [`detect`] found nothing and the agent runs at level
/// 2; see "Paranoia level 2" above).
pub fn detect_strict(input: &str) -> Option<Finding> {
    strict::detect_strict(input)
}

/// Looks for SQL injection in one decoded input value; returns the first rule that matched
/// and the byte span of the matched token run (on char boundaries).
pub fn detect(input: &str) -> Option<Finding> {
    detect_hinted(input, Hints::of(input.as_bytes()))
}

/// Which of the bytes [`detect`] looks for first occur in a value: from the scan's shared
/// byte-class pass ([`crate::waf::classes`]), or found by [`Hints::of`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hints {
    /// `$` (NoSQL operators).
    pub(crate) dollar: bool,
    /// `%` (a value to read once more, form-decoded).
    pub(crate) percent: bool,
    /// `(` (function names count).
    pub(crate) paren: bool,
}

impl Hints {
    /// Looks for the bytes in `b` (three `memchr` passes).
    pub(crate) fn of(b: &[u8]) -> Hints {
        Hints {
            dollar: memchr::memchr(b'$', b).is_some(),
            percent: memchr::memchr(b'%', b).is_some(),
            paren: memchr::memchr(b'(', b).is_some(),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Tests only: [`detect`] takes the reference paths (see [`detect_reference`]).
    static REFERENCE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// [`detect`] on the paths its fast ones must agree with: the pre-filter's byte loop
/// without skipping, and the windowed scan tokenizing its whole window at once.
#[cfg(test)]
pub(super) fn detect_reference(input: &str) -> Option<Finding> {
    REFERENCE.set(true);
    let found = detect(input);
    REFERENCE.set(false);
    found
}

/// Whether [`detect`] takes the reference paths (never outside the tests).
#[cfg(test)]
fn reference() -> bool {
    REFERENCE.get()
}
#[cfg(not(test))]
#[inline(always)]
fn reference() -> bool {
    false
}

#[cfg(test)]
thread_local! {
    /// Tests only: the full scan reads the "anywhere" rules over the whole stream of long
    /// values too (see [`run_whole`]).
    static WHOLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the full scan reads the "anywhere" rules over the whole stream, not around their
/// places ([`spots`]): with the reference paths, or [`run_whole`] (never outside the tests).
#[cfg(test)]
fn reference_windows() -> bool {
    REFERENCE.get() || WHOLE.get()
}
#[cfg(not(test))]
#[inline(always)]
fn reference_windows() -> bool {
    false
}

/// [`run_from`] with the "anywhere" rules read over the whole stream (the reference of the
/// windowed reading).
#[cfg(test)]
fn run_whole(b: &[u8], toks: &mut Vec<Tok>, prefix_from: usize) -> Option<Hit> {
    WHOLE.set(true);
    let found = run_from(b, toks, usize::MAX, prefix_from);
    WHOLE.set(false);
    found
}

/// [`detect`] on a value whose [`Hints`] the caller already has.
pub(crate) fn detect_hinted(input: &str, hints: Hints) -> Option<Finding> {
    let b = input.as_bytes();
    if b.len() < 2 {
        return None;
    }
    if hints.dollar {
        if let Some((rule, s, e)) = nosql_operator(b) {
            return Some(finding(input, rule, s, e));
        }
    }
    let scanned = scan_by_class(input, hints.paren);
    scanned.or_else(|| {
        if !hints.percent {
            return None;
        }
        // values the framework does not URL-decode (XML attributes and text nodes) can
        // still carry a form-encoded payload the application decodes later: read such a
        // value once more, decoded (`%XX` and `+`), and report the whole value
        let decoded = percent_decoded(b)?;
        detect_decoded(&decoded).map(|f| finding(input, f.rule, 0, b.len()))
    })
}

/// Tokenizes and analyses a value that passed the pre-filter (as-is, then its last path
/// segment when it is a path).
fn scan(input: &str, limit: usize) -> Option<Finding> {
    let b = input.as_bytes();
    BUF.with(|cell| {
        let mut guard = cell.borrow_mut();
        let toks: &mut Vec<Tok> = &mut guard;
        let mut found = run(b, toks, limit).map(|(rule, s, e)| finding(input, rule, s, e));
        if found.is_none() && b[0] == b'/' {
            // a path: the injection point is the start of the last segment before any
            // quote/space/paren (`/post/1234 OR 1=1`, `/get/OR '[1,2]' ? '1'`)
            let stop = b
                .iter()
                .position(|&c| matches!(c, b'\'' | b'"' | b' ' | b'(' | b'=' | b';'))
                .unwrap_or(b.len());
            if let Some(p) = b[..stop].iter().rposition(|&c| c == b'/') {
                let seg = p + 1;
                if seg < b.len() {
                    found = run(&b[seg..], toks, limit)
                        .map(|(rule, s, e)| finding(input, rule, s + seg, e + seg));
                }
            }
        }
        if toks.capacity() > 4096 {
            *toks = Vec::new();
        }
        found
    })
}

/// `detect` on a value already decoded by [`percent_decoded`] (no second retry).
fn detect_decoded(input: &str) -> Option<Finding> {
    let b = input.as_bytes();
    if b.len() < 2 {
        return None;
    }
    if let Some((rule, s, e)) = nosql_operator(b) {
        return Some(finding(input, rule, s, e));
    }
    scan_by_class(input, memchr::memchr(b'(', b).is_some())
}

/// Runs the pre-filter and the scan it calls for: none, the full scan, or (only weak
/// positional triggers) the windowed scan.
fn scan_by_class(input: &str, paren: bool) -> Option<Finding> {
    let verdict = if reference() {
        prefilter::prefilter_with::<false>(input.as_bytes(), paren)
    } else {
        prefilter(input.as_bytes(), paren)
    };
    match verdict {
        SCAN_NONE => None,
        SCAN_WINDOW => scan(input, WINDOW),
        _ => scan(input, usize::MAX),
    }
}

/// The value form-decoded once (`%XX` → byte, `+` → space), when it holds at least one
/// `%XX` escape; `None` otherwise. Linear, one allocation.
fn percent_decoded(b: &[u8]) -> Option<String> {
    use crate::waf::inputs::{decode_once, has_escape};
    has_escape(b).then(|| String::from_utf8_lossy(&decode_once(b, true)).into_owned())
}

/// MongoDB operators [`nosql_operator`] reports in a key or as the whole value.
pub(super) const NOSQL_STRONG: &[&[u8]] = &[
    b"ne",
    b"nin",
    b"gt",
    b"gte",
    b"lt",
    b"lte",
    b"eq",
    b"in",
    b"regex",
    b"where",
    b"elemMatch",
    b"exists",
    b"nor",
    b"expr",
    b"jsonSchema",
    b"function",
    b"accumulator",
];
/// Operators reported only as the whole value: common variable names otherwise.
pub(super) const NOSQL_WHOLE: &[&[u8]] = &[
    b"not", b"text", b"or", b"and", b"type", b"size", b"mod", b"all", b"search",
];

/// MongoDB query operators where a JSON/qs parser would turn them into a query object:
/// the whole value (a key such as `$where`, `$ne`), `[$ne]` in a bracketed key
/// (`user[$ne]=x`, `[$regex]`) or a dotted key ending in one (`user.$exists`). The
/// bracket/dot forms skip operators that are common variable names (`$text`, `$type`,
/// `$not`, `$or`, ...). Apps that accept Mongo filter syntax by design (Strapi-style
/// `filters[x][$eq]`) should disable this rule.
fn nosql_operator(b: &[u8]) -> Option<Hit> {
    // the name after the `$` at `p`, and where it ends (two letters at least)
    let name_at = |p: usize| {
        let e = p
            + 1
            + b[p + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
        (e - p > 2).then(|| (&b[p + 1..e], e))
    };
    // where an operator can be: the value's start (the whole value, or a dotted key whose
    // name ends the value: only the last `$` can), and after each `[` (`[$ne]`), in order
    let last = memchr::memrchr(b'$', b)?;
    let first = (b[0] == b'$').then_some(0);
    let dotted = (last > 0 && b[last - 1] == b'.').then_some(last);
    let keyed = memchr::memmem::find_iter(b, b"[$").map(|p| p + 1);
    for p in first.into_iter().chain(keyed).chain(dotted) {
        let Some((name, e)) = name_at(p) else {
            continue;
        };
        let strong = NOSQL_STRONG.contains(&name);
        let hit = if p == 0 {
            e == b.len() && (strong || NOSQL_WHOLE.contains(&name))
        } else if b[p - 1] == b'[' {
            strong && b.get(e) == Some(&b']')
        } else {
            strong && e == b.len()
        };
        if hit {
            return Some(("sqli-nosql-operator", p, e));
        }
    }
    None
}

/// Tokenizes and analyses `b` in its contexts; the first hit wins. With `limit` below
/// `usize::MAX` (the pre-filter found only weak, positional triggers: no quote, comment,
/// statement keyword, ...), only the first folded tokens of the plain context are read.
fn run(b: &[u8], toks: &mut Vec<Tok>, limit: usize) -> Option<Hit> {
    run_from(b, toks, limit, PREFIX_FROM)
}

/// [`run`], reading values longer than `prefix_from` on a prefix of their tokens when that
/// gives the same verdict (the tests compare both ways on every length).
fn run_from(b: &[u8], toks: &mut Vec<Tok>, limit: usize, prefix_from: usize) -> Option<Hit> {
    if limit != usize::MAX {
        let first = if reference() { limit } else { WINDOW_FIRST };
        return window(b, toks, limit, first);
    }
    // on a long value where no "anywhere" rule can fire, each context is tokenized only as
    // far as the other rules read (see `reach`); where one can, those rules are read around
    // the places they can start from (see `spots`)
    let long = b.len() > prefix_from;
    let paren = long && memchr::memchr(b'(', b).is_some();
    let reached = long && reachable(b, paren);
    let prefix = long && !reached && b.iter().find(|&&c| !tokenizer::is_ws(c)) != Some(&b'(');
    // (mark positions are `u32`)
    let windowed = reached && u32::try_from(b.len()).is_ok() && !reference_windows();
    let (mut places, mut marks) = (Vec::new(), Vec::new());
    let mut windowed = windowed;
    if windowed {
        reach::spots(b, paren, &mut places);
        // (places so dense that their windows would cover the value: the whole stream)
        windowed = places.len() * SPARSE <= b.len();
    }
    if windowed {
        spots::marks(b, &mut marks);
    }
    let context = |q: u8, ansi: bool, toks: &mut Vec<Tok>| {
        if windowed {
            context_around(b, q, ansi, toks, &places, &marks)
        } else {
            context(b, q, ansi, toks, prefix)
        }
    };
    for q in [0u8, b'\'', b'"'] {
        let first_q = if q == 0 {
            None
        } else {
            tokenizer::find_byte(q, b)
        };
        if q != 0 && first_q.is_none() {
            continue;
        }
        if let Some(h) = context(q, false, toks) {
            return Some(h);
        }
        // `admin\' or 1=1`: where backslash is not an escape (standard SQL strings), or
        // where the application's own escaping doubles it, `\'` still ends the string
        if first_q.is_some_and(|p| p > 0 && b[p - 1] == b'\\') {
            if let Some(h) = context(q, true, toks) {
                return Some(h);
            }
        }
    }
    if tokenizer::find_byte(b'`', b).is_some() {
        toks.clear();
        // (the backtick rules read a prefix of the stream)
        if prefix || windowed {
            if !tokenize(b, b'`', false, toks, PREFIX) {
                return None;
            }
            let known = known_final(toks, PREFIX);
            let v = View::prefix(toks, b, known);
            let hit = backtick_rules(&v);
            if !v.overread() {
                return hit;
            }
            toks.clear();
        }
        if tokenize(b, b'`', false, toks, usize::MAX) {
            return backtick_rules(&View::new(toks, b));
        }
    }
    None
}

/// The windowed scan (only weak triggers): the plain context, tokenized to its first `first`
/// final tokens; when the rules read past them, to the first `limit` ([`WINDOW`]). With `first`
/// at `limit` or more, the window is tokenized whole at once (the tests compare both ways).
fn window(b: &[u8], toks: &mut Vec<Tok>, limit: usize, first: usize) -> Option<Hit> {
    toks.clear();
    if first < limit {
        tokenize(b, 0, false, toks, first);
        let known = known_final(toks, first);
        if let Some(hit) = rules::analyze_window_prefix(toks, b, known) {
            return hit;
        }
        toks.clear();
    }
    tokenize(b, 0, false, toks, limit);
    analyze_window(toks, b)
}

/// [`reach::anywhere_reachable`], or with the tests' reference paths the automaton it
/// replaced.
fn reachable(b: &[u8], paren: bool) -> bool {
    #[cfg(test)]
    if reference() {
        return reach::anywhere_reachable_reference(b, paren);
    }
    reach::anywhere_reachable(b, paren)
}

/// How many leading tokens of `toks`, tokenized with `limit` ([`tokenize`]), are final: all but
/// the last when the tokenizer was cut short (see `tokenizer::settled`), all of them otherwise
/// (`usize::MAX`).
fn known_final(toks: &[Tok], limit: usize) -> usize {
    if toks.len() > limit {
        toks.len() - 1
    } else {
        usize::MAX
    }
}

/// Values longer than this are read on their first [`PREFIX`] folded tokens when no
/// "anywhere" rule can fire on them (see [`run`]).
const PREFIX_FROM: usize = 256;
/// Folded tokens tokenized for the rules that read a prefix of the stream: more than they
/// read (a read past them falls back to the whole stream, see [`rules::View`]). On every
/// corpus value, with the differential test's prefixes, 16 tokens are never read past and 12
/// are 214 times: 20 leaves a margin and costs half of what 40 did on a long near-attack value.
const PREFIX: usize = 20;

/// Tokenizes and analyses `b` in quote context `q` (`ansi`: a backslash does not escape the
/// opening string); with `prefix`, on the first [`PREFIX`] tokens when they suffice.
fn context(b: &[u8], q: u8, ansi: bool, toks: &mut Vec<Tok>, prefix: bool) -> Option<Hit> {
    toks.clear();
    if prefix {
        if !tokenize(b, q, ansi, toks, PREFIX) {
            return None;
        }
        let known = known_final(toks, PREFIX);
        if let Some(hit) = rules::analyze_prefix(toks, b, known) {
            return hit;
        }
        toks.clear();
    }
    if tokenize(b, q, ansi, toks, usize::MAX) {
        analyze(toks, b)
    } else {
        None
    }
}

/// [`context`] on a long value where an "anywhere" rule can fire ([`reach`]): the rules that
/// read a prefix of the stream on its first tokens (the whole stream when they read past
/// them), the "anywhere" rules around `places` ([`reach::spots`], see [`spots`]), and
/// `paren_comment` on the whole stream only when the value can be its shape. What
/// [`context`] gives on the whole stream (the tests compare both).
fn context_around(
    b: &[u8],
    q: u8,
    ansi: bool,
    toks: &mut Vec<Tok>,
    places: &[(usize, usize)],
    marks: &[u32],
) -> Option<Hit> {
    let mut limit = PREFIX;
    let (head, rest) = loop {
        toks.clear();
        if !tokenize(b, q, ansi, toks, limit) {
            return None;
        }
        let known = known_final(toks, limit);
        if let Some(found) = rules::analyze_ends(toks, b, known) {
            break found;
        }
        if limit >= PREFIX_LONG {
            return context(b, q, ansi, toks, false);
        }
        limit = PREFIX_LONG;
    };
    if head.is_some() {
        return head;
    }
    if let Some(hit) = spots::anywhere_around(b, q, ansi, places, marks, toks) {
        return Some(hit);
    }
    if rules::may_paren_comment(b) {
        return context(b, q, ansi, toks, false);
    }
    rest
}

/// A long value is read around its places ([`context_around`]) when it holds at most one
/// per this many bytes; denser, over the whole stream.
const SPARSE: usize = 64;

/// Folded tokens [`context_around`] reads the prefix rules on when [`PREFIX`] does not do.
const PREFIX_LONG: usize = 80;

type Hit = (&'static str, usize, usize);

/// Builds this detector's tables now (keyword maps and pre-filter gates), so that the first request to need
/// them does not spend its time budget on it.
pub(crate) fn warm_up() {
    LazyLock::force(&PRE_GATE);
    LazyLock::force(&SKIP_GATE);
    LazyLock::force(&PRE);
    LazyLock::force(&WORDS);
    reach::warm_up();
    strict::warm_up();
}

fn finding(input: &str, rule: &'static str, s: usize, e: usize) -> Finding {
    let mut span = super::char_span(input, s, e);
    if span.end <= span.start {
        span.end = input.len();
    }
    Finding { rule, span }
}
