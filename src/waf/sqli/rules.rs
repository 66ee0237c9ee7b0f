//! The rule driver ([`analyze`]) and the rules and predicates that are neither anchored at the
//! injection point ([`super::positional`]) nor scans of the whole stream
//! ([`super::anywhere`]): shapes of the whole value, statement continuations.

use super::anywhere::anywhere;
use super::positional::{equal_literals, positional, word_is};
use super::token::*;
use super::tokenizer::is_ws;
use super::words::{lookup, NILADIC};
use super::Hit;

/// The folded tokens of a value and its bytes, as the rules read them.
///
/// A prefix view ([`View::prefix`]) holds only the first tokens of the stream, of which the
/// first `known` are final: a read of any later token (or of the stream's length) is noted
/// ([`View::overread`]), and the caller then reads the whole stream instead.
pub(super) struct View<'a>(
    pub(super) &'a [Tok],
    pub(super) &'a [u8],
    usize,
    std::cell::Cell<bool>,
);

impl<'a> View<'a> {
    /// The whole stream.
    pub(super) fn new(toks: &'a [Tok], b: &'a [u8]) -> Self {
        View(toks, b, usize::MAX, std::cell::Cell::new(false))
    }

    /// The first tokens of the stream, the first `known` of them final.
    pub(super) fn prefix(toks: &'a [Tok], b: &'a [u8], known: usize) -> Self {
        View(toks, b, known, std::cell::Cell::new(false))
    }

    /// Whether a rule read past the tokens known final.
    pub(super) fn overread(&self) -> bool {
        self.3.get()
    }

    #[inline]
    fn note(&self, i: usize) {
        if i >= self.2 {
            self.3.set(true);
        }
    }

    /// `min(i, index of the last token)`: only needs to know whether the stream goes on past
    /// `i` (a read of token `i`).
    pub(super) fn at_most_last(&self, i: usize) -> usize {
        self.note(i);
        i.min(self.0.len().saturating_sub(1))
    }
}

impl View<'_> {
    pub(super) fn b(&self) -> &[u8] {
        self.1
    }
    #[inline]
    pub(super) fn get(&self, i: usize) -> Tok {
        self.note(i);
        self.0.get(i).copied().unwrap_or(END)
    }
    #[inline]
    pub(super) fn t(&self, i: usize) -> u8 {
        self.note(i);
        self.0.get(i).map_or(T_END, |t| t.t)
    }
    /// Index of the first token at or after `i` that is not `(`.
    pub(super) fn skip_lp(&self, i: usize) -> usize {
        if self.t(i) == T_LP {
            i + 1
        } else {
            i
        }
    }
    pub(super) fn span(&self, a: usize, b: usize) -> (usize, usize) {
        let s = self.get(a).s;
        self.note(b);
        let last = self.0.len().saturating_sub(1);
        let e = self.0.get(b.min(last)).map_or(s, |t| t.e);
        (s, e.max(s))
    }
}

/// Folded tokens the windowed scan must see final: the positional rules and
/// [`from_clause`] read at most token 12 (a nested `name=` value, `,`, `(`, an operand and
/// `)` before the logic operator, then 6 tokens after it).
pub(super) const WINDOW: usize = 16;

/// Folded tokens the windowed scan tokenizes first: the rules usually read no further on
/// prose (a word, then a word that is no operator), and a read past them sends the value to
/// the whole window (see [`analyze_window_prefix`]).
pub(super) const WINDOW_FIRST: usize = 2;

/// [`analyze`] for a value with only weak triggers (plain context, window of tokens):
/// with no quote, comment, statement/UNION keyword, function call, `@@`, `::` or catalog
/// name, the "anywhere" rules, [`paren_comment`] and [`chained_cmp`] cannot fire, and the
/// rest read only the first [`WINDOW`] tokens.
pub(super) fn analyze_window(toks: &[Tok], b: &[u8]) -> Option<Hit> {
    window_rules(&View::new(toks, b))
}

