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
//! * **Sensitive files** (`lfi-sensitive-file`): the crate's sensitive-file list
//!   (`waf::lists`), the entries of scope `Anywhere`: secrets and OS files (secret, history and
//!   credential dotfiles and dot-directories, not editor/CI config such as `.gitignore` or
//!   `.vscode`; `proc/*`, `sys/*`, `boot.ini`, `win.ini`, `wp-config.`, `WEB-INF/`), matched case-insensitively only where
//!   the value looks like a file path: the entry follows a `/` or `\`, or starts a value that
//!   contains a separator, and does not run on into a longer name (`.env` does not match
//!   `.environment`). So `.env` as a word never fires, `config/.env` does. SQL dump names
//!   (`backup.sql.gz`, `lists::SQL_DUMP_SUFFIXES`) fire in a value without blanks.
//! * **Path only** ([`detect_path`]): the entries of scope `Path` that are harmless as values
//!   but probes as a path (`/.gitignore`, `/wp-content/debug.log`, Vite's `/@id/`;
//!   `lfi-restricted-path`), and any hidden segment other than `/.well-known/`
//!   (`lfi-hidden-path`: `/.claude/settings.json`, `/.git/…`; applications behind this layer do
//!   not route dot-directories). Project files (`/package.json`, `/config.json`, `Dockerfile`)
//!   are left to the 404-only `scanner::detect_probe_path`: an application may serve those.
//! * **Wrappers** (`lfi-wrapper`): `php://`, `phar://`, `zip://`, `expect://`, `glob://`,
//!   `data://`, `compress.zlib://`, `ssh2.*://`, `file:` followed by a path or host, `jar:<scheme>:`,
//!   `netdoc:/`, `local_file:/` (Python urllib). `data:` URIs without `//` (images) do not fire.
//! * **NUL truncation** (`lfi-null-byte`): a NUL right after a path or a `name.ext` token.
//! * **Shell redirection** (`lfi-shell-redirect`, CRS 930120): a value that is `>` or `>>`
//!   glued to an absolute path of two segments or more, with no blank (`>/tmp/curl`): the
//!   argument writes a file. A quote (`> /r/rust`) or a comparison (`a > /b`) does not fire.
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
//! allocation unless the value needs separator normalisation or leftover decoding. A value
//! with escapes, NULs or unicode dots and slashes is walked event by event (dot runs, `%`,
//! `0x`, NUL, non-ASCII bytes from block masks), not token by token; other non-ASCII
//! characters read as letters and keep the ASCII walk; the leftover round skips the traversal
//! walk when its escapes decode to letters it reads alike.
//!
//! * **Off-site URL, paranoia level 2** ([`detect_strict`], `lfi-rfi-pl2-offsite`): CRS 931130
//!   in full for values that *are* a URL: any of CRS's schemes, a host that is not the
//!   request's `Host` or a subdomain of it (other ports, look-alike hosts and `@` tricks
//!   included). It flags every off-site link parameter, hence level 2; the `strict` submodule's
//!   docs list how it departs from CRS (the whole value, a `Host` needed, `file:///` local).
//!
//! Known gaps and accepted noise: at paranoia level 1, CRS 931130/931131 (PL2, "off-domain
//! reference": any URL whose host is not the request's Host) is only covered by the
//! [`detect_offsite`] subset: flagging every off-site URL would flag share links, OAuth
//! `redirect_uri`s, `next=` redirects to identity providers and webhook URLs. At either level
//! a URL inside the request path (931131) and a URL within text are not flagged. Payloads
//! encoded only as U+FFFD runs (overlong dots *and* slashes, no literal dot) cannot be told
//! from broken text. Relative OS paths without traversal (`etc/passwd` alone) only fire for
//! the best-known targets. Redirections inside a command line (`ls >/tmp/x`) are the rce
//! detector's business. Code snippets with `'../../x'` imports, prose naming `/etc/…` files,
//! and `~/.ssh/…` paths do fire (as in CRS).
use super::Finding;

mod file_tables;
mod files;
mod flags;
mod rfi;
mod strict;
#[cfg(test)]
mod tests;
mod traversal;
mod wrappers;

