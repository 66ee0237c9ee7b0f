//! Rules that hold wherever in the value the construct appears (`UNION SELECT`, `; DROP`,
//! `WAITFOR DELAY`, catalog names, attack functions in operator position, ...).

use super::positional::start_call;
use super::positional::word_is;
use super::rules::{
    closed_where, is_literal, niladic, row_limit, split_keyword, stmt_continues,
    unfinished_info_call, View,
};
use super::token::*;
use super::tokenizer::{is_word_char, is_ws};
use super::Hit;

/// `CASE WHEN cond THEN` (CASE not preceded by a word: "in case when ..." is English) with
/// a SQL-looking condition, or `) WHEN x THEN` at the start of the value.
pub(super) fn case_when(v: &View, i: usize) -> Option<Hit> {
    let p = v.get(i - 1);
    let paren_start = p.t == T_RP && i == 1;
    // CASE first, after SELECT, or after punctuation (`(`, `,`, `=`, a quote)
    let before = v.b()[..p.s]
        .iter()
        .rposition(|&c| !is_ws(c))
        .map(|x| v.b()[x]);
    let case_start = p.t == T_WORD
        && word_is(v, p, b"case")
        && (i == 1
            || v.t(i - 2) == T_STMT
            || before.is_some_and(|c| !c.is_ascii_alphanumeric() && !matches!(c, b')' | b'_')));
    if !(paren_start || case_start) {
        return None;
    }
    let mut sqlish = false;
    for j in i + 1..i + 9 {
        let t = v.get(j);
        match t.t {
            T_WORD if t.a == W_ENGLISHY && word_is(v, t, b"then") => {
                if sqlish && j > i + 1 {
                    let (s, e) = v.span(i - 1, j);
                    return Some(("sqli-statement", s, e));
                }
                return None;
            }
            T_CMP | T_FUNC | T_VAR | T_STR => sqlish = true,
            T_NUM => sqlish |= paren_start,
            T_WORD => sqlish |= t.a != W_ENGLISHY,
            T_END | T_SEMI | T_COMMENT => return None,
            _ => {}
        }
    }
    None
}

/// `now() - interval '7 days'`: the niladic call at `i` starts date arithmetic, the way
/// applications (and posts that quote their queries) write a time window; probes compare
/// or nest the call instead.
fn date_arithmetic(v: &View, i: usize) -> bool {
    let op = v.get(i + 3);
    op.t == T_OP && matches!(op.f, b'-' | b'+') && word_is(v, v.get(i + 4), b"interval")
}

/// A `regexp_*` call whose first argument is `repeat(`: a heavy query.
fn heavy_regexp(v: &View, i: usize) -> bool {
    let t = v.get(i);
    v.b()
        .get(t.s..t.e)
        .is_some_and(|w| w.len() > 7 && w[..7].eq_ignore_ascii_case(b"regexp_"))
        && v.t(i + 1) == T_LP
        && v.t(i + 2) == T_FUNC
        && word_is(v, v.get(i + 2), b"repeat")
}

pub(super) fn is_sql_kw(t: Tok) -> bool {
    match t.t {
        T_STMT | T_UNION | T_CLAUSE => true,
        T_LOGIC => t.f == 0,
        T_KW => matches!(t.a, K_FROM | K_WHERE | K_INTO | K_VALUES | K_OUTFILE),
        _ => false,
    }
}

/// Rules that hold wherever in the value the construct appears.
pub(super) fn anywhere(v: &View) -> Option<Hit> {
    (0..v.0.len()).find_map(|i| anywhere_at(v, i))
}

