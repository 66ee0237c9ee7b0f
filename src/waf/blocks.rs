//! A value read as 64-byte blocks of bit masks (bit `k` for byte `k` of the block), made by
//! loops the compiler turns into vector code: the cheap first pass that lets a detector visit
//! only the bytes that matter, without the per-hit cost of a `memchr` iterator on values dense
//! with the byte it looks for (a worst case an attacker chooses).

/// Bytes per block: one bit each in a `u64`.
pub(crate) const BLOCK: usize = 64;

/// The top bit of each byte, as one bit per byte (byte `k` to bit `k`).
#[inline(always)]
pub(crate) fn pack(a: &[u8; BLOCK]) -> u64 {
    let mut m = 0u64;
    for (j, chunk) in a.chunks_exact(8).enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(chunk);
        let x = u64::from_le_bytes(x) & 0x8080_8080_8080_8080;
        // moves bit 8j+7 to bit 56+j for every j: the eight bits land in the top byte
        m |= (x.wrapping_mul(0x0002_0408_1020_4081) >> 56) << (j * 8);
    }
    m
}

/// The bytes of `block` for which `pick` holds (a branch-free test, so that the loop is
/// vectorised).
#[inline]
pub(crate) fn mask(block: &[u8; BLOCK], pick: impl Fn(u8) -> bool) -> u64 {
    let mut marks = [0u8; BLOCK];
    for k in 0..BLOCK {
        marks[k] = if pick(block[k]) { 0x80 } else { 0 };
    }
    pack(&marks)
}

/// Calls `f(base, block)` on each block of `b` in order (the last one padded with zero bytes,
/// which `f` must take for no match) and returns its first `Some`.
#[inline]
pub(crate) fn each<T>(b: &[u8], mut f: impl FnMut(usize, &[u8; BLOCK]) -> Option<T>) -> Option<T> {
    let mut blocks = b.chunks_exact(BLOCK);
    for (i, block) in blocks.by_ref().enumerate() {
        let block: &[u8; BLOCK] = block.try_into().expect("a whole block");
        if let Some(t) = f(i * BLOCK, block) {
            return Some(t);
        }
    }
    let rest = blocks.remainder();
    if rest.is_empty() {
        return None;
    }
    let mut tail = [0u8; BLOCK];
    tail[..rest.len()].copy_from_slice(rest);
    f(b.len() - rest.len(), &tail)
}

/// Calls `f(position)` on each position of `c` in `b`, in order, and returns its first `Some`
/// (`c` is not zero: the padding must not match).
#[inline]
pub(crate) fn each_of<T>(b: &[u8], c: u8, mut f: impl FnMut(usize) -> Option<T>) -> Option<T> {
    debug_assert_ne!(c, 0);
    each(b, |base, block| {
        let mut m = mask(block, |x| x == c);
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(t) = f(base + k) {
                return Some(t);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_a_byte_by_byte_reading() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            let mut c = [0u8; BLOCK];
            for x in c.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *x = seed as u8;
            }
            let m = mask(&c, |x| x < 0x40 || x == b'/');
            for (k, &x) in c.iter().enumerate() {
                assert_eq!(m >> k & 1 == 1, x < 0x40 || x == b'/', "{k}");
            }
        }
    }

    #[test]
    fn positions_are_every_occurrence_in_order() {
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 300] {
            let b: Vec<u8> = (0..len)
                .map(|i| if i % 7 == 3 { b'/' } else { b'a' })
                .collect();
            let mut seen = Vec::new();
            let none: Option<()> = each_of(&b, b'/', |p| {
                seen.push(p);
                None
            });
            assert!(none.is_none());
            let want: Vec<usize> = (0..len).filter(|i| i % 7 == 3).collect();
            assert_eq!(seen, want, "{len}");
            assert_eq!(
                each_of(&b, b'/', |p| (p > 100).then_some(p)),
                want.into_iter().find(|&p| p > 100)
            );
        }
    }
}