/// [`analyze_window`] on the first tokens of the window, of which the first `known` are
/// final: `None` when a rule read past them (the caller then tokenizes the whole window),
/// otherwise what [`analyze_window`] gives on the whole window.
pub(super) fn analyze_window_prefix(toks: &[Tok], b: &[u8], known: usize) -> Option<Option<Hit>> {
    let v = View::prefix(toks, b, known);
    let hit = window_rules(&v);
    (!v.overread()).then_some(hit)
}

/// The rules of [`analyze_window`].
fn window_rules(v: &View) -> Option<Hit> {
    positional(v, 0)
        .or_else(|| nested(v.0).then(|| positional(v, 2)).flatten())
        .or_else(|| equal_literals(v))
        .or_else(|| from_clause(v))
}

/// A nested value (`name=value` inside the value): the positional rules also read from its
/// value, token 2.
fn nested(toks: &[Tok]) -> bool {
    toks.len() > 2
        && toks[0].t == T_WORD
        && toks[1].t == T_CMP
        && toks[1].e - toks[1].s == 1
        && toks[1].f == b'='
}

/// [`analyze`] on the first tokens of a value on which the "anywhere" rules cannot fire
/// (see [`super::reach`]) and which does not open with `(` (for [`paren_comment`]): the
/// first `known` tokens of `toks` are final. `None` when a rule read past them (the caller
/// then runs [`analyze`] on the whole stream); otherwise what [`analyze`] would give.
pub(super) fn analyze_prefix(toks: &[Tok], b: &[u8], known: usize) -> Option<Option<Hit>> {
    let v = View::prefix(toks, b, known);
    let hit = positional(&v, 0)
        .or_else(|| nested(toks).then(|| positional(&v, 2)).flatten())
        .or_else(|| equal_literals(&v))
        .or_else(|| chained_cmp(&v))
        .or_else(|| from_clause(&v));
    (!v.overread()).then_some(hit)
}

/// The rules of [`analyze`] that read a prefix of the stream, on the first tokens of the
/// stream (the first `known` final): those before the "anywhere" rules (at 0) and those after
/// them and `paren_comment` (at 1). `None` when a rule read past them.
pub(super) fn analyze_ends(
    toks: &[Tok],
    b: &[u8],
    known: usize,
) -> Option<(Option<Hit>, Option<Hit>)> {
    let v = View::prefix(toks, b, known);
    let head = positional(&v, 0).or_else(|| nested(toks).then(|| positional(&v, 2)).flatten());
    let rest = if head.is_none() {
        equal_literals(&v)
            .or_else(|| chained_cmp(&v))
            .or_else(|| from_clause(&v))
    } else {
        None
    };
    (!v.overread()).then_some((head, rest))
}

/// Whether [`paren_comment`] can fire on a value: it opens with `(` and holds a `)` followed
/// (after blanks) by a comment's start.
pub(super) fn may_paren_comment(b: &[u8]) -> bool {
    b.iter().find(|&&c| !is_ws(c)) == Some(&b'(')
        && memchr::memchr_iter(b')', b).any(|p| {
            let rest = &b[p + 1..];
            let k = rest.iter().position(|&c| !is_ws(c)).unwrap_or(rest.len());
            matches!(
                rest.get(k..k + 2),
                Some([b'#', _]) | Some(b"--") | Some(b"/*")
            ) || rest.get(k) == Some(&b'#')
        })
}

pub(super) fn analyze(toks: &[Tok], b: &[u8]) -> Option<Hit> {
    let v = View::new(toks, b);
    positional(&v, 0)
        .or_else(|| nested(toks).then(|| positional(&v, 2)).flatten())
        .or_else(|| anywhere(&v))
        .or_else(|| paren_comment(&v))
        .or_else(|| equal_literals(&v))
        .or_else(|| chained_cmp(&v))
        .or_else(|| from_clause(&v))
}

