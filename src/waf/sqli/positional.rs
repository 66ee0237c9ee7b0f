//! Rules anchored at the injection point: the first folded tokens after a break-out string,
//! a leading operand or the start of the value.

use super::rules::{closed_where, is_literal, literal_args, stmt_at_start, stmt_continues, View};
use super::token::*;
use super::tokenizer::{is_word_char, is_ws};
use super::Hit;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Left {
    Start,
    Str,
    Break,
    Num,
    Word,
    Var,
}

/// Rules anchored at the injection point: token `base` (0, or just after a leading
/// `name=` for values that carry a nested `name=value`).
pub(super) fn positional(v: &View, base: usize) -> Option<Hit> {
    let toks = v.0;
    if toks.len() <= base {
        return None;
    }
    let first = toks[base];
    let broke = first.t == T_STR && first.f & F_BREAK != 0;
    let mut k = base;
    let left;
    if broke {
        left = Left::Break;
        k += 1;
    } else {
        if v.t(k) == T_COMMA {
            k += 1;
        }
        k = v.skip_lp(k);
        left = match v.t(k) {
            T_NUM => Left::Num,
            T_WORD => Left::Word,
            T_VAR => Left::Var,
            T_STR if v.get(k).f & F_CLOSED != 0 => Left::Str,
            _ => Left::Start,
        };
        if left != Left::Start {
            k += 1;
        }
    }
    if left == Left::Break {
        if let Some(h) = break_expr_comment(v, k) {
            return Some(h);
        }
    }
    let mut after_rp = v.t(k) == T_RP;
    if after_rp {
        k += 1;
    }
    if left == Left::Break {
        if let Some(j) = fulltext_modifier(v, k) {
            k = j;
            after_rp = true;
        }
    }
    let r = v.get(k);
    match r.t {
        T_LOGIC => {
            if left == Left::Break && !after_rp && r.f == 0 && r.s == first.e {
                // `x'or'1`, `a'and'b`: a keyword glued between quotes is no prose; after
                // `\'` (escaping undone) any glued AND/OR is (`\'and`, `\'or 1`)
                // (`Rock'and'Roll` is a name: glued AND needs a digit after it)
                let n = v.get(k + 1);
                let b = v.b();
                let glued_in = first.e >= 2 && b.get(first.e - 2).is_some_and(|&c| !is_ws(c));
                let is_and = b.get(r.s).is_some_and(|&c| c | 0x20 == b'a');
                let digit_next = b.get(n.s + 1).is_some_and(|c| c.is_ascii_digit());
                let glued_out = n.t == T_STR && n.s == r.e && (!is_and || digit_next);
                // (`{\"or\": 1}` is escaped JSON: the `\` must follow a word or start)
                let bs_word = first.e < 3 || b.get(first.e - 3).is_some_and(|&c| is_word_char(c));
                if (glued_in && glued_out) || (first.f & F_BSLASH != 0 && bs_word) {
                    let (s, e) = v.span(0, k);
                    return Some(("sqli-tautology", s, e));
                }
            }
            let lw = if left == Left::Word && after_rp {
                Left::Num
            } else {
                left
            };
            logic_rule(v, lw, k)
        }
        T_UNION if left != Left::Start => {
            let n = v.get(v.skip_lp(k + 1));
            if n.t == T_STMT
                || (matches!(left, Left::Break | Left::Num) && matches!(n.t, T_END | T_COMMENT))
                || (left == Left::Break && n.t == T_OP && n.e == v.get(k + 1).e && n.s > 0)
            {
                return Some(("sqli-union", v.span(k, k + 1).0, v.span(k, k + 1).1));
            }
            None
        }
        T_SEMI if left == Left::Break => {
            if v.t(k + 1) == T_COMMENT {
                let (s, e) = v.span(0, k + 1);
                return Some(("sqli-comment", s, e));
            }
            // `admin@example.com';` — a single token closed and the statement terminated
            // (values with spaces before `';` are usually text: `DRESS WITH HAT 18';`)
            let body = v.b().get(first.s..first.e.saturating_sub(1)).unwrap_or(&[]);
            if v.t(k + 1) == T_END
                && !after_rp
                && body.len() >= 2
                && !body.iter().any(|&c| is_ws(c))
            {
                let (s, e) = v.span(0, k);
                return Some(("sqli-stacked", s, e));
            }
            None
        }
        T_COMMENT if left == Left::Break && r.f == 1 => {
            // `admin'#`: for MySQL `#` only an empty comment (`SOAP 1 '#`, `"#2 MOM"` are
            // text); the break-out string must not end in whitespace either
            let q_end = first.e.saturating_sub(2);
            let glued = v.b().get(q_end).is_some_and(|&c| !is_ws(c));
            let empty = v.b()[r.s + 1..r.e].iter().all(|&c| is_ws(c));
            if r.a != b'#' || (glued && empty) {
                let (s, e) = v.span(0, k);
                return Some(("sqli-comment", s, e));
            }
            None
        }
        T_CLAUSE if matches!(left, Left::Break | Left::Num) || after_rp => {
            let n1 = v.get(k + 1);
            let n2 = v.get(k + 2);
            if n1.t == T_FUNC
                || (matches!(n1.t, T_NUM | T_WORD)
                    && (matches!(n2.t, T_END | T_COMMENT | T_COMMA | T_SEMI | T_RP)
                        || (n2.t == T_KW && n2.a == K_HAVING)))
            {
                let (s, e) = v.span(k, k + 1);
                return Some(("sqli-fingerprint", s, e));
            }
            None
        }
        T_STMT if left == Left::Break || (left == Left::Start && !after_rp) => {
            let ok = if left == Left::Break {
                !opening_quote(v, first) && stmt_continues(v, k)
            } else {
                let has_func = (0..24).any(|i| v.t(i) == T_FUNC);
                stmt_at_start(v, k, has_func)
            };
            if ok {
                let (s, e) = v.span(k, k + 2);
                return Some(("sqli-statement", s, e));
            }
            None
        }
        T_FUNC if left == Left::Break || left == Left::Start => {
            if left == Left::Start && !start_call(v, k) {
                return None;
            }
            if r.a == FN_STRONG || literal_args(v, k) {
                let (s, e) = v.span(k, k + 2);
                return Some(("sqli-function", s, e));
            }
            None
        }
        T_KW if matches!(r.a, K_AS | K_WHERE) && (left == Left::Break || after_rp) => {
            // `') AS abcd WHERE 1234=1234 OR ..` at the injection point (the "anywhere"
            // rules find it after text too, but long values are read on a prefix here)
            let w = if r.a == K_AS { k + 2 } else { k };
            let t = v.get(w);
            (t.t == T_KW && t.a == K_WHERE)
                .then(|| closed_where(v, w))
                .flatten()
        }
        T_CMP if after_rp && left == Left::Start && r.f == 0 && r.a == C_LIKE => {
            // `) like (`, `)in(select`: the value closes a parenthesis and compares
            if v.t(k + 1) == T_LP {
                let (s, e) = v.span(0, k + 1);
                return Some(("sqli-tautology", s, e));
            }
            None
        }
        T_CMP
            if left == Left::Str
                && r.f == 0
                && [
                    "regexp",
                    "rlike",
                    "glob",
                    "not regexp",
                    "not rlike",
                    "not glob",
                ]
                .iter()
                .any(|w| word_is(v, r, w.as_bytes())) =>
        {
            // `'1' not regexp '2'`: a pattern match between string literals
            let n1 = v.get(k + 1);
            if n1.t == T_STR && n1.f & F_CLOSED != 0 && v.t(k + 2) == T_END {
                let (s, e) = v.span(base, k + 1);
                return Some(("sqli-tautology", s, e));
            }
            None
        }
        T_CMP if left == Left::Str && r.f != 0 => {
            let n1 = v.get(k + 1);
            if n1.t == T_STR && n1.f & F_CLOSED == 0 && v.t(k + 2) == T_END {
                let (s, e) = v.span(base, k + 1);
                return Some(("sqli-tautology", s, e));
            }
            None
        }
        T_CMP | T_OP if left == Left::Break => {
            let j = v.skip_lp(k + 1);
            let n1 = v.get(j);
            if n1.t == T_FUNC && (n1.a == FN_STRONG || literal_args(v, j)) {
                let (s, e) = v.span(k, j + 1);
                return Some(("sqli-function", s, e));
            }
            if n1.t == T_STMT && j > k + 1 && stmt_continues(v, j) {
                let (s, e) = v.span(k, j + 1);
                return Some(("sqli-statement", s, e));
            }
            if r.t == T_CMP && j == k + 1 && matches!(n1.t, T_STR | T_NUM) {
                let n2 = v.get(k + 2);
                // `x'=1--`, `x' = 'y' or`; keyword comparisons only when the statement is
                // then terminated (`'glob 1;`, `'like 2;--`)
                let symbolic = r.f != 0 && matches!(n2.t, T_END | T_COMMENT | T_LOGIC);
                let terminated =
                    n2.t == T_SEMI && r.a != C_IS && matches!(v.t(k + 3), T_END | T_COMMENT);
                if symbolic || terminated {
                    let (s, e) = v.span(0, k + 1);
                    return Some(("sqli-tautology", s, e));
                }
            }
            None
        }
        _ => None,
    }
}