/// [`anywhere`] at token `i`: the rules that start from it. They read at most three tokens
/// before it and a bounded number after it, and use `i` itself only to tell the first tokens
/// of the stream (0, 1, 2) from the others (see `super::spots`).
#[inline(always)]
pub(super) fn anywhere_at(v: &View, i: usize) -> Option<Hit> {
    let t = v.get(i);
    {
        match t.t {
            T_UNION => {
                let j = v.skip_lp(i + 1);
                let n = v.get(j);
                if (n.t == T_STMT && n.a == S_SELECT && stmt_continues(v, j))
                    || (n.t == T_KW && n.a == K_VALUES && v.t(j + 1) == T_LP)
                {
                    let (s, e) = v.span(i, j);
                    return Some(("sqli-union", s, e));
                }
            }
            T_SEMI => {
                let n = v.get(i + 1);
                if n.t == T_STMT && stmt_continues(v, i + 1) {
                    let (s, e) = v.span(i, i + 2);
                    return Some(("sqli-stacked", s, e));
                }
            }
            _ if t.g && i > 0 && (is_sql_kw(t) || is_sql_kw(v.get(i - 1))) => {
                // `DROP/**/x`, `union/**/select`, `SELECT/*x*/password`: comment-as-space
                let (s, e) = v.span(i - 1, i);
                return Some(("sqli-comment", s, e));
            }
            _ if t.g && i > 0 && split_keyword(v, i) => {
                // `UN/**/ION`, `DR/**/OP`: a keyword cut in two by an inline comment, for
                // filters that strip comments (never needed by real SQL or prose)
                let (s, e) = v.span(i - 1, i);
                return Some(("sqli-comment", s, e));
            }
            T_KW if t.a == K_HAVING && is_literal(v.get(i + 1)) && v.t(i + 2) == T_CMP => {
                // `HAVING 1=1`, `having '1'='1`: a HAVING clause on a constant
                let (s, e) = v.span(i, i + 2);
                return Some(("sqli-tautology", s, e));
            }
            T_STMT if t.a == S_WAITFOR_DELAY => {
                return Some(("sqli-fingerprint", t.s, t.e));
            }
            T_STMT
                if t.a == S_WAITFOR && word_is(v, v.get(i + 1), b"time") && v.t(i + 2) == T_STR =>
            {
                // `WAITFOR TIME '23:59:59'`
                let (s, e) = v.span(i, i + 2);
                return Some(("sqli-fingerprint", s, e));
            }
            T_KW if t.a == K_WHERE => {
                if let Some(h) = closed_where(v, i) {
                    return Some(h);
                }
            }
            T_STMT if t.a == S_SELECT && i > 0 && v.t(i - 1) == T_LP => {
                let n1 = v.get(i + 1);
                let n2 = v.get(i + 2);
                let strong = match n1.t {
                    T_FUNC | T_VAR | T_LP => true,
                    T_OP => n1.a == O_STAR,
                    T_NUM | T_STR => {
                        matches!(n2.t, T_COMMA | T_RP | T_END) || (n2.t == T_KW && n2.a == K_FROM)
                    }
                    T_WORD => {
                        n1.a == W_STRONG
                            || n1.a == W_CATALOG
                            || row_limit(v, n1, n2)
                            || (n2.t == T_KW && n2.a == K_FROM)
                    }
                    _ => false,
                };
                if strong {
                    let (s, e) = v.span(i - 1, i + 1);
                    return Some(("sqli-statement", s, e));
                }
            }
            T_KW if t.a == K_VALUES && (i == 0 || v.t(i - 1) == T_RP) && v.t(i + 1) == T_LP => {
                // `VALUES ('1.2.3.4', 'x')`: a row of literals, one of them a string
                let mut j = i + 2;
                let (mut strs, mut commas) = (0, 0);
                while j < i + 40 && is_literal(v.get(j)) {
                    strs += usize::from(v.t(j) == T_STR);
                    if v.t(j + 1) != T_COMMA {
                        break;
                    }
                    commas += 1;
                    j += 2;
                }
                if strs > 0 && commas > 0 && v.t(j + 1) == T_RP {
                    let (s, e) = v.span(i, j + 1);
                    return Some(("sqli-statement", s, e));
                }
            }
            T_KW if t.a == K_OUTFILE && t.e - t.s > 8 => {
                let (s, e) = v.span(i, i + 1);
                return Some(("sqli-fingerprint", s, e));
            }
            T_WORD if t.a == W_CATALOG => return Some(("sqli-fingerprint", t.s, t.e)),
            T_WORD if t.a == W_GLUED => return Some(("sqli-union", t.s, t.e)),
            T_WORD if t.a == W_ENGLISHY && i > 0 && word_is(v, t, b"when") => {
                if let Some(h) = case_when(v, i) {
                    return Some(h);
                }
            }
            T_NUM if t.a == 1 => return Some(("sqli-fingerprint", t.s, t.e)),
            T_KW if t.a == K_AS && i > 0 => {
                // `) AS alias FROM`, `` `x` AS `y` FROM``: a select-list tail
                let p = v.get(i - 1);
                let n1 = v.get(i + 1);
                let n2 = v.get(i + 2);
                // (a select list: nothing or `,` `(` `.` SELECT before a backticked column;
                // "Use `foo` as `bar` from here" is markdown prose)
                let pp = if i >= 2 { v.t(i - 2) } else { T_END };
                let listed = matches!(pp, T_END | T_COMMA | T_LP | T_STMT | T_OP | T_STR);
                let p_ok = p.t == T_RP || (p.t == T_WORD && p.f == b'`' && listed) || p.t == T_NUM;
                let alias_ok = matches!(n1.t, T_WORD | T_STR)
                    && (p.t == T_RP || n1.f == b'`' || n1.t == T_STR);
                if p_ok && alias_ok && n2.t == T_KW && n2.a == K_FROM {
                    let (s, e) = v.span(i - 1, i + 2);
                    return Some(("sqli-statement", s, e));
                }
            }
            T_VAR if t.a == 1 && (t.s == 0 || !is_word_char(v.b()[t.s - 1])) => {
                return Some(("sqli-fingerprint", t.s, t.e));
            }
            T_OP if t.a == O_CAST_PG && i > 0 => {
                let p = v.t(i - 1);
                if matches!(p, T_WORD | T_NUM | T_STR | T_RP) {
                    let (s, e) = v.span(i - 1, i + 1);
                    return Some(("sqli-fingerprint", s, e));
                }
            }
            T_FUNC
                if v.t(i + 1) == T_LP
                    && v.t(i + 2) == T_FUNC
                    && word_is(v, t, b"ascii")
                    && ["substring", "substr", "mid"]
                        .iter()
                        .any(|w| word_is(v, v.get(i + 2), w.as_bytes())) =>
            {
                // `ascii(substring(x,1,1))`: blind extraction one character at a time
                let (s, e) = v.span(i, i + 3);
                return Some(("sqli-function", s, e));
            }
            T_FUNC if unfinished_info_call(v, i) => {
                // `... user(` at the very end: an information function opened and left
                // for the query's own `)` (a probe cut where the app's SQL resumes)
                let (s, e) = v.span(i, i + 1);
                return Some(("sqli-function", s, e));
            }
            T_FUNC if heavy_regexp(v, i) => {
                // `REGEXP_SUBSTRING(REPEAT(..., 500000000), NULL)`: a regular expression
                // over a repeated string, a heavy query that stands in for a sleep
                let (s, e) = v.span(i, i + 2);
                return Some(("sqli-function", s, e));
            }
            T_FUNC => {
                let p = if i > 0 { v.t(i - 1) } else { T_END };
                // (`BEGIN DBMS_LOCK.SLEEP(5); END`, `THEN dbms_pipe.receive_message(..)`: a
                // package procedure called as a PL/SQL block's statement)
                let block = p == T_WORD
                    && v.b().get(t.s..t.e).is_some_and(|w| w.contains(&b'.'))
                    && [&b"begin"[..], b"then", b"else", b"loop"]
                        .iter()
                        .any(|w| word_is(v, v.get(i - 1), w));
                let op_position = !matches!(p, T_WORD | T_NUM) || block;
                if i == 0 && !start_call(v, 0) {
                    return None;
                }
                if op_position
                    && (t.a == FN_STRONG || (p != T_END && niladic(v, i) && !date_arithmetic(v, i)))
                {
                    let (s, e) = v.span(i, i + 2);
                    return Some(("sqli-function", s, e));
                }
            }
            _ => {}
        }
    }
    None
}
