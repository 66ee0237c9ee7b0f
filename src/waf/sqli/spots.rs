//! The rules over the whole token stream ([`super::anywhere`]) on a long value, read only
//! around the places they can start from ([`super::reach::spots`]) instead of over every
//! token of every quote context.
//!
//! Each rule starts from a token that holds a spot (or from one of the two tokens before it:
//! `; SELECT`, `AS x FROM`), reads at most three tokens before that and a bounded number
//! after it, and uses its index only to tell the stream's first tokens from the others. So a
//! window of the stream around each spot gives what the whole stream gives, provided its
//! tokens are the whole stream's tokens. Two things make them so:
//! * **Where strings and comments are.** The value is read from the context's start by the
//!   tokenizer's own reading ([`lex`]: where each token ends and what kind it is, no word
//!   lookup and no folding), so a spot inside a string or a comment is known as such, and a
//!   window starts only where the tokenizer would be between tokens.
//! * **Restart points.** A window starts right after a token that folding never reaches
//!   back through ([`restarts`]: `;`, `,`, a comparison, `&&` or another operator that is
//!   neither arithmetic nor unary). What follows such a token folds exactly as it would at
//!   the start of a value, so tokenizing from there gives the whole stream's tokens, with the
//!   same offsets. A window starts early enough that the rules' reads before the first token
//!   they start from fall inside it, or at the value's start.
//!
//! A rule that reads past the tokens a window knows final (checked by [`View`]) has the
//! window tokenized further and read again. The tests compare this with the whole stream on
//! the corpus, long near-attack paddings and random token sequences.
//!
//! Never decides alone: it answers what [`super::anywhere::anywhere`] would on the whole
//! stream, nothing else.

use super::anywhere::anywhere_at;
use super::rules::View;
use super::token::*;
use super::tokenizer::{break_out, lex, settled, tokenize_from, Lex};
use super::Hit;
use crate::waf::blocks;

/// Restart points remembered (the latest ones).
const RING: usize = 8;
/// Tokens the rules read before the first token they start from.
const LEAD: usize = 3;
/// Tokens before the token that holds a spot that the rules may start from (`;` in `;
/// SELECT`, AS in `AS x FROM`).
const BEFORE: usize = 2;
/// Folded tokens tokenized past the token that holds a spot, at first (the rules read a few;
/// a longer read has the window tokenized further).
const AHEAD: usize = 6;

/// Whether `c` is a byte [`anywhere_around`] stops at: where a string or comment can open or
/// close outside strings (quotes, backtick, `#`, `-`, `/`, `*`, `$`) or a restart point's
/// token (`;` `,` `{` `}` `[` `]` `=`).
#[inline(always)]
fn marked(c: u8) -> bool {
    (c == b'\'')
        | (c == b'"')
        | (c == b'`')
        | (c == b'#')
        | (c == b'-')
        | (c == b'/')
        | (c == b'*')
        | (c == b'$')
        | (c == b';')
        | (c == b',')
        | (c == b'{')
        | (c == b'}')
        | (c == b'[')
        | (c == b']')
        | (c == b'=')
}

/// The positions of the [`marked`] bytes of `b`, in order (one bit mask per 64-byte block).
pub(super) fn marks(b: &[u8], out: &mut Vec<u32>) {
    out.clear();
    blocks::each(b, |base, block| {
        let mut m = blocks::mask(block, marked);
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            if base + k < b.len() {
                out.push((base + k) as u32);
            }
        }
        None::<()>
    });
}

/// Whether the byte `c` at `p`, outside strings and comments, ends a restart point's token:
/// `;` `,` `{` `}` `[` `]` are tokens of their own there (no token reads them as part of
/// itself), and a `=` not followed by `=` or `>` ends a comparison (`=`, `<=`, `!=`, `==`) or
/// `:=`. None of these is changed or merged by what follows, and what follows folds as at the
/// start of a value (see `tokenizer::push`).
#[inline]
fn restart_after(c: u8, b: &[u8], p: usize) -> bool {
    match c {
        b';' | b',' | b'{' | b'}' | b'[' | b']' => true,
        b'=' => !matches!(b.get(p + 1), Some(b'=' | b'>')),
        _ => false,
    }
}

