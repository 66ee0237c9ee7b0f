//! The command-position scanner: walks the normalised text from separator to separator,
//! gives each command position a context strength ([`Ctx`]) and decides, with the command
//! table and the argument classification, whether the word there is an injected command.

use super::args::{classify_arg, Args};
use super::commands::{
    lookup, ALONE0, ANY0, EN, INTERP, NET, NUMARG, NUMFLAG, TIMEARG, VERYEN, WIN, WRAP,
};
use super::normalize::is_name;
use super::prefilter::{B_AMP, B_CR, B_DOLLAR, B_EQ, B_GT, B_LF, B_LT, B_PIPE, B_SEMI, B_TICK};
use super::{R_UNIX, R_WIN};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(super) enum Ctx {
    /// Value start or `key=` in a value: needs technical arguments.
    Weak,
    /// After a separator or newline.
    Medium,
    /// Inside `$(`, a glued backtick, `<(`/`>(`: any known command.
    Strong,
}

pub(super) fn is_sep(c: u8) -> bool {
    matches!(
        c,
        b';' | b'|' | b'&' | b'\n' | b'\r' | b'`' | b'(' | b')' | b'<' | b'>' | b'{' | b'}'
    )
}

pub(super) fn is_space(c: u8) -> bool {
    c == b' '
}

