//! Traversal (`lfi-traversal`): the value read as a token stream where every spelling of a
//! dot and of a separator counts, and the chain / leading-unit decision.

use std::cell::Cell;

use super::flags::{positions, FIND_SHORT};
use crate::waf::blocks;
use crate::waf::Finding;

/// Class of one normalised position: `.` dot, `/` separator, `;`, `~` U+FFFD, ` ` blank/quote,
/// `a` anything else.
pub(super) const fn char_class(c: char) -> u8 {
    match c {
        '.' | '\u{FF0E}' | '\u{2024}' | '\u{FE52}' => b'.',
        '/' | '\\' | '\u{FF0F}' | '\u{FF3C}' | '\u{2215}' | '\u{2216}' | '\u{2044}'
        | '\u{29F5}' | '\u{29F8}' | '\u{29F9}' | '\u{FE68}' => b'/',
        ';' => b';',
        '\u{FFFD}' => b'~',
        ' ' | '\t' | '\r' | '\n' | '"' | '\'' | '`' | '=' | ',' => b' ',
        _ => b'a',
    }
}

/// [`char_class`] of each byte read alone; bytes from 0x80 (parts of characters that are not
/// dots, slashes or U+FFFD where the ASCII reading applies) read as letters.
const ASCII_CLASS: [u8; 256] = {
    let mut t = [b'a'; 256];
    let mut c = 0;
    while c < 128 {
        t[c] = char_class(c as u8 as char);
        c += 1;
    }
    t
};

/// [`char_class`] of a byte read alone, by table.
#[inline]
fn ascii_class(c: u8) -> u8 {
    ASCII_CLASS[usize::from(c)]
}

/// In [`BYTE_CLASS`]: a byte whose token [`tok`] must read.
const SPECIAL: u8 = 0xff;

/// [`char_class`] of each byte that is a one-byte token whatever follows it, [`SPECIAL`] for
/// the others: NUL, `%` and `0` (escapes may start there), bytes from 0x80.
const BYTE_CLASS: [u8; 256] = {
    let mut t = ASCII_CLASS;
    let mut c = 0x80;
    while c < 256 {
        t[c] = SPECIAL;
        c += 1;
    }
    t[0] = SPECIAL;
    t[b'%' as usize] = SPECIAL;
    t[b'0' as usize] = SPECIAL;
    t
};

/// [`tok`], by table for the bytes that are one-byte tokens.
#[inline(always)]
fn token(input: &str, i: usize) -> (u8, usize) {
    match BYTE_CLASS[usize::from(input.as_bytes()[i])] {
        SPECIAL => tok(input, i),
        k => (k, 1),
    }
}

pub(super) fn hexval(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Decodes a leftover escape at `b[i..]` (`i` points at `%` or `0`): `%XX`, `%uXXXX`, overlong
/// `%c0%XX` / `%c1%XX` / `%e0%80%XX`, textual `0xXX`. Returns (decoded char, bytes consumed).
pub(super) fn leftover_escape(b: &[u8], i: usize) -> Option<(char, usize)> {
    let at = |k: usize| b.get(i + k).copied();
    let hex2 = |k: usize| -> Option<u32> { Some(hexval(at(k)?)? * 16 + hexval(at(k + 1)?)?) };
    if b[i] == b'0' {
        if matches!(at(1), Some(b'x') | Some(b'X')) {
            let v = hex2(2)?;
            return Some((char::from_u32(v)?, 4));
        }
        return None;
    }
    // b[i] == '%'
    if matches!(at(1), Some(b'u') | Some(b'U')) {
        let v = hex2(2)? * 256 + hex2(4)?;
        return Some((char::from_u32(v)?, 6));
    }
    let v = hex2(1)?;
    if (v == 0xc0 || v == 0xc1) && at(3) == Some(b'%') {
        let w = hex2(4)?;
        return Some((char::from_u32(((v & 0x1f) << 6) | (w & 0x3f))?, 6));
    }
    if v == 0xe0 && at(3) == Some(b'%') && at(6) == Some(b'%') {
        let w = hex2(4)?;
        let x = hex2(7)?;
        return Some((char::from_u32(((w & 0x3f) << 6) | (x & 0x3f))?, 9));
    }
    Some((char::from_u32(v)?, 3))
}

/// Class and byte length of the token at `i` (a char boundary): leftover escapes count as one
/// token. NUL has class 0 (skipped by the callers).
pub(super) fn tok(input: &str, i: usize) -> (u8, usize) {
    let b = input.as_bytes();
    let c = b[i];
    if c == 0 {
        return (0, 1);
    }
    if c == b'%' || c == b'0' {
        if let Some((ch, n)) = leftover_escape(b, i) {
            let k = char_class(ch);
            if k == b'.' || k == b'/' {
                return (k, n);
            }
        }
    }
    if c < 0x80 {
        return (ascii_class(c), 1);
    }
    let ch = input[i..].chars().next().unwrap_or('\u{FFFD}');
    (char_class(ch), ch.len_utf8())
}

/// Token stream over `input`, NULs dropped: `next(i)` is (class, start, end) of the first
/// non-NUL token at or after `i`. `ASCII`: `input` is ASCII without escapes or NULs, so one
/// byte is one token (a separate, inlined reading).
pub(super) struct Toks<'a, const ASCII: bool> {
    input: &'a str,
    /// [`Toks::lead_end`], once known (`usize::MAX` before).
    lead: Cell<usize>,
}

