//! Which values the rules that read the whole token stream can fire on at all, so that the
//! others are run on the first folded tokens only (see [`super::run`]).
//!
//! The "anywhere" rules ([`super::anywhere`]) each start at a token that only some bytes can
//! make: a UNION-like or statement keyword, HAVING, VALUES, OUTFILE/ANALYSE, AS (with FROM
//! after it), `when`, a catalog name, a glued `unionselect`, a called function name (with a
//! `(` in the value), `@@`, `::`, MySQL's `1.e(`, a `/* */` comment used as a space and a
//! `)` followed by `AS` or `WHERE` (`) AS x WHERE 1=1`). A
//! word token is a run of the value's bytes whose ASCII-lowercase form is the table word (or
//! holds it, for catalog names read by their dotted parts and glued `unionselect`), so a value
//! that contains none of these words (ASCII case-insensitively, anywhere, even inside other
//! words) and none of those byte pairs gives no such token in any quote context. The
//! rest of [`super::rules::analyze`] reads a bounded prefix of the stream (checked as it reads:
//! [`super::rules::View`] notes a read past the tokens known final), except `paren_comment`,
//! which needs the value to open with `(`.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use memchr::memmem::Finder;

use crate::waf::blocks;
use std::sync::LazyLock;

use super::token::*;
use super::words::{CATALOG, FUNCS, KEYWORDS, NILADIC, PACKAGES};

/// The trigger words: (automaton, pattern kinds).
struct Triggers {
    ac: AhoCorasick,
    /// Per pattern: [`FUNC`], [`AS`], [`FROM`] or [`ALONE`].
    kind: Vec<u8>,
    /// The length of the shortest word that can fire without a `(` in the value: an
    /// [`ALONE`] or [`FROM`] word (AS counts only with FROM).
    shortest: usize,
    /// The same, counting function names too (the value holds a `(`).
    shortest_with_paren: usize,
}

const FUNC: u8 = 1;
const AS: u8 = 2;
const FROM: u8 = 4;
const ALONE: u8 = 8;

static TRIGGERS: LazyLock<Triggers> = LazyLock::new(|| {
    let mut words: Vec<(&str, u8)> = Vec::new();
    for &(w, ty, a) in KEYWORDS {
        let alone = matches!(ty, T_UNION | T_STMT)
            || (ty == T_KW && matches!(a, K_HAVING | K_VALUES | K_OUTFILE))
            || (ty == T_WORD && a == W_ANALYSE);
        if alone {
            words.push((w, ALONE));
        } else if ty == T_KW && a == K_AS {
            words.push((w, AS));
        } else if ty == T_KW && a == K_FROM {
            words.push((w, FROM));
        }
    }
    for w in [
        "outfile",
        "dumpfile",
        "analyse",
        "analyze",
        "when",
        "unionselect",
    ] {
        words.push((w, ALONE));
    }
    for &w in CATALOG.iter().chain(PACKAGES) {
        words.push((w, ALONE));
    }
    for &(w, _) in FUNCS {
        words.push((w, FUNC));
    }
    for &w in NILADIC {
        words.push((w, FUNC));
    }
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(words.iter().map(|(w, _)| w))
        .expect("trigger automaton");
    let shortest = |kinds: u8| {
        words
            .iter()
            .filter(|&&(_, k)| k & kinds != 0)
            .map(|(w, _)| w.len())
            .min()
            .expect("trigger words")
    };
    Triggers {
        ac,
        kind: words.iter().map(|&(_, k)| k).collect(),
        shortest: shortest(ALONE | FROM),
        shortest_with_paren: shortest(ALONE | FROM | FUNC),
    }
});

/// Whether `c` can be part of a trigger word, in either case: a letter, a digit, `_`, `$` or
/// `.` (a superset of the words' bytes, see the test).
#[inline]
fn word_byte(c: u8) -> bool {
    ((c | 0x20).wrapping_sub(b'a') < 26)
        | (c.wrapping_sub(b'0') < 10)
        | (c == b'_')
        | (c == b'$')
        | (c == b'.')
}

/// Whether `b` holds a run of at least `k` (1 to 64) consecutive [`word_byte`]s: the only
/// place a trigger word of that length can be. Made from one bit mask per 64-byte block (a
/// loop the compiler vectorizes), so a value whose words are all shorter (`' or <a on=`...)
/// skips the automaton for about a byte's worth of instructions per byte.
fn has_word_run(b: &[u8], k: usize) -> bool {
    let mut prev = 0u64;
    // (a zero byte is no word byte: the last block's padding adds no run)
    blocks::each(b, |_, block| {
        let m = blocks::mask(block, word_byte);
        // the previous block's bits below this one's: runs across the cut count
        let w = u128::from(m) << 64 | u128::from(prev);
        let mut r = w;
        for i in 1..k {
            r &= w >> i;
        }
        prev = m;
        (r != 0).then_some(())
    })
    .is_some()
}

