//! Byte-family flags: which byte families a value holds (`C_*` bits; one table-driven pass
//! or SWAR words on short values, SIMD `memchr` on long ones), so each family's rules run only
//! when their bytes occur, and the SWAR position iterators the rules share.

use super::file_tables::ZERO_X_FINDERS;

/// Which byte families are present: a set of `C_*` bits (one table-driven pass for short
/// inputs, SIMD scans for long ones). `C_SEP`: `/` or `\`; `C_BSL`: `\`; `C_HIGH`: non-ASCII;
/// `C_X`: `0x` or `0X` (inputs over [`FLAGS_SHORT`]), or an `x`/`X` and a `0` (shorter ones);
/// `C_PCT`: `%`; `C_WS`: ASCII whitespace.
#[derive(Clone, Copy)]
pub(super) struct Flags(pub(super) u16);

impl Flags {
    #[inline]
    pub(super) fn has(self, bits: u16) -> bool {
        self.0 & bits != 0
    }
}

pub(super) const C_SEP: u16 = 1;
pub(super) const C_DOT: u16 = 2;
pub(super) const C_COLON: u16 = 4;
pub(super) const C_NUL: u16 = 8;
pub(super) const C_HIGH: u16 = 16;
pub(super) const C_PCT: u16 = 32;
pub(super) const C_Q: u16 = 64;
pub(super) const C_X: u16 = 128;
pub(super) const C_BSL: u16 = 256;
pub(super) const C_WS: u16 = 512;
/// `q` or `Q` (every SQL dump name has one)
pub(super) const C_QL: u16 = 2048;
/// `0`
pub(super) const C_ZERO: u16 = 4096;
/// `_` or `[` (every register_globals name has one)
pub(super) const C_GLOBAL: u16 = 8192;

/// Byte class bits for [`flags`].
pub(in crate::waf) static CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0x80;
    while i < 256 {
        t[i] = C_HIGH;
        i += 1;
    }
    t[b'/' as usize] = C_SEP;
    t[b'0' as usize] = C_ZERO;
    t[b'_' as usize] = C_GLOBAL;
    t[b'[' as usize] = C_GLOBAL;
    t[b'\\' as usize] = C_SEP | C_BSL;
    t[b'.' as usize] = C_DOT;
    t[b':' as usize] = C_COLON;
    t[0] = C_NUL;
    t[b'%' as usize] = C_PCT;
    t[b'?' as usize] = C_Q;
    t[b'x' as usize] = C_X;
    t[b'X' as usize] = C_X;
    t[b'q' as usize] = C_QL;
    t[b'Q' as usize] = C_QL;
    t[b' ' as usize] = C_WS;
    t[b'\t' as usize] = C_WS;
    t[b'\n' as usize] = C_WS;
    t[b'\r' as usize] = C_WS;
    t[0x0c] = C_WS;
    t
};

/// Inputs up to this length are searched eight bytes at a time (SWAR: a few integer
/// operations per word give the exact matching bytes, then one `trailing_zeros` per hit): no
/// per-call dispatch or SIMD setup, and no call per hit. Longer ones use SIMD `memchr`.
pub(super) const SHORT: usize = 256;

/// Offsets of byte `c` in `b`, ascending: SWAR words for short inputs, SIMD `memchr` for
/// long ones.
pub(super) enum Positions<'a> {
    Short(WordPos<'a>),
    Long(memchr::Memchr<'a>),
}

/// [`Positions`] for short inputs: the hits of one 8-byte word at a time, as the high bits of
/// the matching bytes.
pub(super) struct WordPos<'a> {
    pub(super) b: &'a [u8],
    pub(super) c: u8,
    /// Offset of the word `hits` describes.
    pub(super) base: usize,
    pub(super) hits: u64,
}

pub(super) const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
pub(super) const HI1: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `b[at..at + 8]` that equals `c` (bytes past the end never match).
#[inline]
pub(super) fn word_hits(b: &[u8], at: usize, c: u8) -> u64 {
    let mut k = [0u8; 8];
    match b.get(at..at + 8) {
        Some(w) => {
            k.copy_from_slice(w);
            eq_bytes(u64::from_le_bytes(k), c, 0)
        }
        None if b.len() >= 8 => {
            // the last eight bytes, shifted so that `b[at]` is the low byte
            k.copy_from_slice(&b[b.len() - 8..]);
            let skip = 8 * (at + 8 - b.len()) as u32;
            eq_bytes(u64::from_le_bytes(k) >> skip, c, 0) & (HI1 >> skip)
        }
        None => {
            let rest = b.get(at..).unwrap_or_default();
            for (d, &s) in k.iter_mut().zip(rest) {
                *d = s;
            }
            // (an empty rest keeps no byte: the shift by 64 is checked)
            let keep = HI1.checked_shr(8 * (8 - rest.len()) as u32).unwrap_or(0);
            eq_bytes(u64::from_le_bytes(k), c, 0) & keep
        }
    }
}

impl Iterator for Positions<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        match self {
            Positions::Short(p) => loop {
                if p.hits != 0 {
                    let i = (p.hits.trailing_zeros() / 8) as usize;
                    p.hits &= p.hits - 1;
                    return Some(p.base + i);
                }
                p.base += 8;
                if p.base >= p.b.len() {
                    return None;
                }
                p.hits = word_hits(p.b, p.base, p.c);
            },
            Positions::Long(m) => m.next(),
        }
    }
}