/// Two or more comparisons chained between literals, one of them a string:
/// `'a' < '$.c' = 7`, `x' = 'x' = 0 = '1` (SQL evaluates left to right; prose does not).
pub(super) fn chained_cmp(v: &View) -> Option<Hit> {
    let t0 = v.get(0);
    if !is_literal(t0) {
        return None;
    }
    let mut has_str = t0.t == T_STR;
    let mut k = 1;
    let mut cmps = 0;
    while v.t(k) == T_CMP && v.get(k).f != 0 {
        let x = v.get(k + 1);
        if !is_literal(x) {
            return None;
        }
        has_str |= x.t == T_STR;
        cmps += 1;
        k += 2;
    }
    if cmps >= 2 && has_str && matches!(v.t(k), T_END | T_COMMENT) {
        let (s, e) = v.span(0, k - 1);
        return Some(("sqli-tautology", s, e));
    }
    None
}

/// The value starts with a FROM clause naming a table the way code does (backticks,
/// `snake_case`, `db.table`) and continues with WHERE / LIMIT / JOIN / ORDER BY / GROUP BY
/// (`FROM `t` WHERE `id` = 1 LIMIT`, `FROM ack_variable WHERE ...`). "From Paris where ..."
/// has no such table name.
pub(super) fn from_clause(v: &View) -> Option<Hit> {
    let t0 = v.get(0);
    if !(t0.t == T_KW && t0.a == K_FROM) {
        return None;
    }
    let coded = |t: Tok| {
        let w = v.b().get(t.s..t.e).unwrap_or(&[]);
        t.t == T_WORD && (t.f == b'`' || (w.contains(&b'_') && !w.iter().any(|&c| is_ws(c))))
    };
    let mut strong = false;
    let mut j = 1;
    while j < 7 {
        let t = v.get(j);
        match t.t {
            T_WORD if !word_is(v, t, b"limit") && !word_is(v, t, b"join") => strong |= coded(t),
            T_OP if matches!(t.f, b'.' | b'+') => {}
            _ => break,
        }
        j += 1;
    }
    if j == 1 {
        return None;
    }
    let n = v.get(j);
    let ok = match n.t {
        // WHERE must go on to a condition ("from `config.toml` where you ..." is prose)
        T_KW => {
            n.a == K_WHERE && strong && (j + 1..j + 5).any(|m| matches!(v.t(m), T_CMP | T_FUNC))
        }
        T_CLAUSE => strong || coded(v.get(j + 1)),
        T_WORD => strong && (word_is(v, n, b"limit") || word_is(v, n, b"join")),
        _ => false,
    };
    if ok {
        let (s, e) = v.span(0, j);
        return Some(("sqli-statement", s, e));
    }
    None
}

/// Backtick context (the value pasted inside a MySQL `` `identifier` ``). Backticks are
/// also markdown code spans, so only a few shapes count here: the identifier closed and the
/// statement ended (`` admin`; ``, `` admin`;-- ``, `` admin`-- ``), the select-list tail
/// `` ` AS `alias` FROM``, or a WHERE on a constant condition (`` ` WHERE 1=1 HAVING 2=3``).
pub(super) fn backtick_rules(v: &View) -> Option<Hit> {
    let first = v.get(0);
    if first.t != T_STR || first.f & F_BREAK == 0 {
        return None;
    }
    let body = v.b().get(first.s..first.e.saturating_sub(1)).unwrap_or(&[]);
    let word_body = !body.is_empty() && !body.iter().any(|&c| is_ws(c) || c == b'`');
    let n1 = v.get(1);
    let n2 = v.get(2);
    match n1.t {
        T_SEMI if word_body && matches!(n2.t, T_END | T_COMMENT) => {
            let (s, e) = v.span(0, 1);
            Some(("sqli-stacked", s, e))
        }
        T_COMMENT if word_body && n1.a == b'-' && n1.f == 1 && n1.s == first.e => {
            let (s, e) = v.span(0, 1);
            Some(("sqli-comment", s, e))
        }
        T_KW if n1.a == K_WHERE => closed_where(v, 1),
        T_RP if n2.t == T_KW && n2.a == K_WHERE => closed_where(v, 2),
        T_KW if n1.a == K_AS
            && matches!(n2.t, T_WORD | T_STR)
            && (n2.f == b'`' || n2.t == T_STR)
            && v.t(3) == T_KW
            && v.get(3).a == K_FROM =>
        {
            let (s, e) = v.span(0, 3);
            Some(("sqli-statement", s, e))
        }
        _ => None,
    }
}

