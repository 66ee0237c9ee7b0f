//! The byte pre-filter: one pass that decides whether a value needs tokenizing at all, and
//! how far (see [`prefilter`]).

use std::sync::LazyLock;

use super::skip::Skipper;
use super::token::*;
use super::tokenizer::{
    is_word_char, is_word_start, is_ws, skip_ws_comments, BYTE_CLASS, C_WSTART,
};
use super::words::{CATALOG, FUNCS, KEYWORDS, MAX_WORD, PACKAGES};

/// Pre-filter verdicts: nothing to scan, only weak triggers (windowed scan), full scan.
pub(super) const SCAN_NONE: u8 = 0;
pub(super) const SCAN_WINDOW: u8 = 1;
pub(super) const SCAN_FULL: u8 = 2;

/// Cheap pre-filter, one pass over the bytes. Every rule needs at least one *trigger*:
/// a quote or backtick; a comment opener (`--`, `#`, `/*`); `@@`, `::`, `&&`, `||`; a
/// comparison between literals (`1=1`); `) as`; MySQL's `1.e(`; an *anchor* word (logic
/// operator, UNION-like, statement keyword, ORDER/GROUP, OUTFILE, catalog name, attack
/// function name); or a known function name followed by `(`. Values with none of these
/// (words, numbers, e-mails, most user agents and URLs) skip the tokenizer entirely
/// ([`SCAN_NONE`]).
///
/// The logic words AND/OR/XOR and ORDER/GROUP are *weak* triggers: they only matter to the
/// positional rules, right after the injection point. A value whose triggers are all weak
/// ([`SCAN_WINDOW`], e.g. English prose with "and") is tokenized only as far as the positional
/// rules read (see [`WINDOW`]). A few byte shapes that are no trigger but could make the
/// tokenizer see more than this pass does (`case`, a stray `*/`, `)` + NBSP, a number glued
/// to letters, `unionselect` inside a word) force the full scan when weak triggers exist.
///
/// Words are only hashed when their first three bytes can begin a table word (a bitmap),
/// or right after a number (comparison words).
///
/// Values of [`SKIP_FROM`] bytes or more step over plain runs and ungated words with
/// [`Skipper`] (the verdict is the same, see the differential test).
///
/// `paren`: whether `b` holds a `(` (function names only count before one).
pub(super) fn prefilter(b: &[u8], paren: bool) -> u8 {
    if b.len() >= SKIP_FROM {
        prefilter_with::<true>(b, paren)
    } else {
        prefilter_with::<false>(b, paren)
    }
}

/// From this length on, [`prefilter`] skips with [`Skipper`]: below it, making a block's masks
/// costs more than the byte loop it saves.
const SKIP_FROM: usize = 64;