/// What [`super::anywhere::anywhere`] gives on the stream of `b` in quote context `q`
/// (`ansi`: see `tokenizer::tokenize`), read around `spots` ([`super::reach::spots`], in
/// order); `marks` are [`marks`] of `b`. `None` also when the context's break-out string is
/// not closed.
///
/// The value is read from the context's start as the tokenizer reads it, but only at the
/// marked bytes: a quote, backtick, `#`, `--`, `/*`, `*/` or dollar quote outside strings is
/// where the tokenizer opens or closes one (no other token reads these bytes), except a `--`
/// after `e` (`1e--`: a number's exponent may hold the first dash) and a dollar quote after
/// `.` or `@` (a word or variable may hold it); those are read by the tokenizer's own
/// reading ([`lex`]) from the last place known to be between tokens.
pub(super) fn anywhere_around(
    b: &[u8],
    q: u8,
    ansi: bool,
    spots: &[(usize, usize)],
    marks: &[u32],
    toks: &mut Vec<Tok>,
) -> Option<Hit> {
    let n = b.len();
    toks.clear();
    let start = break_out(b, q, ansi, toks)?;
    let mut ring = Ring::default();
    let mut k = spots.partition_point(|s| s.0 < start);
    let mut m = marks.partition_point(|&p| (p as usize) < start);
    // (a place known to be between tokens, at or before the marks still to read)
    let mut known = start;
    // (bytes the windows may tokenize before the whole stream is cheaper: spots so dense
    // that their windows overlap)
    let mut budget = (n - start) / BUDGET;
    while k < spots.len() {
        let p = marks.get(m).map_or(n, |&p| p as usize);
        // spots before the next mark are outside strings and comments
        while k < spots.len() && spots[k].0 < p {
            let w = window(b, q, ansi, spots[k], ring.before(m), &mut budget, toks);
            if let Some(hit) = w.settle(b, q, ansi, toks) {
                return hit;
            }
            k += 1;
        }
        if p >= n {
            break;
        }
        m += 1;
        let c = b[p];
        if restart_after(c, b, p) {
            ring.push(p + 1, m);
            known = p + 1;
            continue;
        }
        let next = b.get(p + 1).copied();
        // what opens at `p`: (kind, end), or nothing
        let opened = match c {
            b'\'' | b'"' | b'`' | b'#' => Some(lex(b, p)),
            b'-' if next == Some(b'-') => {
                if p > 0 && b[p - 1] | 0x20 == b'e' {
                    Some(read_through(b, known, p))
                } else {
                    Some(lex(b, p))
                }
            }
            b'/' | b'*' if next == Some(if c == b'/' { b'*' } else { b'/' }) => Some(lex(b, p)),
            b'$' => match super::tokenizer::dollar_quoted(b, p) {
                Some(_) if p > 0 && matches!(b[p - 1], b'.' | b'@') => {
                    Some(read_through(b, known, p))
                }
                Some(e) => Some((Lex::Dollar, e)),
                None => None,
            },
            _ => None,
        };
        let Some((kind, e)) = opened else {
            continue;
        };
        // spots inside: none counts inside a string or comment (a comment that opens at the
        // spot glues the tokens around it; a backticked name is a word)
        let dead = matches!(
            kind,
            Lex::Str { .. }
                | Lex::Prefixed { .. }
                | Lex::Dollar
                | Lex::LineComment
                | Lex::Trailing { .. }
                | Lex::Block
        );
        while k < spots.len() && spots[k].0 < e {
            let live = !dead || (kind == Lex::Block && spots[k].0 == p);
            if live {
                let w = window(b, q, ansi, spots[k], ring.before(m), &mut budget, toks);
                if let Some(hit) = w.settle(b, q, ansi, toks) {
                    return hit;
                }
            }
            k += 1;
        }
        while m < marks.len() && (marks[m] as usize) < e {
            m += 1;
        }
        known = e;
    }
    None
}

/// The tokenizer's reading ([`lex`]) from `from` (between tokens, outside strings and
/// comments) to the token that holds byte `p`: its kind and end.
fn read_through(b: &[u8], from: usize, p: usize) -> (Lex, usize) {
    // (from just after the last blank before `p`, if later: a blank outside strings and
    // comments is read as one, so a token starts after it)
    let mut i = b[from..p]
        .iter()
        .rposition(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(from, |j| from + j + 1);
    loop {
        let (kind, e) = lex(b, i);
        if e > p {
            return (kind, e);
        }
        i = e;
    }
}

/// The latest restart points, in order: each position and how many marks ([`marks`]) were
/// read up to it.
#[derive(Default)]
struct Ring {
    at: [(usize, usize); RING],
    count: usize,
}

impl Ring {
    fn push(&mut self, p: usize, read: usize) {
        self.at[self.count % RING] = (p, read);
        self.count += 1;
    }

    /// The remembered restart points with at least [`LEAD`] + [`BEFORE`] marks read between
    /// them and the `read`th mark, latest first: most marks make a token, so the first of
    /// them usually leaves room enough before a spot there (the window checks).
    fn before(&self, read: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.count.min(RING))
            .map(move |j| self.at[(self.count - 1 - j) % RING])
            .filter(move |&(_, r)| r + LEAD + BEFORE <= read)
            .map(|(p, _)| p)
    }
}