/// The byte pairs that reach an "anywhere" rule on their own.
static PAIRS: LazyLock<[Finder<'static>; 3]> =
    LazyLock::new(|| [Finder::new(b"/*"), Finder::new(b"@@"), Finder::new(b"::")]);

/// MySQL's `1.e(`: a `.e` or `.E`, checked for what follows.
static DOT_E: LazyLock<[Finder<'static>; 2]> =
    LazyLock::new(|| [Finder::new(b".e"), Finder::new(b".E")]);

/// Builds the automaton now (see [`super::warm_up`]).
pub(super) fn warm_up() {
    LazyLock::force(&TRIGGERS);
    LazyLock::force(&PAIRS);
    LazyLock::force(&DOT_E);
}

/// False when no token the "anywhere" rules start from can occur in any tokenization of
/// `b` (`paren`: `b` holds a `(`, without which no function name is called). True is no
/// promise of a match.
pub(super) fn anywhere_reachable(b: &[u8], paren: bool) -> bool {
    // `/*` (comment as a space, `/*!` bodies), `@@`, `::`, `.e(` / `.e.` (each pair found
    // whole by a vector search: a value full of `/` or `:` does not stop it at each one)
    if PAIRS.iter().any(|f| f.find(b).is_some()) {
        return true;
    }
    // `) AS x WHERE`, `) WHERE`: a WHERE right after a closing parenthesis (`closed_where`)
    if memchr::memchr_iter(b')', b).any(|p| closes_into_where(&b[p + 1..])) {
        return true;
    }
    if DOT_E
        .iter()
        .flat_map(|f| f.find_iter(b))
        .any(|p| matches!(b.get(p + 2), Some(b'(' | b'.')))
    {
        return true;
    }
    let t = &*TRIGGERS;
    let shortest = if paren {
        t.shortest_with_paren
    } else {
        t.shortest
    };
    if !has_word_run(b, shortest) {
        return false;
    }
    let mut seen = 0u8;
    for m in t.ac.find_overlapping_iter(b) {
        let k = t.kind[m.pattern().as_usize()];
        if k == FUNC && !paren {
            continue;
        }
        seen |= if k == FUNC { ALONE } else { k };
        if seen & ALONE != 0 || seen & (AS | FROM) == AS | FROM {
            return true;
        }
    }
    false
}

/// Whether `rest` (what follows a `)`) opens with `AS` or `WHERE` as a word, after blanks or
/// inline comments: the start of [`super::rules::closed_where`]'s shape.
fn closes_into_where(rest: &[u8]) -> bool {
    let i = super::tokenizer::skip_ws_comments(rest, 0);
    let word = |w: &[u8]| {
        rest.get(i..i + w.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(w))
            && rest
                .get(i + w.len())
                .is_none_or(|&c| !super::tokenizer::is_word_char(c))
    };
    word(b"as") || word(b"where")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trigger_byte_is_a_word_byte() {
        let t = &*TRIGGERS;
        for w in KEYWORDS
            .iter()
            .map(|k| k.0)
            .chain(CATALOG.iter().copied())
            .chain(PACKAGES.iter().copied())
            .chain(FUNCS.iter().map(|f| f.0))
            .chain(NILADIC.iter().copied())
            .chain([
                "outfile",
                "dumpfile",
                "analyse",
                "analyze",
                "when",
                "unionselect",
            ])
        {
            for c in w.bytes() {
                assert!(
                    word_byte(c) && word_byte(c.to_ascii_uppercase()),
                    "{w:?}: {:?}",
                    c as char
                );
            }
        }
        assert!((2..=4).contains(&t.shortest), "{}", t.shortest);
        assert!(t.shortest_with_paren <= t.shortest);
    }

    /// [`has_word_run`] against a byte-by-byte count, across block cuts.
    #[test]
    fn word_runs_match_a_byte_by_byte_count() {
        let alphabet = b"ab_$.1 '<=/;|{(";
        let mut next = crate::waf::tests::xorshift(0x9e37_79b9_7f4a_7c15u64);
        for round in 0..5000u64 {
            let len = (next() % 200) as usize;
            // few word bytes in some rounds (short runs), many in others
            let odds = 2 + round % 6;
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    let x = next();
                    if x % odds == 0 {
                        b' '
                    } else {
                        alphabet[((x >> 8) % alphabet.len() as u64) as usize]
                    }
                })
                .collect();
            let mut longest = 0;
            let mut run = 0;
            for &c in &v {
                run = if word_byte(c) { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            for k in 1..=5 {
                assert_eq!(
                    has_word_run(&v, k),
                    longest >= k,
                    "{k} {:?}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
    }
}