impl<'a, const ASCII: bool> Toks<'a, ASCII> {
    pub(super) fn new(input: &'a str) -> Self {
        Toks {
            input,
            lead: Cell::new(usize::MAX),
        }
    }

    #[inline]
    pub(super) fn next(&self, mut i: usize) -> Option<(u8, usize, usize)> {
        let b = self.input.as_bytes();
        while i < b.len() {
            let (k, n) = if ASCII {
                (ascii_class(b[i]), 1)
            } else {
                token(self.input, i)
            };
            if k != 0 {
                return Some((k, i, i + n));
            }
            i += n;
        }
        None
    }

    /// A traversal unit (two or more dots, then `/`, `;` or a U+FFFD run) starting at `i`:
    /// the offset just past it.
    pub(super) fn unit_at(&self, i: usize) -> Option<usize> {
        let mut dots = 0;
        let mut j = i;
        loop {
            match self.next(j) {
                Some((b'.', _, e)) => {
                    dots += 1;
                    j = e;
                }
                Some((k @ (b'/' | b';' | b'~'), _, e)) if dots >= 2 => {
                    let mut end = e;
                    if k == b'~' {
                        while let Some((b'~', _, e2)) = self.next(end) {
                            end = e2;
                        }
                    }
                    return Some(end);
                }
                _ => return None,
            }
        }
    }

    /// From the end of a unit, follows the chain: returns (units added, end).
    pub(super) fn chain(&self, mut end: usize) -> (u32, usize) {
        let mut units = 0;
        loop {
            let mut k = end;
            loop {
                match self.next(k) {
                    Some((b'/' | b';' | b'~' | b' ', _, e)) => k = e,
                    Some((b'.', _, e)) => match self.next(e) {
                        Some((b'/' | b';', _, e2)) => k = e2,
                        _ => break,
                    },
                    _ => break,
                }
            }
            match self.unit_at(k) {
                Some(e) => {
                    units += 1;
                    end = e;
                }
                None => return (units, end),
            }
        }
    }

    /// Offset where the value "starts": after blanks, separators and `./` (read once).
    pub(super) fn lead_end(&self) -> usize {
        if self.lead.get() == usize::MAX {
            self.lead.set(self.read_lead_end());
        }
        self.lead.get()
    }

    fn read_lead_end(&self) -> usize {
        let mut i = 0;
        loop {
            match self.next(i) {
                Some((b' ' | b'/', _, e)) => i = e,
                Some((b'.', s, e)) => match self.next(e) {
                    Some((b'/', _, e2)) => i = e2,
                    _ => return s,
                },
                Some((_, s, _)) => return s,
                None => return i,
            }
        }
    }
}

/// Decision on one unit found at `first`: chain of 2+ or a unit starting the value.
pub(super) fn traversal_unit<const ASCII: bool>(
    t: &Toks<'_, ASCII>,
    first: usize,
    end: usize,
) -> Result<Finding, usize> {
    let (more, end) = t.chain(end);
    if more >= 1 || first == t.lead_end() {
        Ok(Finding {
            rule: "lfi-traversal",
            span: first..end,
        })
    } else {
        Err(end)
    }
}

/// Traversal on plain ASCII without escapes or NULs: only the starts of dot runs of two or
/// more (`..`) are examined.
pub(super) fn traversal_ascii(input: &str) -> Option<Finding> {
    // ASCII only (the caller checked), so every offset is a char boundary
    let b = input.as_bytes();
    let t = Toks::<true>::new(input);
    let mut done = 0;
    if b.len() <= FIND_SHORT {
        for p in positions(b'.', b) {
            if b.get(p + 1) == Some(&b'.') {
                if let Some(f) = dot_run(&t, p, &mut done) {
                    return Some(f);
                }
            }
        }
    } else {
        // the start of each dot run, from block masks (a value dense with `..` costs a few
        // instructions a run to walk, not a substring search's restart at each)
        let mut prev = 0u64;
        return blocks::each(b, |base, block| {
            let d = blocks::mask(block, |c| c == b'.');
            let starts = d & !(d << 1 | prev >> 63);
            prev = d;
            let mut m = starts;
            while m != 0 {
                let p = base + m.trailing_zeros() as usize;
                m &= m - 1;
                if b.get(p + 1) == Some(&b'.') {
                    if let Some(f) = dot_run(&t, p, &mut done) {
                        return Some(f);
                    }
                }
            }
            None
        });
    }
    None
}

