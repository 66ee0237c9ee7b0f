//! Local and remote file inclusion (`app.sqreen.attack.lfi`): path traversal, sensitive files,
//! stream wrappers, NUL truncation (CRS 930xxx) and remote file inclusion (CRS 931xxx; sqreen
//! has no separate RFI event, so it is reported as lfi with `lfi-rfi-*` rule ids).
//!
//! [`detect`] runs on every decoded input value; [`detect_path`] (a superset) on the request
//! path. They look at:
//!
//! * **Traversal** (`lfi-traversal`). The value is read as a token stream in which every
//!   spelling of a dot (`.`, fullwidth / one-dot-leader / small full stop, leftover `%2e`,
//!   `%u002e`, overlong `%c0%ae`, textual `0x2e`) is a dot and every separator (`/`, `\`,
//!   fullwidth and division/set-minus slashes, `%2f`/`%5c`, `%u2215`, overlong `%c0%af`/`%c1%9c`,
//!   `0x2f`/`0x5c`) is a separator; NULs are skipped; `;` counts as a separator (Tomcat `..;/`);
//!   a U+FFFD run right after dots (lossy decoding of an overlong slash) ends a unit too. A
//!   *unit* is two or more dots (covers `...` and `....//` filter bypasses) after a separator,
//!   blank, `=` or the start, followed by a separator. **Decision on a single `../`:** CRS flags
//!   any `../` at PL1, but one `../` inside text is common in benign traffic (markdown links,
//!   relative URLs in rich text). We flag a *chain* of two or more units (`../../`, `..\..\`,
//!   `..;/..;/`, mixed, with `./` or blanks between), or a single unit that *starts* the value
//!   (`../x`, `..\x`, `/../x`, `./../x`): a value that begins by climbing out of its directory is
//!   a path parameter being abused. A lone `../` in the middle of text does not fire; if it leads
//!   to a system file, the file rules below catch it.
//! * **System files** (`lfi-os-file`): absolute paths into system locations (`/etc/…`,
//!   `/proc/…`, `/root/…`, `/var/log/…`, `/dev/tcp/…`, `/windows/system32…`, `\winnt\…`,
//!   `\inetpub\…`) at the value start or after a delimiter (blank, quote, `=`, `>`, `:` …);
//!   well-known targets (`etc/passwd`, `etc/shadow`, `proc/self/…`) as a segment anywhere;
//!   `c:\windows\…`, `c:\boot.ini`. Matched after `\` → `/`, `//` → `/`, `/./` → `/`.
//! * **Sensitive files** (`lfi-sensitive-file`): the CRS restricted-files list
//!   (`data/restricted-files.txt`, byte-identical copy of CRS `restricted-files.data`), reduced to
//!   the entries that name secrets or OS files (dotfiles and dot-directories except editor/CI
//!   config such as `.gitignore` or `.vscode`, `proc/*`, `sys/*`, `boot.ini`, `win.ini`,
//!   `wp-config.`, `WEB-INF/`, credential/secret files), matched case-insensitively only where
//!   the value looks like a file path: the entry follows a `/` or `\`, or starts a value that
//!   contains a separator, and does not run on into a longer name (`.env` does not match
//!   `.environment`). So `.env` as a word never fires, `config/.env` does. SQL dump names
//!   (`backup.sql.gz`, the list's `.sql.*` entries) fire in a value without blanks.
//! * **Path only** ([`detect_path`]): the other restricted entries that are harmless as values
//!   but probes as a path (`/.gitignore`, `/wp-content/debug.log`, Vite's `/@id/`;
//!   `lfi-restricted-path`), and any hidden segment other than `/.well-known/`
//!   (`lfi-hidden-path`: `/.claude/settings.json`, `/.git/…`; applications behind this layer do
//!   not route dot-directories). Project files (`/package.json`, `/config.json`, `Dockerfile`)
//!   are left to the 404-only `scanner::detect_probe_path`: an application may serve those.
//! * **Wrappers** (`lfi-wrapper`): `php://`, `phar://`, `zip://`, `expect://`, `glob://`,
//!   `data://`, `compress.zlib://`, `ssh2.*://`, `file:` followed by a path or host, `jar:<scheme>:`,
//!   `netdoc:/`, `local_file:/` (Python urllib). `data:` URIs without `//` (images) do not fire.
//! * **NUL truncation** (`lfi-null-byte`): a NUL right after a path or a `name.ext` token.
//! * **Leftover escapes**: when nothing matched and the value still holds `%XX` escapes of
//!   ASCII bytes (XML and JSON strings are not percent-decoded by the layer; or a fourth
//!   encoding round), one more round is decoded and everything above runs once more on the
//!   result (`<x>ftp%3A%2F%2F1.1.1.1</x>`, `0x5c0x2e.%00/`); spans map back to the value.
//! * **RFI** (CRS 931100/931110/931120): `lfi-rfi-ip-host`, a value that is an
//!   `http(s)`/`ftp(s)`/`file` URL whose host is a public IP literal (internal addresses are
//!   left to the ssrf detector); `lfi-rfi-trailing-qmark`, such a URL ending in `?` with no
//!   other `?` (the include-suffix trick) or the bare scheme followed by `?`;
//!   `lfi-rfi-global-param`, a value that *is* a register_globals include variable
//!   (`mosConfig_absolute_path`, `_CONF[path]`, `_SERVER[DOCUMENT_ROOT]`, …): parameter names
//!   are inputs too, and nobody legitimately sends these names.
//! * **Off-site include** ([`detect_offsite`], `lfi-rfi-offsite`; needs the request's Host, so
//!   the WAF calls it on query and body values): a safe subset of CRS 931130, see below.
//!
//! Cost: one table-driven pass (SIMD `memchr` scans past 512 bytes) records which byte
//! families occur, and each family's rules run only if its bytes do. In the WAF's scan the
//! table pass over values up to 512 bytes is the scan's shared one (`super::classes`,
//! `detect_classified`). Traversal first needs a
//! `..` and textual escapes a `0x`: on short inputs one SWAR pass (eight bytes per step)
//! answers both; the wrappers need a `:` after a wrapper name's last letter (so `https:` costs
//! nothing); the SQL dump names a `q`; the register_globals names a `_` or `[`; the file rules
//! share one Aho-Corasick DFA whose patterns all start with `/`, and it runs only when some
//! `/` (or the value start) is followed by bytes that begin a pattern — a direct 64 Ki-bit set
//! of folded two-byte prefixes, then 64 Ki-bit hashed sets of four- and five-byte prefixes,
//! exact for "no" — so `/api/orders/42`, `…/cart?step=2` and the `/5.0`, `/537.36` of a
//! browser User-Agent skip it. Byte positions in inputs up to 256 bytes come from SWAR words
//! (no SIMD dispatch per call or per hit), in longer ones from SIMD `memchr`. No regex, no
//! allocation unless the value needs separator normalisation or leftover decoding.
//!
//! Known gaps and accepted noise: CRS 931130/931131 (PL2, "off-domain reference": any URL whose
//! host is not the request's Host) is only covered by the [`detect_offsite`] subset: flagging
//! every off-site URL would flag share links, OAuth `redirect_uri`s, `next=` redirects to
//! identity providers and webhook URLs; of the 12 CRS 931130/931131 attack cases the other
//! rules miss, none is in the subset (bare hosts, other ports, look-alike hosts, `@` in the
//! path, a URL in the request path, bare `ftp://host`). Payloads encoded only as
//! U+FFFD runs (overlong dots *and* slashes, no literal dot) cannot be told from broken text.
//! Relative OS paths without traversal (`etc/passwd` alone) only fire for the best-known
//! targets. Shell redirections (`>/tmp/x`) are the rce detector's business. Code snippets with
//! `'../../x'` imports, prose naming `/etc/…` files, and `~/.ssh/…` paths do fire (as in CRS).
use super::Finding;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind, StartKind};
use once_cell::sync::Lazy;
use std::borrow::Cow;

/// Rule ids this detector can report.
pub const RULES: &[&str] = &[
    "lfi-traversal",
    "lfi-os-file",
    "lfi-sensitive-file",
    "lfi-wrapper",
    "lfi-null-byte",
    "lfi-rfi-ip-host",
    "lfi-rfi-trailing-qmark",
    "lfi-rfi-global-param",
    "lfi-rfi-offsite",
    "lfi-restricted-path",
    "lfi-hidden-path",
];

/// The paranoia level 2 rules (run when [`detect`] found nothing and the agent runs at level
/// 2): none yet.
pub fn detect_strict(input: &str, host: &str) -> Option<Finding> {
    let _ = (input, host);
    None
}

/// Looks for a file-inclusion attack in one decoded input value (or the request path).
/// Returns the first rule that matches, with the byte span of the matched fragment.
pub fn detect(input: &str) -> Option<Finding> {
    detect_impl(input, false)
}

/// Which byte families are present: a set of `C_*` bits (one table-driven pass for short
/// inputs, SIMD scans for long ones). `C_SEP`: `/` or `\`; `C_BSL`: `\`; `C_HIGH`: non-ASCII;
/// `C_X`: `0x` or `0X` (inputs over [`FLAGS_SHORT`]), or an `x`/`X` and a `0` (shorter ones);
/// `C_PCT`: `%`; `C_WS`: ASCII whitespace.
#[derive(Clone, Copy)]
struct Flags(u16);

impl Flags {
    #[inline]
    fn has(self, bits: u16) -> bool {
        self.0 & bits != 0
    }
}

