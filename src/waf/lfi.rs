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
//! * **RFI** (CRS 931100/931110/931120): `lfi-rfi-ip-host`, a value that is an
//!   `http(s)`/`ftp(s)`/`file` URL whose host is a public IP literal (internal addresses are
//!   left to the ssrf detector); `lfi-rfi-trailing-qmark`, such a URL ending in `?` with no
//!   other `?` (the include-suffix trick) or the bare scheme followed by `?`;
//!   `lfi-rfi-global-param`, a value that *is* a register_globals include variable
//!   (`mosConfig_absolute_path`, `_CONF[path]`, `_SERVER[DOCUMENT_ROOT]`, …): parameter names
//!   are inputs too, and nobody legitimately sends these names.
//!
//! Cost: one pass of byte checks (SIMD `memchr` for long inputs) decides which families can
//! apply; traversal only examines `..` occurrences in plain ASCII; all file rules share one
//! Aho-Corasick DFA whose patterns all start with `/`, so its prefilter jumps between
//! separators. No regex, no allocation unless the value needs separator normalisation.
//!
//! Known gaps and accepted noise: CRS 931130/931131 (PL2, "off-domain reference": any URL whose
//! host is not the request's Host) is not implemented: the detector never sees the Host, and
//! flagging every URL in a parameter would flag ordinary links. Payloads encoded only as
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
    "lfi-restricted-path",
    "lfi-hidden-path",
];

/// Looks for a file-inclusion attack in one decoded input value (or the request path).
/// Returns the first rule that matches, with the byte span of the matched fragment.
pub fn detect(input: &str) -> Option<Finding> {
    detect_impl(input, false)
}

/// Which byte families are present (one branchy pass for short inputs, SIMD scans for long).
struct Flags {
    sep: bool,
    dot: bool,
    colon: bool,
    nul: bool,
    high: bool,
    esc: bool,
    q: bool,
}

fn flags(b: &[u8]) -> Flags {
    if b.len() > 64 {
        return Flags {
            sep: memchr::memchr2(b'/', b'\\', b).is_some(),
            dot: memchr::memchr(b'.', b).is_some(),
            colon: memchr::memchr(b':', b).is_some(),
            nul: memchr::memchr(0, b).is_some(),
            high: !b.is_ascii(),
            esc: memchr::memchr(b'%', b).is_some()
                || memchr::memchr2_iter(b'x', b'X', b).any(|i| i > 0 && b[i - 1] == b'0'),
            q: memchr::memchr(b'?', b).is_some(),
        };
    }
    let mut f = Flags {
        sep: false,
        dot: false,
        colon: false,
        nul: false,
        high: false,
        esc: false,
        q: false,
    };
    let mut prev = 0u8;
    for &c in b {
        match c {
            b'/' | b'\\' => f.sep = true,
            b'.' => f.dot = true,
            b':' => f.colon = true,
            0 => f.nul = true,
            b'%' => f.esc = true,
            b'?' => f.q = true,
            b'x' | b'X' if prev == b'0' => f.esc = true,
            0x80..=0xff => f.high = true,
            _ => {}
        }
        prev = c;
    }
    f
}

fn detect_impl(input: &str, path: bool) -> Option<Finding> {
    let b = input.as_bytes();
    let Flags {
        sep,
        dot,
        colon,
        nul,
        high,
        esc,
        q,
    } = flags(b);
    if dot && !sep {
        // a SQL dump file name ("backup.sql.gz") needs no separator
        if let Some(span) = sql_backup(input) {
            return Some(Finding {
                rule: "lfi-sensitive-file",
                span,
            });
        }
    }
    if !(sep || colon || nul || high || esc || q) {
        return global_param(input);
    }
    // non-ASCII only matters for traversal through unicode dots (U+FF0E, U+2024, U+FE52)
    let udot = high && (UDOT_FINDERS.iter().any(|f| f.find(b).is_some()));
    if (esc || nul || high) && (dot || esc || udot) {
        if let Some(f) = traversal_general(input) {
            return Some(f);
        }
    } else if dot && sep {
        if let Some(f) = traversal_ascii(b) {
            return Some(f);
        }
    }
    if colon {
        if let Some(f) = wrapper(input) {
            return Some(f);
        }
    }
    if sep || (high && USLASH_FINDERS.iter().any(|f| f.find(b).is_some())) {
        if let Some(f) = files(input, path) {
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
fn traversal_ascii(b: &[u8]) -> Option<Finding> {
    // ASCII only (the caller checked), so every offset is a char boundary
    let input = std::str::from_utf8(b).ok()?;
    let t = Toks { input, ascii: true };
    let mut done = 0;
    for p in memchr::memchr_iter(b'.', b) {
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
    FileAc {
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
    let vb = v.as_bytes();
    if vb.iter().any(u8::is_ascii_whitespace) {
        return None;
    }
    let fa = &*FILES;
    for p in SQL_FINDER
        .find_iter(vb)
        .chain(SQL_FINDER_UC.find_iter(vb))
        .take(64)
    {
        if p == 0 {
            continue;
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

static SQL_FINDER: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b".sql."));
static SQL_FINDER_UC: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b".SQL."));
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
    let found = (|| {
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

fn files(input: &str, path: bool) -> Option<Finding> {
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
        if word.len() < 3 || word.len() > 14 {
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
    for p in memchr::memchr_iter(b':', b) {
        let mut s = p;
        while s > 0 && p - s < 16 && (b[s - 1].is_ascii_alphanumeric() || b"._".contains(&b[s - 1]))
        {
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
    for p in memchr::memchr_iter(0, b).take(16) {
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
    let lead = input.len() - input.trim_start().len();
    let t = &input.as_bytes()[lead..];
    // scheme: file, ftp, ftps, http, https
    let pre = |p: &[u8]| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p);
    let n = if pre(b"https") || pre(b"ftps") {
        if pre(b"https") {
            5
        } else {
            4
        }
    } else if pre(b"http") || pre(b"file") {
        4
    } else if pre(b"ftp") {
        3
    } else {
        return None;
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
    // authority up to '/', '?', '#' or a blank; host after the last '@'
    let auth_len = t[a..]
        .iter()
        .take(300)
        .position(|&c| matches!(c, b'/' | b'?' | b'#') || c.is_ascii_whitespace())
        .unwrap_or(t.len() - a);
    let auth = &input[lead + a..lead + a + auth_len];
    let host_off = auth.rfind('@').map_or(0, |i| i + 1);
    let host = &auth[host_off..];
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