/// `( expr ) --`: a parenthesised SQL expression closed and followed by a trailing comment
/// (the value was injected inside parentheses and the rest of the query is cut off).
pub(super) fn paren_comment(v: &View) -> Option<Hit> {
    let toks = v.0;
    let last = *toks.last()?;
    if last.t != T_COMMENT || last.f != 1 || toks.len() < 2 {
        return None;
    }
    let b = v.b();
    let first_byte = b.iter().position(|&c| !is_ws(c))?;
    if b[first_byte] != b'(' {
        return None;
    }
    let before = b[..last.s].iter().rposition(|&c| !is_ws(c))?;
    if b[before] != b')' {
        return None;
    }
    let body = &toks[..toks.len() - 1];
    let mut sql_value = false;
    for t in body {
        match t.t {
            T_NUM | T_STR | T_VAR | T_FUNC | T_STMT => sql_value = true,
            T_WORD if t.a != W_ENGLISHY => {}
            T_LOGIC | T_CMP | T_OP | T_LP | T_RP | T_COMMA => {}
            _ => return None,
        }
    }
    if sql_value {
        Some(("sqli-comment", toks[0].s, last.e))
    } else {
        None
    }
}

pub(super) fn is_literal(t: Tok) -> bool {
    matches!(t.t, T_NUM | T_STR)
}

/// Whether the function call at `i` (a T_FUNC followed by `(`) has SQL-literal arguments.
pub(super) fn literal_args(v: &View, i: usize) -> bool {
    if v.t(i + 1) != T_LP {
        return false;
    }
    let a = v.get(i + 2);
    match a.t {
        T_NUM | T_STR | T_VAR | T_FUNC | T_STMT | T_END => true,
        T_RP => true,
        T_WORD => a.a == W_CATALOG || a.a == W_STRONG,
        _ => false,
    }
}

/// `version()`, `user()`, `database()`: information-gathering calls with no arguments.
pub(super) fn niladic(v: &View, i: usize) -> bool {
    let t = v.get(i);
    v.t(i + 1) == T_LP
        && v.t(i + 2) == T_RP
        && v.b().get(t.s..t.e).is_some_and(|name| {
            NILADIC
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
        })
}

/// `user(`, `database(`, `version(`, `schema(`, `sysdate(` glued to its `(` and nothing
/// after it: the value ends inside an information function's argument list.
pub(super) fn unfinished_info_call(v: &View, i: usize) -> bool {
    let t = v.get(i);
    let lp = v.get(i + 1);
    lp.t == T_LP
        && lp.s == t.e
        && lp.a == 1
        && v.t(i + 2) == T_END
        && v.b().get(t.s..t.e).is_some_and(|name| {
            ["database", "schema", "user", "version", "sysdate"]
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
        })
}

/// Token `i` is glued by an inline comment to token `i - 1`, both are plain letters, and
/// together they spell a statement / UNION-like keyword or FROM/WHERE (`SEL/**/ECT`).
pub(super) fn split_keyword(v: &View, i: usize) -> bool {
    let (p, t) = (v.get(i - 1), v.get(i));
    let b = v.b();
    let (Some(l), Some(r)) = (b.get(p.s..p.e), b.get(t.s..t.e)) else {
        return false;
    };
    let len = l.len() + r.len();
    if !(4..=12).contains(&len) || !l.iter().chain(r).all(u8::is_ascii_alphabetic) {
        return false;
    }
    let mut buf = [0u8; 12];
    for (d, s) in buf.iter_mut().zip(l.iter().chain(r)) {
        *d = s.to_ascii_lowercase();
    }
    let (ty, a) = lookup(&buf[..len]).kw;
    matches!(ty, T_STMT | T_UNION) || (ty == T_KW && matches!(a, K_FROM | K_WHERE))
}

