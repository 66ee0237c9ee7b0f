//! Skipping what the pre-filter has nothing to do with, 64 bytes at a time.
//!
//! Most of a long benign value (prose, a product description) is made of two kinds of token
//! on which [`prefilter`](super::prefilter::prefilter) changes no state: runs of plain bytes
//! (spaces, `,`, `;`...) and words whose first three bytes begin no table word (its gate) and
//! that are too short to hide a glued `unionselect`. The byte loop still pays for each of them:
//! about a hundred instructions a word. [`Skipper::next`] finds the next token that is *not*
//! of those kinds from two bit masks per 64-byte block, made by a loop the compiler turns into
//! vector code: the bytes that are ASCII letters or spaces, and the word bytes. Only the
//! remaining candidates are looked at one by one: word starts (one read of the block's copy,
//! masked with its word bytes, and one gate lookup; the length only when the gate passes;
//! words long enough to hide a glued `unionselect` from a third mask), and bytes that are
//! neither letters nor spaces (a class lookup). The pre-filter calls
//! it only between tokens and only when no number came just before (its `after_num` state), so
//! what it skips is exactly what the byte loop would have stepped over without effect; a
//! differential test checks the verdicts against the byte loop alone.

use super::prefilter::{skip_gate_hash, word_kind, PB_PLAIN, PRE_BYTE, SKIP_GATE_BITS};

/// A word gate as [`Skipper::next`] reads it.
type SkipGate = [u64; SKIP_GATE_BITS / 64];
use super::tokenizer::is_word_char;
use crate::waf::blocks::pack;

/// Bytes per block: one bit each in a `u64`.
const BLOCK: usize = 64;

/// A word at least this long may hide a glued `unionselect`: the pre-filter looks at it.
const LONG_WORD: usize = super::prefilter::GLUED.len();
const _: () = assert!(LONG_WORD == 11, "`long_starts` is written for 11");

/// The masks of one block of a value, kept between calls (the pre-filter comes back to the
/// same block after each token it handles itself).
///
/// A block answers for the candidates in its bytes up to `end`: all 64, except that a word
/// run reaching the block's last byte and shorter than [`LONG_WORD`] there (its length is
/// not known yet) is left to the next block, which starts at that run.
pub(super) struct Skipper {
    /// First byte of the block (`usize::MAX`: no block yet).
    base: usize,
    /// One past the last byte whose candidates this block answers for.
    end: usize,
    /// ASCII letters and spaces.
    boring: u64,
    /// Word bytes (letters, digits, `_`, `$`, non-ASCII).
    word: u64,
    /// Bytes that begin [`LONG_WORD`] or more word bytes within the block.
    long: u64,
    /// The byte before the block is a word byte.
    prev_word: bool,
    /// The block's bytes, and the three after it (zeros past the value's end).
    buf: [u8; BLOCK + 3],
    /// `0xff` for each word byte of the block, 0 for the others and the three after it: the
    /// first bytes of a word, masked with it, are the word's first bytes and zeros.
    wbytes: [u8; BLOCK + 3],
}

impl Skipper {
    pub(super) fn new() -> Self {
        Skipper {
            base: usize::MAX,
            end: 0,
            boring: 0,
            word: 0,
            long: 0,
            prev_word: false,
            buf: [0; BLOCK + 3],
            wbytes: [0; BLOCK + 3],
        }
    }

