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
//!   nodes`, `;top Something`, `shutdown`) are not flagged at paranoia level 1. At level 2
//!   ([`detect_strict`], the `strict` submodule) a lower-case command word that starts the
//!   value with at most four plain words after it, or that is glued to `;`, `|` or `&`, fires
//!   (`rce-pl2-unix-command`, `rce-pl2-windows-command`), as CRS 932236/932239 do at PL2.
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
//!   bombs) have budgets. The `$` rules are searched from each `$` (the expansion regex
//!   only when an alternative can open there, the Log4Shell resolution only with a `j` in
//!   the value; one pass over the `$` and `!` bytes tells which of the others may match).
//!   On values of 256 bytes or more (on shorter ones the gate's fixed cost is more than
//!   what it saves), normalisation and everything after it run only when the word gate
//!   (`gate`) finds, in the raw value, a word that normalisation would write and that could matter: a command
//!   word in command position, a keyword of the PowerShell, alias or `/dev/` rules, or the
//!   bytes the brace, fork-bomb and glob rules need. A value of near-attack punctuation
//!   with no command word in it (`' or <a on=../;|${ ` repeated) costs one pass of byte
//!   masks and a table bit for each word's first two bytes. On those values the word gate,
//!   the `$` pass and the `;` and `if`/`for` tests share that one pass (`sweep`) instead
//!   of one `memchr` call per byte found. When every word the gate flags is a plain command
//!   word (no keyword, interpreter, inserting `$` or drive letter, and no glob, brace or
//!   fork-bomb byte pattern), only the statements holding them are normalised and scanned
//!   (`windows`: a padding with `;cat x` every 259 bytes costs a few statements, not the
//!   whole value). Every gate is a necessary condition of the rule
//!   it guards, so the gates change speed, never results (differential tests run the
//!   analysis with and without the word gate, with and without the windows, and the sweep
//!   against the passes it replaced, on the corpus and on random token sequences).
use super::{char_span, Finding};
use std::cell::RefCell;

mod args;
mod commands;
mod gate;
mod normalize;
mod prefilter;
mod scanner;
mod strict;
mod structural;
mod sweep;
#[cfg(test)]
mod tests;
mod windows;

use commands::{lookup, EN};
use normalize::{collect_vars, normalize, Norm, Vars};
pub(super) use prefilter::CLASS;
use prefilter::{
    byte_classes, worth_looking, B_BANG, B_BSLASH, B_DOLLAR, B_EQ, B_GLOB, B_LBRACE, B_LF,
    B_LPAREN, B_PIPE, B_SEMI, B_TILDE,
};
use scanner::{find_sub, Scanner, Stops};
use structural::{
    brace_rule, fork_bomb, glob_rule, log4shell, F_ALIAS, F_DEV, F_PARENS, F_SEMIDOT, RE_ALIAS,
    RE_BATCH, RE_DEVTCP, RE_EXPANSION, RE_MAIL, RE_PIPE_SHELL, RE_POWERSHELL, RE_SHELLSHOCK,
    RE_SQLITE, RE_TILDE,
};
use sweep::{sweep_spots, W_BATCH, W_GATE, W_HINTS, W_SPOTS, W_SQLITE};

/// Builds this detector's tables now (command table, regexes, finders, the word gate's
/// pairs), so that the first request to need them does not spend its time budget on it.
pub(crate) fn warm_up() {
    structural::warm_up();
    gate::warm_up();
}

/// An expansion match ending in `:-` or `:=` at `end` whose default is a plain word or
/// number closed by `}` (`${name:-default}`, `${PORT:=8080}`): the POSIX default-value
/// form of docs, Compose files and init scripts. The bash-only forms still count.
fn plain_default(b: &[u8], end: usize) -> bool {
    if end < 2 || b[end - 2] != b':' || !matches!(b[end - 1], b'-' | b'=') {
        return false;
    }
    let rest = &b[end..];
    let n = rest
        .iter()
        .take(65)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    n <= 64 && rest.get(n) == Some(&b'}')
}

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
/// * `rce-pl2-unix-command`, `rce-pl2-windows-command` (paranoia level 2, [`detect_strict`]):
///   a known command word at the value start with plain arguments (`pip install something`),
///   or glued to a shell separator (`;top x`).
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
    strict::R_PL2_UNIX,
    strict::R_PL2_WIN,
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