/// Does the statement keyword at `j` continue like real SQL?
pub(super) fn stmt_continues(v: &View, j: usize) -> bool {
    let st = v.get(j);
    let n1 = v.get(j + 1);
    let n2 = v.get(j + 2);
    match st.a {
        S_SELECT => match n1.t {
            T_NUM | T_STR | T_FUNC | T_VAR | T_LP | T_END => true,
            T_OP => n1.a == O_STAR,
            T_WORD => {
                n1.a == W_STRONG
                    || n1.a == W_CATALOG
                    || row_limit(v, n1, n2)
                    || matches!(n2.t, T_END | T_COMMA | T_COMMENT | T_SEMI | T_RP)
                    || (n2.t == T_KW && n2.a == K_FROM)
            }
            _ => false,
        },
        S_INSERT | S_REPLACE => {
            (n1.t == T_KW && n1.a == K_INTO)
                || (n1.t == T_WORD && (n2.t == T_LP || (n2.t == T_KW && n2.a == K_VALUES)))
        }
        S_UPDATE => n1.t == T_WORD && (n2.t == T_END || (n2.t == T_STMT && n2.a == S_SET)),
        S_DELETE => (n1.t == T_KW && n1.a == K_FROM) || (n1.t == T_WORD && n2.t == T_END),
        S_DDL | S_TRUNCATE => {
            (n1.t == T_KW && matches!(n1.a, K_TABLE | K_PROCEDURE))
                || n1.t == T_END
                || (n1.t == T_OP && n1.f == b'[')
                || (st.a == S_TRUNCATE && n1.t == T_WORD)
        }
        S_EXEC => match n1.t {
            T_LP | T_VAR => true,
            T_KW => n1.a == K_IMMEDIATE,
            T_WORD => {
                n1.a != W_ENGLISHY
                    || matches!(n2.t, T_END | T_STR | T_NUM | T_VAR | T_SEMI | T_COMMENT)
            }
            _ => false,
        },
        S_DECLARE => n1.t == T_VAR,
        S_SET => n1.t == T_VAR || (n1.t == T_WORD && n2.t == T_CMP),
        S_SHUTDOWN | S_WAITFOR_DELAY => true,
        S_WAITFOR => n1.t == T_STR,
        S_CALL => n1.t == T_WORD && n2.t == T_LP,
        _ => false,
    }
}

/// `SELECT TOP 1 x` (SQL Server, Access), `SELECT FIRST 1 x` (Firebird, Informix): a row
/// limit right after SELECT.
pub(super) fn row_limit(v: &View, n1: Tok, n2: Tok) -> bool {
    n2.t == T_NUM && (word_is(v, n1, b"top") || word_is(v, n1, b"first"))
}

/// A WHERE clause at `i` on a constant condition, right after what closes the value's own
/// context: a `)`, a backticked name or a break-out string, optionally followed by `AS
/// alias` (`') AS abcd WHERE 1234=1234 OR 5678=5678`, `` ` WHERE 1=1 HAVING 2=3``,
/// `` `) WHERE 8=8``). "the case where 1 = 1" has no closing token before WHERE.
pub(super) fn closed_where(v: &View, i: usize) -> Option<Hit> {
    if i == 0 {
        return None;
    }
    let mut p = i - 1;
    if p >= 2 && matches!(v.t(p), T_WORD | T_STR) && v.t(p - 1) == T_KW && v.get(p - 1).a == K_AS {
        p -= 2;
    }
    let c = v.get(p);
    let closing =
        c.t == T_RP || (c.t == T_WORD && c.f == b'`') || (c.t == T_STR && c.f & F_BREAK != 0);
    let (a, cmp, b) = (v.get(i + 1), v.get(i + 2), v.get(i + 3));
    let after = v.get(i + 4);
    let tail = matches!(
        after.t,
        T_END | T_COMMENT | T_LOGIC | T_CLAUSE | T_RP | T_SEMI
    ) || (after.t == T_KW && after.a == K_HAVING);
    if closing && is_literal(a) && cmp.t == T_CMP && is_literal(b) && tail {
        let (s, e) = v.span(p, i + 3);
        return Some(("sqli-tautology", s, e));
    }
    None
}

