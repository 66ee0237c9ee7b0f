//! The word gate: one pass over the raw value that tells whether any rule on the normalised
//! view (the command-position scanner, the alias, PowerShell, pipe-into-shell, `/dev/tcp`,
//! fork-bomb, brace and glob rules) could match, so that a value where none can skips
//! normalisation and the scanner altogether. It never decides a verdict: it answers "maybe"
//! or "no", and every "no" rests on a necessary condition of each rule it stands for.
//!
//! # Why a "no" is safe
//!
//! Every way the scanner fires goes through [`lookup`] of a whole word (a maximal run of
//! command-word bytes, bracket classes stripped) that starts a token, follows a `=`, a
//! `bin/` or a drive letter's `:`, in command position; the path-qualified binaries need a
//! `bin`/`sbin` word; chains need two looked-up words. The other rules need a keyword at a
//! word start (`alias`, `invoke-`, `iex`, `powershell`, `download...`, `encodedcommand`,
//! `dev` of `/dev/`, an interpreter name, which is a command), a `{` with a `}` and a `,`
//! (braces), `(` and `{` (fork bombs) or a glob byte. The gate finds the words of the
//! *normalised* text from the raw bytes: a word of the normalised view starts at a raw byte
//! that follows a byte that is not alphanumeric, or right after a `$` construct that
//! normalisation deletes (`$1`, `$x`, `${x}`); from there it reads the word as
//! normalisation would write it (quotes, backslashes, carets and the deleted constructs
//! skipped, lower-cased), and answers "maybe" wherever normalisation could insert text (`$0`,
//! `$SHELL`, variables the value may assign) or where it cannot tell cheaply (`+`).
//! Command position is over-approximated on the raw bytes: the value start, or a separator,
//! substitution, redirection, `=` or `:` before the word (skipping blanks, quotes and the
//! bytes the scanner skips), or a previous token that holds a `=` or a `$`.
//!
//! A differential test (`tests.rs`) runs the analysis with and without the gate on every
//! corpus value and on random near-attack token sequences.

use super::commands::{lookup, COMMAND_TABLE, INTERP};
use super::normalize::{is_name, is_name_start, upper_name_len};
use super::prefilter::{B_DOLLAR, B_EQ, B_GLOB, B_LBRACE, B_LPAREN};
#[cfg(test)]
use crate::waf::blocks::pack;
use std::sync::LazyLock;

/// Bytes of a command word as the scanner reads them (see `scanner::WORD_BYTE`) minus `+`,
/// which normalisation may turn into a blank (the gate answers "maybe" on it).
const fn word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'[' | b']')
}

/// Byte kinds of the word reader and the command-position walk.
const WORD: u8 = 1;
/// Deleted by normalisation wherever it stands: `'`, `"`, `\`, `^`.
const DROP: u8 = 2;
/// Blanks, quotes and the bytes the scanner steps over before a command word (and any
/// non-ASCII byte, which a `\s` of the pipe rule may read as a blank).
const SKIP: u8 = 4;
/// Bytes that open a command position (or may: `<`, `>`, `=`, `:`, `$`).
const OPEN: u8 = 8;
/// Blanks: they end a token of the normalised view. (Brackets do too, but a `${x}` or
/// `$(CC)` that normalisation deletes holds them: the walk goes on through them.)
const END: u8 = 16;

static KIND: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let mut k = 0;
        if word_byte(b) {
            k |= WORD;
        }
        if matches!(b, b'\'' | b'"' | b'\\' | b'^') {
            k |= DROP | SKIP;
        }
        if matches!(
            b,
            b' ' | b'\t' | 0x0b | 0x0c | b'+' | b'(' | b'{' | b'!' | b'@' | b')' | b'}'
        ) || b >= 0x80
        {
            k |= SKIP;
        }
        if matches!(
            b,
            b';' | b'\n' | b'\r' | b'|' | b'&' | b'`' | b'$' | b'<' | b'>' | b'=' | b':'
        ) {
            k |= OPEN;
        }
        if matches!(b, b' ' | b'\t' | 0x0b | 0x0c) {
            k |= END;
        }
        t[c] = k;
        c += 1;
    }
    t
};

/// Keywords of the PowerShell, alias and `/dev/` rules, at a word start.
const KEYWORD_PREFIXES: &[&[u8]] = &[
    b"invoke-",
    b"new-",
    b"start-",
    b"set-",
    b"add-",
    b"get-",
    b"frombase64string",
    b"download",
    b"encodedcommand",
    b"iex",
    b"powershell",
    b"alias",
];

