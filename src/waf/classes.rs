//! One pass per value over a shared byte table: which byte classes occur in it. The scan
//! computes it once and the detectors use it instead of each making their own pass: the RCE
//! detector takes its class mask from it, the LFI detector its flags (past
//! [`lfi::FLAGS_SHORT`](super::lfi) bytes, all but `0x`, which a substring search settles),
//! the XSS detector whether a long value holds anything to decode, the SQLi detector whether
//! `$`, `%` or `(` occur, and detectors that cannot
//! match without a byte of
//! some class are not run on a value without one (each gate is the detector's own first
//! test, see [`Classes::may_be_ssrf`] and [`Classes::may_be_xss`]). `plain` values (short
//! `[A-Za-z0-9-]` tokens) are recognised from the same pass.

use super::{code, lfi, rce, sqli, xss};

/// Bits 0..[`LFI_SHIFT`]: the RCE detector's classes; then the LFI detector's flags; then:
const LFI_SHIFT: u32 = 20;
/// A byte outside `[A-Za-z0-9-]`.
const NOT_PLAIN: u64 = 1 << 40;
/// `:`, `/` or `\`.
const SSRF: u64 = 1 << 41;
/// A byte the XSS detector's early exit looks for.
const XSS: u64 = 1 << 42;
/// A byte the XSS detector's normaliser may decode (`&`, `\`, `%`, `+`, NUL, fullwidth forms).
const XSS_DECODE: u64 = 1 << 43;
/// `$`, `%`, `(`: the SQLi detector's first tests (see [`Classes::sqli`]).
const DOLLAR: u64 = 1 << 44;
const PERCENT: u64 = 1 << 45;
const PAREN: u64 = 1 << 46;
/// Bits 47..: the code-injection detector's trigger bytes ([`code::CLASS`]).
const CODE_SHIFT: u32 = 47;

static TABLE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut m = rce::CLASS[i] as u64 | (lfi::CLASS[i] as u64) << LFI_SHIFT;
        if !(c.is_ascii_alphanumeric() || c == b'-') {
            m |= NOT_PLAIN;
        }
        if matches!(c, b':' | b'/' | b'\\') {
            m |= SSRF;
        }
        if xss::CLASS[i] != 0 {
            m |= XSS;
        }
        if xss::CLASS[i] == 2 {
            m |= XSS_DECODE;
        }
        m |= match c {
            b'$' => DOLLAR,
            b'%' => PERCENT,
            b'(' => PAREN,
            _ => 0,
        };
        m |= (code::CLASS[i] as u64) << CODE_SHIFT;
        t[i] = m;
        i += 1;
    }
    t
};

/// Which byte classes occur in one value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Classes(u64);

impl Classes {
    /// One pass over `b`.
    pub(crate) fn of(b: &[u8]) -> Self {
        Classes(or_over(&TABLE, b))
    }

    /// Only `[A-Za-z0-9-]` bytes (see [`super::plain`], which adds the length bound).
    pub(crate) fn only_plain_bytes(self) -> bool {
        self.0 & NOT_PLAIN == 0
    }

    /// The RCE detector's class mask of the value.
    pub(crate) fn rce(self) -> u32 {
        (self.0 & ((1 << LFI_SHIFT) - 1)) as u32
    }

    /// The OR of the LFI detector's byte table over the value (its flags for short values).
    pub(crate) fn lfi(self) -> u16 {
        (self.0 >> LFI_SHIFT) as u16
    }

    /// False when the value has no `:`, `/` or `\`: [`super::ssrf::detect`] returns `None`
    /// at once on such a value (its first test).
    pub(crate) fn may_be_ssrf(self) -> bool {
        self.0 & SSRF != 0
    }

    /// False when a value of at most 64 bytes has none of the bytes the XSS detector's early
    /// exit looks for: [`super::xss::detect`] returns `None` at once on such a value.
    pub(crate) fn may_be_xss(self, len: usize) -> bool {
        len > xss::SHORT || self.0 & XSS != 0
    }

    /// A `%` occurs (a percent-escape may be left to decode).
    pub(crate) fn has_percent(self) -> bool {
        self.0 & PERCENT != 0
    }

    /// The bytes the SQLi detector looks for first ([`sqli::Hints`]).
    pub(crate) fn sqli(self) -> sqli::Hints {
        sqli::Hints {
            dollar: self.0 & DOLLAR != 0,
            percent: self.0 & PERCENT != 0,
            paren: self.0 & PAREN != 0,
        }
    }

    /// The code-injection detector's trigger-byte mask ([`code::CLASS`]).
    pub(crate) fn code(self) -> u16 {
        (self.0 >> CODE_SHIFT) as u16
    }

    /// False when the value has no byte the XSS detector's normaliser decodes (see
    /// [`super::xss::detect_classified`]).
    pub(crate) fn xss_decodable(self) -> bool {
        self.0 & XSS_DECODE != 0
    }
}

/// The OR of `table`'s entries for the bytes of `b`, in one pass with four accumulators
/// (independent dependency chains, so the loads overlap), eight bytes a turn (the loop's own
/// counting and test paid once for eight: on long values this pass is most of what the scan
/// does outside the detectors).
pub(super) fn or_over<T>(table: &[T; 256], b: &[u8]) -> T
where
    T: Copy + Default + std::ops::BitOr<Output = T>,
{
    let mut acc = [T::default(); 4];
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        acc[0] = acc[0] | table[c[0] as usize] | table[c[4] as usize];
        acc[1] = acc[1] | table[c[1] as usize] | table[c[5] as usize];
        acc[2] = acc[2] | table[c[2] as usize] | table[c[6] as usize];
        acc[3] = acc[3] | table[c[3] as usize] | table[c[7] as usize];
    }
    let mut m = acc[0] | acc[1] | acc[2] | acc[3];
    for &c in chunks.remainder() {
        m = m | table[c as usize];
    }
    m
}

#[cfg(test)]
mod tests {
    use super::{or_over, TABLE};

    /// The eight-a-turn pass gives the OR a byte-by-byte fold gives, at every length around
    /// its turns and tail.
    #[test]
    fn or_over_is_the_or_of_every_byte() {
        let mut next = crate::waf::tests::xorshift(0x00c1_a5e5);
        for len in (0..=40).chain([63, 64, 65, 255, 2048]) {
            for _ in 0..200 {
                let b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                let folded = b.iter().fold(0u64, |m, &c| m | TABLE[c as usize]);
                assert_eq!(or_over(&TABLE, &b), folded, "{b:?}");
            }
            // one byte of a class alone is seen wherever it is
            for at in 0..len.min(70) {
                let mut one = vec![b'a'; len];
                one[at] = b'<';
                let a = if len > 1 { TABLE[b'a' as usize] } else { 0 };
                assert_eq!(
                    or_over(&TABLE, &one),
                    a | TABLE[b'<' as usize],
                    "{len} {at}"
                );
            }
        }
    }
}