thread_local! {
    static NORM: RefCell<Norm> = RefCell::new(Norm::default());
    static SPOTS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// The paranoia level 2 rules (run when [`detect`] found nothing and the agent runs at level
/// 2): a known command word at the start of the value with plain arguments, or glued to a
/// shell separator (`rce-pl2-unix-command`, `rce-pl2-windows-command`; see the `strict`
/// submodule's docs for their shape and what they fire on). Called alone on a value that
/// [`detect`] flags, it may report that value's level 1 command rule instead.
pub fn detect_strict(input: &str) -> Option<Finding> {
    detect_strict_with(input, true)
}

/// [`detect_strict`]; with `gated`, the scanner runs only where the word gate says a
/// command word may sit in command position.
fn detect_strict_with(input: &str, gated: bool) -> Option<Finding> {
    let (input, classes) = worth_a_look(input)?;
    let b = input.as_bytes();
    if gated && !gate::may_match_normalized(b, classes) {
        return None;
    }
    with_normalized(b, classes, |norm| {
        let lower = |s: usize, e: usize| {
            let (s, e) = norm.map(s, e);
            !b[s..e].iter().any(u8::is_ascii_uppercase)
        };
        let sc = Scanner {
            n: &norm.n,
            stops: Stops::from_classes(classes),
            strict: Some(&lower),
        };
        let h = sc.run()?;
        let (s, e) = norm.map(h.start, h.end);
        Some(Finding {
            rule: h.rule,
            span: char_span(input, s, e),
        })
    })
}

/// Runs `f` on the normalised view of `b` (`classes`: its [`byte_classes`] mask), built in the
/// per-thread buffer (a local one if that is in use), with the variables the value assigns
/// substituted.
#[inline]
fn with_normalized<R>(b: &[u8], classes: u32, f: impl FnOnce(&Norm) -> R) -> R {
    let vars = if classes & B_EQ != 0 && classes & B_DOLLAR != 0 {
        collect_vars(b)
    } else {
        Vars::default()
    };
    with_norm_buffer(|norm| {
        normalize(b, classes, &vars, norm);
        f(norm)
    })
}

/// Runs `f` with the per-thread normalisation buffer (a local one if that is in use).
#[inline]
fn with_norm_buffer<R>(f: impl FnOnce(&mut Norm) -> R) -> R {
    NORM.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok();
        let mut local = Norm::default();
        let norm: &mut Norm = match guard.as_deref_mut() {
            Some(n) => n,
            None => &mut local,
        };
        f(norm)
    })
}

/// Runs `f` with the per-thread buffer of the word gate's spots, emptied (a local one if that
/// is in use).
#[inline]
fn with_spots<R>(f: impl FnOnce(&mut Vec<u32>) -> R) -> R {
    SPOTS.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok();
        let mut local = Vec::new();
        let spots: &mut Vec<u32> = match guard.as_deref_mut() {
            Some(v) => v,
            None => &mut local,
        };
        spots.clear();
        f(spots)
    })
}

/// Looks for a command-injection attack in one decoded input value.
///
/// Returns the first rule that matched and the byte span of the matched fragment.
pub fn detect(input: &str) -> Option<Finding> {
    let (input, classes) = worth_a_look(input)?;
    analyse(input, classes)
}

/// The part of `input` the detector reads (at most [`MAX_INPUT`] bytes, cut on a character
/// boundary) and its [`byte_classes`] mask, when it is worth looking at at all.
fn worth_a_look(input: &str) -> Option<(&str, u32)> {
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
    worth_looking(b, classes).then_some((input, classes))
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
    analyse_with(input, classes, GATE_FROM, true)
}

/// Shortest value the word gate runs on: on shorter ones its fixed cost (the block masks)
/// is more than the normalisation and scan it would save.
const GATE_FROM: usize = 256;

/// [`detect`] with the word gate on every value, however short (what the differential tests
/// check against [`detect_ungated`]).
#[cfg(test)]
fn detect_gated(input: &str) -> Option<Finding> {
    let (input, classes) = worth_a_look(input)?;
    analyse_with(input, classes, 0, true)
}