/// Bytes of a command word: ASCII alphanumerics and `-_.+[]`.
pub(super) static WORD_BYTE: [bool; 256] = {
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
pub(super) static OUTSIDE_STOP: [bool; 256] = {
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
pub(super) static TOKEN_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b" ;|&\n\r`()<>{}$";
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

pub(super) struct Scanner<'a> {
    pub(super) n: &'a [u8],
    /// The [`OUTSIDE_STOP`] bytes that can occur in `n` (from the raw byte classes).
    pub(super) stops: Stops,
    /// Paranoia level 2 ([`super::detect_strict`]): tells whether the word at `n[s..e]` is
    /// written in lower case in the input; `None` at level 1.
    pub(super) strict: Option<&'a dyn Fn(usize, usize) -> bool>,
}

/// How [`Scanner::run`] finds the next [`OUTSIDE_STOP`] byte.
#[derive(Clone, Copy)]
pub(super) enum Stops {
    None,
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
    Table,
}

impl Stops {
    /// `n` holds only bytes of the input (lower-cased), blanks and `sh`, so the stop bytes
    /// it can contain are those the input's byte classes show.
    pub(super) fn from_classes(classes: u32) -> Stops {
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

    pub(super) fn find(self, h: &[u8]) -> Option<usize> {
        match self {
            Stops::None => None,
            Stops::One(a) => memchr::memchr(a, h),
            Stops::Two(a, b) => memchr::memchr2(a, b, h),
            Stops::Three(a, b, c) => memchr::memchr3(a, b, c, h),
            Stops::Table => h.iter().position(|&c| OUTSIDE_STOP[c as usize]),
        }
    }
}

/// Result of looking at one command position.
pub(super) struct Hit {
    pub(super) rule: &'static str,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl<'a> Scanner<'a> {
    pub(super) fn token_end(&self, mut i: usize) -> usize {
        while i < self.n.len() {
            let c = self.n[i];
            if TOKEN_STOP[c as usize] && (c != b'$' || self.n.get(i + 1) == Some(&b'(')) {
                break;
            }
            i += 1;
        }
        i
    }

    pub(super) fn skip_spaces(&self, mut i: usize) -> usize {
        while i < self.n.len() && is_space(self.n[i]) {
            i += 1;
        }
        i
    }

    /// Whether the `>`/`<` at `i` is followed by something a shell would redirect to:
    /// a path, a file name with an extension, `&1`, a here-string.
    pub(super) fn redirect_target(&self, i: usize) -> bool {
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
    pub(super) fn scan_args(&self, mut i: usize) -> (Args, usize) {
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
    pub(super) fn sep_kind_before(&self, s: usize) -> bool {
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
    pub(super) fn letter_before_sep(&self, s: usize) -> bool {
        s >= 2 && matches!(self.n[s - 1], b'&' | b'|') && self.n[s - 2].is_ascii_alphabetic()
    }

    /// Character right after the word (skipping spaces is NOT done): end, separator...
    pub(super) fn followed_by_end_or_sep(&self, i: usize) -> bool {
        i >= self.n.len()
            || matches!(
                self.n[i],
                b';' | b'|' | b'&' | b'\n' | b'\r' | b'`' | b'#' | b')'
            )
    }

    /// Evaluates the word at `[s, e)` in command position `ctx`.
    /// Returns (hit, known-command, english) so the caller can track chains.
    pub(super) fn eval(
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
                (self.strict_eval(s, e, ctx, glued, rule), Some(flags))
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
                (self.strict_eval(s, e, ctx, glued, rule), Some(flags))
            }
            Ctx::Strong => (hit(rule), Some(flags)),
        }
    }

    pub(super) fn run(&self) -> Option<Hit> {
        match self.run_span(0, self.n.len(), &mut Chain::default(), false) {
            Scan::Hit(h) => Some(h),
            Scan::Clear | Scan::Undecided => None,
        }
    }

    /// [`Scanner::run`] from offset `from` of `n` (0, or a statement boundary with the byte
    /// before it) up to `stop` (the end, or the next statement boundary, which the scan reads
    /// but does not step onto), with the chain counters of the statements scanned before.
    /// `gap`: some text before `from` was not scanned (a chain that would fire only because
    /// every separator was tight is then [`Scan::Undecided`]).
    pub(super) fn run_span(&self, from: usize, stop: usize, chain: &mut Chain, gap: bool) -> Scan {
        let n = self.n;
        let mut i = from;
        let mut ctx: Option<Ctx> = Some(Ctx::Weak);
        let mut glued = true;
        let mut tight = true;
        while i < stop {
            if ctx.is_none() {
                // Outside command position only bytes that open one and `key=value`
                // tokens matter; everything else would be stepped over one token at a
                // time (`glued` is reset by whatever opens the next position).
                match self.stops.find(&n[i..stop]) {
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
                        chain.tight = false;
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
                    if let Some(h) = h {
                        return Scan::Hit(h);
                    }
                    if let Some(f) = known {
                        if f & VERYEN == 0 {
                            chain.count += 1;
                            if f & EN == 0 {
                                chain.nonen = true;
                            }
                            if chain.count > 1 && !tight && cx != Ctx::Weak {
                                chain.tight = false;
                            }
                            if chain.count >= 2 && (chain.nonen || chain.tight) {
                                if !chain.nonen && gap {
                                    return Scan::Undecided;
                                }
                                return Scan::Hit(Hit {
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
                            if let Some(h) = h {
                                return Scan::Hit(h);
                            }
                        }
                    }
                }
            }
            glued = false;
            i = e;
        }
        Scan::Clear
    }
}

/// The chain counters of [`Scanner::run_span`]: known commands in command position so far,
/// whether one was not English, whether every separator between them was tight (and no
/// spaced single `|`/`&` was seen).
pub(super) struct Chain {
    pub(super) count: usize,
    pub(super) nonen: bool,
    pub(super) tight: bool,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            count: 0,
            nonen: false,
            tight: true,
        }
    }
}

/// What [`Scanner::run_span`] found.
pub(super) enum Scan {
    Hit(Hit),
    /// Nothing fires in the span.
    Clear,
    /// A chain would fire on tight separators alone, with text before the span unscanned.
    Undecided,
}

/// First `c` in `t`: an inline loop for short tokens, `memchr` (SIMD) for long ones.
#[inline]
pub(super) fn find_byte(t: &[u8], c: u8) -> Option<usize> {
    if t.len() < 16 {
        t.iter().position(|&x| x == c)
    } else {
        memchr::memchr(c, t)
    }
}

/// For [`Scanner::eval`]: the first `=`; when there is none, the first `/`; when there is
/// neither, whether every byte is a [`WORD_BYTE`] (otherwise the later fields are unused).
pub(super) fn scan_word(t: &[u8]) -> (Option<usize>, Option<usize>, bool) {
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
pub(super) fn is_subcommand(cmd: &[u8], arg: &[u8]) -> bool {
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

pub(super) fn find_sub(h: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(h, needle)
}