/// The pre-filter, skipping with [`Skipper`] or not.
pub(super) fn prefilter_with<const SKIP: bool>(b: &[u8], paren: bool) -> u8 {
    let n = b.len();
    let gate: &[u64; GATE_WORDS] = if paren { &PRE_GATE.1 } else { &PRE_GATE.0 };
    let skip_gates = &*SKIP_GATE;
    let mut i = 0;
    // a number was the last token (for `42 like 42`)
    let mut after_num = false;
    let mut weak = false;
    let mut hint = false;
    let mut skip = Skipper::new();
    while i < n {
        if SKIP && !after_num {
            // words that would change nothing here need not stop the skipper: comparison
            // words (they count after a number only, and the skipper does not run there),
            // and logic words once one has been seen
            let inert = PRE_CMP | if weak { PRE_WEAK } else { 0 };
            let skip_gate = &skip_gates[usize::from(paren) | usize::from(weak) << 1];
            i = skip.next(b, i, skip_gate, inert);
            if i >= n {
                break;
            }
        }
        let c = b[i];
        let class = PRE_BYTE[c as usize];
        if class == PB_PLAIN {
            // a run of bytes with no branch of their own (spaces, `,`, `;`, `?`, ...)
            let mut j = i + 1;
            while j < n && PRE_BYTE[b[j] as usize] == PB_PLAIN {
                j += 1;
            }
            if after_num && b[i..j].iter().any(|&d| !is_ws(d)) {
                after_num = false;
            }
            i = j;
            continue;
        }
        if class == PB_WORD {
            let key = gate_key(b, i);
            let gated = gate[key >> 6] & (1u64 << (key & 63)) != 0;
            let mut j = i;
            if gated || after_num {
                while j < n && is_word_char(b[j]) {
                    j += 1;
                }
                let kind = word_kind(&b[i..j]);
                {
                    if kind & PRE_ANCHOR != 0 || (after_num && kind & PRE_CMP != 0) {
                        return SCAN_FULL;
                    }
                    weak |= kind & PRE_WEAK != 0;
                    if kind & PRE_CASE != 0 {
                        if word_at(b, skip_ws_comments(b, j), b"when") {
                            return SCAN_FULL;
                        }
                        hint = true;
                    }
                    if kind & PRE_FUNC != 0 {
                        let mut k = skip_ws_comments(b, j);
                        if k == j && b.get(k) == Some(&b'\\') {
                            k += 1;
                        }
                        if k < n && b[k] == b'(' {
                            return SCAN_FULL;
                        }
                    }
                }
            } else {
                // `GATE_CODE` is non-zero for exactly the word bytes: the gate has already
                // read up to three of them
                j = i + 1 + usize::from(key & 0x3e0 != 0) + usize::from(key & 0x1f != 0);
                while j < n && is_word_char(b[j]) {
                    j += 1;
                }
            }
            if j - i >= GLUED.len() {
                if has_glued_union(&b[i..j]) {
                    return SCAN_FULL;
                }
                // (a `u` first: a long word costs a byte test a byte)
                hint |= b[i..j]
                    .windows(GLUED.len())
                    .any(|x| x[0] | 0x20 == b'u' && x.eq_ignore_ascii_case(GLUED));
            }
            after_num = false;
            i = j;
            // prose: one space, then the next word (what the plain-run branch would do)
            if i + 1 < n && b[i] == b' ' && PRE_BYTE[b[i + 1] as usize] == PB_WORD {
                i += 1;
            }
            continue;
        }
        match c {
            b'\'' | b'"' | b'`' | b'#' => return SCAN_FULL,
            b'-' if b.get(i + 1) == Some(&b'-') => return SCAN_FULL,
            b'/' if b.get(i + 1) == Some(&b'*') => return SCAN_FULL,
            b'@' if b.get(i + 1) == Some(&b'@') => return SCAN_FULL,
            b':' if b.get(i + 1) == Some(&b':') => return SCAN_FULL,
            b'&' if b.get(i + 1) == Some(&b'&') => return SCAN_FULL,
            b'|' if b.get(i + 1) == Some(&b'|') => return SCAN_FULL,
            b'*' if b.get(i + 1) == Some(&b'/') => hint = true,
            b'=' | b'<' | b'>' | b'!' => {
                let p = b[..i].iter().rev().find(|&&d| !is_ws(d)).copied();
                let q = b[i + 1..]
                    .iter()
                    .find(|&&d| !is_ws(d) && !matches!(d, b'=' | b'<' | b'>'))
                    .copied();
                if p.is_some_and(|d| d.is_ascii_digit() || d == b')')
                    && q.is_some_and(|d| d.is_ascii_digit() || d == b'(' || d == b'-')
                {
                    return SCAN_FULL;
                }
            }
            b')' => {
                // `) as x`, `) like (`, `) when 1 then`
                let j = skip_ws_comments(b, i + 1);
                if word_at(b, j, b"as") || word_at(b, j, b"like") || word_at(b, j, b"when") {
                    return SCAN_FULL;
                }
                hint |= b.get(j) == Some(&0xc2);
            }
            // (a `.` starts a number only before a digit, as the tokenizer reads it: the `.`
            // ending a sentence is a plain byte)
            b'0'..=b'9' | b'.' if c != b'.' || b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                // skip a number; `1.e(` / `1.e.x` is a MySQL parser trick
                let mut j = i + 1;
                while j < n && (b[j].is_ascii_digit() || b[j] == b'.') {
                    j += 1;
                }
                if j + 1 < n
                    && j > i + 1
                    && b[j - 1] == b'.'
                    && b[j] | 0x20 == b'e'
                    && matches!(b[j + 1], b'(' | b'.')
                {
                    return SCAN_FULL;
                }
                // (`1e5`, `0x1f`: the tokenizer's number may end inside the next word)
                hint |= j < n && is_word_start(b[j]);
                after_num = true;
                i = j;
                continue;
            }
            _ => {}
        }
        if !is_ws(c) {
            after_num = false;
        }
        i += 1;
    }
    match (weak, hint) {
        (false, _) => SCAN_NONE,
        (true, false) => SCAN_WINDOW,
        (true, true) => SCAN_FULL,
    }
}