/// [`traversal_ascii`] at `p`, where `..` starts: a finding, or `done` moved past a unit that
/// made none.
#[inline]
fn dot_run(t: &Toks<'_, true>, p: usize, done: &mut usize) -> Option<Finding> {
    let b = t.input.as_bytes();
    if p < *done || (p > 0 && b[p - 1] == b'.') {
        return None;
    }
    let boundary = p == 0 || matches!(ascii_class(b[p - 1]), b'/' | b';' | b' ');
    if !boundary {
        return None;
    }
    match traversal_unit(t, p, t.unit_at(p)?) {
        Ok(f) => Some(f),
        Err(e) => {
            *done = e;
            None
        }
    }
}

/// Traversal with escapes, NULs or non-ASCII: the token walk of [`traversal_tokens`], visiting
/// only the tokens that can change its course. Between two *events* (the start of a run of `.`
/// bytes, a `%`, a `0x`/`0X`, a NUL, a non-ASCII byte) every byte is a one-byte ASCII token, so
/// the walk jumps from event to event (64-byte block masks) and takes the class of the byte
/// before an event as the last token's; only an event is read as a token ([`tok`]), and only a
/// dot after a boundary starts the unit and chain reading. A value with one `é`, `%41` or NUL
/// every few hundred bytes costs what the ASCII reading costs, not a token walk of every byte.
pub(super) fn traversal_general(input: &str) -> Option<Finding> {
    let b = input.as_bytes();
    let t = Toks::<false>::new(input);
    // the walk's position (a token boundary: every event before it was read) and the class of
    // the last non-NUL token before it (0 at the start)
    let mut cur = 0usize;
    let mut prev = 0u8;
    let mut dots_before = 0u64;
    blocks::each(b, |base, block| {
        let d = blocks::mask(block, |c| c == b'.');
        let starts = d & !(d << 1 | dots_before >> 63);
        dots_before = d;
        // (the padding of the last block is NULs: not events)
        let valid = match b.len() - base {
            n if n >= blocks::BLOCK => u64::MAX,
            n => (1u64 << n) - 1,
        };
        let special = blocks::mask(block, |c| c == b'%' || c == 0 || c >= 0x80);
        let zero = blocks::mask(block, |c| c == b'0');
        let mut events = starts | special;
        if zero != 0 {
            let x = blocks::mask(block, |c| c | 0x20 == b'x');
            let next = b
                .get(base + blocks::BLOCK)
                .is_some_and(|&c| c | 0x20 == b'x');
            events |= zero & (x >> 1 | u64::from(next) << 63);
        }
        let mut m = events & valid;
        while m != 0 {
            let e = base + m.trailing_zeros() as usize;
            m &= m - 1;
            if e < cur {
                continue;
            }
            if e > cur {
                // `b[cur..e]` are one-byte ASCII tokens, none of them NUL
                prev = ascii_class(b[e - 1]);
            }
            let (k, n) = token(input, e);
            cur = e + n;
            if k == 0 {
                continue;
            }
            if k == b'.' && matches!(prev, 0 | b'/' | b';' | b'~' | b' ') {
                if let Some(end) = t.unit_at(e) {
                    match traversal_unit(&t, e, end) {
                        Ok(f) => return Some(f),
                        Err(e2) => {
                            cur = e2;
                            prev = b'/';
                            continue;
                        }
                    }
                }
            }
            // (a dot that starts no unit: the rest of its run follows a dot, so starts none)
            prev = k;
        }
        None
    })
}

/// Traversal with escapes, NULs or non-ASCII as a token walk of every byte: what
/// [`traversal_general`] reads by events, kept as the reference of the tests.
#[cfg(test)]
pub(super) fn traversal_tokens(input: &str) -> Option<Finding> {
    let t = Toks::<false>::new(input);
    let mut prev = 0u8;
    let mut i = 0;
    while let Some((k, s, e)) = t.next(i) {
        if k == b'.' && matches!(prev, 0 | b'/' | b';' | b'~' | b' ') {
            if let Some(end) = t.unit_at(s) {
                match traversal_unit(&t, s, end) {
                    Ok(f) => return Some(f),
                    Err(e2) => {
                        i = e2;
                        prev = b'/';
                        continue;
                    }
                }
            }
            // skip the dot run
            let mut j = e;
            while let Some((b'.', _, e2)) = t.next(j) {
                j = e2;
            }
            i = j;
            prev = b'.';
            continue;
        }
        prev = k;
        i = e;
    }
    None
}
