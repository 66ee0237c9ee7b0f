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
//!
//! The words are looked for only where a run of word bytes as long as the shortest of them
//! starts (one bit mask per 64-byte block), and there first by a bitmap of the words' first
//! three bytes, then against the few words that open with the first two: a value padded
//! with words no trigger opens with costs a few instructions a word, and no byte is read by
//! an automaton.

use memchr::memmem::Finder;

use crate::waf::blocks::{self, BLOCK};
use std::sync::LazyLock;

use super::token::*;
use super::words::{CATALOG, FUNCS, KEYWORDS, NILADIC, PACKAGES};

/// The trigger words, and the gate and buckets [`anywhere_reachable`] finds them with.
struct Triggers {
    /// Each word (lowercase) and its kind: [`FUNC`], [`FROM`] or [`ALONE`] ([`AS`] words
    /// are looked for apart, see [`as_anywhere`]).
    words: Vec<(Vec<u8>, u8)>,
    /// Per two-byte key ([`gate_key`] without its third byte): the words that open with it.
    by_pair: Vec<Vec<Bucketed>>,
    /// Bitmaps of the [`gate_key`]s of the words' first three bytes: without function names
    /// (at 0), with them (at 1), with them and [`WHERE`] (at 2, for [`spots`]). A two-byte
    /// word sets its key with every third byte.
    gate: [Box<[u64; GATE_BITS / 64]>; 3],
    /// The length of the shortest word that can fire without a `(` in the value: an
    /// [`ALONE`] or [`FROM`] word (AS counts only with FROM).
    shortest: usize,
    /// The same, counting function names too (the value holds a `(`).
    shortest_with_paren: usize,
    /// The same, counting [`WHERE`] ([`spots`]): without function names (at 0), with them (at 1).
    shortest_spot: [usize; 2],
}

/// A word in [`Triggers::by_pair`]: its [`gate_key`], which bits of a key must equal it
/// (all three codes, or the first two for a two-byte word), its index in [`Triggers::words`].
#[derive(Clone, Copy)]
struct Bucketed {
    key: u16,
    mask: u16,
    index: u16,
}

const FUNC: u8 = 1;
const AS: u8 = 2;
const FROM: u8 = 4;
const ALONE: u8 = 8;
/// `where`: no trigger of [`anywhere_reachable`], but a token a rule over the whole stream
/// starts from (a WHERE after a closing token), so one of [`spots`].
const WHERE: u8 = 16;

/// Bits in a [`Triggers::gate`]: three 5-bit codes.
const GATE_BITS: usize = 1 << 15;

/// 5-bit codes of the bytes a trigger word is made of, either case (0 for the others): a
/// letter, `_`, a digit (all one code), `$` or `.`.
static CODE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c.is_ascii_alphabetic() {
            (c | 0x20) - b'a' + 1
        } else if c == b'_' {
            27
        } else if c.is_ascii_digit() {
            28
        } else if c == b'$' {
            29
        } else if c == b'.' {
            30
        } else {
            0
        };
        i += 1;
    }
    t
};

/// The gate key of the bytes at `p`: the codes of the first three (0 past the end).
#[inline]
fn gate_key(b: &[u8], p: usize) -> usize {
    let code = |k: usize| b.get(k).map_or(0, |&c| usize::from(CODE[c as usize]));
    code(p) << 10 | code(p + 1) << 5 | code(p + 2)
}

/// Every trigger word and its kind (see [`Triggers::words`]).
fn trigger_words() -> Vec<(&'static str, u8)> {
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
    words.push(("where", WHERE));
    words
}

