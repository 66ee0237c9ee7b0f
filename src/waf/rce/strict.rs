//! Paranoia level 2 rules (`rce-pl2-unix-command`, `rce-pl2-windows-command`), modelled on
//! the CRS 932 level-2 rules (932236, 932239, 932371...): a known command word at a command
//! position even when its arguments are plain words. Level 1 asks an English-looking command
//! (`chef`, `pip`, `top`, `shutdown`...) for technical arguments; these rules drop that demand
//! in two shapes, and run only when level 1 found nothing:
//!
//! * **A command line that is the whole value**: the value starts (after blanks and
//!   `VAR=value` prefixes) with a command word written in lower case, followed by at most
//!   [`MAX_PLAIN_ARGS`] plain words (letters, digits, `-_.+`, each with a letter, none a prose
//!   stop word) and then the end of the value or a separator (`;`, `|`, `&`, newline):
//!   `chef report nodes`, `pip install something`, `ls foo bar`, `shutdown` followed by a
//!   newline. A lone word needs that separator: the scan already skips one-word values
//!   (`true`, `make`), which are not attacks on their own.
//! * **A command word glued to a shell separator**: `;top Something else`, `x&&make all`,
//!   with any arguments. The separator is `;`, `|`, `||`, `&` or `&&` written
//!   right before the word (not a newline, and not `P&ID`-style `&`/`|` after a letter).
//!
//! Lower case is required because a command is typed so, and a sentence or a title starts
//! with a capital (`Test spider`, `Java 1.1`, `Cut orange quarters into slices`): the CRS
//! tests that are plain English sentences (932236 `sentence=...`, 932371) stay unflagged.
//! What they do flag: short lower-case phrases that start with a command word (`cat videos`,
//! `find me`, `time out`), and a command word glued after `;` or `|` in text (`see
//! below;find more`). That is what CRS level 2 accepts; it is why the rules are level 2 only.
//!
//! Not done: a lone command word as the whole value (`visudo`, `chef-shell` as a user agent;
//! the scan does not run detectors on one-word values), English sentences, and bare system
//! file paths in `User-Agent`/`Referer` (932161, left to the lfi detector).

use super::args::STOPWORDS;
use super::scanner::{is_space, Ctx, Hit, Scanner};
use super::{R_UNIX, R_WIN};

/// Rule id of a unix command found by the level 2 rules.
pub(super) const R_PL2_UNIX: &str = "rce-pl2-unix-command";
/// Rule id of a Windows command found by the level 2 rules.
pub(super) const R_PL2_WIN: &str = "rce-pl2-windows-command";

/// Most plain arguments a whole-value command line may have: command lines an attacker sends
/// are short, longer runs of words are prose.
pub(super) const MAX_PLAIN_ARGS: usize = 4;

impl Scanner<'_> {
    /// The level 2 verdict on a known command word at `[s, e)` that level 1 let through
    /// (`rule`: the level 1 rule it would have had). `None` at level 1.
    pub(super) fn strict_eval(
        &self,
        s: usize,
        e: usize,
        ctx: Ctx,
        glued: bool,
        rule: &'static str,
    ) -> Option<Hit> {
        let lower = self.strict?;
        let fire = || {
            Some(Hit {
                rule: if rule == R_WIN { R_PL2_WIN } else { R_PL2_UNIX },
                start: s,
                end: e,
            })
        };
        debug_assert!(rule == R_UNIX || rule == R_WIN);
        match ctx {
            Ctx::Weak => {
                // the value start (after blanks, or after `VAR=x ` prefixes): a weak
                // position after a blank is nowhere else (`key=value` tokens follow a `=`)
                if !(s == 0 || is_space(self.n[s - 1])) || !lower(s, e) {
                    return None;
                }
                self.plain_line(e).then(fire).flatten()
            }
            Ctx::Medium => {
                let glued_to_shell_sep = glued
                    && s > 0
                    && matches!(self.n[s - 1], b';' | b'|' | b'&')
                    && !self.letter_before_sep(s);
                let word_ends = e >= self.n.len()
                    || is_space(self.n[e])
                    || matches!(self.n[e], b';' | b'|' | b'&' | b'\n' | b'\r');
                (glued_to_shell_sep && word_ends && lower(s, e))
                    .then(fire)
                    .flatten()
            }
            Ctx::Strong => None,
        }
    }

    /// After a command word ending at `e`: at most [`MAX_PLAIN_ARGS`] plain words, then the
    /// end of the value or a separator; a lone word needs the separator.
    fn plain_line(&self, e: usize) -> bool {
        let n = self.n;
        let mut i = e;
        let mut count = 0;
        loop {
            i = self.skip_spaces(i);
            if i >= n.len() {
                return count > 0;
            }
            if matches!(n[i], b';' | b'|' | b'&' | b'\n' | b'\r') {
                return true;
            }
            let end = self.token_end(i);
            let t = &n[i..end];
            let plain = !t.is_empty()
                && t.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'+'))
                && t.iter().any(u8::is_ascii_alphabetic)
                && !STOPWORDS.contains(&t);
            count += 1;
            if !plain || count > MAX_PLAIN_ARGS {
                return false;
            }
            i = end;
        }
    }
}