    /// The first position at or after `i` (a token boundary, no number just before) where the
    /// pre-filter has something to do, or `b.len()`. `gate` is the word gate in force
    /// ([`SKIP_GATE`](super::prefilter::SKIP_GATE)); table words whose kinds are all in
    /// `inert` change nothing in the pre-filter's state and are skipped too.
    pub(super) fn next(&mut self, b: &[u8], mut i: usize, gate: &SkipGate, inert: u8) -> usize {
        let n = b.len();
        while i < n {
            if i < self.base || i >= self.end {
                self.load(b, i);
            }
            let base = self.base;
            let (word, boring) = (self.word, self.boring);
            let after_word = word << 1 | u64::from(self.prev_word);
            let live = (u64::MAX << (i - base)) & (u64::MAX >> (BLOCK - (self.end - base)));
            // bytes that are not letters, spaces or inside a word, in order: the first that is
            // no plain byte ends the search
            let mut other = !(boring | (word & after_word)) & live;
            let mut stop = self.end;
            while other != 0 {
                let k = other.trailing_zeros() as usize & (BLOCK - 1);
                other &= other - 1;
                let c = self.buf[k];
                // (a `.` not before a digit is plain to the pre-filter; past the value's end
                // the copy holds zeros)
                let plain = PRE_BYTE[c as usize] == PB_PLAIN
                    || (c == b'.' && !self.buf[k + 1].is_ascii_digit());
                if !plain {
                    stop = base + k;
                    break;
                }
            }
            // words starting with a letter before that; the first long one ends the search
            // at its start (after the words before it)
            let mut starts = word & !after_word & boring & live;
            if stop - base < BLOCK {
                starts &= (1u64 << (stop - base)) - 1;
            }
            let long = starts & self.long;
            if long != 0 {
                let k = long.trailing_zeros() as usize;
                starts &= (1u64 << k) - 1;
                stop = base + k;
            }
            while starts != 0 {
                let k = starts.trailing_zeros() as usize & (BLOCK - 1);
                starts &= starts - 1;
                // the word's first (up to three) bytes, as `skip_gate_key` reads them: one
                // read of the copy, masked with the word bytes (a one-byte word may take the
                // next word's byte: it is no table word either way)
                let mut first4 = [0u8; 4];
                first4.copy_from_slice(&self.buf[k..k + 4]);
                let mut mask4 = [0u8; 4];
                mask4.copy_from_slice(&self.wbytes[k..k + 4]);
                let key = skip_gate_hash(
                    (u32::from_le_bytes(first4) | 0x2020_2020)
                        & u32::from_le_bytes(mask4)
                        & 0x00ff_ffff,
                );
                if gate[key >> 6] & (1u64 << (key & 63)) != 0 {
                    // (the run ends in the block: a longer one is in `long`)
                    let run = (!(word >> k)).trailing_zeros() as usize;
                    if word_kind(&b[base + k..base + k + run]) & !inert != 0 {
                        // a table word (an ungated or unlisted one changes nothing)
                        return base + k;
                    }
                }
            }
            if stop < self.end {
                return stop;
            }
            i = self.end;
        }
        n
    }

    /// Makes the masks of the block starting at `i`.
    fn load(&mut self, b: &[u8], i: usize) {
        let rest = &b[i..];
        if rest.len() >= BLOCK + 3 {
            self.buf.copy_from_slice(&rest[..BLOCK + 3]);
        } else {
            self.buf = [0; BLOCK + 3];
            self.buf[..rest.len()].copy_from_slice(rest);
        }
        let block: &[u8; BLOCK] = self.buf[..BLOCK].try_into().expect("64 bytes");
        let wbytes: &mut [u8; BLOCK] = (&mut self.wbytes[..BLOCK]).try_into().expect("64 bytes");
        let (boring, word) = masks(block, wbytes);
        self.base = i;
        self.end = if rest.len() <= BLOCK {
            b.len()
        } else {
            // a word run reaching the block's end, shorter than a long word there, is read
            // by the next block (its length is not known here)
            let tail = word.leading_ones() as usize;
            if tail > 0 && tail < LONG_WORD {
                i + BLOCK - tail
            } else {
                i + BLOCK
            }
        };
        self.boring = boring;
        self.word = word;
        self.long = long_starts(word);
        self.prev_word = i > 0 && is_word_char(b[i - 1]);
    }
}

/// The bytes that begin [`LONG_WORD`] (11) or more set bits of `word` (bits past the block
/// count as clear).
fn long_starts(word: u64) -> u64 {
    let r2 = word & (word >> 1);
    let r4 = r2 & (r2 >> 2);
    let r8 = r4 & (r4 >> 4);
    r8 & (r2 >> 8) & (word >> 10)
}

