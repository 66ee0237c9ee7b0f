//! Where an input occurs in a query: every start, overlapping ones included, in order.
//!
//! This is the whole cost of a request whose values are not in the query, so it is made cheap
//! for the sizes that occur — queries of a few hundred bytes, values of a few dozen — where
//! building a `memchr::memmem::Finder` (Two-Way factorization, rare-byte ranks, a SIMD pair
//! searcher) costs more than the search itself: candidates are found with `memchr` on the
//! value's rarest byte in SQL text ([`rarity`]: a `-`, `/`, digit or capital rather than a
//! lowercase letter or a space), so most values that are not in the query cost one `memchr`
//! over it, and candidates are compared in place. That loop is quadratic on hostile text (`aaaa...`
//! against `aaa...b`), so it runs on a budget of compared bytes proportional to the query, and
//! past it the rest of the query is searched by a `Finder`: linear time either way.

use memchr::memmem::Finder;

/// Bytes the direct comparison may read, per byte of the query, before handing over.
const BUDGET_PER_BYTE: usize = 4;

/// How common a byte is in SQL text, roughly: lowercase letters and spaces most, then capitals
/// (keywords), the usual punctuation, digits; anything else is rare. A table: the rare byte is
/// chosen for every value of every request.
static RARITY: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = rarity(b as u8);
        b += 1;
    }
    table
};

/// The needle's bytes looked at when choosing its rare one: a long value's first ones do.
const RARE_WINDOW: usize = 64;

const fn rarity(b: u8) -> u8 {
    match b {
        b' ' | b'e' | b'a' | b't' | b'o' | b'i' | b'n' | b's' | b'r' => 255,
        b'a'..=b'z' => 200,
        b'E' | b'T' | b'O' | b'R' | b'S' | b'L' | b'C' | b'N' | b'A' => 160,
        b'A'..=b'Z' | b'.' | b',' | b'_' | b'\'' | b'=' | b'(' | b')' => 120,
        b'0'..=b'9' | b'\n' => 100,
        _ => 10,
    }
}

/// The starts of `needle` in `hay`, ascending; `needle` must not be empty.
pub(super) struct Occurrences<'h, 'n> {
    hay: &'h [u8],
    needle: &'n [u8],
    /// The needle's rarest byte, and where it sits in the needle.
    rare: (usize, u8),
    /// The next start to consider.
    from: usize,
    /// Bytes the direct comparison may still read.
    budget: usize,
    /// The linear searcher, once the budget is spent; boxed, as it is large and rarely built.
    finder: Option<Box<Finder<'n>>>,
}

impl<'h, 'n> Occurrences<'h, 'n> {
    pub(super) fn new(hay: &'h [u8], needle: &'n [u8]) -> Self {
        let mut rare = (0, needle.first().copied().unwrap_or(0));
        let mut lowest = u8::MAX;
        for (i, &b) in needle.iter().enumerate().take(RARE_WINDOW) {
            let r = RARITY[usize::from(b)];
            if r < lowest {
                (rare, lowest) = ((i, b), r);
            }
        }
        Occurrences {
            hay,
            needle,
            rare,
            from: 0,
            budget: BUDGET_PER_BYTE * hay.len() + 64,
            finder: None,
        }
    }
}

impl Iterator for Occurrences<'_, '_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let (hay, needle) = (self.hay, self.needle);
        let (offset, rare) = self.rare;
        if needle.is_empty() {
            return None;
        }
        while self.finder.is_none() {
            // the rare byte of a match starting at `from` or later sits at `from + offset` or later
            let rest = hay.get(self.from + offset..)?;
            let at = self.from + memchr::memchr(rare, rest)?;
            self.from = at + 1;
            let compared = needle.len().min(hay.len() - at);
            // the ends first: most candidates fail there, without a call to `memcmp`
            let ends = |h: &[u8]| h.first() == needle.first() && h.last() == needle.last();
            if hay
                .get(at..at + needle.len())
                .is_some_and(|h| ends(h) && h == needle)
            {
                return Some(at);
            }
            match self.budget.checked_sub(compared) {
                Some(left) => self.budget = left,
                None => self.finder = Some(Box::new(Finder::new(needle))),
            }
        }
        let finder = self.finder.as_ref()?;
        let at = self.from + finder.find(hay.get(self.from..)?)?;
        self.from = at + 1;
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every start, the slow way.
    fn reference(hay: &[u8], needle: &[u8]) -> Vec<usize> {
        (0..hay.len())
            .filter(|&i| hay[i..].starts_with(needle))
            .collect()
    }

    #[test]
    fn overlapping_and_hostile() {
        assert_eq!(
            Occurrences::new(b"aaaa", b"aa").collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(Occurrences::new(b"abc", b"abcd").count(), 0);
        assert_eq!(Occurrences::new(b"", b"a").count(), 0);
        // every byte of the hay is the needle's rarest (`b`) or commoner: each candidate
        // compares 41 bytes, the budget runs out, the finder takes over and finds the match
        let mut hay = b"ab".repeat(2000);
        let needle = [&b"ab".repeat(20)[..], b"x"].concat();
        hay.extend_from_slice(&needle);
        hay.extend_from_slice(b" abx");
        let mut it = Occurrences::new(&hay, &needle);
        assert_eq!(it.next(), Some(4000));
        assert!(it.finder.is_some());
        assert_eq!(it.next(), None);
        assert_eq!(
            Occurrences::new(&hay, b"abx").collect::<Vec<_>>(),
            [4038, 4042]
        );
    }

    proptest! {
        /// The budgeted search finds exactly the starts the slow way finds, on small alphabets
        /// (many near matches) and with budgets run out.
        #[test]
        fn agrees_with_the_slow_way(hay in "[ab']{0,300}", needle in "[ab']{1,6}") {
            let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
            let found: Vec<usize> = Occurrences::new(hay, needle).collect();
            prop_assert_eq!(found, reference(hay, needle));
            let mut starved = Occurrences::new(hay, needle);
            starved.budget = 0;
            prop_assert_eq!(starved.collect::<Vec<_>>(), reference(hay, needle));
        }
    }
}