#[inline]
pub(super) fn positions(c: u8, b: &[u8]) -> Positions<'_> {
    if b.len() <= SHORT {
        Positions::Short(WordPos {
            b,
            c,
            base: 0,
            hits: word_hits(b, 0, c),
        })
    } else {
        Positions::Long(memchr::memchr_iter(c, b))
    }
}

/// Up to this length a first-occurrence search walks [`positions`]; longer inputs use a
/// prebuilt SIMD `memmem` finder, whose setup is paid back past this size.
pub(super) const FIND_SHORT: usize = 32;

/// Up to this length [`flags`] makes one table-driven pass; longer inputs get SIMD scans.
pub(in crate::waf) const FLAGS_SHORT: usize = 512;

pub(super) const ONES: u64 = 0x0101_0101_0101_0101;

/// High bit of each byte of `w` that equals `c` once or-ed with `fold` (exact: no carry
/// crosses bytes; `c` has every `fold` bit).
#[inline]
pub(super) fn eq_bytes(w: u64, c: u8, fold: u8) -> u64 {
    let x = (w | (u64::from(fold) * ONES)) ^ (u64::from(c) * ONES);
    !(((x & LO7) + LO7) | x) & HI1
}

/// Does `b` hold `..`, and does it hold `0x` or `0X`? One SWAR pass (8 bytes per step, the
/// second byte of each pair read from a load one byte further on).
pub(super) fn pairs(b: &[u8]) -> (bool, bool) {
    let load = |i: usize| {
        let mut k = [0u8; 8];
        k.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(k)
    };
    let (mut dd, mut zx) = (0u64, 0u64);
    let mut i = 0;
    while i + 9 <= b.len() {
        let (w, w1) = (load(i), load(i + 1));
        dd |= eq_bytes(w, b'.', 0) & eq_bytes(w1, b'.', 0);
        zx |= eq_bytes(w, b'0', 0) & eq_bytes(w1, b'x', 0x20);
        i += 8;
    }
    if i + 1 < b.len() {
        if b.len() >= 9 {
            // the last nine bytes (overlapping pairs already seen does no harm)
            let (w, w1) = (load(b.len() - 9), load(b.len() - 8));
            dd |= eq_bytes(w, b'.', 0) & eq_bytes(w1, b'.', 0);
            zx |= eq_bytes(w, b'0', 0) & eq_bytes(w1, b'x', 0x20);
        } else {
            for w in b.windows(2) {
                dd |= u64::from(w == b"..");
                zx |= u64::from(w[0] == b'0' && w[1] | 0x20 == b'x');
            }
        }
    }
    (dd != 0, zx != 0)
}

pub(super) fn flags(b: &[u8]) -> Flags {
    let mut acc = 0u16;
    if b.len() > FLAGS_SHORT {
        for (c, bit) in [
            (b'/', C_SEP),
            (b'\\', C_SEP | C_BSL),
            (b'.', C_DOT),
            (b':', C_COLON),
            (0, C_NUL),
            (b'%', C_PCT),
            (b'?', C_Q),
        ] {
            if memchr::memchr(c, b).is_some() {
                acc |= bit;
            }
        }
        if !b.is_ascii() {
            acc |= C_HIGH;
        }
        if b.iter().any(u8::is_ascii_whitespace) {
            acc |= C_WS;
        }
        // substring search, not a memchr per `x`: a long run of `x` must stay cheap
        if ZERO_X_FINDERS.iter().any(|f| f.find(b).is_some()) {
            acc |= C_X;
        }
        if memchr::memchr2(b'q', b'Q', b).is_some() {
            acc |= C_QL;
        }
        if memchr::memchr2(b'_', b'[', b).is_some() {
            acc |= C_GLOBAL;
        }
    } else {
        // two accumulators: independent dependency chains
        let (mut a0, mut a1) = (0u16, 0u16);
        let mut pairs = b.chunks_exact(2);
        for c in &mut pairs {
            a0 |= CLASS[c[0] as usize];
            a1 |= CLASS[c[1] as usize];
        }
        for &c in pairs.remainder() {
            a0 |= CLASS[c as usize];
        }
        acc = short_flags(a0 | a1);
    }
    Flags(acc)
}

/// The flags of a value of more than [`FLAGS_SHORT`] bytes from the OR of [`CLASS`] over it
/// (the scan's shared pass): what [`flags`] finds with its dozen `memchr` passes, but for `0x`,
/// which only a substring search settles (and only when an `x` and a `0` occur).
pub(super) fn long_flags(b: &[u8], class_or: u16) -> u16 {
    let mut acc = class_or & !(C_X | C_ZERO);
    if class_or & C_X != 0
        && class_or & C_ZERO != 0
        && ZERO_X_FINDERS.iter().any(|f| f.find(b).is_some())
    {
        acc |= C_X;
    }
    acc
}

/// The flags of a value of at most [`FLAGS_SHORT`] bytes from the OR of [`CLASS`] over it.
pub(super) fn short_flags(mut acc: u16) -> u16 {
    // only a candidate here (an `x` and a `0` occur): `scan` checks for `0x` when needed
    if acc & C_ZERO == 0 {
        acc &= !C_X;
    }
    acc
}
