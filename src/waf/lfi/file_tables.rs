//! Tables of the file rules: system roots and targets, the sensitive files of `waf::lists`,
//! the Aho-Corasick automaton with its prefix prefilters, SQL dump names, and the finders.

use super::flags::{positions, word_hits, SHORT};
use super::traversal::char_class;
use crate::waf::blocks;
use crate::waf::lists::{sensitive_files, Scope, SQL_DUMP_SUFFIXES};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind, StartKind};
use std::sync::LazyLock;

/// System locations, as absolute paths (`/etc/…`): valid at the value start or after a
/// delimiter. Entries ending in `/` need a path character next; others a segment end.
pub(super) const OS_ROOTS: &[&str] = &[
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
pub(super) const OS_TARGETS: &[&str] = &[
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
pub(super) const OS_DRIVE: &[&str] = &["/windows/", "/winnt/", "/inetpub/", "/boot.ini"];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Root,
    Target,
    Drive,
    /// sensitive file; `true`: also for values (`Scope::Anywhere`), `false`: request path only
    /// (`Scope::Path`)
    Restricted(bool),
}

/// Automata for every file rule, ASCII case-insensitive. `main` holds each pattern in the form
/// it takes after a separator (a `/` is prepended to entries that need one before them), so
/// every pattern starts with `/` and the automaton's prefilter skips to separators; `start`
/// holds the raw entries, searched anchored at offset 0 only; `backup` holds the `.sql.*`
/// dump extensions, searched anchored at each `.sql.`. `main_kinds[id]` gives the rule kind
/// and whether a `/` was prepended.
pub(super) struct FileAc {
    pub(super) main: AhoCorasick,
    /// the same without prefilter, for long inputs where separators are dense
    pub(super) main_long: AhoCorasick,
    pub(super) main_kinds: Vec<(Kind, bool)>,
    pub(super) start: AhoCorasick,
    pub(super) start_kinds: Vec<Kind>,
    pub(super) backup: AhoCorasick,
    /// Hashed sets of pattern prefixes, the bytes after the leading `/` of every `main`
    /// pattern: `prefix[0]` the four bytes of patterns with exactly four, `prefix[1]` the
    /// first five of longer ones. A `/` whose next bytes are in neither cannot start a match.
    /// One bit per hash, 64 Ki bits each. `prefix[2]`: the first two bytes of all of them
    /// (folded as in [`prefix_index`], not hashed), a cheaper first test.
    pub(super) prefix: Box<[[u64; 1024]; 3]>,
    /// Some pattern has fewer than four bytes after its `/` (then the gate is off).
    pub(super) prefix_short: bool,
}

/// Bit index of the first four (`n == 4`) or five bytes of `w` in a [`FileAc::prefix`] set.
/// Bytes are folded with `| 0x20`, which maps both cases of a letter together (and a few
/// punctuation pairs, which only makes the sets larger).
#[inline]
pub(super) fn prefix_index(w: &[u8], n: usize) -> usize {
    let mut k = [0u8; 8];
    k[..n].copy_from_slice(&w[..n]);
    let x = u64::from_le_bytes(k) | (0x2020_2020_2020_2020 >> (8 * (8 - n)));
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

/// Bit index of the first two bytes of `w`, folded with `| 0x20` (`w.len() >= 2`).
#[inline]
pub(super) fn pair_index(w: &[u8]) -> usize {
    usize::from(w[0] | 0x20) | usize::from(w[1] | 0x20) << 8
}

impl FileAc {
    /// Could a `main` pattern start with the bytes `w` (those after a `/`)?
    #[inline]
    pub(super) fn prefix_hit(&self, w: &[u8]) -> bool {
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
    pub(super) fn may_match(&self, vb: &[u8]) -> bool {
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
            return blocks::each_of(vb, b'/', |p| hit(p).then_some(())).is_some();
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

pub(super) static FILES: LazyLock<FileAc> = LazyLock::new(|| {
    let mut all: Vec<(String, Kind)> = Vec::new();
    for (list, kind) in [
        (OS_ROOTS, Kind::Root),
        (OS_TARGETS, Kind::Target),
        (OS_DRIVE, Kind::Drive),
    ] {
        all.extend(list.iter().map(|p| (p.to_string(), kind)));
    }
    let backup: Vec<String> = SQL_DUMP_SUFFIXES
        .iter()
        .map(|s| format!(".sql.{s}"))
        .collect();
    for (entry, scope) in sensitive_files() {
        match scope {
            Scope::Anywhere => all.push((entry, Kind::Restricted(true))),
            Scope::Path => all.push((entry, Kind::Restricted(false))),
            Scope::Probe => {}
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

/// A SQL dump file name (`backup.sql.gz`, `.sql.` and a `SQL_DUMP_SUFFIXES` entry) in a value without blanks.
pub(super) fn sql_backup(v: &str) -> Option<std::ops::Range<usize>> {
    if v.as_bytes().iter().any(u8::is_ascii_whitespace) {
        return None;
    }
    sql_backup_no_ws(v)
}

/// [`sql_backup`] on a value known to have no blanks.
pub(super) fn sql_backup_no_ws(v: &str) -> Option<std::ops::Range<usize>> {
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

pub(super) static ZERO_X_FINDERS: LazyLock<[memchr::memmem::Finder<'static>; 2]> =
    LazyLock::new(|| [b"0x", b"0X"].map(memchr::memmem::Finder::new));
/// Which of the non-ASCII characters the traversal and file rules read occur in `b`: a
/// unicode dot (U+FF0E, U+2024, U+FE52), a unicode slash that the file rules' view turns into
/// `/` (U+2215, U+2216, U+FF0F, U+FF3C), another character the traversal walk reads as a
/// separator or a unit's end (the other slashes of [`char_class`], U+FFFD). One pass over the
/// bytes 0xE2 and 0xEF, which lead all of them, reading the character at each.
pub(super) fn unicode_marks(b: &[u8]) -> UnicodeMarks {
    let mut m = UnicodeMarks::default();
    for i in memchr::memchr2_iter(0xe2, 0xef, b) {
        let Some(&[x, y, z]) = b.get(i..i + 3) else {
            break;
        };
        let c = u32::from(x & 0x0f) << 12 | u32::from(y & 0x3f) << 6 | u32::from(z & 0x3f);
        match c {
            0x2215 | 0x2216 | 0xff0f | 0xff3c => m.slash = true,
            _ => match char_class(char::from_u32(c).unwrap_or('a')) {
                b'.' => m.dot = true,
                b'/' | b'~' => m.other = true,
                _ => {}
            },
        }
    }
    m
}

/// What [`unicode_marks`] found.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct UnicodeMarks {
    pub(super) dot: bool,
    pub(super) slash: bool,
    pub(super) other: bool,
}

pub(super) static DOTSEG_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"/./"));
pub(super) static HIDDEN_FINDER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"/."));

/// Builds this detector's tables now (file automaton and finders), so that the first request to need
/// them does not spend its time budget on it.
pub(crate) fn warm_up() {
    LazyLock::force(&FILES);
    LazyLock::force(&ZERO_X_FINDERS);
    LazyLock::force(&DOTSEG_FINDER);
    LazyLock::force(&HIDDEN_FINDER);
}