/// The break-out's quote opens a string rather than closing one: after `(`, `=`, `,`, `:`
/// or a blank, and glued to the letter after it (`cursor.execute("SELECT * FROM t ..")`:
/// code quoted in prose). A probe closes the value's string and then spaces or punctuates
/// (`x' SELECT`, `x';SELECT`).
pub(super) fn opening_quote(v: &View, first: Tok) -> bool {
    let b = v.b();
    first.e >= 2
        && b.get(first.e - 2)
            .is_some_and(|&c| matches!(c, b'(' | b'=' | b',' | b':') || is_ws(c))
        && b.get(first.e).is_some_and(u8::is_ascii_alphabetic)
}

/// `IN BOOLEAN MODE)` (or `IN NATURAL LANGUAGE MODE)`, `WITH QUERY EXPANSION)`) at `k`: the
/// modifier and `)` that close a MySQL `MATCH (..) AGAINST ('..` search the value broke out
/// of; the index after that `)`.
pub(super) fn fulltext_modifier(v: &View, k: usize) -> Option<usize> {
    let t = v.get(k);
    let mut j = if t.t == T_CMP && word_is(v, t, b"in") {
        let words: &[&[u8]] = if word_is(v, v.get(k + 1), b"boolean") {
            &[b"boolean", b"mode"]
        } else {
            &[b"natural", b"language", b"mode"]
        };
        let mut j = k + 1;
        for w in words {
            if !word_is(v, v.get(j), w) {
                return None;
            }
            j += 1;
        }
        j
    } else {
        k
    };
    if word_is(v, v.get(j), b"with") {
        for w in [&b"query"[..], b"expansion"] {
            if !word_is(v, v.get(j + 1), w) {
                return None;
            }
            j += 1;
        }
        j += 1;
    }
    (j > k && v.t(j) == T_RP).then_some(j + 1)
}