impl Window {
    /// `Some` when the caller is done: a rule fired, or no restart point was near enough and
    /// the whole stream was read instead.
    fn settle(self, b: &[u8], q: u8, ansi: bool, toks: &mut Vec<Tok>) -> Option<Option<Hit>> {
        match self {
            Window::Hit(hit) => Some(hit),
            Window::Nothing => None,
            Window::Whole => {
                toks.clear();
                super::tokenizer::tokenize(b, q, ansi, toks, usize::MAX);
                Some(super::anywhere::anywhere(&View::new(toks, b)))
            }
        }
    }
}

/// What [`window`] found.
enum Window {
    /// A rule fired (the first in the stream's order, given that none fired before).
    Hit(Option<Hit>),
    /// No rule fires at these tokens.
    Nothing,
    /// No restart point near enough, or the windows' budget spent: the caller reads the
    /// whole stream instead.
    Whole,
}

/// The windows of a context tokenize at most this fraction of its bytes in all; past it, the
/// whole stream is read instead (so that dense spots cost little more than the whole stream).
const BUDGET: usize = 4;

/// Bytes from the value's start within which a window may start there (with the break-out
/// string) when no restart point will do.
const START_SPAN: usize = 96;
/// Bytes before the token that holds a spot within which a restart point is taken: farther,
/// the windows would read more than the whole stream does.
const MAX_BACK: usize = 384;

/// The rules at the tokens around `token` (a spot: the tokens its bytes reach), on a window of the stream from the latest restart point that leaves room for the
/// rules' reads before it (or from the value's start).
fn window(
    b: &[u8],
    q: u8,
    ansi: bool,
    token: (usize, usize),
    restarts: impl Iterator<Item = usize>,
    budget: &mut usize,
    toks: &mut Vec<Tok>,
) -> Window {
    let (s, e) = token;
    let near = restarts.take_while(|&r| s - r <= MAX_BACK).map(Some);
    // (`None`: the value's start, with the break-out string)
    let start = (s <= START_SPAN).then_some(None);
    for from in near.chain(start) {
        let mut ahead = AHEAD;
        loop {
            toks.clear();
            let at = match from {
                Some(r) => r,
                None => match break_out(b, q, ansi, toks) {
                    Some(at) => at,
                    None => return Window::Nothing,
                },
            };
            let mut mark = usize::MAX;
            let end = tokenize_from(b, at, toks, |out, pos| {
                if pos >= e && mark == usize::MAX {
                    mark = out.len();
                }
                mark != usize::MAX && out.len() > mark.saturating_add(ahead) && settled(out)
            });
            match budget.checked_sub(end - at) {
                Some(left) => *budget = left,
                None => return Window::Whole,
            }
            // the first token that ends past the spot's token start, and those that start
            // before its end
            let lo = toks.partition_point(|t| t.e <= s);
            if from.is_some() && lo < LEAD + BEFORE {
                break; // too close to the restart point: an earlier one
            }
            let hi = toks
                .partition_point(|t| t.s < e)
                .max(lo + 1)
                .min(toks.len());
            let known = if end < b.len() {
                toks.len().saturating_sub(1)
            } else {
                usize::MAX
            };
            let v = View::prefix(toks, b, known);
            let hit = (lo.saturating_sub(BEFORE)..hi).find_map(|i| anywhere_at(&v, i));
            if !v.overread() {
                return match hit {
                    Some(_) => Window::Hit(hit),
                    None => Window::Nothing,
                };
            }
            ahead = ahead.saturating_mul(4);
        }
    }
    Window::Whole
}

#[cfg(test)]
mod tests {
    use super::super::{run_from, run_whole};

    /// The full scan with the "anywhere" rules read around their places gives what it gives
    /// over the whole stream (rule and span), on `v` and on `v` long (past the length from
    /// which values are read so).
    fn same_around(v: &[u8]) -> bool {
        let mut toks = Vec::new();
        let around = run_from(v, &mut toks, usize::MAX, 0);
        let whole = run_whole(v, &mut toks, 0);
        assert_eq!(around, whole, "{:?}", String::from_utf8_lossy(v));
        whole.is_some()
    }

    /// The near-attack unit and the paddings around it: a trigger word, a spot, a restart
    /// point, a string or comment opener.
    const NEAR: &str = "' or <a on=../;|${ ";