pub(crate) use file_tables::warm_up;
use file_tables::{sql_backup_no_ws, unicode_marks, UnicodeMarks};
pub use files::detect_path;
use files::{files, shell_redirect};
use flags::{
    flags, long_flags, pairs, positions, short_flags, Flags, C_COLON, C_DOT, C_GLOBAL, C_HIGH,
    C_NUL, C_PCT, C_Q, C_QL, C_SEP, C_WS, C_X,
};
pub(super) use flags::{CLASS, FLAGS_SHORT};
pub use rfi::detect_offsite;
use rfi::{global_param, rfi};
use traversal::{char_class, hexval, leftover_escape, traversal_ascii, traversal_general};
use wrappers::{null_byte, wrapper};

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
    "lfi-shell-redirect",
    strict::R_PL2_OFFSITE,
];

/// The paranoia level 2 rules (run when [`detect`] found nothing and the agent runs at level
/// 2): `lfi-rfi-pl2-offsite`, a value that is a URL whose host is not `host`, the request's
/// `Host` (CRS 931130; the `strict` submodule's docs say how it is shaped and what it fires
/// on). An empty `host` (no `Host` header) fires nothing.
pub fn detect_strict(input: &str, host: &str) -> Option<Finding> {
    if input.len() < 6 || memchr::memchr(b':', &input.as_bytes()[..input.len().min(40)]).is_none() {
        return None;
    }
    strict::offsite_url(input, host)
}

/// Looks for a file-inclusion attack in one decoded input value (or the request path).
/// Returns the first rule that matches, with the byte span of the matched fragment.
pub fn detect(input: &str) -> Option<Finding> {
    detect_impl(input, false)
}

/// [`detect`] on a value whose OR of [`CLASS`] the caller already has (the scan's shared pass,
/// [`super::classes`]): its flags are that OR ([`short_flags`], [`long_flags`]), so the value
/// is not read again to find them.
pub(super) fn detect_classified(input: &str, class_or: u16) -> Option<Finding> {
    let fl = if input.len() > FLAGS_SHORT {
        long_flags(input.as_bytes(), class_or)
    } else {
        short_flags(class_or)
    };
    detect_with(input, false, Flags(fl))
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
    // or a fourth encoding round): one more round of ASCII escapes, scanned once more. The
    // decoded copy carries no offsets: a finding's span is mapped back through the escapes.
    // The traversal walk read `input` (its escapes made sure of it) and found nothing; where
    // every escape decodes to a byte that walk reads as it read the escape's three, the
    // decoded copy holds no traversal either, and the walk is not run on it.
    let b = input.as_bytes();
    let d = decode_leftover(input)?;
    let traversal = !escapes_inert(b);
    let f = scan_with::<false>(&d, path, flags(d.as_bytes()), traversal)?;
    Some(Finding {
        rule: f.rule,
        span: raw_offset(b, f.span.start)..raw_offset(b, f.span.end),
    })
}

/// [`detect_impl`] as it was before the escapes were read in place: the general traversal walk
/// on any escape, and the leftover round decoded with an offset per byte.
#[cfg(test)]
pub(super) fn detect_old(input: &str, path: bool) -> Option<Finding> {
    let fl = flags(input.as_bytes());
    if let Some(f) = scan_with::<true>(input, path, fl, true) {
        return Some(f);
    }
    if !fl.has(C_PCT) {
        return None;
    }
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
    let d = String::from_utf8(out).ok()?;
    let f = scan_with::<true>(&d, path, flags(d.as_bytes()), true)?;
    Some(Finding {
        rule: f.rule,
        span: offs[f.span.start] as usize..offs[f.span.end] as usize,
    })
}

/// The `%XX` escapes of ASCII bytes in `b` that one decoding round reads, left to right: (offset
/// of the `%`, decoded byte).
fn ascii_escapes(b: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut next = 0;
    positions(b'%', b).filter_map(move |i| {
        if i < next {
            return None;
        }
        let h = hexval(*b.get(i + 1)?)?;
        let l = hexval(*b.get(i + 2)?)?;
        (h < 8).then(|| {
            next = i + 3;
            (i, (h * 16 + l) as u8)
        })
    })
}

/// `input` with every `%XX` escape of an ASCII byte decoded (one round). `None` when there is
/// no such escape. Only ASCII bytes change, so the result stays valid UTF-8.
fn decode_leftover(input: &str) -> Option<String> {
    let b = input.as_bytes();
    let mut out = Vec::new();
    let mut last = None;
    for (i, c) in ascii_escapes(b) {
        if last.is_none() {
            out.reserve(b.len());
        }
        out.extend_from_slice(&b[last.unwrap_or(0)..i]);
        out.push(c);
        last = Some(i + 3);
    }
    out.extend_from_slice(&b[last?..]);
    String::from_utf8(out).ok()
}