const C_SEP: u16 = 1;
const C_DOT: u16 = 2;
const C_COLON: u16 = 4;
const C_NUL: u16 = 8;
const C_HIGH: u16 = 16;
const C_PCT: u16 = 32;
const C_Q: u16 = 64;
const C_X: u16 = 128;
const C_BSL: u16 = 256;
const C_WS: u16 = 512;
/// `q` or `Q` (every SQL dump name has one)
const C_QL: u16 = 2048;
/// `0`
const C_ZERO: u16 = 4096;
/// `_` or `[` (every register_globals name has one)
const C_GLOBAL: u16 = 8192;

/// Byte class bits for [`flags`].
pub(super) static CLASS: [u16; 256] = {
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
const SHORT: usize = 256;

/// Offsets of byte `c` in `b`, ascending: SWAR words for short inputs, SIMD `memchr` for
/// long ones.
enum Positions<'a> {
    Short(WordPos<'a>),
    Long(memchr::Memchr<'a>),
}

/// [`Positions`] for short inputs: the hits of one 8-byte word at a time, as the high bits of
/// the matching bytes.
struct WordPos<'a> {
    b: &'a [u8],
    c: u8,
    /// Offset of the word `hits` describes.
    base: usize,
    hits: u64,
}

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HI1: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte of `b[at..at + 8]` that equals `c` (bytes past the end never match).
#[inline]
fn word_hits(b: &[u8], at: usize, c: u8) -> u64 {
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
            eq_bytes(u64::from_le_bytes(k), c, 0) & (HI1 >> (8 * (8 - rest.len()) as u32))
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
fn positions(c: u8, b: &[u8]) -> Positions<'_> {
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
const FIND_SHORT: usize = 32;

/// Up to this length [`flags`] makes one table-driven pass; longer inputs get SIMD scans.
pub(super) const FLAGS_SHORT: usize = 512;

const ONES: u64 = 0x0101_0101_0101_0101;

/// High bit of each byte of `w` that equals `c` once or-ed with `fold` (exact: no carry
/// crosses bytes; `c` has every `fold` bit).
#[inline]
fn eq_bytes(w: u64, c: u8, fold: u8) -> u64 {
    let x = (w | (u64::from(fold) * ONES)) ^ (u64::from(c) * ONES);
    !(((x & LO7) + LO7) | x) & HI1
}

/// Does `b` hold `..`, and does it hold `0x` or `0X`? One SWAR pass (8 bytes per step, the
/// second byte of each pair read from a load one byte further on).
fn pairs(b: &[u8]) -> (bool, bool) {
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

fn flags(b: &[u8]) -> Flags {
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

/// The flags of a value of at most [`FLAGS_SHORT`] bytes from the OR of [`CLASS`] over it.
fn short_flags(mut acc: u16) -> u16 {
    // only a candidate here (an `x` and a `0` occur): `scan` checks for `0x` when needed
    if acc & C_ZERO == 0 {
        acc &= !C_X;
    }
    acc
}

/// [`detect`] on a value whose OR of [`CLASS`] the caller already has (the scan's shared pass,
/// [`super::classes`]); used for values of at most [`FLAGS_SHORT`] bytes, where [`flags`]
/// is that OR.
pub(super) fn detect_classified(input: &str, class_or: u16) -> Option<Finding> {
    if input.len() > FLAGS_SHORT {
        return detect(input);
    }
    detect_with(input, false, Flags(short_flags(class_or)))
}

fn detect_impl(input: &str, path: bool) -> Option<Finding> {
    detect_with(input, path, flags(input.as_bytes()))
}

fn detect_with(input: &str, path: bool, fl: Flags) -> Option<Finding> {
    if let Some(f) = scan(input, path, fl) {
        return Some(f);
    }
    if !fl.has(C_PCT) {
        return None;
    }
    // Leftover `%XX` escapes (values the layer does not percent-decode: XML and JSON strings,
    // or a fourth encoding round): one more round of ASCII escapes, scanned once more.
    let (d, offs) = decode_leftover(input)?;
    let f = scan(&d, path, flags(d.as_bytes()))?;
    Some(Finding {
        rule: f.rule,
        span: offs[f.span.start] as usize..offs[f.span.end] as usize,
    })
}

/// `input` with every `%XX` escape of an ASCII byte decoded (one round), and for each byte of
/// the result its offset in `input` (plus the end). `None` when there is no such escape.
/// Only ASCII bytes change, so the result stays valid UTF-8 and the offsets char boundaries.
fn decode_leftover(input: &str) -> Option<(String, Vec<u32>)> {
    let b = input.as_bytes();
    let ascii_esc = |i: usize| -> Option<u8> {
        let h = hexval(*b.get(i + 1)?)?;
        let l = hexval(*b.get(i + 2)?)?;
        (h < 8).then_some((h * 16 + l) as u8)
    };
    let first = positions(b'%', b).find(|&i| ascii_esc(i).is_some())?;
    let mut out = Vec::with_capacity(b.len());
    let mut offs = Vec::with_capacity(b.len() + 1);
    out.extend_from_slice(&b[..first]);
    offs.extend(0..first as u32);
    let mut i = first;
    while i < b.len() {
        match (b[i] == b'%').then(|| ascii_esc(i)).flatten() {
            Some(c) => {
                out.push(c);
                offs.push(i as u32);
                i += 3;
            }
            None => {
                out.push(b[i]);
                offs.push(i as u32);
                i += 1;
            }
        }
    }
    offs.push(b.len() as u32);
    String::from_utf8(out).ok().map(|s| (s, offs))
}

fn scan(input: &str, path: bool, fl: Flags) -> Option<Finding> {
    let b = input.as_bytes();
    let [sep, dot, colon, nul, high, pct, q, ws] =
        [C_SEP, C_DOT, C_COLON, C_NUL, C_HIGH, C_PCT, C_Q, C_WS].map(|c| fl.has(c));
    // escapes: `%`, or `0x`/`0X` (for short inputs `flags` only knows that an `x` and a `0`
    // occur: one pass settles it, and whether `..` occurs)
    let mut dotdot = None;
    let esc = pct
        || (fl.has(C_X)
            && if b.len() <= FLAGS_SHORT {
                let (dd, zx) = pairs(b);
                dotdot = Some(dd);
                zx
            } else {
                true
            });
    if dot && !sep && !ws && fl.has(C_QL) {
        // a SQL dump file name ("backup.sql.gz") needs no separator
        if let Some(span) = sql_backup_no_ws(input) {
            return Some(Finding {
                rule: "lfi-sensitive-file",
                span,
            });
        }
    }
    if !(sep || colon || nul || high || esc || q) {
        // a register_globals name has a `_` or `[` (and no blank inside ten bytes)
        if !fl.has(C_GLOBAL) || b.len() < 10 {
            return None;
        }
        return global_param(input);
    }
    // non-ASCII only matters for traversal through unicode dots (U+FF0E, U+2024, U+FE52)
    let udot = high && (UDOT_FINDERS.iter().any(|f| f.find(b).is_some()));
    if (esc || nul || high) && (dot || esc || udot) {
        if let Some(f) = traversal_general(input) {
            return Some(f);
        }
    } else if dot
        && sep
        && dotdot
            .or_else(|| (b.len() <= FLAGS_SHORT).then(|| pairs(b).0))
            .unwrap_or(true)
    {
        if let Some(f) = traversal_ascii(input) {
            return Some(f);
        }
    }
    if colon {
        if let Some(f) = wrapper(input) {
            return Some(f);
        }
    }
    if sep || (high && USLASH_FINDERS.iter().any(|f| f.find(b).is_some())) {
        if let Some(f) = files(input, path, fl) {
            return Some(f);
        }
    }
    if colon || q {
        if let Some(f) = rfi(input) {
            return Some(f);
        }
    }
    if nul {
        if let Some(f) = null_byte(input) {
            return Some(f);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// traversal

/// Class of one normalised position: `.` dot, `/` separator, `;`, `~` U+FFFD, ` ` blank/quote,
/// `a` anything else.
fn char_class(c: char) -> u8 {
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

fn hexval(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Decodes a leftover escape at `b[i..]` (`i` points at `%` or `0`): `%XX`, `%uXXXX`, overlong
/// `%c0%XX` / `%c1%XX` / `%e0%80%XX`, textual `0xXX`. Returns (decoded char, bytes consumed).
fn leftover_escape(b: &[u8], i: usize) -> Option<(char, usize)> {
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
fn tok(input: &str, i: usize) -> (u8, usize) {
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
        return (char_class(c as char), 1);
    }
    let ch = input[i..].chars().next().unwrap_or('\u{FFFD}');
    (char_class(ch), ch.len_utf8())
}

/// Token stream over `input`, NULs dropped: `next(i)` is (class, start, end) of the first
/// non-NUL token at or after `i`.
struct Toks<'a> {
    input: &'a str,
    ascii: bool,
}

impl Toks<'_> {
    #[inline]
    fn next(&self, mut i: usize) -> Option<(u8, usize, usize)> {
        let b = self.input.as_bytes();
        while i < b.len() {
            let (k, n) = if self.ascii {
                (char_class(b[i] as char), 1)
            } else {
                tok(self.input, i)
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
    fn unit_at(&self, i: usize) -> Option<usize> {
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
    fn chain(&self, mut end: usize) -> (u32, usize) {
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

    /// Offset where the value "starts": after blanks, separators and `./`.
    fn lead_end(&self) -> usize {
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
fn traversal_unit(t: &Toks<'_>, first: usize, end: usize) -> Result<Finding, usize> {
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

/// Traversal on plain ASCII without escapes or NULs: only `..` occurrences are examined.
fn traversal_ascii(input: &str) -> Option<Finding> {
    // ASCII only (the caller checked), so every offset is a char boundary
    let b = input.as_bytes();
    if b.len() <= FIND_SHORT {
        positions(b'.', b).find(|&p| b.get(p + 1) == Some(&b'.'))?;
    } else {
        DOTDOT_FINDER.find(b)?;
    }
    let t = Toks { input, ascii: true };
    let mut done = 0;
    for p in positions(b'.', b) {
        if p < done || b.get(p + 1) != Some(&b'.') || (p > 0 && b[p - 1] == b'.') {
            continue;
        }
        let boundary = p == 0 || matches!(char_class(b[p - 1] as char), b'/' | b';' | b' ');
        if !boundary {
            continue;
        }
        if let Some(end) = t.unit_at(p) {
            match traversal_unit(&t, p, end) {
                Ok(f) => return Some(f),
                Err(e) => done = e,
            }
        }
    }
    None
}

/// Traversal with escapes, NULs or non-ASCII: a full token walk.
fn traversal_general(input: &str) -> Option<Finding> {
    let t = Toks {
        input,
        ascii: false,
    };
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

// ---------------------------------------------------------------------------------------------
// system and sensitive files

/// System locations, as absolute paths (`/etc/…`): valid at the value start or after a
/// delimiter. Entries ending in `/` need a path character next; others a segment end.
const OS_ROOTS: &[&str] = &[
    "/etc/",
    "/proc/",
    "/root/",
    "/var/log/",
    "/var/run/secrets",
    "/run/secrets",
    "/var/lib/mysql",
    "/var/lib/docker",
    "/var/lib/kubelet",
    "/var/spool/cron",
    "/var/mail/",
    "/dev/tcp/",
    "/dev/udp/",
    "/dev/shm/",
    "/dev/fd/",
    "/dev/mem",
    "/dev/kmem",
    "/dev/stdin",
    "/usr/local/etc/",
    "/private/etc/",
    "/boot/grub",
    "/boot/config",
    "/boot/vmlinuz",
    "/boot/initrd",
    "/winnt/",
    "/inetpub/",
    "/windows/system32",
    "/windows/syswow64",
    "/windows/system/",
    "/windows/repair",
    "/windows/panther",
    "/windows/debug/",
    "/windows/temp/",
    "/windows/win.ini",
    "/windows/system.ini",
    "/windows/php.ini",
];
/// Best-known targets, as a path segment anywhere (`/@fs/etc/passwd`).
const OS_TARGETS: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/gshadow",
    "etc/master.passwd",
    "etc/sudoers",
    "etc/group",
    "etc/security/",
    "etc/ssh/ssh_host",
    "etc/ssl/private",
    "proc/self/",
    "proc/thread-self/",
];
/// Windows drive paths (`c:\windows\…`), the `c:` before them checked separately.
const OS_DRIVE: &[&str] = &["/windows/", "/winnt/", "/inetpub/", "/boot.ini"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Target,
    Drive,
    /// restricted-files entry; `true`: also for values, `false`: request path only
    Restricted(bool),
}

/// Restricted-files entries kept for values (editor/CI config and other benign project files
/// are only probe paths): is this entry a secret, history, credential or OS file?
fn value_sensitive(entry: &str) -> bool {
    const BENIGN_DOT: &[&str] = &[
        ".gitignore",
        ".gitattributes",
        ".gitkeep",
        ".gitmodules",
        ".editorconfig",
        ".eslintrc",
        ".eslintignore",
        ".prettierrc",
        ".idea",
        ".vscode",
        ".travis.yml",
        ".travis.yaml",
        ".gitlab-ci.yml",
        ".dockerignore",
        ".bowerrc",
        ".jshintrc",
        ".rubocop.yml",
        ".coverage",
        ".coveralls.yml",
        ".cache/",
        ".cache/notify-osd.log",
        ".config/",
        ".local/bin/",
        ".local/lib/",
        ".local/share/",
        ".local/state/",
        ".settings/",
        ".pytest_cache/",
        ".mypy_cache/",
        ".ipynb_checkpoints/",
        ".php_cs.dist",
        ".phpcs.xml",
        ".phpcs.xml.dist",
        ".yarnrc",
        ".yarnrc.yml",
        ".npm/",
        ".nvm/",
        ".vim/",
        ".atom/",
        ".gem/",
        ".gradle/",
        ".m2/",
        ".cargo/",
        ".rustup",
        ".bun/",
        ".bunfig.toml",
        ".node-gyp",
        ".aiignore",
        ".cursorignore",
        ".snap/",
        ".java/",
        ".fish",
        ".nano/",
        ".nanorc",
        ".screenrc",
        ".tmux.conf",
        ".selected_editor",
        ".eclipse/",
        ".sdkman/",
        ".tools/",
        ".idlerc/",
        ".gnome/",
        ".gnome2/",
        ".gnomerc/",
        ".thunderbird/",
        ".vmware/",
        ".wine/",
        ".hplip/hplip.conf",
        ".oh-my-",
        ".condarc",
        ".pip/",
        ".pyenv/",
        ".rbenv/",
        ".rvm/",
        ".bundle/",
        ".konan/",
        ".chocolatey/",
        ".keras/",
        ".redhat/",
        ".dbus/",
        ".cups/",
    ];
    const OTHER: &[&str] = &[
        "boot.ini",
        "win.ini",
        "system.ini",
        "php.ini",
        "my.cnf",
        "debian.cnf",
        "mysql.cnf",
        "mysqldump.cnf",
        "initial_root_password",
        "credentials.json",
        "secrets.json",
        "secrets.yaml",
        "secrets.yml",
        "user_secrets.yml",
        "sendgrid.env",
        "aws.yaml",
        "aws.yml",
        "aws-key.yaml",
        "aws-key.yml",
        "web-inf/",
        "meta-inf/",
        "gitlab.rb",
        "wp-config.",
        "wp-config-",
        "wp-config_",
        "/web.config",
        "/app/etc/env.php",
        "/app/etc/local.xml",
        "/sites/default/settings.php",
        "/sites/default/settings.local.php",
        "/config/parameters.yml",
        "config.inc.php",
        "/proc/",
        "/sys/",
        "/@fs/",
    ];
    let l = entry.to_ascii_lowercase();
    if l.starts_with('.') {
        return !BENIGN_DOT.contains(&l.as_str());
    }
    l.starts_with("proc/") || l.starts_with("sys/") || OTHER.contains(&l.as_str())
}

/// Extra restricted-files entries that fire on the request path only ([`detect_path`]):
/// requesting these from an application is a probe, but as parameter values they are ordinary
/// (`.gitignore` in a code browser, `debug.log` in a log viewer).
fn path_sensitive(entry: &str) -> bool {
    let l = entry.to_ascii_lowercase();
    l.starts_with('.') || l.ends_with(".log") || l == "/@id/" || l == "phpinfo.php"
}

/// Automata for every file rule, ASCII case-insensitive. `main` holds each pattern in the form
/// it takes after a separator (a `/` is prepended to entries that need one before them), so
/// every pattern starts with `/` and the automaton's prefilter skips to separators; `start`
/// holds the raw entries, searched anchored at offset 0 only; `backup` holds the `.sql.*`
/// dump extensions, searched anchored at each `.sql.`. `main_kinds[id]` gives the rule kind
/// and whether a `/` was prepended.
struct FileAc {
    main: AhoCorasick,
    /// the same without prefilter, for long inputs where separators are dense
    main_long: AhoCorasick,
    main_kinds: Vec<(Kind, bool)>,
    start: AhoCorasick,
    start_kinds: Vec<Kind>,
    backup: AhoCorasick,
    /// Hashed sets of pattern prefixes, the bytes after the leading `/` of every `main`
    /// pattern: `prefix[0]` the four bytes of patterns with exactly four, `prefix[1]` the
    /// first five of longer ones. A `/` whose next bytes are in neither cannot start a match.
    /// One bit per hash, 64 Ki bits each. `prefix[2]`: the first two bytes of all of them
    /// (folded as in [`prefix_index`], not hashed), a cheaper first test.
    prefix: Box<[[u64; 1024]; 3]>,
    /// Some pattern has fewer than four bytes after its `/` (then the gate is off).
    prefix_short: bool,
}

/// Bit index of the first four (`n == 4`) or five bytes of `w` in a [`FileAc::prefix`] set.
/// Bytes are folded with `| 0x20`, which maps both cases of a letter together (and a few
/// punctuation pairs, which only makes the sets larger).
#[inline]
fn prefix_index(w: &[u8], n: usize) -> usize {
    let mut k = [0u8; 8];
    k[..n].copy_from_slice(&w[..n]);
    let x = u64::from_le_bytes(k) | (0x2020_2020_2020_2020 >> (8 * (8 - n)));
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

/// Bit index of the first two bytes of `w`, folded with `| 0x20` (`w.len() >= 2`).
#[inline]
fn pair_index(w: &[u8]) -> usize {
    usize::from(w[0] | 0x20) | usize::from(w[1] | 0x20) << 8
}

impl FileAc {
    /// Could a `main` pattern start with the bytes `w` (those after a `/`)?
    #[inline]
    fn prefix_hit(&self, w: &[u8]) -> bool {
        // `h < 1 << 16`: always in bounds
        let bit = |set: &[u64; 1024], h: usize| set[(h >> 6) & 1023] & (1 << (h & 63)) != 0;
        w.len() >= 4
            && bit(&self.prefix[2], pair_index(w))
            && (bit(&self.prefix[0], prefix_index(w, 4))
                || (w.len() >= 5 && bit(&self.prefix[1], prefix_index(w, 5))))
    }

    /// Could a file pattern match in `vb` (searched as it is, or as its normalised view when
    /// that differs only by "/./")? Every `/` is checked (a "./" after it, or bytes after it
    /// that begin a pattern, say yes; fewer than four bytes cannot hold a pattern), and the
    /// value start (the anchored `start` patterns are `main` patterns without their `/`). A
    /// hash collision may say yes; no is exact.
    fn may_match(&self, vb: &[u8]) -> bool {
        if self.prefix_short {
            return true;
        }
        if vb.first() != Some(&b'/') && self.prefix_hit(vb) {
            return true;
        }
        let hit = |p: usize| {
            let w = &vb[p + 1..];
            w.starts_with(b"./") || self.prefix_hit(w)
        };
        if vb.len() > SHORT {
            return memchr::memchr_iter(b'/', vb).any(hit);
        }
        // the `/` of one word at a time
        let mut at = 0;
        while at < vb.len() {
            let mut h = word_hits(vb, at, b'/');
            while h != 0 {
                if hit(at + (h.trailing_zeros() / 8) as usize) {
                    return true;
                }
                h &= h - 1;
            }
            at += 8;
        }
        false
    }
}

static FILES: Lazy<FileAc> = Lazy::new(|| {
    let mut all: Vec<(String, Kind)> = Vec::new();
    for (list, kind) in [
        (OS_ROOTS, Kind::Root),
        (OS_TARGETS, Kind::Target),
        (OS_DRIVE, Kind::Drive),
    ] {
        all.extend(list.iter().map(|p| (p.to_string(), kind)));
    }
    let mut backup = Vec::new();
    for l in include_str!("data/restricted-files.txt")
        .lines()
        .map(str::trim)
    {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.to_ascii_lowercase().starts_with(".sql.") {
            backup.push(l.to_string());
        } else if value_sensitive(l) {
            all.push((l.to_string(), Kind::Restricted(true)));
        } else if path_sensitive(l) {
            all.push((l.to_string(), Kind::Restricted(false)));
        }
    }
    let mut main = Vec::new();
    let mut main_kinds = Vec::new();
    let mut start = Vec::new();
    let mut start_kinds = Vec::new();
    for (p, k) in all {
        if p.starts_with('/') {
            main.push(p.clone());
            main_kinds.push((k, false));
        } else {
            main.push(format!("/{p}"));
            main_kinds.push((k, true));
            start.push(p);
            start_kinds.push(k);
        }
    }
    let build_pf = |pats: &[String], kind: MatchKind, sk: StartKind, pf: bool| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .prefilter(pf)
            .match_kind(kind)
            .start_kind(sk)
            .kind(Some(AhoCorasickKind::DFA))
            .build(pats)
            .expect("static file patterns")
    };
    let build = |pats: &[String], kind: MatchKind, sk: StartKind| build_pf(pats, kind, sk, true);
    let mut prefix = Box::new([[0u64; 1024]; 3]);
    let mut prefix_short = false;
    for p in &main {
        let w = &p.as_bytes()[1..];
        let (set, n) = match w.len() {
            0..=3 => {
                prefix_short = true;
                continue;
            }
            4 => (0, 4),
            _ => (1, 5),
        };
        let h = prefix_index(w, n);
        prefix[set][h >> 6] |= 1 << (h & 63);
        let h = pair_index(w);
        prefix[2][h >> 6] |= 1 << (h & 63);
    }
    FileAc {
        prefix,
        prefix_short,
        main_long: build_pf(&main, MatchKind::Standard, StartKind::Unanchored, false),
        main: build(&main, MatchKind::Standard, StartKind::Unanchored),
        main_kinds,
        start: build(&start, MatchKind::LeftmostLongest, StartKind::Anchored),
        start_kinds,
        backup: build(&backup, MatchKind::LeftmostLongest, StartKind::Anchored),
    }
});

/// A SQL dump file name (`backup.sql.gz`, CRS `.sql.*` entries) in a value without blanks.
fn sql_backup(v: &str) -> Option<std::ops::Range<usize>> {
    if v.as_bytes().iter().any(u8::is_ascii_whitespace) {
        return None;
    }
    sql_backup_no_ws(v)
}

/// [`sql_backup`] on a value known to have no blanks.
fn sql_backup_no_ws(v: &str) -> Option<std::ops::Range<usize>> {
    let vb = v.as_bytes();
    let fa = &*FILES;
    let mut tries = 0;
    for p in positions(b'.', vb) {
        if p == 0
            || !vb
                .get(p + 1..p + 5)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"sql."))
        {
            continue;
        }
        tries += 1;
        if tries > 64 {
            break;
        }
        let input = aho_corasick::Input::new(v)
            .span(p..vb.len())
            .anchored(aho_corasick::Anchored::Yes);
        if let Some(m) = fa.backup.find(input) {
            return Some(m.start()..m.end());
        }
    }
    None
}

static ZERO_X_FINDERS: Lazy<[memchr::memmem::Finder<'static>; 2]> =
    Lazy::new(|| [b"0x", b"0X"].map(memchr::memmem::Finder::new));
static DOTDOT_FINDER: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b".."));
static UDOT_FINDERS: Lazy<[memchr::memmem::Finder<'static>; 3]> = Lazy::new(|| {
    ["\u{FF0E}", "\u{2024}", "\u{FE52}"].map(|d| memchr::memmem::Finder::new(d.as_bytes()))
});
static USLASH_FINDERS: Lazy<[memchr::memmem::Finder<'static>; 4]> = Lazy::new(|| {
    ["\u{2215}", "\u{2216}", "\u{FF0F}", "\u{FF3C}"]
        .map(|d| memchr::memmem::Finder::new(d.as_bytes()))
});
static DOTSEG_FINDER: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b"/./"));
static HIDDEN_FINDER: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b"/."));

/// Builds this detector's tables now (file automaton and finders), so that the first request to need
/// them does not spend its time budget on it.
pub(crate) fn warm_up() {
    Lazy::force(&FILES);
    Lazy::force(&ZERO_X_FINDERS);
    Lazy::force(&DOTDOT_FINDER);
    Lazy::force(&UDOT_FINDERS);
    Lazy::force(&USLASH_FINDERS);
    Lazy::force(&DOTSEG_FINDER);
    Lazy::force(&HIDDEN_FINDER);
}

/// Separator-normalised view for the file rules: `\` and unicode slashes become `/`, runs of
/// `/` collapse, `/./` drops, NULs drop. Borrowed (identity offsets) when nothing changes.
fn path_view(input: &str) -> (Cow<'_, str>, Option<Vec<u32>>) {
    let b = input.as_bytes();
    let needs = memchr::memchr2(b'\\', 0, b).is_some()
        || DOTSEG_FINDER.find(b).is_some()
        || (!b.is_ascii() && USLASH_FINDERS.iter().any(|f| f.find(b).is_some()));
    if !needs {
        return (Cow::Borrowed(input), None);
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut offs: Vec<u32> = Vec::with_capacity(b.len() + 1);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (c, n) = if c < 0x80 {
            (c, 1)
        } else {
            // unicode slashes: U+2215 U+2216 (e2 88 95/96), U+FF0F U+FF3C (ef bc 8f / ef bc bc)
            let t = &b[i..];
            if t.starts_with("\u{2215}".as_bytes())
                || t.starts_with("\u{2216}".as_bytes())
                || t.starts_with("\u{FF0F}".as_bytes())
                || t.starts_with("\u{FF3C}".as_bytes())
            {
                (b'/', 3)
            } else {
                (c, 1)
            }
        };
        let c = if c == b'\\' { b'/' } else { c };
        if c == 0 {
            i += n;
            continue;
        }
        if c == b'/' {
            let l = out.len();
            if l > 0 && out[l - 1] == b'/' {
                i += n;
                continue;
            }
            if l > 1 && out[l - 1] == b'.' && out[l - 2] == b'/' {
                // "/./" -> "/": drop the '.' already written
                out.pop();
                offs.pop();
                i += n;
                continue;
            }
        }
        out.push(c);
        offs.push(i as u32);
        i += n;
    }
    offs.push(b.len() as u32);
    // only ASCII bytes were dropped or replaced and whole 3-byte slashes replaced by '/':
    // the rest of every UTF-8 sequence was copied intact
    match String::from_utf8(out) {
        Ok(s) => (Cow::Owned(s), Some(offs)),
        Err(_) => (Cow::Borrowed(input), None),
    }
}

fn is_delim(c: u8) -> bool {
    c.is_ascii_whitespace() || b"\"'`=:;,|&<>(){}[]*~@$!.".contains(&c)
}

fn is_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_.~-".contains(&c)
}

/// Any file rule in a separator-normalised view `v`. `path`: the request path (every kept
/// restricted entry applies), else a value (value-sensitive entries only).
fn sensitive(v: &str, vb: &[u8], path: bool) -> Option<(&'static str, std::ops::Range<usize>)> {
    let fa = &*FILES;
    let has_sep = vb.contains(&b'/');
    let check = |kind: Kind, s: usize, e: usize| -> Option<&'static str> {
        let before = if s > 0 { Some(vb[s - 1]) } else { None };
        let after = vb.get(e).copied();
        let last = vb[e - 1];
        let seg_end = !last.is_ascii_alphanumeric()
            || !after.is_some_and(|n| n.is_ascii_alphanumeric() || n == b'_' || n == b'-');
        let ok = match kind {
            Kind::Root => {
                before.is_none_or(is_delim)
                    && if last == b'/' {
                        after.is_some_and(is_path_char)
                    } else {
                        after.is_none_or(|n| n == b'/' || !is_path_char(n))
                    }
            }
            Kind::Target => (before.is_none() || before == Some(b'/')) && seg_end,
            Kind::Drive => {
                before == Some(b':')
                    && s >= 2
                    && vb[s - 2].is_ascii_alphabetic()
                    && (s < 3 || !vb[s - 3].is_ascii_alphanumeric())
                    && seg_end
            }
            Kind::Restricted(value_ok) => {
                if !path && !value_ok {
                    return None;
                }
                let ok_before = vb[s] == b'/' || before == Some(b'/') || (s == 0 && has_sep);
                ok_before && seg_end
            }
        };
        ok.then_some(match kind {
            Kind::Restricted(true) => "lfi-sensitive-file",
            Kind::Restricted(false) => "lfi-restricted-path",
            _ => "lfi-os-file",
        })
    };
    // short values: skip both automata unless some '/' (or the start) is followed by three
    // bytes that begin a pattern; long values go straight to the automaton
    let gate = vb.len() > 1024 || fa.may_match(vb);
    let found = (|| {
        if !gate {
            return sql_backup(v).map(|r| ("lfi-sensitive-file", r.start, r.end));
        }
        if vb.first() != Some(&b'/') {
            let input = aho_corasick::Input::new(v).anchored(aho_corasick::Anchored::Yes);
            if let Some(m) = fa.start.find(input) {
                let kind = fa.start_kinds[m.pattern().as_usize()];
                if let Some(rule) = check(kind, 0, m.end()) {
                    return Some((rule, 0, m.end()));
                }
            }
        }
        let ac = if vb.len() > 2048 {
            &fa.main_long
        } else {
            &fa.main
        };
        for m in ac.find_overlapping_iter(v) {
            let (kind, prefixed) = fa.main_kinds[m.pattern().as_usize()];
            let s = m.start() + usize::from(prefixed);
            if let Some(rule) = check(kind, s, m.end()) {
                return Some((rule, s, m.end()));
            }
        }
        sql_backup(v).map(|r| ("lfi-sensitive-file", r.start, r.end))
    })();
    let (rule, s, mut e) = found?;
    // extend OS matches to the end of the path token (bounded), for a readable span
    if rule == "lfi-os-file" {
        let lim = (e + 256).min(vb.len());
        while e < lim && (is_path_char(vb[e]) || vb[e] == b'/') {
            e += 1;
        }
    }
    Some((rule, s..e))
}

fn files(input: &str, path: bool, fl: Flags) -> Option<Finding> {
    if !fl.has(C_BSL | C_NUL | C_HIGH) && input.len() <= 1024 && !FILES.may_match(input.as_bytes())
    {
        // the normalised view is the value itself (no "\\", NUL, unicode slash or "/./"),
        // and no pattern can start in it: only the SQL dump names and hidden segments remain
        if let Some(span) = (!fl.has(C_WS) && fl.has(C_QL))
            .then(|| sql_backup_no_ws(input))
            .flatten()
        {
            return Some(Finding {
                rule: "lfi-sensitive-file",
                span,
            });
        }
        if path {
            return hidden_segment(input).map(|span| Finding {
                rule: "lfi-hidden-path",
                span,
            });
        }
        return None;
    }
    let (view, offs) = path_view(input);
    let v = view.as_ref();
    let vb = v.as_bytes();
    let map = |r: std::ops::Range<usize>| match &offs {
        Some(o) => o[r.start] as usize..o[r.end] as usize,
        None => r,
    };
    if let Some((rule, r)) = sensitive(v, vb, path) {
        return Some(Finding { rule, span: map(r) });
    }
    if path {
        return hidden_segment(v).map(|r| Finding {
            rule: "lfi-hidden-path",
            span: map(r),
        });
    }
    None
}

/// The request path: everything [`detect`] looks for, plus restricted files that are only
/// suspicious as a path (`/.gitignore`, `/wp-content/debug.log`, `/@id/…`; rule
/// `lfi-restricted-path`) and hidden segments (`lfi-hidden-path`: a segment starting with `.`
/// and a letter, digit or `_`, e.g. `/.claude/settings.json`, except `/.well-known/`).
/// Applications behind this layer do not route hidden directories; scanners probe them.
/// Project files such as `/package.json` or `/config.json` are left to the 404-only scanner
/// signal (`scanner::detect_probe_path`): an application may really serve those.
pub fn detect_path(path: &str) -> Option<Finding> {
    detect_impl(path, true)
}

/// A `/.name` segment (not `.well-known`) in a normalised path: the segment's range.
fn hidden_segment(v: &str) -> Option<std::ops::Range<usize>> {
    let vb = v.as_bytes();
    for i in HIDDEN_FINDER.find_iter(vb) {
        let s = i + 1;
        let Some(&c) = vb.get(s + 1) else { continue };
        if !(c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        let mut e = s + 1;
        while e < vb.len() && vb[e] != b'/' && vb[e] != b'?' {
            e += 1;
        }
        while !v.is_char_boundary(e) {
            e -= 1;
        }
        if v[s..e].eq_ignore_ascii_case(".well-known") {
            continue;
        }
        return Some(s..e);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// wrappers, NUL, RFI

/// Stream wrappers and local-file schemes: every `:` is checked against the scheme word
/// before it (at most 16 bytes back), so the cost is linear.
fn wrapper(input: &str) -> Option<Finding> {
    #[derive(Clone, Copy)]
    enum W {
        DoubleSlash,
        File,
        Jar,
        Slash,
    }
    fn lookup(word: &[u8]) -> Option<W> {
        // every wrapper name starts with one of these letters (not 'h': http/https are the
        // common case and exit here)
        if word.len() < 3
            || word.len() > 14
            || !matches!(
                word[0] | 0x20,
                b'p' | b'z'
                    | b'e'
                    | b'g'
                    | b'd'
                    | b'r'
                    | b'o'
                    | b'c'
                    | b's'
                    | b'f'
                    | b'j'
                    | b'n'
                    | b'l'
            )
        {
            return None;
        }
        let mut buf = [0u8; 14];
        for (d, s) in buf.iter_mut().zip(word) {
            *d = s.to_ascii_lowercase();
        }
        match &buf[..word.len()] {
            b"php" | b"phar" | b"zip" | b"expect" | b"glob" | b"data" | b"rar" | b"ogg"
            | b"compress.zlib" | b"compress.bzip2" | b"ssh2.shell" | b"ssh2.exec"
            | b"ssh2.tunnel" | b"ssh2.sftp" | b"ssh2.scp" => Some(W::DoubleSlash),
            b"file" => Some(W::File),
            b"jar" => Some(W::Jar),
            b"netdoc" | b"local_file" => Some(W::Slash),
            _ => None,
        }
    }
    let b = input.as_bytes();
    for p in positions(b':', b) {
        // the last letter of every wrapper name (`https:` exits here)
        if p == 0
            || !matches!(
                b[p - 1] | 0x20,
                b'p' | b'r' | b't' | b'b' | b'a' | b'g' | b'2' | b'l' | b'c' | b'e'
            )
        {
            continue;
        }
        let mut s = p;
        while s > 0 && p - s < 16 && {
            let c = b[s - 1];
            c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
        } {
            s -= 1;
        }
        if s == p || (s > 0 && b[s - 1].is_ascii_alphanumeric()) {
            continue;
        }
        // "x.php://": the part after the last '.' counts too (as a word boundary would)
        let (w, s) = match lookup(&b[s..p]) {
            Some(w) => (w, s),
            None => match b[s..p].iter().rposition(|&c| c == b'.') {
                Some(d) => match lookup(&b[s + d + 1..p]) {
                    Some(w) => (w, s + d + 1),
                    None => continue,
                },
                None => continue,
            },
        };
        let rest = &b[p + 1..];
        let end = match w {
            W::DoubleSlash => rest.starts_with(b"//").then_some(p + 3),
            W::File => {
                let n = rest.iter().take(4).take_while(|&&c| c == b'/').count();
                rest.get(n)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || b"~.%$_\\-".contains(&c))
                    .then_some(p + 1 + n + 1)
            }
            W::Jar => {
                let n = rest
                    .iter()
                    .take(17)
                    .take_while(|&&c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
                    .count();
                (n > 0 && rest[0].is_ascii_alphabetic() && rest.get(n) == Some(&b':'))
                    .then_some(p + 2 + n)
            }
            W::Slash => (rest.first() == Some(&b'/')).then_some(p + 2),
        };
        if let Some(e) = end {
            return Some(Finding {
                rule: "lfi-wrapper",
                span: s..e.min(b.len()),
            });
        }
    }
    None
}

fn null_byte(input: &str) -> Option<Finding> {
    let b = input.as_bytes();
    for p in positions(0, b).take(16) {
        // the token before the NUL, back to a blank or another NUL (at most 256 bytes)
        let lo = p.saturating_sub(256);
        let mut s = p;
        while s > lo && !matches!(b[s - 1], 0 | b' ' | b'\t' | b'\n' | b'\r') {
            s -= 1;
        }
        let tok = &b[s..p];
        let has_sep = tok.iter().any(|&c| c == b'/' || c == b'\\');
        let ext = {
            let mut k = tok.len();
            while k > 0 && tok[k - 1].is_ascii_alphanumeric() {
                k -= 1;
            }
            let n = tok.len() - k;
            k > 1 && tok[k - 1] == b'.' && (1..=8).contains(&n) && tok[k - 2] != b'.'
        };
        if has_sep || ext {
            // s may sit inside a multibyte char only if lo cut it; move to a boundary
            let mut s = s;
            while !input.is_char_boundary(s) {
                s += 1;
            }
            return Some(Finding {
                rule: "lfi-null-byte",
                span: s..p + 1,
            });
        }
    }
    None
}

/// Is this IPv4 address internal (left to the ssrf detector)?
fn v4_internal(a: std::net::Ipv4Addr) -> bool {
    let o = a.octets();
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || o[0] >= 224
}

fn rfi(input: &str) -> Option<Finding> {
    let lead = match input.as_bytes().first() {
        Some(c) if c.is_ascii_alphabetic() => 0,
        _ => input.len() - input.trim_start().len(),
    };
    let t = &input.as_bytes()[lead..];
    // scheme: file, ftp, ftps, http, https
    let mut w = [0u8; 5];
    for (d, s) in w.iter_mut().zip(t) {
        *d = s.to_ascii_lowercase();
    }
    let n = match &w {
        b"https" => 5,
        [b'f', b't', b'p', b's', _] | [b'h', b't', b't', b'p', _] | [b'f', b'i', b'l', b'e', _] => {
            4
        }
        [b'f', b't', b'p', _, _] => 3,
        _ => return None,
    };
    let rest = &t[n..];
    // trailing-question-mark include trick: "<scheme>?" or "<scheme>:[//]…?" with one '?' run
    let body = input[lead..].trim_end().as_bytes();
    if body.ends_with(b"?") && body.len() >= n {
        let mut k = body.len();
        while k > n && body[k - 1] == b'?' {
            k -= 1;
        }
        let mid = &body[n..k];
        let ok = mid.is_empty()
            || (mid[0] == b':' && !mid.iter().any(|&c| c == b'?' || c.is_ascii_whitespace()));
        if ok {
            return Some(Finding {
                rule: "lfi-rfi-trailing-qmark",
                span: lead..lead + body.len(),
            });
        }
    }
    if !rest.starts_with(b"://") {
        return None;
    }
    let a = n + 3;
    // authority up to '/', '?', '#' or a blank (at most 300 bytes looked at); host after the
    // last '@'. One loop, which also notes whether a ':' occurs (an IPv6 host needs one).
    let mut auth_len = t.len() - a;
    let mut at = 0;
    let mut any_colon = false;
    // one table lookup and one (rarely taken) branch per byte
    static AUTH: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut i = 0;
        while i < 8 {
            t[b"/?# \t\n\r\x0c"[i] as usize] = 1;
            i += 1;
        }
        t[b'@' as usize] = 2;
        t[b':' as usize] = 3;
        t
    };
    for (i, &c) in t[a..].iter().take(300).enumerate() {
        match AUTH[c as usize] {
            0 => {}
            1 => {
                auth_len = i;
                break;
            }
            2 => at = i + 1,
            _ => any_colon = true,
        }
    }
    let auth = &input[lead + a..lead + a + auth_len];
    let host = &auth[at.min(auth.len())..];
    // an IP literal ends in a digit (IPv4, with or without port) or holds a ':' (IPv6)
    if !(any_colon || host.as_bytes().last().is_some_and(u8::is_ascii_digit)) {
        return None;
    }
    let public_ip = if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.split(']').next().unwrap_or(inner);
        let inner = inner.split('%').next().unwrap_or(inner);
        inner
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|a| (a.segments()[0] & 0xe000) == 0x2000)
    } else if let Ok(a) = host.parse::<std::net::Ipv6Addr>() {
        (a.segments()[0] & 0xe000) == 0x2000
    } else {
        let h = match host.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        h.parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| !v4_internal(a))
    };
    public_ip.then(|| Finding {
        rule: "lfi-rfi-ip-host",
        span: lead..lead + a + auth_len,
    })
}

/// Off-site remote inclusion (a safe subset of CRS 931130, rule `lfi-rfi-offsite`), for query
/// and body values: `host` is the request's `Host` header (a port is ignored; empty when the
/// request has none, and then every host counts as off-site). Fires on a value that *is* an
/// `http(s)`/`ftp(s)` URL whose host is neither `host` nor a subdomain or parent domain of it,
/// and either
/// * whose last path segment names a file the remote server would hand over as source text
///   (`.txt`, `.inc`, `.sh`, `.pl`, `.py`, `.pm`, `.cgi`, `.phtml`, `.php` followed by a `?`,
///   `#` or NUL suffix…; see `OFFSITE_EXT`): what an include of a remote file needs, and not what
///   share links, OAuth `redirect_uri`s or webhook URLs look like; or
/// * whose user-info is `host` itself (`https://shop.example@evil.example/`): a link disguised
///   as ours, which no legitimate URL is.
///
/// Deliberately not flagged (CRS PL2 does): any other off-site URL (`next=https://accounts.
/// google.com/…`, share links, webhooks ending in `.php`), a different port, look-alike hosts
/// (`example.com.s3.amazonaws.com` is a real bucket), `@` inside the path (Mastodon
/// `/@user@instance`), bare `ftp://host` (backup settings forms).
pub fn detect_offsite(input: &str, host: &str) -> Option<Finding> {
    let b = input.as_bytes();
    if b.len() < 10 || memchr::memchr(b':', &b[..b.len().min(40)]).is_none() {
        return None;
    }
    let lead = input.len() - input.trim_start().len();
    let t = &input[lead..];
    let tb = t.as_bytes();
    let pre = |p: &[u8]| tb.len() >= p.len() && tb[..p.len()].eq_ignore_ascii_case(p);
    if !(pre(b"https://") || pre(b"http://") || pre(b"ftp://") || pre(b"ftps://")) {
        return None;
    }
    let a = tb.iter().position(|&c| c == b':')? + 3;
    let auth_len = tb[a..]
        .iter()
        .take(300)
        .position(|&c| matches!(c, b'/' | b'?' | b'#' | b'\\' | 0) || c.is_ascii_whitespace())
        .unwrap_or(tb.len() - a);
    let auth = &t[a..a + auth_len];
    let (userinfo, hostport) = match auth.rfind('@') {
        Some(i) => (Some(&auth[..i]), &auth[i + 1..]),
        None => (None, auth),
    };
    let url_host = host_name(hostport);
    let req_host = host_name(host);
    if url_host.is_empty() || same_site(url_host, req_host) {
        return None;
    }
    let span_to = |e: usize| Finding {
        rule: "lfi-rfi-offsite",
        span: lead..lead + e,
    };
    // user-info naming our host: "https://shop.example@evil.example/"
    if let Some(ui) = userinfo {
        let name = ui.split(':').next().unwrap_or(ui);
        if !req_host.is_empty() && host_name(name).eq_ignore_ascii_case(req_host) {
            return Some(span_to(a + auth_len));
        }
    }
    // last path segment and what follows it
    let rest = &tb[a + auth_len..];
    if rest.first() != Some(&b'/') {
        return None;
    }
    let path_len = rest
        .iter()
        .position(|&c| matches!(c, b'?' | b'#' | 0) || c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let path = &rest[..path_len];
    let seg = &path[path.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1)..];
    let dot = seg.iter().rposition(|&c| c == b'.')?;
    let ext = &seg[dot + 1..];
    if dot == 0 || ext.is_empty() || ext.len() > 6 {
        return None;
    }
    let mut buf = [0u8; 6];
    buf[..ext.len()].copy_from_slice(ext);
    buf.make_ascii_lowercase();
    let ext = &buf[..ext.len()];
    let suffix = &rest[path_len..];
    let tail_ok = |strict: bool| {
        let s = suffix.trim_ascii_end();
        if s.iter().any(u8::is_ascii_whitespace) {
            // the value is more than one URL (text around a link)
            false
        } else if strict {
            // a server-side script: only with a truncation suffix ("?", "#", NUL) and nothing
            // after it, so the include's appended extension is cut off
            matches!(s, [b'?' | b'#' | 0, ..] if s[1..].iter().all(|&c| matches!(c, b'?' | b'#' | 0)))
        } else {
            true
        }
    };
    let hit = match OFFSITE_EXT.iter().find(|(e, _)| e.as_bytes() == ext) {
        Some(&(_, strict)) => tail_ok(strict),
        None => false,
    };
    hit.then(|| span_to(a + auth_len + path_len))
}

/// Extensions for [`detect_offsite`]: `(ext, strict)`. Non-strict: files served as source
/// text, which is what a remote include fetches (`shell.txt`, `c99.inc`); a query may follow
/// (`shell.txt?cmd=id`). Strict: server-side scripts, flagged only with a truncation suffix and
/// nothing else after the path (`crash.php?`, `x.php%00`) — a bare `https://other/ipn.php` is a
/// payment or webhook URL.
const OFFSITE_EXT: &[(&str, bool)] = &[
    ("txt", false),
    ("inc", false),
    ("sh", false),
    ("pl", false),
    ("pm", false),
    ("py", false),
    ("cgi", true),
    ("php", true),
    ("php3", true),
    ("php4", true),
    ("php5", true),
    ("phtml", true),
    ("jsp", true),
    ("asp", true),
    ("aspx", true),
];

/// Host name of a `host[:port]` / `[v6]:port` authority, without port, brackets or final dot.
fn host_name(hp: &str) -> &str {
    let h = if let Some(inner) = hp.strip_prefix('[') {
        inner.split(']').next().unwrap_or(inner)
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
            _ => hp,
        }
    };
    h.trim_end_matches('.')
}

/// Same site: equal, or one a subdomain of the other (ASCII case-insensitive). An empty
/// request host matches nothing.
fn same_site(url: &str, req: &str) -> bool {
    if req.is_empty() {
        return false;
    }
    let sub = |a: &str, b: &str| {
        a.len() > b.len()
            && a.as_bytes()[a.len() - b.len() - 1] == b'.'
            && a.as_bytes()[a.len() - b.len()..].eq_ignore_ascii_case(b.as_bytes())
    };
    url.eq_ignore_ascii_case(req) || sub(url, req) || sub(req, url)
}

/// A value that is a register_globals include variable name (CRS 931110's parameter list).
fn global_param(input: &str) -> Option<Finding> {
    const NAMES: &[&str] = &[
        "mosconfig_absolute_path",
        "_conf[path]",
        "_server[document_root]",
        "gallery_basedir",
        "path[docroot]",
        "appserv_root",
        "config[root_dir]",
    ];
    let t = input.trim();
    if t.len() < 10 || t.len() > 32 || !t.contains(['_', '[']) {
        return None;
    }
    if NAMES.iter().any(|n| t.eq_ignore_ascii_case(n)) {
        let s = input.len() - input.trim_start().len();
        return Some(Finding {
            rule: "lfi-rfi-global-param",
            span: s..s + t.len(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> Option<&'static str> {
        let f = detect(s)?;
        assert!(
            s.get(f.span.clone()).is_some(),
            "bad span {:?} in {s:?}",
            f.span
        );
        assert!(!f.span.is_empty() || s.is_empty(), "empty span in {s:?}");
        Some(f.rule)
    }

    #[test]
    fn traversal_attacks() {
        for s in [
            "../../../etc/passwd",
            "..\\..\\..\\windows\\win.ini",
            "..\\pineapple",
            "../x",
            "/../../x",
            "....//....//etc/hosts",
            "..;/..;/manager/html",
            "..;.\\.;\\.",
            "..%c0%af..%c0%afetc",
            "..%u2215..%u2215boot",
            "%u002e%u002e/%u002e%u002e/x",
            "0x2e0x2e0x2f0x2e0x2e0x2fetc",
            "\u{FF0E}\u{FF0E}\u{FF0F}\u{FF0E}\u{FF0E}\u{FF0F}x",
            "..\u{2215}..\u{2215}x",
            "foo/../../bar",
            "x=1&f=..\\..\\a",
            "..\u{FFFD}\u{FFFD}..\u{FFFD}\u{FFFD}etc",
            "/.../.../WINDOWS/win.ini",
            "0x5c0x2e.\u{0}/",
        ] {
            assert_eq!(rule(s), Some("lfi-traversal"), "{s:?}");
        }
    }

    #[test]
    fn file_attacks() {
        for (s, r) in [
            ("/etc/passwd", "lfi-os-file"),
            ("cat /etc/shadow", "lfi-os-file"),
            ("/@fs/etc/passwd", "lfi-sensitive-file"),
            ("/proc/self/environ", "lfi-os-file"),
            ("c:\\windows\\win.ini", "lfi-os-file"),
            ("C:/Windows/System32/drivers/etc/hosts", "lfi-os-file"),
            ("\\winnt\\system32\\cmd.exe", "lfi-os-file"),
            ("/root/.aws/credentials", "lfi-os-file"),
            ("/var/log/apache2/access.log", "lfi-os-file"),
            ("/sys/class", "lfi-sensitive-file"),
            (".ssh/id_rsa", "lfi-sensitive-file"),
            ("/path/to/.docker/secrets", "lfi-sensitive-file"),
            ("config/.env", "lfi-sensitive-file"),
            ("/var/www/.env.local", "lfi-sensitive-file"),
            ("/var/www/html/wp-config.php", "lfi-sensitive-file"),
            ("/WEB-INF/web.xml", "lfi-sensitive-file"),
            ("c:\\boot.ini", "lfi-os-file"),
            ("d:\\boot.ini", "lfi-os-file"),
            ("/home/bob/.bash_history", "lfi-sensitive-file"),
            ("backup.sql.gz", "lfi-sensitive-file"),
        ] {
            assert_eq!(rule(s), Some(r), "{s:?}");
        }
    }

    #[test]
    fn wrappers_nul_rfi() {
        for (s, r) in [
            (
                "php://filter/convert.base64-encode/resource=index.php",
                "lfi-wrapper",
            ),
            ("PHP://input", "lfi-wrapper"),
            ("phar://uploads/x.jpg/shell", "lfi-wrapper"),
            ("zip://shell.jpg#payload.php", "lfi-wrapper"),
            ("expect://id", "lfi-wrapper"),
            ("data://text/plain;base64,PD9waHA=", "lfi-wrapper"),
            ("file:///etc/passwd", "lfi-wrapper"),
            ("file://foo.bar", "lfi-wrapper"),
            ("url:file://etc/services", "lfi-wrapper"),
            ("jar:http://evil.co/b.zip!a", "lfi-wrapper"),
            ("jar:file:/path/to/myApp.jar!/com/x.txt", "lfi-wrapper"),
            ("netdoc:/etc/passwd", "lfi-wrapper"),
            ("local_file://something", "lfi-wrapper"),
            ("index.php\u{0}", "lfi-null-byte"),
            ("images/x\u{0}.jpg", "lfi-null-byte"),
            ("http://66.240.183.75/crash.php", "lfi-rfi-ip-host"),
            (
                "https://[2001:41d0:701:1100::29c8]/gecko.php",
                "lfi-rfi-ip-host",
            ),
            (
                "https://2001:41d0:701:1100::29c8/gecko.php",
                "lfi-rfi-ip-host",
            ),
            ("ftp://user:pw@8.8.8.8/x.txt", "lfi-rfi-ip-host"),
            ("http://1.2.3.4:8080/x.txt", "lfi-rfi-ip-host"),
            ("https://foo.bar?", "lfi-rfi-trailing-qmark"),
            ("http://evil.example/shell.txt??", "lfi-rfi-trailing-qmark"),
            ("https?", "lfi-rfi-trailing-qmark"),
            ("file?", "lfi-rfi-trailing-qmark"),
            ("mosConfig_absolute_path", "lfi-rfi-global-param"),
            ("_SERVER[DOCUMENT_ROOT]", "lfi-rfi-global-param"),
        ] {
            assert_eq!(rule(s), Some(r), "{s:?}");
        }
    }

    #[test]
    fn benign() {
        for s in [
            "O'Brien",
            "select a plan",
            "1 or 2 bedrooms",
            "a<b && c>d",
            "I'm 5'10\"",
            "rock & roll",
            "/home/user/docs",
            "https://example.com/a?b=c",
            "https://foo.bar?foo=bar",
            "john.doe@example.com",
            "C:\\Program Files",
            "C:\\Program Files (x86)\\App\\app.exe",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0",
            r#"{"name": "x", "tags": ["a", "b"], "path": "/api/v1/items"}"#,
            ".env",
            "copy the .env file and edit it",
            "1.2.3.4",
            "version 1.2.3.4",
            "see ../docs for details",
            "[a](../a.md) and [b](../b.md)",
            "Wait... what?/ok",
            "/get/foo../1234",
            "/get/foo.../1234",
            "/get/..foo",
            "/get/..",
            "/test.environment",
            "firstname.dockery@host.tld",
            "/api/users/42/profile",
            "/windows/download",
            "https://github.com/org/repo/blob/main/.gitignore",
            "data:image/png;base64,iVBORw0KGgo=",
            "File:///",
            "profile:/x",
            "http://www.example.com/some/path",
            "https://example.com/search?q=what?",
            "10.0.0.0/8",
            "1/26/11",
            "2-3/4 CELLO BAGS",
            "Is this file?",
            "files?",
            "https://foo.bar",
            "2001:db8::1",
            "http://127.0.0.1/x",
            "/sys-admin/login",
            "/etcetera/x",
            "/usr/share/doc",
            "mosConfig",
            "the backup .sql.gz file",
            ".sql.gz",
            "",
        ] {
            assert_eq!(rule(s), None, "{s:?}");
        }
    }

    #[test]
    fn paths() {
        for (p, r) in [
            ("/@fs/etc/passwd", "lfi-sensitive-file"),
            ("/@fs/.env", "lfi-sensitive-file"),
            ("/get/sys/class", "lfi-sensitive-file"),
            ("/get/proc/interrupts", "lfi-sensitive-file"),
            ("/get/backup.sql.zip", "lfi-sensitive-file"),
            ("/wp-content/debug.log", "lfi-restricted-path"),
            ("/@id/__x00__", "lfi-restricted-path"),
            ("/.gitignore", "lfi-restricted-path"),
            ("/.claude/settings.json", "lfi-hidden-path"),
            ("/app/.cursor/mcp.json", "lfi-hidden-path"),
            ("/static/../../etc/passwd", "lfi-traversal"),
        ] {
            let f = detect_path(p).unwrap_or_else(|| panic!("{p}"));
            assert_eq!(f.rule, r, "{p}");
            assert!(p.get(f.span).is_some());
        }
        for p in [
            "/",
            "/login",
            "/api/users",
            "/search",
            "/css/style.css",
            "/.well-known/openid-configuration",
            "/jquery.nivo.slider.pack.js",
            "/jquery.history.min.js",
            "/node_modules/@osd/ui-framework/dist/kui_light.css",
            "/api/continue/session",
            "/assets/config.json",
            "/package.json",
            "/users/@alice",
            "/v1.2/items",
            "/files/report.final.pdf",
        ] {
            assert_eq!(detect_path(p), None, "{p}");
        }
    }

    #[test]
    fn spans() {
        let s = "x=../../etc/passwd";
        let f = detect(s).unwrap();
        assert_eq!(&s[f.span], "../../");
        let s = "look: /etc/passwd now";
        let f = detect(s).unwrap();
        assert_eq!(&s[f.span], "/etc/passwd");
        let s = "a\\\\b\\.env";
        let f = detect(s).unwrap();
        assert_eq!(&s[f.span], ".env");
    }

    #[test]
    fn rules_listed() {
        for s in [
            "../x",
            "/etc/passwd",
            "/x/.htpasswd",
            "php://input",
            "a.php\u{0}",
            "http://8.8.8.8/x",
            "http?",
            "appserv_root",
        ] {
            let f = detect(s).unwrap();
            assert!(RULES.contains(&f.rule));
        }
    }

    #[test]
    fn leftover_escapes() {
        for (s, r, frag) in [
            (
                "ftp%3A%2F%2F1.1.1.1",
                "lfi-rfi-ip-host",
                "ftp%3A%2F%2F1.1.1.1",
            ),
            ("0x5c0x2e.%00/", "lfi-traversal", "0x2e.%00/"),
            ("%2Fetc%2Fpasswd", "lfi-os-file", "%2Fetc%2Fpasswd"),
            ("php%3A%2F%2Finput", "lfi-wrapper", "php%3A%2F%2F"),
            (
                "x=%2e%2e%2f%2e%2e%2fboot.ini",
                "lfi-traversal",
                "%2e%2e%2f%2e%2e%2f",
            ),
        ] {
            let f = detect(s).unwrap_or_else(|| panic!("{s:?}"));
            assert_eq!((f.rule, &s[f.span]), (r, frag), "{s:?}");
        }
        for s in [
            "100%25 cotton",
            "50% off",
            "a%2Fb",
            "https%3A%2F%2Fshop.example%2Fcart",
            "%2Fhome%2Fuser%2Fdocs",
            "%E2%82%AC 5",
            "%",
            "%%41",
        ] {
            assert_eq!(rule(s), None, "{s:?}");
        }
    }

    #[test]
    fn offsite() {
        fn off<'a>(s: &'a str, h: &str) -> Option<&'a str> {
            detect_offsite(s, h).map(|f| &s[f.span])
        }
        for (s, h) in [
            ("http://evil.example/shell.txt", "shop.example"),
            ("http://evil.example/shell.txt?cmd=id", "shop.example"),
            ("HTTPS://EVIL.EXAMPLE/C99.TXT", "shop.example"),
            ("ftp://evil.example/x/r57.inc", "shop.example"),
            ("http://evil.example/x.sh", ""),
            ("http://evil.example/x.php#", "shop.example:8080"),
            ("http://evil.example/x.php\0", "shop.example"),
            ("https://evil.example/include.py", "shop.example"),
            ("https://shop.example@evil.example/", "shop.example"),
            ("https://shop.example:x@evil.example/login", "shop.example"),
            ("http://sub.evil.example/a.txt", "evil.example.shop.example"),
        ] {
            let s = &s.replace("\\0", "\0");
            let f = detect_offsite(s, h).unwrap_or_else(|| panic!("{s:?} {h:?}"));
            assert_eq!(f.rule, "lfi-rfi-offsite");
            assert!(s.get(f.span).is_some());
        }
        assert_eq!(
            off("http://evil.example/shell.txt?x=1", "a.example"),
            Some("http://evil.example/shell.txt")
        );
        for (s, h) in [
            // same host, subdomain, parent domain, other port
            ("https://shop.example/robots.txt", "shop.example"),
            ("https://SHOP.example./robots.txt", "shop.example:443"),
            ("https://cdn.shop.example/notes.txt", "shop.example"),
            ("https://shop.example/notes.txt", "www.shop.example"),
            ("https://shop.example:8443/notes.txt", "shop.example"),
            // ordinary off-site links
            (
                "https://accounts.google.com/o/oauth2/auth?client_id=1",
                "shop.example",
            ),
            ("https://client.example/oauth/callback.php", "auth.example"),
            ("https://merchant.example/ipn.php", "pay.example"),
            ("https://forum.example/viewtopic.php?t=1", "shop.example"),
            ("https://example.org", "shop.example"),
            ("https://example.org/", "shop.example"),
            ("https://example.org/about", "shop.example"),
            ("https://example.org/a.pdf", "shop.example"),
            ("https://example.org/script.js", "shop.example"),
            (
                "https://example.org/@alice@mastodon.example",
                "shop.example",
            ),
            (
                "https://example.org/readme.txt is worth reading",
                "shop.example",
            ),
            ("see https://example.org/readme.txt", "shop.example"),
            ("ftp://ftp.example.org/pub/", "shop.example"),
            ("https://user@example.org/x.txt.bak", "shop.example"),
            ("https://bob@example.org/", "shop.example"),
            ("https://example.com.s3.amazonaws.com/a.png", "example.com"),
            ("mailto:bob@example.org", "shop.example"),
            ("https:///x.txt", "shop.example"),
            ("O'Brien", "shop.example"),
            ("", ""),
        ] {
            assert_eq!(off(s, h), None, "{s:?} {h:?}");
        }
    }

    #[test]
    fn file_gate_is_exact_for_no() {
        // whenever the four-byte gate says no, neither automaton can match
        let fa = &*FILES;
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let parts: &[&str] = &[
            "/", "etc", "/etc/", "passwd", "proc", "self", ".env", "WEB-INF", "web", "win",
            "Windows", "system32", "a", "1", ".", "-", "_", "boot", ".ssh", "id_rsa", "usr", "var",
            "log", "@fs", "@id", "ROOT", "sys", "config", "conf", "user", "secrets",
        ];
        for _ in 0..100_000 {
            let mut v = String::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            for _ in 0..(seed >> 60) + 1 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                v.push_str(parts[(seed >> 40) as usize % parts.len()]);
            }
            if fa.may_match(v.as_bytes()) {
                continue;
            }
            assert!(fa.main.find(v.as_str()).is_none(), "{v:?}");
            let input = aho_corasick::Input::new(&v).anchored(aho_corasick::Anchored::Yes);
            assert!(
                v.starts_with('/') || fa.start.find(input).is_none(),
                "{v:?}"
            );
        }
        // and the common benign shapes take the no
        for v in [
            "/api/orders/42",
            "/api/v1/users/42",
            "https://shop.example/cart?step=2",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ] {
            assert!(!fa.may_match(v.as_bytes()), "{v}");
        }
        // case-insensitive, at every position kind
        for v in [
            "/ETC/passwd",
            "x=/Etc/Shadow",
            "etc/passwd",
            "a/WEB-INF/web.xml",
            "/x/./etc/passwd",
        ] {
            assert!(fa.may_match(v.as_bytes()), "{v}");
            assert!(detect(v).is_some(), "{v}");
        }
    }

    #[test]
    fn fast_paths_keep_detections() {
        for (s, r) in [
            ("https://8.8.8.8/x.php", "lfi-rfi-ip-host"),
            ("http://1.2.3.4:8080/", "lfi-rfi-ip-host"),
            ("http://u@[2001:db8:1::1]/", "lfi-rfi-ip-host"),
            ("https://x.example/?", "lfi-rfi-trailing-qmark"),
            ("x.php://filter", "lfi-wrapper"),
            ("COMPRESS.ZLIB://x", "lfi-wrapper"),
            ("ssh2.exec://h/id", "lfi-wrapper"),
            ("jar:http://evil.co/b.zip!a", "lfi-wrapper"),
            ("file:x/y", "lfi-wrapper"),
            ("db.SQL.gz", "lfi-sensitive-file"),
            ("dump.Sql.tar.gz", "lfi-sensitive-file"),
            ("/x/backup.sql.bz2", "lfi-sensitive-file"),
            ("0x2e0x2e/0x2e0x2e/x", "lfi-traversal"),
        ] {
            assert_eq!(rule(s), Some(r), "{s:?}");
        }
        // long values take the SIMD paths
        let pad = "a ".repeat(400);
        for (s, r) in [
            (format!("{pad}/etc/passwd"), "lfi-os-file"),
            (format!("{pad} ../../x"), "lfi-traversal"),
            (format!("{pad} php://input"), "lfi-wrapper"),
            (format!("{pad} 0x2e0x2e0x2f0x2e0x2e0x2f"), "lfi-traversal"),
        ] {
            assert_eq!(rule(&s), Some(r), "{s:?}");
        }
        for s in [
            "https://x.example/a.b/c",
            "http://shop.example:8080/x",
            "ftp://a.b/c",
            &format!("{pad} a0x2e0x2e0x2f0x2e0x2e0x2f"),
        ] {
            assert_eq!(rule(s), None, "{s:?}");
        }
    }

    #[test]
    fn no_panic_on_weird_input() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let alphabet: &[&str] = &[
            ".", "/", "\\", "%", "u", "0x", "2e", "c0", "af", "\u{0}", "\u{FFFD}", "\u{FF0E}", "é",
            ":", "?", "[", "]", "@", "etc", "passwd", "%u", "e0%80", "…", "a", "1",
        ];
        for len in 0..400 {
            let mut s = String::new();
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(alphabet[(seed >> 40) as usize % alphabet.len()]);
            }
            if let Some(f) = detect(&s) {
                assert!(s.get(f.span).is_some());
            }
            for h in ["", "a.example", "é:1", "[::1]:8"] {
                if let Some(f) = detect_offsite(&format!("http://{s}"), h) {
                    assert!(f.span.end <= s.len() + 7);
                }
            }
            let bytes: Vec<u8> = s.bytes().rev().collect();
            let t = String::from_utf8_lossy(&bytes);
            if let Some(f) = detect(&t) {
                assert!(t.get(f.span).is_some());
            }
        }
        for s in [
            "%", "%u", "%u00", "0x", "0x2", "%c0%", "%e0%80%", "..", "\u{0}", "…/…/",
        ] {
            let _ = detect(s);
        }
    }
}