/// `0x616263`: a hex literal long enough to spell a string (MySQL reads it as one).
pub(super) fn is_hex_string(v: &View, t: Tok) -> bool {
    let w = v.b().get(t.s..t.e).unwrap_or(&[]);
    t.t == T_NUM && w.len() >= 6 && w[0] == b'0' && w[1] | 0x20 == b'x'
}

/// Stronger statement test for a value that *starts* with a statement keyword (no break-out).
pub(super) fn stmt_at_start(v: &View, j: usize, input_funcs: bool) -> bool {
    let st = v.get(j);
    let n1 = v.get(j + 1);
    let n2 = v.get(j + 2);
    let n3 = v.get(j + 3);
    match st.a {
        S_SELECT => match n1.t {
            T_FUNC | T_VAR | T_LP => true,
            T_OP => n1.a == O_STAR,
            T_NUM | T_STR => {
                matches!(n2.t, T_COMMA | T_LOGIC | T_OP | T_SEMI)
                    || (n2.t == T_KW && n2.a == K_FROM)
                    || (is_hex_string(v, n1) && matches!(n2.t, T_END | T_COMMENT))
            }
            T_WORD => n1.a == W_STRONG || n1.a == W_CATALOG || input_funcs,
            _ => false,
        },
        S_INSERT | S_REPLACE => {
            n1.t == T_KW
                && n1.a == K_INTO
                && n2.t == T_WORD
                && (n3.t == T_LP || (n3.t == T_KW && n3.a == K_VALUES) || n3.t == T_STMT)
        }
        S_UPDATE => n1.t == T_WORD && n2.t == T_STMT && n2.a == S_SET && n3.t == T_WORD,
        S_DELETE => {
            n1.t == T_KW
                && n1.a == K_FROM
                && n2.t == T_WORD
                && (matches!(n3.t, T_END | T_SEMI | T_COMMENT) || (n3.t == T_KW && n3.a == K_WHERE))
        }
        S_DDL | S_TRUNCATE => {
            (n1.t == T_KW
                && matches!(n1.a, K_TABLE | K_PROCEDURE)
                && n2.t == T_WORD
                && (matches!(n3.t, T_END | T_SEMI | T_COMMENT | T_LP)
                    || (st.a == S_DDL && matches!(n3.t, T_WORD | T_STMT | T_KW))))
                // `DROP users;--`: terminated and the rest commented out
                || (n1.t == T_WORD
                    && n2.t == T_SEMI
                    && n3.t == T_COMMENT
                    && n3.s == n2.e
                    && !v.b()[n3.s..n3.e].iter().any(|c| c.is_ascii_alphanumeric()))
        }
        S_EXEC => match n1.t {
            T_LP | T_VAR => true,
            T_KW => n1.a == K_IMMEDIATE,
            T_WORD => n1.a != W_ENGLISHY || (n2.t == T_OP && n2.f == b'.'),
            _ => false,
        },
        S_DECLARE => n1.t == T_VAR,
        S_SET => n1.t == T_VAR && n1.a == 0,
        S_SHUTDOWN => matches!(n1.t, T_END | T_SEMI | T_COMMENT),
        S_WAITFOR_DELAY => true,
        _ => false,
    }
}
