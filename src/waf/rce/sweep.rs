//! The sweep: one pass over the raw value, 64 bytes at a time, that answers every cheap
//! question the analysis asks before its searches — which `$` rules may match
//! ([`super::dollar_hints`]), whether a `;` opens a SQLite dot command
//! ([`super::sqlite_gate`]), whether `if`/`for` starts a command ([`super::batch_gate`]), and
//! the word gate ([`super::gate`]). Two bit masks per block (the ASCII alphanumerics, for the
//! word starts, and the bytes those questions start from: `$`, `!`, `;`, `f`, `F`, `[`) and a
//! few instructions per set bit replace one `memchr` call per occurrence, which a value dense
//! with `;` or `$` (an attacker's choice) made the largest cost.
//!
//! It only computes answers; it never decides a verdict. Each answer equals the one of the
//! function it stands for (the differential tests in `tests.rs` check them on the corpus and
//! on random token sequences), so the analysis runs its rules in the same order on the same
//! conditions whichever way the answers were found.

use super::gate::{maybe_at_once, Gate};
use super::prefilter::{B_BANG, B_DOLLAR, B_SEMI, B_TICK};
use super::{H_ALL, H_BRACED, H_EXP, H_IFS};
use crate::waf::blocks::{each, pack, BLOCK};

/// [`sweep`]: compute [`Sweep::hints`].
pub(super) const W_HINTS: u8 = 1;
/// [`sweep`]: compute [`Sweep::sqlite`].
pub(super) const W_SQLITE: u8 = 2;
/// [`sweep`]: compute [`Sweep::batch`].
pub(super) const W_BATCH: u8 = 4;
/// [`sweep`]: compute [`Sweep::normalized`].
pub(super) const W_GATE: u8 = 8;
/// [`sweep_spots`]: with [`W_GATE`], go on past the first flagged spot, collecting them.
pub(super) const W_SPOTS: u8 = 16;

/// Most spots [`sweep_spots`] collects on any value, plus one per [`SPOT_EVERY`] bytes: where
/// command words are denser, the windows would cover most of the value at a higher cost per
/// byte than the whole scan, which then runs instead.
const MAX_SPOTS: usize = 16;
/// See [`MAX_SPOTS`].
const SPOT_EVERY: usize = 128;

/// The answers of one [`sweep`] (those not asked for are `false` / `0`).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Sweep {
    /// [`super::dollar_hints`]'s bits.
    pub(super) hints: u8,
    /// [`super::sqlite_gate`].
    pub(super) sqlite: bool,
    /// [`super::batch_gate`].
    pub(super) batch: bool,
    /// [`super::gate::may_match_normalized`].
    pub(super) normalized: bool,
    /// With [`W_SPOTS`]: every flagged spot is a command word ([`Gate::command_spot`]) and
    /// neither the glob, brace nor fork-bomb rule may match; the spots are collected.
    pub(super) windowable: bool,
}

/// Answers the questions `want` names (`W_*` bits) about `b`, whose byte classes are
/// `classes`.
pub(super) fn sweep(b: &[u8], classes: u32, want: u8) -> Sweep {
    sweep_spots(b, classes, want & !W_SPOTS, &mut Vec::new())
}