/// The offset in `b` of byte `k` of [`decode_leftover`]'s result (`b.len()` for its end): the
/// byte itself, or the `%` of the escape it was decoded from.
fn raw_offset(b: &[u8], k: usize) -> usize {
    let mut shift = 0;
    for (i, _) in ascii_escapes(b) {
        if i - shift >= k {
            break;
        }
        shift += 2;
    }
    k + shift
}

/// Whether some leftover escape of `b` (`%…` or textual `0x…`) reads as a dot or a separator in
/// the traversal token walk ([`traversal::tok`]). When none does, every escape is three or
/// more ordinary bytes to that walk, and the plain-ASCII traversal pass gives its verdict.
fn escape_in_traversal(b: &[u8]) -> bool {
    let reads = |i: usize| {
        leftover_escape(b, i).is_some_and(|(ch, _)| matches!(char_class(ch), b'.' | b'/'))
    };
    positions(b'%', b).any(reads)
        || memchr::memchr2_iter(b'x', b'X', b).any(|i| i > 0 && b[i - 1] == b'0' && reads(i - 1))
}

fn scan(input: &str, path: bool, fl: Flags) -> Option<Finding> {
    scan_with::<false>(input, path, fl, true)
}

/// Whether every `%XX` escape of an ASCII byte in `b` ([`ascii_escapes`]) decodes to a byte
/// that the traversal walk reads as it reads the escape's three bytes: a letter-like byte
/// (class `a`, not NUL) that starts no escape (`%`, `0`), ends none (`x`, `u`), and stands
/// where no escape of the decoded copy can take it in (no `%` or `0` in the 24 bytes before
/// a hex digit, no `%` in the 6 before any: an overlong `%c0%6e` is a dot), nor one of `b`
/// start inside it (`%40x2e`). The decoded copy then reads as the value with runs of letters
/// shortened, which changes no traversal decision.
fn escapes_inert(b: &[u8]) -> bool {
    ascii_escapes(b).all(|(i, c)| {
        let before =
            |n: usize, set: &[u8]| b[i.saturating_sub(n)..i].iter().any(|x| set.contains(x));
        let letter = char_class(char::from(c)) == b'a'
            && !matches!(c, 0 | b'%' | b'0' | b'x' | b'X' | b'u' | b'U');
        let taken_in = before(6, b"%") || (c.is_ascii_hexdigit() && before(24, b"%0"));
        let zero_x_inside = b[i + 2] == b'0' && matches!(b.get(i + 3), Some(b'x' | b'X'));
        letter && !taken_in && !zero_x_inside
    })
}

/// [`scan`]; `OLD`: the traversal read as before, a token walk of every byte of a value with
/// escapes, NULs or non-ASCII (`traversal::traversal_tokens`), kept for the differential tests.
///
/// `traversal`: run the traversal walk (the caller may know it finds nothing).
fn scan_with<const OLD: bool>(
    input: &str,
    path: bool,
    fl: Flags,
    traversal: bool,
) -> Option<Finding> {
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
    // the token walk that reads escapes, NULs and non-ASCII (`OLD`: every token, the reference)
    let general = |v: &str| {
        #[cfg(test)]
        if OLD {
            return traversal::traversal_tokens(v);
        }
        traversal_general(v)
    };
    // non-ASCII matters to traversal through unicode dots and slashes and U+FFFD: every other
    // character reads as a letter, as an ASCII letter does
    let uni = if high {
        unicode_marks(b)
    } else {
        UnicodeMarks::default()
    };
    let udot = uni.dot;
    // (escapes that read as ordinary bytes and non-ASCII letters leave the general walk the
    // ASCII one's answer, but not its `sep` gate: `%41..;..;` and `é..;..;` are read)
    // (`OLD`: any escape, NUL or non-ASCII byte, as before)
    let general_walk = if OLD {
        nul || high || esc
    } else {
        nul || uni != UnicodeMarks::default() || (esc && escape_in_traversal(b))
    };
    if traversal && general_walk && (dot || esc || udot) {
        if let Some(f) = general(input) {
            return Some(f);
        }
    } else if traversal
        && dot
        && (sep || high || esc)
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
    if sep || uni.slash {
        if let Some(f) = files(input, path, fl) {
            return Some(f);
        }
        if !path {
            if let Some(f) = shell_redirect(input) {
                return Some(f);
            }
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