/// The gate key of the word starting at `i`: the 5-bit codes of its first three bytes (a
/// byte after a non-word byte counts as 0).
#[inline]
pub(super) fn gate_key(b: &[u8], i: usize) -> usize {
    let c1 = b.get(i + 1).map_or(0, |&d| GATE_CODE[d as usize]);
    let c2 = if c1 == 0 {
        0
    } else {
        b.get(i + 2).map_or(0, |&d| GATE_CODE[d as usize])
    };
    usize::from(GATE_CODE[b[i] as usize]) << 10 | usize::from(c1) << 5 | usize::from(c2)
}

/// Pre-filter byte classes: bytes with no branch of their own in [`prefilter`], bytes that
/// start a word, the rest.
pub(super) const PB_PLAIN: u8 = 0;
pub(super) const PB_WORD: u8 = 1;
pub(super) const PB_OTHER: u8 = 2;
pub(super) static PRE_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let special = matches!(
            c,
            b'\''
                | b'"'
                | b'`'
                | b'#'
                | b'-'
                | b'/'
                | b'@'
                | b':'
                | b'&'
                | b'|'
                | b'*'
                | b'='
                | b'<'
                | b'>'
                | b'!'
                | b')'
                | b'0'..=b'9' | b'.'
        );
        if BYTE_CLASS[i] & C_WSTART != 0 {
            t[i] = PB_WORD;
        } else if special {
            t[i] = PB_OTHER;
        }
        i += 1;
    }
    t
};

/// 5-bit codes of word bytes for the three-byte word gate (0: not a word byte).
pub(super) static GATE_CODE: [u8; 256] = {
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
        } else if c >= 0x80 {
            30
        } else {
            0
        };
        i += 1;
    }
    t
};
pub(super) const GATE_WORDS: usize = (1 << 15) / 64;

/// Bitmaps of the first three word bytes of every pre-filter table word: (without
/// function names, with them — function names only count before a `(`).
pub(super) static PRE_GATE: LazyLock<([u64; GATE_WORDS], [u64; GATE_WORDS])> =
    LazyLock::new(|| {
        let mut plain = [0u64; GATE_WORDS];
        let mut with_funcs = [0u64; GATE_WORDS];
        for_each_gate_word(|w, func, _| {
            let w = w.as_bytes();
            let code = |k: usize| w.get(k).map_or(0, |&c| GATE_CODE[c as usize]);
            let key = usize::from(code(0)) << 10 | usize::from(code(1)) << 5 | usize::from(code(2));
            with_funcs[key >> 6] |= 1 << (key & 63);
            if !func {
                plain[key >> 6] |= 1 << (key & 63);
            }
        });
        (plain, with_funcs)
    });