/// [`sweep`]; with [`W_SPOTS`], the gate's flagged spots (raw offsets of word starts, in
/// order) are pushed to `spots` while [`Sweep::windowable`] holds.
pub(super) fn sweep_spots(b: &[u8], classes: u32, want: u8, spots: &mut Vec<u32>) -> Sweep {
    let mut out = Sweep::default();
    let collect = want & W_SPOTS != 0 && want & W_GATE != 0;
    let mut hints = want & W_HINTS != 0 && classes & B_DOLLAR != 0;
    let mut sqlite = want & W_SQLITE != 0 && classes & B_SEMI != 0;
    let mut batch = want & W_BATCH != 0;
    let mut gate = want & W_GATE != 0;
    if gate && maybe_at_once(b, classes) {
        out.normalized = true;
        gate = false;
    }
    if !(hints || sqlite || batch || gate) {
        return out;
    }
    let g = Gate::new(b, classes);
    // collecting: the gate goes on past flagged command words
    let mut collecting = collect && gate;
    out.windowable = collecting;
    // a flagged spot at `q`: the gate's answer is known; when collecting, a command word is
    // kept and anything else ends the collection
    let cap = MAX_SPOTS + b.len() / SPOT_EVERY;
    let mut flag = |q: usize, word: bool, out: &mut Sweep, gate: &mut bool| {
        out.normalized = true;
        if collecting && word && spots.len() < cap && g.command_spot(q) {
            spots.push(q as u32);
            return;
        }
        if collecting {
            out.windowable = false;
            collecting = false;
        }
        *gate = false;
    };
    let len = b.len();
    let bang = hints && classes & B_BANG != 0;
    // (whether the value holds a backtick or a non-ASCII byte, once asked)
    let mut exotic: Option<bool> = None;
    let mut prev_alnum = 0u64;
    let _ = each(b, |base, block| {
        let mut alnum = [0u8; BLOCK];
        let mut punct = [0u8; BLOCK];
        for k in 0..BLOCK {
            let x = block[k];
            let a = ((x | 0x20).wrapping_sub(b'a') < 26) | (x.wrapping_sub(b'0') < 10);
            alnum[k] = u8::from(a) << 7;
            // (the same bytes whatever is asked: a fixed test the compiler vectorises; the
            // arms below skip what is not asked)
            let eq = |c: u8| u8::from(x == c);
            punct[k] =
                (eq(b'$') | eq(b'!') | eq(b';') | eq(b'[') | u8::from(x | 0x20 == b'f')) << 7;
        }
        let alnum = if gate { pack(&alnum) } else { 0 };
        let word_before = alnum << 1 | prev_alnum;
        prev_alnum = alnum >> (BLOCK - 1);
        let mut m = pack(&punct);
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            let p = base + k;
            match b[p] {
                b'$' => {
                    if hints {
                        out.hints |= dollar_hint(b, p, &mut exotic, classes);
                        hints = out.hints != H_ALL;
                    }
                    if gate && g.dollar_may_matter(p) {
                        flag(p, false, &mut out, &mut gate);
                    }
                }
                b'!' => {
                    if bang && hints && b.get(p + 1) == Some(&b'-') {
                        out.hints |= H_EXP;
                        hints = out.hints != H_ALL;
                    }
                }
                b';' => {
                    if sqlite && super::dot_after(b, p) {
                        out.sqlite = true;
                        sqlite = false;
                    }
                }
                b'[' => {
                    if gate && word_before >> k & 1 == 0 && g.start_may_matter(p) {
                        flag(p, true, &mut out, &mut gate);
                    }
                }
                _ => {
                    if batch && super::batch_at_f(b, p) {
                        out.batch = true;
                        batch = false;
                    }
                }
            }
        }
        if gate {
            let mut starts = alnum & !word_before;
            while starts != 0 {
                let k = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let q = base + k;
                // (the two-byte rejection of [`Gate::start_may_matter`], read from the block)
                if q + 1 < len {
                    let c1 = if k + 1 < BLOCK {
                        block[k + 1]
                    } else {
                        b[q + 1]
                    };
                    if g.plain_pair(block[k], c1) {
                        continue;
                    }
                }
                if g.word_at(q) {
                    flag(q, true, &mut out, &mut gate);
                    if !gate {
                        break;
                    }
                }
            }
        }
        (!(hints || sqlite || batch || gate)).then_some(())
    });
    out
}

/// The [`super::dollar_hints`] bits that the `$` at `p` sets. The blank alternative
/// of the expansion test (`${`, blanks, then a backtick or a non-ASCII byte) is skipped when
/// the value holds neither (`exotic` keeps that answer once asked).
#[inline(always)]
fn dollar_hint(b: &[u8], p: usize, exotic: &mut Option<bool>, classes: u32) -> u8 {
    let name = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c >= 0x80);
    match b.get(p + 1) {
        Some(b'{') => {
            let n2 = b.get(p + 2).copied();
            let mut h = 0;
            if matches!(n2, Some(b'i' | b'I')) {
                h |= H_IFS;
            }
            if n2.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-') {
                h |= H_BRACED;
            }
            if name(n2) || (matches!(n2, Some(b'!' | b'#')) && name(b.get(p + 3).copied())) {
                return h | H_EXP;
            }
            if !*exotic.get_or_insert_with(|| classes & B_TICK != 0 || !b.is_ascii()) {
                return h;
            }
            let mut j = p + 2;
            while j < b.len() && matches!(b[j], b'\t'..=b'\r' | b' ') {
                j += 1;
            }
            if b.get(j).is_some_and(|&c| c == b'`' || c >= 0x80) {
                h |= H_EXP;
            }
            h
        }
        Some(b'(') if b.get(p + 2) == Some(&b'(') => H_EXP,
        Some(b'[') => H_EXP,
        Some(b'i' | b'I') => H_IFS,
        _ => 0,
    }
}