/// A call at the very start of the value (`sleep(5)`, `benchmark(1e7,md5(1))`) counts when
/// its arguments are not one plain word (`benchmark(s)`) and what follows the call is SQL,
/// not more prose (`sleep(8) hours a night`, `sleep(5)?`).
pub(super) fn start_call(v: &View, k: usize) -> bool {
    if v.t(k + 1) != T_LP {
        return true;
    }
    let arg = v.get(k + 2);
    if arg.t == T_WORD && arg.a == W_ENGLISHY && v.t(k + 3) == T_RP {
        return false;
    }
    // the token after the call's closing parenthesis (an unclosed or long call counts)
    let mut depth = 0i32;
    let mut close = None;
    for j in k + 1..k + 24 {
        match v.t(j) {
            T_LP => depth += i32::from(v.get(j).a),
            T_RP => {
                depth -= i32::from(v.get(j).a);
                if depth <= 0 {
                    close = Some(j);
                    break;
                }
            }
            T_END => return true,
            _ => {}
        }
    }
    let Some(j) = close else {
        return true;
    };
    let after = v.get(j + 1);
    match after.t {
        T_WORD | T_NUM | T_STR | T_LP | T_FUNC => false,
        T_CMP => !(after.f == b'?' && v.t(j + 2) == T_END),
        _ => true,
    }
}

/// `' <op> expr ... --`: after a break-out, an operator-led SQL expression that ends in a
/// trailing comment (`x'-email--`, `id'not like id--`, `' is not?--`, `user'collate x--`).
pub(super) fn break_expr_comment(v: &View, k: usize) -> Option<Hit> {
    let mut k = k;
    if v.t(k) == T_RP {
        k += 1;
    }
    let r = v.get(k);
    let lead = matches!(r.t, T_OP | T_CMP | T_LOGIC) || (r.t == T_WORD && r.a == W_COLLATE);
    if !lead {
        return None;
    }
    // operand followed by operand is not SQL (`(8.5X11"-300 DPI) --` is text)
    let mut prev_operand = false;
    for i in k + 1..k + 12 {
        let t = v.get(i);
        match t.t {
            T_COMMENT => {
                // postfix `NOTNULL` needs no operand (`' notnull --`)
                let postfix = r.t == T_CMP && r.a == C_IS && word_is(v, r, b"notnull");
                if t.f == 1 && (i > k + 1 || postfix) {
                    let (s, e) = v.span(0, i);
                    return Some(("sqli-comment", s, e));
                }
                return None;
            }
            T_NUM | T_STR | T_VAR | T_WORD => {
                if prev_operand {
                    return None;
                }
                prev_operand = true;
                continue;
            }
            T_FUNC | T_OP | T_CMP | T_LOGIC | T_LP | T_RP | T_COMMA | T_KW | T_STMT => {}
            _ => return None,
        }
        prev_operand = false;
    }
    None
}