/// Calls `f` with every word whose first bytes the gates let through, whether it only
/// counts before a `(` (a function name), and whether it is a weak trigger (its only kind is
/// [`PRE_WEAK`]).
fn for_each_gate_word(mut f: impl FnMut(&str, bool, bool)) {
    for &(w, ty, a) in KEYWORDS {
        let anchor = matches!(ty, T_LOGIC | T_UNION | T_STMT)
            || (ty == T_WORD && matches!(a, W_ORDER | W_GROUP | W_ANALYSE))
            || (ty == T_KW && matches!(a, K_OUTFILE | K_HAVING));
        if anchor {
            f(w, false, is_weak(ty, a));
        }
    }
    for &(w, tier) in FUNCS {
        f(w, tier != FN_STRONG, false);
    }
    f("case", false, false);
    for &w in CATALOG {
        for part in w.split('.') {
            if part.len() >= 2 {
                f(part, false, false);
            }
        }
    }
    for &w in PACKAGES {
        f(w, false, false);
    }
}

/// AND/OR/XOR and ORDER/GROUP: the weak triggers ([`PRE_WEAK`]).
fn is_weak(ty: u8, a: u8) -> bool {
    ty == T_LOGIC || (ty == T_WORD && matches!(a, W_ORDER | W_GROUP))
}

/// A [`SKIP_GATE`] bitmap.
pub(super) type GateBits = Box<[u64; SKIP_GATE_BITS / 64]>;

/// Bits in a [`SKIP_GATE`] bitmap.
pub(super) const SKIP_GATE_BITS: usize = 1 << 16;

/// The key of a word's first (up to) three bytes in [`SKIP_GATE`]: the bytes with ASCII
/// case folded (`| 0x20`), as a little-endian number, hashed to 16 bits. Every case variant of
/// a table word's first bytes gives that word's key; another word may share it (a collision
/// only sends the word to the byte loop).
#[inline]
pub(super) fn skip_gate_key(first4: [u8; 4], len: usize) -> usize {
    const KEEP: [u32; 4] = [0, 0xff, 0xffff, 0xff_ffff];
    let keep = KEEP[len.min(3)];
    skip_gate_hash((u32::from_le_bytes(first4) | 0x2020_2020) & keep)
}