    /// ... on every corpus value, after and before near-attack paddings with trigger words
    /// (the value then is read around its places: the padding's triggers make an "anywhere"
    /// rule reachable).
    #[test]
    fn reading_around_places_gives_the_whole_streams_verdict_on_the_corpus() {
        let Some(values) = crate::waf::tests::corpus_values(true) else {
            return;
        };
        let select = format!("{}select ", NEAR.repeat(3));
        let mixed = format!("{}union \" x /* y */ when, where ", NEAR.repeat(2));
        let mut fired = 0;
        for (i, v) in values.iter().enumerate() {
            fired += usize::from(same_around(v.as_bytes()));
            // (one value in three, each way: the debug build's time)
            let (pre, post) = match i % 3 {
                0 => (select.as_str(), ""),
                1 => ("", select.as_str()),
                _ => (mixed.as_str(), mixed.as_str()),
            };
            same_around(format!("{pre}{v}{post}").as_bytes());
        }
        assert!(fired > 1_000, "{fired}");
    }

    /// ... and on random sequences of trigger words, restart points, string and comment
    /// openers and near-attack tokens, long enough for windows far from the value's start.
    #[test]
    fn reading_around_places_gives_the_whole_streams_verdict_on_random_sequences() {
        const TOKENS: &[&str] = &[
            " ",
            " ",
            "  ",
            "'",
            "\"",
            "`",
            "\\'",
            "#",
            "--",
            "-- ",
            "\n",
            "/*",
            "*/",
            "/**/",
            "/*!",
            "@@",
            "@x",
            "::",
            "::int",
            "1.e(",
            "$$",
            "$a$",
            ";",
            ",",
            "=",
            "<",
            "&&",
            "||",
            "{",
            "(",
            ")",
            "((",
            "+",
            "-",
            "*",
            ".",
            "|",
            "1",
            "0x1f",
            "x",
            "a",
            "name",
            "or",
            "and",
            "not",
            "is",
            "like",
            "union",
            "all",
            "select",
            "from",
            "where",
            "as",
            "when",
            "case",
            "then",
            "having",
            "values",
            "into",
            "outfile",
            "waitfor",
            "delay",
            "sleep",
            "char",
            "user",
            "version",
            "ascii",
            "substring",
            "drop",
            "table",
            "exec",
            "information_schema",
            "unionselect",
            "order by",
            "1=1",
            "' or <a on=../;|${ ",
            // (where a `--` or a dollar quote may be read as part of a token)
            "1e",
            "1.5e",
            "e",
            "0x1e",
            ".",
            "@",
            "$$a$$",
            "$$",
            "==",
            "=>",
            "<=>",
            "]",
            "[",
            "}",
        ];
        let mut fired = 0;
        for v in crate::waf::tests::token_sequences(0x510e_527f_ade6_82d1u64, TOKENS, 6_000, 200) {
            fired += usize::from(same_around(v.as_bytes()));
        }
        let pad = NEAR.repeat(4);
        for v in crate::waf::tests::token_sequences(0x9b05_688c_2b3e_6c1fu64, TOKENS, 2_000, 40) {
            same_around(format!("{pad}{v}{pad}select {v}").as_bytes());
        }
        assert!(fired > 500, "{fired}");
    }

    /// ... and on the paddings the benchmarks read (a trigger word after every thirteen
    /// near-attack units, and denser ones), with an attack or a near miss after them.
    #[test]
    fn reading_around_places_gives_the_whole_streams_verdict_on_paddings() {
        let units = [
            format!("{}select ", NEAR.repeat(13)),
            format!("{}select ", NEAR.repeat(2)),
            format!("{NEAR}union select "),
            format!("{NEAR}/* x */ "),
            format!("{NEAR}@@x "),
            format!("{NEAR}a::int "),
            format!("{NEAR}) as x where "),
            "select ".to_owned(),
            // (folding that reaches far back: arithmetic, `||` and unary chains before the
            // tokens a rule reads; a restart point inside them would cut them)
            "= x + 1 + 1 + 1 + 1 + 1 + 1 as `y` from ".to_owned(),
            "; 1 + 1 + 1 + 1 + 1 + 1 + 1 as y from ".to_owned(),
            ", 'a' || 'b' || 'c' || 'd' || 'e' || 'f' as y from ".to_owned(),
            "< - - - ~ ! - - x as `y` from ".to_owned(),
            "= ((((x)))) + ((1)) + (1) as `y` from ".to_owned(),
        ];
        for unit in &units {
            let pad = unit.repeat(2048 / unit.len());
            for tail in [
                "",
                "' union select 1,2--",
                "1 union select * from t",
                "x' where 1=1--",
            ] {
                same_around(format!("{pad}{tail}").as_bytes());
                same_around(format!("{tail}{pad}").as_bytes());
            }
        }
    }
}
