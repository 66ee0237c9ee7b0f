//! The command table: the curated unix and Windows command words with their flags (`EN`,
//! `ANY0`, `WRAP`...), hashed into a fixed table with a trigram prefilter, and [`lookup`].
//! It only answers "is this word a known command, and how cautious must we be with it";
//! where the word sits is the scanner's business.

use std::sync::LazyLock;

/// Also an ordinary English word / name: needs technical arguments or a glued separator.
pub(super) const EN: u16 = 1;
/// At the start of a value, fires with any argument.
pub(super) const ANY0: u16 = 2;
/// Fires even alone as the whole value.
pub(super) const ALONE0: u16 = 4;
/// Network tool: host names and port numbers count as technical arguments.
pub(super) const NET: u16 = 8;
/// Wrapper (`time`, `nohup`...): the next word is the command.
pub(super) const WRAP: u16 = 16;
/// Windows command: `/x` switches, drive paths and `%VAR%` count as technical.
pub(super) const WIN: u16 = 32;
/// Interpreter: `| sh` style pipes fire.
pub(super) const INTERP: u16 = 64;
/// Numeric flags (`kill -9`) count as technical.
pub(super) const NUMFLAG: u16 = 128;
/// A time argument (`at 2:00`) counts as technical.
pub(super) const TIMEARG: u16 = 256;
/// A bare number argument at the end (`sleep 5`) counts as technical after a separator.
pub(super) const NUMARG: u16 = 512;
/// So common in prose that even `;word` alone at the end is not enough.
pub(super) const VERYEN: u16 = 1024;

/// Curated command list: `name flags`, flags letters: e=EN a=ANY0 l=ALONE0 n=NET w=WRAP
/// W=WIN i=INTERP k=NUMFLAG t=TIMEARG s=NUMARG x=VERYEN (implies e).
pub(super) const COMMANDS: &str = "
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
pub(super) const FAMILIES: [&[u8]; 6] = [b"ansible-", b"chef-", b"aa-", b"rmt-", b"ssh-", b"pip3."];

/// The command list as an open-addressing hash table (built once) with a first-two-bytes
/// filter, so that most non-command words are rejected with one bit test.
pub(super) struct CmdTable {
    /// `(name, flags)` in list order.
    pub(super) keys: Vec<(&'static [u8], u16)>,
    /// Slot -> index + 1 into `keys` (0 = empty); power-of-two length.
    pub(super) slots: Vec<u16>,
    /// Bit `b0 << 8 | b1` is set when some name or family prefix starts with `b0 b1`
    /// (`k .` for a one-byte name `k`, reachable as `k.exe`).
    pub(super) pairs: Vec<u64>,
    /// Hashed set of the first three bytes of every word [`lookup`] can accept: names,
    /// family prefixes, `xy` + digit or `.` for two-byte names (`ls.exe`, `id3`), `k.e` /
    /// `k.c` for one-byte names.
    pub(super) trigrams: Vec<u64>,
    /// Some name is one byte long.
    pub(super) short: bool,
}

pub(super) const TABLE_BITS: u32 = 11;

pub(super) const TRIGRAM_BITS: u32 = 15;

/// Little-endian value of up to 8 bytes (register arithmetic, no stack copy).
#[inline]
pub(super) fn load_le(w: &[u8]) -> u64 {
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
pub(super) fn word_hash(w: &[u8]) -> usize {
    let head = load_le(w);
    let tail = load_le(&w[w.len().saturating_sub(8)..]);
    let h = (head ^ tail.rotate_left(29) ^ w.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - TABLE_BITS)) as usize
}

/// Bit index of a three-byte prefix in [`CmdTable::trigrams`].
#[inline]
pub(super) fn trigram_bit(a: u8, b: u8, c: u8) -> usize {
    let x = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
    (x.wrapping_mul(0x9e37_79b1) >> (32 - TRIGRAM_BITS)) as usize
}

impl CmdTable {
    pub(super) fn build() -> CmdTable {
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

    pub(super) fn add_pair(&mut self, a: u8, b: u8) {
        let k = usize::from(a) << 8 | usize::from(b);
        self.pairs[k >> 6] |= 1 << (k & 63);
    }

    pub(super) fn add_trigram(&mut self, a: u8, b: u8, c: u8) {
        let k = trigram_bit(a, b, c);
        self.trigrams[k >> 6] |= 1 << (k & 63);
    }

    pub(super) fn insert(&mut self, name: &'static [u8], f: u16) {
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
    pub(super) fn may_match(&self, w: &[u8]) -> bool {
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
    pub(super) fn get(&self, w: &[u8]) -> Option<u16> {
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

pub(super) static COMMAND_TABLE: LazyLock<CmdTable> = LazyLock::new(CmdTable::build);

/// Looks a (normalised, lower-case) word up; handles `.exe`, single-char bracket classes
/// (`adduse[r]`), version suffixes (`python3.10`, `gcc7.4`) and tool families.
pub(super) fn lookup(word: &[u8]) -> Option<u16> {
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