/// Words that make a path-qualified binary or a device path.
const KEYWORD_WORDS: &[&[u8]] = &[b"bin", b"sbin", b"dev"];

/// The first three bytes of [`KEYWORD_PREFIXES`] and [`KEYWORD_WORDS`] (a test checks it).
const KEYWORD_HEADS: &[[u8; 3]] = &[
    *b"inv", *b"new", *b"sta", *b"set", *b"add", *b"get", *b"fro", *b"dow", *b"enc", *b"iex",
    *b"pow", *b"ali", *b"bin", *b"sbi", *b"dev",
];

/// First two (lower-case) bytes of every word the gate must read in full: command names
/// and family prefixes (the command table's pair filter), keywords.
static PAIRS: LazyLock<Vec<u64>> = LazyLock::new(|| {
    let mut bits = COMMAND_TABLE.pairs.clone();
    for k in KEYWORD_PREFIXES.iter().chain(KEYWORD_WORDS) {
        let x = usize::from(k[0]) << 8 | usize::from(k[1]);
        bits[x >> 6] |= 1 << (x & 63);
    }
    bits
});

/// Builds the gate's table now.
pub(super) fn warm_up() {
    LazyLock::force(&PAIRS);
    LazyLock::force(&PLAIN_PAIRS);
}

/// What normalisation makes of the `$` at `i`.
enum Dollar {
    /// Copied as a `$` (not a word byte).
    Literal,
    /// A blank (`$IFS`, `${IFS...}`).
    Blank,
    /// Deleted up to (not including) this offset.
    Deleted(usize),
    /// May insert text (`$0`, `$SHELL`, a variable the value may assign).
    Inserts,
}

pub(super) struct Gate<'a> {
    b: &'a [u8],
    /// The value may assign variables (`=` and `$`: [`super::normalize::collect_vars`] runs).
    vars: bool,
    /// The value holds a `:` (drive letters).
    colon: bool,
    /// [`PAIRS`].
    pairs: &'a [u64],
    /// [`PLAIN_PAIRS`].
    plain: &'a [u64; 1024],
}

/// Whether any rule on the normalised view of `b` (its byte classes: `classes`) may match;
/// `false` only when none can. (The word search runs in [`super::sweep`], from block masks.)
pub(super) fn may_match_normalized(b: &[u8], classes: u32) -> bool {
    super::sweep::sweep(b, classes, super::sweep::W_GATE).normalized
}

/// The gate's answers that need no word search: `true` when the byte classes alone let a
/// rule on the normalised view match (globs, braces, fork bombs).
pub(super) fn maybe_at_once(b: &[u8], classes: u32) -> bool {
    classes & B_GLOB != 0
        || (classes & B_LBRACE != 0
            && (classes & B_LPAREN != 0
                || (memchr::memchr(b'}', b).is_some() && memchr::memchr(b',', b).is_some())))
}

impl<'a> Gate<'a> {
    /// The word search's state on `b` (byte classes `classes`).
    pub(super) fn new(b: &'a [u8], classes: u32) -> Self {
        Gate {
            b,
            vars: classes & B_EQ != 0 && classes & B_DOLLAR != 0,
            colon: memchr::memchr(b':', b).is_some(),
            pairs: &PAIRS,
            plain: &PLAIN_PAIRS,
        }
    }

    /// Whether the `$` at `i` may matter: normalisation may insert text there, or deletes a
    /// construct after which a word that may matter starts.
    #[inline(always)]
    pub(super) fn dollar_may_matter(&self, i: usize) -> bool {
        match self.dollar(i) {
            Dollar::Inserts => true,
            Dollar::Deleted(end) => end < self.b.len() && self.word_at(end),
            Dollar::Literal | Dollar::Blank => false,
        }
    }

    /// Whether the raw word start at `q` (an alphanumeric or `[` after a byte that is not
    /// alphanumeric) may matter: most are rejected on their first two bytes by one bit test
    /// ([`PLAIN_PAIRS`]) before [`Gate::word_at`].
    #[inline(always)]
    pub(super) fn start_may_matter(&self, q: usize) -> bool {
        let b = self.b;
        if q + 1 < b.len() && self.plain_pair(b[q], b[q + 1]) {
            return false;
        }
        self.word_at(q)
    }

    /// Whether a word start whose first two bytes are `c0`, `c1` (the second one inside the
    /// value) cannot matter, whatever follows and wherever it stands ([`PLAIN_PAIRS`]).
    #[inline(always)]
    pub(super) fn plain_pair(&self, c0: u8, c1: u8) -> bool {
        let x = usize::from(c0) << 8 | usize::from(c1);
        self.plain[x >> 6] >> (x & 63) & 1 != 0
    }
}