/// The hash of [`skip_gate_key`]: a word's first bytes, case folded and zero-padded.
#[inline]
pub(super) fn skip_gate_hash(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

/// [`PRE_GATE`] as the skipper reads it: the same words, keyed by [`skip_gate_key`], which
/// costs fewer instructions than the 5-bit codes (one 4-byte read, one multiply). Four
/// bitmaps, at `paren | weak << 1`: with function names or not (they only count before a
/// `(`), and with the weak triggers or not (once one has been seen, another changes nothing
/// and is skipped without a lookup).
pub(super) static SKIP_GATE: LazyLock<[GateBits; 4]> = LazyLock::new(|| {
    let empty: GateBits = Box::new([0u64; SKIP_GATE_BITS / 64]);
    let mut gates = [empty.clone(), empty.clone(), empty.clone(), empty];
    for_each_gate_word(|w, func, weak| {
        let mut first4 = [0u8; 4];
        for (d, &c) in first4.iter_mut().zip(w.as_bytes()) {
            *d = c;
        }
        let key = skip_gate_key(first4, w.len());
        for (at, gate) in gates.iter_mut().enumerate() {
            let (paren, after_weak) = (at & 1 != 0, at & 2 != 0);
            if (paren || !func) && !(after_weak && weak) {
                gate[key >> 6] |= 1 << (key & 63);
            }
        }
    });
    gates
});

pub(super) const PRE_ANCHOR: u8 = 1;
pub(super) const PRE_FUNC: u8 = 2;
pub(super) const PRE_CMP: u8 = 4;
pub(super) const PRE_CASE: u8 = 8;
/// AND/OR/XOR, ORDER/GROUP: triggers only within the positional window
pub(super) const PRE_WEAK: u8 = 16;

pub(super) const GLUED: &[u8] = b"unionselect";

/// `unionselect` inside one word (keywords glued where a filter removed the spaces), then
/// the word ends, a non-letter follows, or a glued `from` (`1unionselect1`, `xunionselectfrom`;
/// not `reunionselection`).
pub(super) fn has_glued_union(w: &[u8]) -> bool {
    if w.len() < GLUED.len() {
        return false;
    }
    let Some(p) = (0..=w.len() - GLUED.len())
        .find(|&x| w[x] | 0x20 == b'u' && w[x..x + GLUED.len()].eq_ignore_ascii_case(GLUED))
    else {
        return false;
    };
    let rest = &w[p + GLUED.len()..];
    rest.first().is_none_or(|c| !c.is_ascii_alphabetic())
        || rest.windows(4).any(|x| x.eq_ignore_ascii_case(b"from"))
}

/// Is the (ASCII, case-insensitive) word `w` at `j`, not followed by a word character?
pub(super) fn word_at(b: &[u8], j: usize, w: &[u8]) -> bool {
    let e = j + w.len();
    e <= b.len() && b[j..e].eq_ignore_ascii_case(w) && b.get(e).is_none_or(|&c| !is_word_char(c))
}
pub(super) const PRE_SLOTS: usize = 2048;

/// Open-addressing table of FNV-1a hashes of lowercase anchor / function words.
pub(super) static PRE: LazyLock<Vec<(u64, u8)>> = LazyLock::new(|| {
    let mut t = vec![(0u64, 0u8); PRE_SLOTS];
    let mut add = |w: &str, kind: u8| {
        let mut h: u64 = 0;
        for &c in w.as_bytes() {
            h = h.rotate_left(7) ^ u64::from(c | 0x20);
        }
        let mut k = pre_slot(h);
        while t[k].0 != 0 && t[k].0 != h {
            k = (k + 1) & (PRE_SLOTS - 1);
        }
        t[k].0 = h;
        t[k].1 |= kind;
    };
    for &(w, ty, a) in KEYWORDS {
        let anchor = matches!(ty, T_LOGIC | T_UNION | T_STMT)
            || (ty == T_WORD && matches!(a, W_ORDER | W_GROUP | W_ANALYSE))
            || (ty == T_KW && matches!(a, K_OUTFILE | K_HAVING));
        if is_weak(ty, a) {
            add(w, PRE_WEAK);
        } else if anchor {
            add(w, PRE_ANCHOR);
        }
        if ty == T_CMP {
            add(w, PRE_CMP);
        }
    }
    for &(w, tier) in FUNCS {
        add(
            w,
            if tier == FN_STRONG {
                PRE_ANCHOR | PRE_FUNC
            } else {
                PRE_FUNC
            },
        );
    }
    add("case", PRE_CASE);
    for &w in CATALOG {
        for part in w.split('.') {
            if part.len() >= 2 {
                add(part, PRE_ANCHOR);
            }
        }
    }
    for &w in PACKAGES {
        add(w, PRE_ANCHOR);
    }
    t
});

/// Word hashes are a rotate-xor of lowercase bytes (cheap; `| 0x20` folds ASCII case, and
/// a collision only costs a full scan); the slot mixes them once with a multiply.
pub(super) fn pre_slot(h: u64) -> usize {
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 53) as usize & (PRE_SLOTS - 1)
}

/// The pre-filter kinds of word `w` (0: not a table word).
#[inline]
pub(super) fn word_kind(w: &[u8]) -> u8 {
    if !(2..=MAX_WORD).contains(&w.len()) {
        return 0;
    }
    let mut h: u64 = 0;
    for &c in w {
        h = h.rotate_left(7) ^ u64::from(c | 0x20);
    }
    prefilter_kind(h)
}

pub(super) fn prefilter_kind(h: u64) -> u8 {
    let t = &*PRE;
    let mut k = pre_slot(h);
    loop {
        let (x, kind) = t[k];
        if x == h {
            return kind;
        }
        if x == 0 {
            return 0;
        }
        k = (k + 1) & (PRE_SLOTS - 1);
    }
}