/// The whole value is a literal compared with an identical literal: `1=1`, `42 like 42`.
pub(super) fn equal_literals(v: &View) -> Option<Hit> {
    let mut k = 0;
    if v.t(k) == T_COMMA {
        k += 1;
    }
    k = v.skip_lp(k);
    // (token by token, so that a value that does not open with a literal is read no further)
    let a = v.get(k);
    if !is_literal(a) {
        return None;
    }
    let (c, b) = (v.get(k + 1), v.get(k + 2));
    if !(c.t == T_CMP && is_literal(b)) {
        return None;
    }
    let mut end = k + 3;
    if v.t(end) == T_RP {
        end += 1;
    }
    if !matches!(v.t(end), T_END | T_COMMENT) {
        return None;
    }
    if c.a == C_OTHER && !matches!(c.f, b'=' | b'<') {
        return None;
    }
    let bytes = v.b();
    let (x, y) = (bytes.get(a.s..a.e)?, bytes.get(b.s..b.e)?);
    if x.eq_ignore_ascii_case(y) {
        Some(("sqli-tautology", a.s, b.e))
    } else {
        None
    }
}

/// Logic operator at `k` with left operand `left`.
pub(super) fn logic_rule(v: &View, left: Left, k: usize) -> Option<Hit> {
    let j = v.skip_lp(k + 1);
    let r = v.get(j);
    let n1 = v.get(j + 1);
    let n2 = v.get(j + 2);
    let good_left = matches!(left, Left::Start | Left::Break | Left::Num | Left::Var);
    let hit = |rule: &'static str, last: usize| {
        let (s, e) = v.span(k, last);
        Some((rule, s, e))
    };
    if matches!(left, Left::Num | Left::Break) {
        // `9999 or /*+hint*/ true`, `1 or {if length((/*!5000select ...`: a comment used as
        // whitespace among the next tokens after `<number|break-out> OR`
        // (right after the operator or after a `(`, not trailing prose: `2 or 3 /* ~ */`)
        let last = v.at_most_last(k + 6);
        for m in k..last {
            if m == k || v.t(m) == T_LP {
                let gap = v.b().get(v.get(m).e..v.get(m + 1).s).unwrap_or(&[]);
                if memchr::memmem::find(gap, b"/*").is_some() {
                    return hit("sqli-comment", m + 1);
                }
            }
        }
    }
    if left == Left::Break
        && j == k + 1
        && (matches!(r.t, T_NUM | T_WORD | T_VAR) || (r.t == T_STR && glued_break(v, k)))
        && word_is(v, v.get(k), b"xor")
    {
        // `' xor x`: XOR (unlike AND/OR) is not an English word after a closing quote
        return hit("sqli-tautology", j);
    }
    match r.t {
        T_FUNC if good_left || r.a == FN_STRONG => return hit("sqli-function", j + 1),
        // `x AND cos(3)=sin(4)`: a call on a literal compared right away
        T_FUNC
            if n1.t == T_LP
                && is_literal(n2)
                && v.t(j + 3) == T_RP
                && v.t(j + 4) == T_CMP
                && v.get(j + 4).f != 0 =>
        {
            return hit("sqli-function", j + 4)
        }
        T_STMT if r.a == S_SELECT && (good_left || j > k + 1) => return hit("sqli-tautology", j),
        T_KW if r.a == K_EXISTS => return hit("sqli-tautology", j),
        T_NUM | T_STR | T_WORD | T_VAR => {
            let rhs_ok = matches!(
                n2.t,
                T_NUM | T_STR | T_WORD | T_VAR | T_FUNC | T_LP | T_STMT
            ) || (n2.t == T_END && matches!(left, Left::Break | Left::Start));
            if n1.t == T_CMP && rhs_ok {
                if good_left {
                    return hit("sqli-tautology", j + 2);
                }
                if is_literal(r) && is_literal(n2) {
                    return hit("sqli-tautology", j + 2);
                }
            }
            if matches!(left, Left::Break | Left::Start) || (left == Left::Num && j > k + 1) {
                if n1.t == T_COMMENT && n1.f == 1 && r.t != T_STR {
                    return hit("sqli-tautology", j + 1);
                }
                if n1.t == T_END && r.t == T_NUM && left == Left::Break {
                    return hit("sqli-tautology", j);
                }
            }
        }
        _ => {}
    }
    None
}

/// The break-out before token `k` ends with a quote glued to a value (`A' XOR 'B`), not a
/// quote opened after a space or at the start (`the 'xor' of two bits`).
pub(super) fn glued_break(v: &View, k: usize) -> bool {
    let bo = v.get(k.saturating_sub(1));
    bo.f & F_BREAK != 0 && bo.e >= 2 && v.b().get(bo.e - 2).is_some_and(|&c| !is_ws(c))
}

pub(super) fn word_is(v: &View, t: Tok, w: &[u8]) -> bool {
    v.b()
        .get(t.s..t.e)
        .is_some_and(|x| x.eq_ignore_ascii_case(w))
}