/// The gate as it ran before [`PLAIN_PAIRS`]: every word start through [`Gate::word_at`]
/// (the reference its differential test checks the gate against).
#[cfg(test)]
pub(super) fn may_match_normalized_per_word(b: &[u8], classes: u32) -> bool {
    if maybe_at_once(b, classes) {
        return true;
    }
    let g = Gate::new(b, classes);
    let mut prev_alnum = 0u64;
    for (j, chunk) in b.chunks(BLOCK).enumerate() {
        let mut block = [0u8; BLOCK];
        block[..chunk.len()].copy_from_slice(chunk);
        let (alnum, bracket, dollar) = masks(&block);
        let mut dollars = dollar;
        while dollars != 0 {
            let i = j * BLOCK + dollars.trailing_zeros() as usize;
            dollars &= dollars - 1;
            match g.dollar(i) {
                Dollar::Inserts => return true,
                Dollar::Deleted(end) => {
                    if end < b.len() && g.word_at(end) {
                        return true;
                    }
                }
                Dollar::Literal | Dollar::Blank => {}
            }
        }
        let mut starts = (alnum | bracket) & !(alnum << 1 | prev_alnum);
        while starts != 0 {
            let k = starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if g.word_at(j * BLOCK + k) {
                return true;
            }
        }
        prev_alnum = alnum >> (BLOCK - 1);
    }
    false
}

/// The raw byte pairs `(c0, c1)` (bit `c0 << 8 | c1`) on which [`Gate::first_bytes_may_matter`]
/// answers "no" whatever follows and wherever they stand: `c0` alphanumeric and either `c1` a
/// plain word byte with a lower-case pair outside [`PAIRS`], or `c1` a byte that ends a
/// one-byte word (neither a word byte, `[`, a byte normalisation rewrites, nor `:`).
static PLAIN_PAIRS: LazyLock<Box<[u64; 1024]>> = LazyLock::new(|| {
    let pairs = &*PAIRS;
    let mut bits = Box::new([0u64; 1024]);
    for c0 in 0..=255u8 {
        if !c0.is_ascii_alphanumeric() {
            continue;
        }
        for c1 in 0..=255u8 {
            let k1 = KIND[usize::from(c1)];
            let reject = if k1 & WORD != 0 && c1 != b'[' {
                let x = usize::from(c0.to_ascii_lowercase()) << 8
                    | usize::from(c1.to_ascii_lowercase());
                pairs[x >> 6] & (1 << (x & 63)) == 0
            } else {
                !(ONE_BYTE_WORD_MAY_MATTER.contains(&c1) || c1 == b':')
            };
            if reject {
                let x = usize::from(c0) << 8 | usize::from(c1);
                bits[x >> 6] |= 1 << (x & 63);
            }
        }
    }
    bits
});

/// Bytes after a one-byte word on which [`Gate::first_bytes_may_matter`] reads on (the word
/// may go on after what normalisation deletes or rewrites).
const ONE_BYTE_WORD_MAY_MATTER: &[u8] = b"'\"\\^$`<>[+";

/// Bytes per block of [`masks`]: one bit each in a `u64`.
#[cfg(test)]
const BLOCK: usize = 64;

/// (ASCII alphanumerics, `[`, `$`) of a block, one bit per byte: a byte-wise map into
/// arrays (no branches, so the compiler makes vector code of it), then packed eight bytes at
/// a time.
#[cfg(test)]
fn masks(c: &[u8; BLOCK]) -> (u64, u64, u64) {
    let mut alnum = [0u8; BLOCK];
    let mut bracket = [0u8; BLOCK];
    let mut dollar = [0u8; BLOCK];
    for k in 0..BLOCK {
        let x = c[k];
        let a = ((x | 0x20).wrapping_sub(b'a') < 26) | (x.wrapping_sub(b'0') < 10);
        alnum[k] = if a { 0x80 } else { 0 };
        bracket[k] = if x == b'[' { 0x80 } else { 0 };
        dollar[k] = if x == b'$' { 0x80 } else { 0 };
    }
    (pack(&alnum), pack(&bracket), pack(&dollar))
}