/// (letters and spaces, word bytes) of a block, one bit per byte, and `wbytes` (`0xff` for
/// each word byte). Written as a byte-wise map into two arrays, then packed eight bytes at a
/// time, so that it compiles to vector code.
fn masks(c: &[u8; BLOCK], wbytes: &mut [u8; BLOCK]) -> (u64, u64) {
    let mut boring = [0u8; BLOCK];
    for k in 0..BLOCK {
        let x = c[k];
        let letter = (x | 0x20).wrapping_sub(b'a') < 26;
        // `|`, not `||`: no branches, so the loop is vectorised
        let w = letter | (x.wrapping_sub(b'0') < 10) | (x == b'_') | (x == b'$') | (x >= 0x80);
        boring[k] = if letter | (x == b' ') { 0x80 } else { 0 };
        wbytes[k] = if w { 0xff } else { 0 };
    }
    (pack(&boring), pack(wbytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_a_byte_by_byte_reading() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..2000 {
            let mut c = [0u8; BLOCK];
            for x in c.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // every byte value in the first rounds, then mostly ASCII
                *x = if round < 1000 {
                    seed as u8
                } else {
                    (seed % 128) as u8
                };
            }
            let mut wbytes = [0u8; BLOCK];
            let (boring, word) = masks(&c, &mut wbytes);
            for (k, &x) in c.iter().enumerate() {
                assert_eq!(
                    boring >> k & 1 != 0,
                    x.is_ascii_alphabetic() || x == b' ',
                    "byte {x:#x} at {k}"
                );
                assert_eq!(word >> k & 1 != 0, is_word_char(x), "byte {x:#x} at {k}");
                assert_eq!(wbytes[k] == 0xff, is_word_char(x), "byte {x:#x} at {k}");
            }
        }
    }

    fn same_verdict(v: &[u8]) {
        use super::super::prefilter::prefilter_with;
        assert_eq!(
            prefilter_with::<true>(v, v.contains(&b'(')),
            prefilter_with::<false>(v, v.contains(&b'(')),
            "{:?}",
            String::from_utf8_lossy(v)
        );
    }

    /// The skipping pre-filter gives the byte loop's verdict on every corpus value (also
    /// shifted by one to three bytes, so that tokens fall across other block boundaries).
    #[test]
    fn skipping_gives_the_byte_loops_verdict_on_the_corpus() {
        let Some(values) = crate::waf::tests::corpus_values(true) else {
            return;
        };
        assert!(values.len() > 10_000, "{}", values.len());
        for v in &values {
            for pad in ["", "a", "x ", "7 e"] {
                same_verdict(format!("{pad}{v}").as_bytes());
            }
        }
    }

    /// ... and on random sequences of table words, prose words, long and glued words, numbers
    /// and punctuation, of every length up to a few blocks.
    #[test]
    fn skipping_gives_the_byte_loops_verdict_on_random_token_sequences() {
        const TOKENS: &[&str] = &[
            "the",
            "and",
            "or",
            "xor",
            "order",
            "is",
            "The",
            "box",
            "was",
            "intact",
            "sound",
            "great",
            "select",
            "union",
            "from",
            "where",
            "case",
            "when",
            "sleep",
            "char",
            "like",
            "between",
            "headphones",
            "noise-cancelling",
            "reunionselection",
            "xunionselectfrom",
            "unionselect1",
            "information_schema",
            "xp_cmdshell",
            "$x",
            "_id",
            "caf\u{e9}",
            "1",
            "42",
            "1.e",
            "0x1f",
            "1e5",
            "3.14",
            " ",
            "  ",
            ", ",
            ". ",
            ".",
            ".5",
            "! ",
            "(",
            ")",
            "'",
            "\"",
            "`",
            "#",
            "--",
            "-",
            "/*",
            "*/",
            "@@",
            "::",
            "&&",
            "||",
            "=",
            "<>",
            "!=",
            ";",
            "\t",
            "\u{a0}",
            "\u{e9}t\u{e9}",
        ];
        let mut next = crate::waf::tests::xorshift(0x2545_f491_4f6c_dd1du64);
        let mut differ = 0;
        for _ in 0..100_000 {
            let len = (next() % 200) as usize;
            let mut v = String::new();
            while v.len() < len {
                v.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
                if next() % 3 != 0 {
                    v.push(' ');
                }
            }
            same_verdict(v.as_bytes());
            differ += usize::from(prefilter_with_none(v.as_bytes()));
        }
        // the sequences reach every verdict, not only "nothing to scan"
        assert!(differ > 1000, "{differ}");
    }

    fn prefilter_with_none(v: &[u8]) -> bool {
        super::super::prefilter::prefilter_with::<true>(v, v.contains(&b'('))
            != super::super::prefilter::SCAN_NONE
    }
}
