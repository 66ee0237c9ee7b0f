//! Small byte helpers: all bounds-checked, all ASCII case-insensitive.

pub(super) fn lc_at(b: &[u8], i: usize) -> u8 {
    b.get(i).map_or(0, |c| c.to_ascii_lowercase())
}

/// `b[i..]` starts with `pat` (pat is lowercase).
#[inline]
pub(super) fn eq_ci(b: &[u8], i: usize, pat: &[u8]) -> bool {
    match b.get(i..i + pat.len()) {
        Some(s) => s.eq_ignore_ascii_case(pat),
        None => false,
    }
}

pub(super) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

pub(super) fn is_ident(c: u8) -> bool {
    // a table: this runs on every byte of the word before each `.`, `(` and `[`
    static IDENT: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            let c = i as u8;
            t[i] = c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
            i += 1;
        }
        t
    };
    IDENT[usize::from(c)]
}

pub(super) fn is_quote(c: u8) -> bool {
    matches!(c, b'"' | b'\'' | b'`')
}

/// Skips whitespace forward from `i` (bounded).
pub(super) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    let lim = i + 32;
    while i < b.len() && i < lim && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// Skips whitespace and `/* */` comments forward from `i` (bounded).
pub(super) fn skip_ws_comments(b: &[u8], mut i: usize) -> usize {
    for _ in 0..4 {
        i = skip_ws(b, i);
        if b.get(i) == Some(&b'/') && b.get(i + 1) == Some(&b'*') {
            let mut j = i + 2;
            let lim = (i + 128).min(b.len());
            while j + 1 < lim && !(b[j] == b'*' && b[j + 1] == b'/') {
                j += 1;
            }
            if j + 1 >= lim {
                return i;
            }
            i = j + 2;
        } else {
            break;
        }
    }
    i
}

/// Position just after the last non-space, non-comment byte before `i` (bounded).
#[inline]
pub(super) fn back_ws_comments(b: &[u8], i: usize) -> usize {
    // most calls come right after a word or a sign: nothing to skip
    if i == 0 || !(is_ws(b[i - 1]) || b[i - 1] == b'/') {
        return i;
    }
    // one space after a word or a sign (`a =`, `x onabc`): what the loop would give
    if i >= 2 && is_ws(b[i - 1]) && !(is_ws(b[i - 2]) || b[i - 2] == b'/') {
        return i - 1;
    }
    back_ws_comments_from(b, i)
}

#[inline(never)]
fn back_ws_comments_from(b: &[u8], mut i: usize) -> usize {
    for _ in 0..4 {
        let lim = i.saturating_sub(32);
        while i > lim && is_ws(b[i - 1]) {
            i -= 1;
        }
        if i >= 2 && b[i - 1] == b'/' && b[i - 2] == b'*' {
            let lim = i.saturating_sub(128);
            let mut j = i - 2;
            while j >= lim + 2 && !(b[j - 2] == b'/' && b[j - 1] == b'*') {
                j -= 1;
            }
            if j < lim + 2 {
                return i;
            }
            i = j - 2;
        } else {
            break;
        }
    }
    i
}

/// The identifier (`[a-z0-9_$]`, at most 48 bytes) ending just before `end`: returns its start.
pub(super) fn ident_back(b: &[u8], end: usize) -> usize {
    ident_back_within(b, end, 48)
}

/// [`ident_back`], reading at most `max` bytes back.
pub(super) fn ident_back_within(b: &[u8], end: usize, max: usize) -> usize {
    let lim = end.saturating_sub(max);
    b[lim..end]
        .iter()
        .rposition(|&c| !is_ident(c))
        .map_or(lim, |k| lim + k + 1)
}

/// The identifier starting at `i`: returns its end.
pub(super) fn ident_fwd(b: &[u8], i: usize) -> usize {
    let mut e = i;
    while e < b.len() && e - i < 48 && is_ident(b[e]) {
        e += 1;
    }
    e
}

#[inline]
pub(super) fn lower_eq(b: &[u8], s: usize, e: usize, pat: &[u8]) -> bool {
    e >= s && e - s == pat.len() && eq_ci(b, s, pat)
}

#[inline]
pub(super) fn in_list(b: &[u8], s: usize, e: usize, list: &[&str]) -> bool {
    list.iter().any(|w| lower_eq(b, s, e, w.as_bytes()))
}

/// A list of at most 64 lower-case ASCII words with a filter that tells, from a name's
/// length, first and last letters, which few of them it can be: a lookup costs a few table
/// reads and usually no comparison, where a walk of the list compares the name with every
/// word of its length (the checks at `<`, `(` and `` ` `` look names up at every such byte).
pub(super) struct Words {
    pub(super) list: &'static [&'static str],
    /// Bit `k` set in `by_len[n]` when word `k` has `n` bytes (all have fewer than 32).
    by_len: [u64; 32],
    /// By first and by last byte ([`letter_index`]).
    by_first: [u64; 27],
    by_last: [u64; 27],
}

/// 0 to 25 for a letter of either case, 26 for any other byte.
const fn letter_index(c: u8) -> usize {
    let l = c | 0x20;
    if l.is_ascii_lowercase() {
        (l - b'a') as usize
    } else {
        26
    }
}

impl Words {
    pub(super) const fn new(list: &'static [&'static str]) -> Words {
        assert!(list.len() <= 64);
        let mut w = Words {
            list,
            by_len: [0; 32],
            by_first: [0; 27],
            by_last: [0; 27],
        };
        let mut k = 0;
        while k < list.len() {
            let x = list[k].as_bytes();
            assert!(!x.is_empty() && x.len() < 32);
            w.by_len[x.len()] |= 1 << k;
            w.by_first[letter_index(x[0])] |= 1 << k;
            w.by_last[letter_index(x[x.len() - 1])] |= 1 << k;
            k += 1;
        }
        w
    }

    /// The index of the first word equal to `b[s..e]` (ASCII case-insensitive): what
    /// `list.iter().position(|w| lower_eq(b, s, e, w))` gives.
    #[inline]
    pub(super) fn find(&self, b: &[u8], s: usize, e: usize) -> Option<usize> {
        #[cfg(test)]
        if linear_lookups() {
            return self
                .list
                .iter()
                .position(|w| lower_eq(b, s, e, w.as_bytes()));
        }
        let len = e.checked_sub(s)?;
        if len == 0 || len >= 32 || e > b.len() {
            return None;
        }
        let mut m = self.by_len[len]
            & self.by_first[letter_index(b[s])]
            & self.by_last[letter_index(b[e - 1])];
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            if eq_ci(b, s, self.list[k].as_bytes()) {
                return Some(k);
            }
            m &= m - 1;
        }
        None
    }

    #[inline]
    pub(super) fn contains(&self, b: &[u8], s: usize, e: usize) -> bool {
        self.find(b, s, e).is_some()
    }
}

#[cfg(test)]
thread_local! {
    /// Tests: [`Words::find`] walks its list instead (the lookup before the filter), a `:`
    /// tries every scheme and `js_value` reads byte by byte (the checks before their
    /// shortcuts), so that a differential test can hold the two verdicts together.
    static LINEAR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
pub(super) fn linear_lookups() -> bool {
    LINEAR.with(|c| c.get())
}

/// Tests: runs `f` with the checks' lookups as they were before their shortcuts (see
/// [`LINEAR`]).
#[cfg(test)]
pub(super) fn with_linear_lookups<R>(f: impl FnOnce() -> R) -> R {
    LINEAR.with(|c| c.set(true));
    let r = f();
    LINEAR.with(|c| c.set(false));
    r
}