impl Gate<'_> {
    /// What normalisation does with the `$` at `i` (`normalize`'s `$` arm, read only).
    #[inline(always)]
    fn dollar(&self, i: usize) -> Dollar {
        // `${` before a byte that is neither a name byte nor `}` (`${ `): copied
        let b = self.b;
        if b.get(i + 1) == Some(&b'{') && !b.get(i + 2).is_some_and(|&c| is_name(c) || c == b'}') {
            return Dollar::Literal;
        }
        self.dollar_slow(i)
    }

    /// [`Gate::dollar`] past its first test.
    #[inline(never)]
    fn dollar_slow(&self, i: usize) -> Dollar {
        let b = self.b;
        let len = b.len();
        let next = b.get(i + 1).copied().unwrap_or(0);
        match next {
            b'(' if b.get(i + 2) == Some(&b')') => Dollar::Deleted(i + 3),
            b'(' => match upper_name_len(&b[i + 2..]) {
                Some(n) if b.get(i + 2 + n) == Some(&b')') => Dollar::Deleted(i + 3 + n),
                _ => Dollar::Literal,
            },
            b'@' | b'*' | b'!' | b'?' | b'-' | b'_' | b'$' | b'#' | b'1'..=b'9' => {
                Dollar::Deleted(i + 2)
            }
            b'0' => Dollar::Inserts,
            b'\'' | b'"' => Dollar::Deleted(i + 1),
            b'{' => {
                let s = i + 2;
                // a content that does not open with a name byte or `}` is never a name
                // nor `IFS...`: the `$` is copied
                if !b.get(s).is_some_and(|&c| is_name(c) || c == b'}') {
                    return Dollar::Literal;
                }
                let mut e = s;
                while e < len && e - s < 64 && b[e] != b'}' && b[e] != b'{' && b[e] != b'$' {
                    e += 1;
                }
                if e < len && b[e] == b'}' {
                    let content = &b[s..e];
                    let ne = content.iter().take_while(|&&c| is_name(c)).count();
                    let name = &content[..ne];
                    if name.eq_ignore_ascii_case(b"IFS") {
                        return Dollar::Blank;
                    }
                    if ne == content.len() && ne > 0 && is_name_start(content[0]) {
                        if name.eq_ignore_ascii_case(b"SHELL")
                            || name.eq_ignore_ascii_case(b"BASH")
                            || self.vars
                        {
                            return Dollar::Inserts;
                        }
                        return Dollar::Deleted(e + 1);
                    }
                }
                Dollar::Literal
            }
            _ if is_name_start(next) => {
                let s = i + 1;
                let mut e = s;
                while e < len && is_name(b[e]) && e - s < 32 {
                    e += 1;
                }
                let name = &b[s..e];
                if name.eq_ignore_ascii_case(b"IFS") {
                    Dollar::Blank
                } else if name.eq_ignore_ascii_case(b"SHELL")
                    || name.eq_ignore_ascii_case(b"BASH")
                    || self.vars
                {
                    Dollar::Inserts
                } else {
                    Dollar::Deleted(e)
                }
            }
            _ => Dollar::Literal,
        }
    }

    /// Whether the word that normalisation writes from raw offset `q` may matter.
    #[inline(always)]
    pub(super) fn word_at(&self, q: usize) -> bool {
        self.first_bytes_may_matter(q) && self.word_matters(q)
    }

    /// A quick reject on the first two bytes at `q` when they are plain: neither a command,
    /// a keyword, nor a drive letter starts so.
    #[inline(always)]
    fn first_bytes_may_matter(&self, q: usize) -> bool {
        let b = self.b;
        // quick reject on two plain bytes: neither a command, a keyword, nor a drive letter
        if let (Some(&c0), Some(&c1)) = (b.get(q), b.get(q + 1)) {
            if c0.is_ascii_alphanumeric() {
                let k1 = KIND[usize::from(c1)];
                if k1 & WORD != 0 && c1 != b'[' {
                    let x = usize::from(c0.to_ascii_lowercase()) << 8
                        | usize::from(c1.to_ascii_lowercase());
                    if self.pairs[x >> 6] & (1 << (x & 63)) == 0 {
                        return false;
                    }
                    // out of command position only a keyword matters: its first three
                    // bytes, when they are plain
                    if let Some(&c2) = b.get(q + 2) {
                        let k2 = KIND[usize::from(c2)];
                        let plain = k2 & WORD != 0 && c2 != b'[';
                        let ends = k2 & (WORD | DROP) == 0
                            && !matches!(c2, b'$' | b'`' | b'<' | b'>' | b'+');
                        if (plain || ends) && !self.command_position(q) {
                            let head = [
                                c0.to_ascii_lowercase(),
                                c1.to_ascii_lowercase(),
                                c2.to_ascii_lowercase(),
                            ];
                            return plain && KEYWORD_HEADS.contains(&head);
                        }
                    }
                } else if !(ONE_BYTE_WORD_MAY_MATTER.contains(&c1) || (c1 == b':' && self.colon)) {
                    // a one-byte word: no command, keyword or drive path has one
                    return false;
                }
            }
        }
        true
    }

    /// Whether the word start at `q`, which [`Gate::word_at`] flagged, matters only as a
    /// command word of the scan: normalisation writes it whole (no text it may insert, no
    /// `+`), and it is no keyword, drive letter or interpreter (which the alias, PowerShell,
    /// `/dev/`, drive-path and pipe rules read). The statement windows (`windows`) run only
    /// when every flagged spot is such a word.
    pub(super) fn command_spot(&self, q: usize) -> bool {
        let mut buf = [0u8; 41];
        let Some((len, stop)) = self.read_word(q, &mut buf) else {
            return false;
        };
        let w = &buf[..len];
        if KEYWORD_WORDS.contains(&w) || KEYWORD_PREFIXES.iter().any(|p| w.starts_with(p)) {
            return false;
        }
        if stop == b':' && len == 1 && w[0].is_ascii_alphabetic() {
            return false;
        }
        lookup(w).is_none_or(|f| f & INTERP == 0)
    }

    /// [`Gate::word_at`] past the quick reject: reads the word and looks it up.
    #[inline(never)]
    fn word_matters(&self, q: usize) -> bool {
        let mut buf = [0u8; 41];
        let Some((len, stop)) = self.read_word(q, &mut buf) else {
            return true;
        };
        let w = &buf[..len];
        if w.is_empty() {
            return false;
        }
        if KEYWORD_WORDS.contains(&w) || KEYWORD_PREFIXES.iter().any(|p| w.starts_with(p)) {
            return true;
        }
        if stop == b':' && len == 1 && w[0].is_ascii_alphabetic() {
            return true;
        }
        self.command_position(q) && lookup(w).is_some()
    }

    /// Reads the word normalisation writes from `q` into `buf` (lower-case, at most
    /// `buf.len()` bytes: a longer word is no command): its length and the byte after it
    /// (0 at the end); `None` when normalisation may insert text or turn a `+` into a blank.
    fn read_word(&self, q: usize, buf: &mut [u8; 41]) -> Option<(usize, u8)> {
        let b = self.b;
        let mut i = q;
        let mut len = 0;
        while i < b.len() {
            let c = b[i];
            let k = KIND[usize::from(c)];
            if k & WORD != 0 {
                if len < buf.len() {
                    buf[len] = c.to_ascii_lowercase();
                    len += 1;
                }
                i += 1;
                continue;
            }
            if k & DROP != 0 {
                i += 1;
                continue;
            }
            match c {
                b'+' => return None,
                b'`' if b.get(i + 1) == Some(&b'`') && b.get(i + 2) != Some(&b'`') => i += 2,
                b'<' | b'>' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) == Some(&b')') => i += 3,
                b'$' => match self.dollar(i) {
                    Dollar::Inserts => return None,
                    Dollar::Deleted(e) => i = e,
                    Dollar::Literal => return Some((len, b'$')),
                    Dollar::Blank => return Some((len, b' ')),
                },
                _ => return Some((len, c)),
            }
        }
        Some((len, 0))
    }

    /// Over-approximates whether the word at raw offset `q` sits in command position (see
    /// the module docs).
    fn command_position(&self, q: usize) -> bool {
        let b = self.b;
        let mut k = q;
        while k > 0 && KIND[usize::from(b[k - 1])] & SKIP != 0 {
            k -= 1;
        }
        if k == 0 || KIND[usize::from(b[k - 1])] & OPEN != 0 {
            return true;
        }
        // the previous token: an assignment keeps the command position, a `$` may delete
        // what separates it from a separator
        while k > 0 {
            let kind = KIND[usize::from(b[k - 1])];
            if kind & OPEN != 0 {
                return true;
            }
            if kind & END != 0 {
                return false;
            }
            k -= 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_heads_are_the_keywords_first_three_bytes() {
        let mut heads: Vec<[u8; 3]> = KEYWORD_PREFIXES
            .iter()
            .chain(KEYWORD_WORDS)
            .map(|k| [k[0], k[1], k[2]])
            .collect();
        heads.sort();
        heads.dedup();
        let mut listed = KEYWORD_HEADS.to_vec();
        listed.sort();
        assert_eq!(heads, listed);
    }
}