/// [`detect_gated`] without the statement windows: the normalised view, when the word gate
/// lets it run, is the whole value's (the reference the windows are checked against).
#[cfg(test)]
fn detect_unwindowed(input: &str) -> Option<Finding> {
    let (input, classes) = worth_a_look(input)?;
    analyse_with(input, classes, 0, false)
}

/// [`detect`] without the word gate in front of normalisation: the reference the gated path
/// is checked against.
#[cfg(test)]
fn detect_ungated(input: &str) -> Option<Finding> {
    let (input, classes) = worth_a_look(input)?;
    analyse_with(input, classes, usize::MAX, false)
}

/// [`analyse`]; on values of at least `gate_from` bytes, the rules on the normalised view run
/// only where the word gate ([`gate::may_match_normalized`]) says one of them may match
/// (`usize::MAX`: the path without the gate nor the `$` hints: the tests' reference). With
/// `windowed`, on gated values whose flagged spots are all command words, the scan runs on
/// the statements that hold them only (`windows`).
#[inline(always)]
fn analyse_with(input: &str, classes: u32, gate_from: usize, windowed: bool) -> Option<Finding> {
    with_spots(|spots| analyse_in(input, classes, gate_from, windowed, spots))
}

/// [`analyse_with`] with the spots buffer.
#[inline(always)]
fn analyse_in(
    input: &str,
    classes: u32,
    gate_from: usize,
    windowed: bool,
    spots: &mut Vec<u32>,
) -> Option<Finding> {
    let b = input.as_bytes();
    let gated = b.len() >= gate_from;
    // on values the word gate runs on, the cheap questions below are answered by one pass of
    // block masks; on shorter ones (where a padded block costs more than a `memchr`) and on
    // the reference path, one `memchr` pass at a time
    let sw = if gated {
        let spot_bit = if windowed { W_SPOTS } else { 0 };
        sweep_spots(
            b,
            classes,
            W_HINTS | W_SQLITE | W_BATCH | W_GATE | spot_bit,
            spots,
        )
    } else {
        sweep::Sweep::default()
    };
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
        // which of the next three rules may match, from one pass over the `$` and `!`
        let hints = if gated {
            sw.hints
        } else if gate_from != usize::MAX {
            dollar_hints(b)
        } else {
            H_ALL
        };
        if hints & H_IFS != 0 {
            if let Some(p) = find_ci(b, b"$ifs").or_else(|| find_ci(b, b"${ifs")) {
                return found(R_IFS, p, p + 4);
            }
        }
        if hints & H_EXP != 0 && expansion_gate(b) {
            if let Some(m) = RE_EXPANSION
                .find_iter(input)
                .find(|m| !plain_default(b, m.end()))
            {
                return found(R_EXP, m.start(), m.end());
            }
        }
        if hints & H_BRACED != 0 {
            if let Some((s, e)) = braced_command(b) {
                return found(R_EXP, s, e);
            }
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
    if has(B_SEMI)
        && (if gated {
            sw.sqlite
        } else {
            F_SEMIDOT.find(b).is_some() || sqlite_gate(b)
        })
    {
        if let Some(m) = RE_SQLITE.find(input) {
            return found(R_SQLITE, m.start(), m.end());
        }
    }
    if if gated { sw.batch } else { batch_gate(b) } {
        if let Some(m) = RE_BATCH.find(input) {
            return found(R_BATCH, m.start(), m.end());
        }
    }

    // normalised view, when a rule on it may match
    if gated && !sw.normalized {
        if has(B_BSLASH) {
            if let Some(h) = backslash_command(b) {
                return found(R_UNIX, h.0, h.1);
            }
        }
        return None;
    }
    // only the scan may match, on the statements of the flagged command words: scan those
    if gated && sw.windowable {
        spots.sort_unstable();
        let answer = with_norm_buffer(|norm| windows::scan(b, classes, spots, norm));
        if let Some(hit) = answer {
            if let Some((s, e, rule)) = hit {
                return found(rule, s, e);
            }
            if has(B_BSLASH) {
                if let Some(h) = backslash_command(b) {
                    return found(R_UNIX, h.0, h.1);
                }
            }
            return None;
        }
    }
    with_normalized(b, classes, |norm| {
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
            strict: None,
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
    memchr::memchr_iter(b';', b).any(|p| dot_after(b, p))
}

/// [`sqlite_gate`] at the `;` at `p`.
#[inline(always)]
fn dot_after(b: &[u8], p: usize) -> bool {
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
}

/// `if` / `for` as the first word of the value or after a separator (blanks and `@`
/// skipped). Found from each `f`/`F`: the keyword must end or start there.
fn batch_gate(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'f', b'F', b).any(|p| batch_at_f(b, p))
}

/// [`batch_gate`] at the `f` or `F` at `p`.
#[inline(always)]
fn batch_at_f(b: &[u8], p: usize) -> bool {
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
    (p > 0 && is_kw_start(p - 1, b"if")) || is_kw_start(p, b"for")
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
    // (`${` cannot overlap itself: its places are the `$` followed by `{`)
    for o in memchr::memchr_iter(b'$', b) {
        if b.get(o + 1) != Some(&b'{') {
            continue;
        }
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

/// The first case-insensitive occurrence of `needle`, which opens with a byte that has no
/// case (`$`): only the places of that byte are compared.
fn find_ci(h: &[u8], needle: &[u8]) -> Option<usize> {
    debug_assert!(!needle[0].is_ascii_alphabetic());
    memchr::memchr_iter(needle[0], h).find(|&i| {
        h.get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// [`dollar_hints`]: `$ifs` or `${ifs` may occur.
const H_IFS: u8 = 1;
/// [`dollar_hints`]: [`expansion_gate`] holds.
const H_EXP: u8 = 2;
/// [`dollar_hints`]: a `${` is followed by a byte of a command name.
const H_BRACED: u8 = 4;
const H_ALL: u8 = H_IFS | H_EXP | H_BRACED;

/// The `$` rules after Log4Shell that may match, from one pass over the `$` and `!` bytes
/// (each bit a necessary condition of its rule: [`find_ci`] of `$ifs`/`${ifs`,
/// [`expansion_gate`], [`braced_command`]); stops early once all three may. On values the
/// word gate runs on, the analysis gets these bits from the sweep ([`sweep::sweep`]).
fn dollar_hints(b: &[u8]) -> u8 {
    let mut h = 0;
    for p in memchr::memchr2_iter(b'$', b'!', b) {
        if expansion_at(b, p) {
            h |= H_EXP;
        }
        if b[p] == b'$' {
            let n1 = b.get(p + 1).copied();
            let n2 = b.get(p + 2).copied();
            if matches!(n1, Some(b'i' | b'I'))
                || (n1 == Some(b'{') && matches!(n2, Some(b'i' | b'I')))
            {
                h |= H_IFS;
            }
            if n1 == Some(b'{') && n2.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-') {
                h |= H_BRACED;
            }
        }
        if h == H_ALL {
            break;
        }
    }
    h
}

/// Necessary condition for [`RE_EXPANSION`] to match: every alternative opens with `$((`,
/// `$[`, `${` then an optional `!`/`#` and a name byte (an ASCII letter or `_`, or any
/// non-ASCII byte: under `(?i)` the Kelvin sign and long s fold into `[a-z]`), `${` then
/// blanks and a backtick (a non-ASCII byte may be a Unicode blank), or `!-`. Checked at each
/// `$` and `!` instead of running the automaton over text full of `${ `.
fn expansion_gate(b: &[u8]) -> bool {
    memchr::memchr2_iter(b'$', b'!', b).any(|p| expansion_at(b, p))
}

/// [`expansion_gate`] at the `$` or `!` at `p`.
#[inline(always)]
fn expansion_at(b: &[u8], p: usize) -> bool {
    let name =
        |c: Option<&u8>| c.is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c >= 0x80);
    if b[p] == b'!' {
        return b.get(p + 1) == Some(&b'-');
    }
    match b.get(p + 1) {
        Some(b'(') => b.get(p + 2) == Some(&b'('),
        Some(b'[') => true,
        Some(b'{') => {
            let k = p + 2;
            if name(b.get(k)) || (matches!(b.get(k), Some(b'!' | b'#')) && name(b.get(k + 1))) {
                return true;
            }
            let mut j = k;
            while j < b.len() && matches!(b[j], b'\t'..=b'\r' | b' ') {
                j += 1;
            }
            b.get(j).is_some_and(|&c| c == b'`' || c >= 0x80)
        }
        _ => false,
    }
}