static TRIGGERS: LazyLock<Triggers> = LazyLock::new(|| {
    let listed = trigger_words();
    let shortest = |kinds: u8| {
        listed
            .iter()
            .filter(|&&(_, k)| k & kinds != 0)
            .map(|(w, _)| w.len())
            .min()
            .expect("trigger words")
    };
    let mut words = Vec::new();
    let mut by_pair = vec![Vec::new(); 1 << 10];
    let empty = Box::new([0u64; GATE_BITS / 64]);
    let mut gate = [empty.clone(), empty.clone(), empty];
    for &(w, kind) in &listed {
        if kind == AS {
            continue;
        }
        let w = w.to_ascii_lowercase().into_bytes();
        assert!(w.len() >= 2, "{w:?}");
        let key = gate_key(&w, 0);
        let index = u16::try_from(words.len()).expect("fewer than 65536 words");
        let mask = if w.len() == 2 { 0x7fe0 } else { 0x7fff };
        by_pair[key >> 5].push(Bucketed {
            key: u16::try_from(key).expect("15 bits"),
            mask,
            index,
        });
        // (a two-byte word: any third byte, a word byte or not)
        let thirds = if w.len() == 2 { 0..32 } else { 0..1 };
        for third in thirds {
            let key = key | third;
            for (at, g) in gate.iter_mut().enumerate() {
                if (kind != FUNC || at >= 1) && (kind != WHERE || at == 2) {
                    g[key >> 6] |= 1 << (key & 63);
                }
            }
        }
        words.push((w, kind));
    }
    Triggers {
        words,
        by_pair,
        gate,
        shortest: shortest(ALONE | FROM),
        shortest_with_paren: shortest(ALONE | FROM | FUNC),
        shortest_spot: [
            shortest(ALONE | FROM | WHERE),
            shortest(ALONE | FROM | FUNC | WHERE),
        ],
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

/// Calls `f(p, count)`, in order, on each span `p..p + count` of positions of `b` that open a
/// run of at least `k` (1 to 64) consecutive [`word_byte`]s (the only places a trigger word of
/// that length can start), and returns its first `Some`. Made from one bit mask per 64-byte block (a loop the compiler
/// vectorizes), so a value whose words are all shorter (`' or <a on=`...) costs about a
/// byte's worth of instructions per byte, and a longer word only its own positions.
fn each_run_start<T>(
    b: &[u8],
    k: usize,
    mut f: impl FnMut(usize, usize) -> Option<T>,
) -> Option<T> {
    let n = b.len();
    // the previous block's mask: its starts are known once this block's mask is (a run of
    // `k` reaches at most 63 bytes past its block); past the last block, a zero mask
    let mut prev = 0u64;
    let mut base = 0;
    loop {
        let m = match b.get(base..base + BLOCK) {
            Some(block) => blocks::mask(block.try_into().expect("a whole block"), word_byte),
            None if base < n => {
                // (a zero byte is no word byte: the padding adds no run)
                let mut tail = [0u8; BLOCK];
                tail[..n - base].copy_from_slice(&b[base..]);
                blocks::mask(&tail, word_byte)
            }
            None => 0,
        };
        let w = u128::from(m) << 64 | u128::from(prev);
        let mut r = w;
        for i in 1..k {
            r &= w >> i;
        }
        let mut starts = r as u64;
        while starts != 0 {
            // (a span of consecutive starts at once)
            let j = starts.trailing_zeros() as usize;
            let count = (starts >> j).trailing_ones() as usize;
            starts &= u64::MAX.checked_shl((j + count) as u32).unwrap_or(0);
            // (no start before the first block: `prev` was zero there)
            if let Some(t) = f(base - BLOCK + j, count) {
                return Some(t);
            }
        }
        if base >= n {
            return None;
        }
        prev = m;
        base += BLOCK;
    }
}

/// Whether `b` holds a run of at least `k` (1 to 64) consecutive [`word_byte`]s.
#[cfg(test)]
fn has_word_run(b: &[u8], k: usize) -> bool {
    each_run_start(b, k, |_, _| Some(())).is_some()
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
    if pair_reachable(b) {
        return true;
    }
    let t = &*TRIGGERS;
    let shortest = if paren {
        t.shortest_with_paren
    } else {
        t.shortest
    };
    // every trigger word starts where a run of word bytes at least as long as the shortest
    // one does: only those places are looked at, first by the gate on their first three
    // bytes, then against the words opening with their first two
    let gate = &t.gate[usize::from(paren)];
    let mut from = false;
    let code = |p: usize| b.get(p).map_or(0, |&c| usize::from(CODE[c as usize]));
    let fired = each_run_start(b, shortest, |start, count| {
        // (the key rolls on along the span: the next position's key is this one's last two
        // codes and one more)
        let mut key = code(start) << 5 | code(start + 1);
        for p in start..start + count {
            key = (key << 5 & (GATE_BITS - 1)) | code(p + 2);
            if gate[key >> 6] & (1 << (key & 63)) == 0 {
                continue;
            }
            for w in &t.by_pair[key >> 5] {
                if key & usize::from(w.mask) != usize::from(w.key) {
                    continue;
                }
                let (word, kind) = &t.words[usize::from(w.index)];
                let here = b
                    .get(p..p + word.len())
                    .is_some_and(|x| x.eq_ignore_ascii_case(word));
                if !here || (*kind == FUNC && !paren) || *kind == WHERE {
                    continue;
                }
                if *kind == FROM {
                    from = true;
                } else {
                    return Some(());
                }
            }
        }
        None
    });
    fired.is_some() || (from && as_anywhere(b))
}

/// Whether `b` holds a start of the "anywhere" rules that is not a word: `/*` (comment as a
/// space, `/*!` bodies), `@@`, `::`, `.e(` / `.e.` (each pair found whole by a vector search:
/// a value full of `/` or `:` does not stop it at each one), or a WHERE right after a closing
/// parenthesis (`) AS x WHERE`, `) WHERE`: `closed_where`).
fn pair_reachable(b: &[u8]) -> bool {
    PAIRS.iter().any(|f| f.find(b).is_some())
        || memchr::memchr_iter(b')', b).any(|p| closes_into_where(&b[p + 1..]))
        || DOT_E
            .iter()
            .flat_map(|f| f.find_iter(b))
            .any(|p| matches!(b.get(p + 2), Some(b'(' | b'.')))
}

/// Where, in order, the rules over the whole token stream ([`super::anywhere`]) can start
/// in a value on which [`anywhere_reachable`] holds: each place (start, end) that holds one
/// of the trigger words (ASCII case-insensitively, inside other words too; function names
/// only with `paren`), FROM (for `AS x FROM`), WHERE, or a pair `/*`, `@@`, `::`, `.e(`,
/// `.e.`. A token those rules start from holds one of them (see the module doc), so the
/// rules need only read the tokens around these places (`super::spots`). Clears `out` first.
pub(super) fn spots(b: &[u8], paren: bool, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let t = &*TRIGGERS;
    let gate = &t.gate[2];
    let code = |p: usize| b.get(p).map_or(0, |&c| usize::from(CODE[c as usize]));
    each_run_start(b, t.shortest_spot[usize::from(paren)], |start, count| {
        let mut key = code(start) << 5 | code(start + 1);
        for p in start..start + count {
            key = (key << 5 & (GATE_BITS - 1)) | code(p + 2);
            if gate[key >> 6] & (1 << (key & 63)) == 0 {
                continue;
            }
            for w in &t.by_pair[key >> 5] {
                if key & usize::from(w.mask) != usize::from(w.key) {
                    continue;
                }
                let (word, kind) = &t.words[usize::from(w.index)];
                let here = b
                    .get(p..p + word.len())
                    .is_some_and(|x| x.eq_ignore_ascii_case(word));
                if here && (*kind != FUNC || paren) {
                    out.push((p, p + word.len()));
                }
            }
        }
        None::<()>
    });
    for f in PAIRS.iter() {
        out.extend(f.find_iter(b).map(|p| (p, p + 2)));
    }
    for f in DOT_E.iter() {
        out.extend(
            f.find_iter(b)
                .filter(|&p| matches!(b.get(p + 2), Some(b'(' | b'.')))
                .map(|p| (p, p + 2)),
        );
    }
    out.sort_unstable();
}

/// Whether `as` (the one [`AS`] word; any case) occurs in `b`, inside a word or not.
fn as_anywhere(b: &[u8]) -> bool {
    b.windows(2)
        .any(|w| w[0] | 0x20 == b'a' && w[1] | 0x20 == b's')
}

/// [`anywhere_reachable`] as first written: the pairs, then every trigger word looked for in
/// the whole value by one automaton (once a run of word bytes is long enough), whatever its
/// spots. The reference of the tests.
#[cfg(test)]
pub(super) fn anywhere_reachable_reference(b: &[u8], paren: bool) -> bool {
    use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
    static AC: LazyLock<(AhoCorasick, Vec<u8>)> = LazyLock::new(|| {
        let words = trigger_words();
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(words.iter().map(|(w, _)| w))
            .expect("trigger automaton");
        (ac, words.iter().map(|&(_, k)| k).collect())
    });
    if pair_reachable(b) {
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
    let (ac, kinds) = &*AC;
    let mut seen = 0u8;
    for m in ac.find_overlapping_iter(b) {
        let k = kinds[m.pattern().as_usize()];
        if (k == FUNC && !paren) || k == WHERE {
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

    /// [`as_anywhere`] looks for `as` only: the one [`AS`] word.
    #[test]
    fn the_one_as_word_is_as() {
        let words: Vec<_> = trigger_words()
            .into_iter()
            .filter(|&(_, k)| k == AS)
            .map(|(w, _)| w.to_ascii_lowercase())
            .collect();
        assert_eq!(words, ["as"]);
        assert!(as_anywhere(b"x AS") && as_anywhere(b"aS") && !as_anywhere(b"a s"));
    }

    /// The near-attack unit and a spot (a five-letter word no trigger opens with).
    fn spotted() -> String {
        format!("{}> x onabc=1 ", "' or <a on=../;|${ ".repeat(13))
    }

    fn same_reach(v: &[u8]) -> bool {
        let mut any = false;
        for paren in [false, true] {
            let want = anywhere_reachable_reference(v, paren);
            assert_eq!(
                anywhere_reachable(v, paren),
                want,
                "{paren} {:?}",
                String::from_utf8_lossy(v)
            );
            any |= want;
        }
        any
    }

    /// [`anywhere_reachable`] gives what the automaton over the whole value gives, on every
    /// corpus value, alone and padded with near-attack spots before and after.
    #[test]
    fn reach_matches_the_automaton_on_the_corpus() {
        let Some(values) = crate::waf::tests::corpus_values(true) else {
            return;
        };
        let pad = spotted();
        let mut reached = 0;
        for v in &values {
            for s in [
                v.clone(),
                format!("{pad}{v}"),
                format!("{v}{pad}"),
                v.to_uppercase(),
            ] {
                reached += usize::from(same_reach(s.as_bytes()));
            }
        }
        assert!(reached > 10_000, "{reached}");
    }

    /// ... and on random sequences of trigger words, their beginnings and ends, words glued to
    /// them and padding, in either case.
    #[test]
    fn reach_matches_the_automaton_on_random_sequences() {
        const TOKENS: &[&str] = &[
            " ",
            " ",
            "'",
            "(",
            ")",
            ".",
            "_",
            "$",
            "1",
            "x",
            "a",
            "s",
            "as",
            "AS",
            "aS",
            "from",
            "FROM",
            "fro",
            "rom",
            "union",
            "unio",
            "nion",
            "UNION",
            "select",
            "sel",
            "selec",
            "elect",
            "SeLeCt",
            "when",
            "whe",
            "sleep",
            "slee",
            "SLEEP",
            "char",
            "cha",
            "user",
            "information_schema",
            "information",
            "_schema",
            "dbms_pipe",
            "dbms",
            "sys.",
            "having",
            "values",
            "outfile",
            "analyse",
            "unionselect",
            "onabc",
            "abcd",
            "on=",
            "<a",
            "../",
            ";|${",
            "or",
            " or ",
            "=",
            "pi",
            "ln",
            "if",
            "Mid",
            "1.e",
            "@",
            ":",
            "/",
            "*",
        ];
        let (mut reached, mut not) = (0, 0);
        for v in crate::waf::tests::token_sequences(0x5851_f42d_4c95_7f2du64, TOKENS, 30_000, 16) {
            if same_reach(v.as_bytes()) {
                reached += 1;
            } else {
                not += 1;
            }
        }
        let pad = spotted().repeat(3);
        for v in crate::waf::tests::token_sequences(0x1405_7b7e_f767_814fu64, TOKENS, 2_000, 12) {
            same_reach(format!("{pad}{v}{pad}").as_bytes());
            same_reach(format!("{v}{pad}{v}").as_bytes());
        }
        assert!(reached > 3_000 && not > 3_000, "{reached} {not}");
    }

    /// [`each_run_start`] against a byte-by-byte reading, across block cuts.
    #[test]
    fn run_starts_match_a_byte_by_byte_reading() {
        let alphabet = b"ab_$.1 '<=/;|{(";
        let mut next = crate::waf::tests::xorshift(0x9e37_79b9_7f4a_7c15u64);
        for round in 0..5000u64 {
            let len = (next() % 200) as usize;
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
            for k in [1, 2, 3, 4, 5, 64] {
                let mut got = Vec::new();
                each_run_start(&v, k, |p, count| {
                    got.extend(p..p + count);
                    None::<()>
                });
                let want: Vec<usize> = (0..v.len())
                    .filter(|&p| p + k <= v.len() && v[p..p + k].iter().all(|&c| word_byte(c)))
                    .collect();
                assert_eq!(got, want, "{k} {:?}", String::from_utf8_lossy(&v));
            }
        }
    }
}
