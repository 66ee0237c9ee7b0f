//! Statement windows: the command-position scan run only on the statements of the value that
//! hold a word the word gate flagged, instead of normalising and scanning the whole value.
//! It never decides anything the whole-value scan would not: its answer is the whole scan's
//! answer, or "don't know" (the caller then runs the whole scan).
//!
//! # Why the windows give the whole scan's answer
//!
//! * **Where the scan can fire.** The scan fires, or counts a known command for a chain,
//!   only on a token holding a word the word gate flags (`gate`'s module docs). The caller
//!   takes this path only when every flagged spot is a command word read whole (no `$` that
//!   may insert or delete text, no keyword of the alias, PowerShell or `/dev/` rules, no
//!   interpreter that a pipe rule could read, no drive letter, no `+`) and when neither the
//!   glob, brace nor fork-bomb rule can match (`gate::maybe_at_once`), so that of the rules
//!   on the normalised view only the scan can match, and only on the flagged statements.
//! * **Statements.** A boundary is a `;`, newline, carriage return or the first `|` of a run
//!   that normalisation copies as itself. The scan visits every such byte and resets its
//!   context there (context, `glued`, `tight`), reading back at most to the byte before it;
//!   nothing it reads from a token crosses the next boundary. So a statement is scanned the
//!   same way from its boundary, given the byte before it and the chain counters.
//! * **Normalisation in pieces.** Normalisation steps from construct to construct; a plain
//!   byte (not in `normalize::SPECIAL`) that it steps onto is copied as itself and leaves no
//!   state behind, so a pass started there writes what the whole pass writes from there on
//!   ([`super::normalize::normalize_range`]). The pass steps onto a plain byte at `q` unless a
//!   construct opened before `q` covers it; constructs are at most [`MAX_CONSTRUCT`] bytes
//!   long (a run of backticks, longer, only covers backticks), so [`steps_onto`] checks the
//!   special bytes of the [`MAX_CONSTRUCT`] bytes before `q` with [`construct_end`], which
//!   reads a construct as the pass does.
//! * **Variables.** Normalisation substitutes a variable the value assigns only at a `$name`
//!   or `${name}`; wherever the value may assign one, the word gate flags every such `$` as a
//!   spot that may insert text, so no value with one takes this path: the windows normalise
//!   without variables and write what the whole pass writes.
//! * **Chains.** Two known commands chained fire when one is not English or when every
//!   separator between them was tight; a spaced single `|` or `&` anywhere before clears the
//!   second condition. Windows see only their statements: when a chain would fire on the
//!   second condition alone with text before the window left unscanned, the answer is
//!   "don't know".
//!
//! The differential tests in `tests.rs` check the windowed analysis against the whole one on
//! the corpus, on random token sequences and on the padded values of the benches.

use super::normalize::SPECIAL;
use super::normalize::{is_name, is_name_start, normalize_range, upper_name_len, Norm, Vars};
use super::scanner::{Chain, Hit, Scan, Scanner, Stops};
use crate::waf::entity;

/// Longest construct normalisation reads in one step from a special byte (`${`, 64 bytes,
/// `}`), backtick runs aside.
pub(super) const MAX_CONSTRUCT: usize = 67;

/// The input offset after the construct that normalisation reads when it steps onto the
/// special byte at `i` (`normalize_range`'s arms, read only; `i + 1` for a plain byte).
pub(super) fn construct_end(b: &[u8], i: usize) -> usize {
    let len = b.len();
    let at = |k: usize| b.get(k).copied();
    match b[i] {
        b'`' if at(i + 1) == Some(b'`') && at(i + 2) == Some(b'`') => {
            let mut j = i;
            while j < len && b[j] == b'`' {
                j += 1;
            }
            j
        }
        b'`' if at(i + 1) == Some(b'`') => i + 2,
        b'&' => i + entity::reference_len(&b[i..]).max(1),
        b'<' | b'>' if at(i + 1) == Some(b'(') && at(i + 2) == Some(b')') => i + 3,
        b'$' => match at(i + 1).unwrap_or(0) {
            b'(' if at(i + 2) == Some(b')') => i + 3,
            b'(' => match upper_name_len(&b[i + 2..]) {
                Some(n) if at(i + 2 + n) == Some(b')') => i + 3 + n,
                _ => i + 1,
            },
            b'@' | b'*' | b'!' | b'?' | b'-' | b'_' | b'$' | b'#' | b'0'..=b'9' => i + 2,
            // `${` before a byte that is neither a name byte nor `}`: copied
            b'{' if !at(i + 2).is_some_and(|c| is_name(c) || c == b'}') => i + 1,
            b'{' => {
                let s = i + 2;
                let mut e = s;
                while e < len && e - s < 64 && b[e] != b'}' && b[e] != b'{' && b[e] != b'$' {
                    e += 1;
                }
                if e < len && b[e] == b'}' {
                    let content = &b[s..e];
                    let ne = content.iter().take_while(|&&c| is_name(c)).count();
                    if content[..ne].eq_ignore_ascii_case(b"IFS")
                        || (ne == content.len() && ne > 0 && is_name_start(content[0]))
                    {
                        return e + 1;
                    }
                }
                i + 1
            }
            c if is_name_start(c) => {
                let s = i + 1;
                let mut e = s;
                while e < len && is_name(b[e]) && e - s < 32 {
                    e += 1;
                }
                e
            }
            _ => i + 1,
        },
        _ => i + 1,
    }
}

/// Whether normalisation steps onto the plain byte at `q` (and copies it as itself): no
/// construct that may open in the [`MAX_CONSTRUCT`] bytes before it reaches past it. Only a
/// `$` (up to [`MAX_CONSTRUCT`] bytes), a `&` (a reference, at most 14) or a `<`/`>` (`<()`)
/// opens a construct that can cover a plain byte: backtick pairs and runs cover backticks only.
pub(super) fn steps_onto(b: &[u8], q: usize) -> bool {
    if SPECIAL[usize::from(b[q])] {
        return false;
    }
    // `<()` / `>()` opening one or two bytes before
    for k in q.saturating_sub(2)..q {
        if matches!(b[k], b'<' | b'>') && construct_end(b, k) > q {
            return false;
        }
    }
    // a reference opening at most 13 bytes before
    let from = q.saturating_sub(13);
    if b[from..q]
        .iter()
        .enumerate()
        .any(|(k, &c)| c == b'&' && construct_end(b, from + k) > q)
    {
        return false;
    }
    let from = q.saturating_sub(MAX_CONSTRUCT);
    memchr::memrchr_iter(b'$', &b[from..q]).all(|k| construct_end(b, from + k) <= q)
}

/// Whether the byte at `p` (`p >= 1`) is a statement boundary the windows may start or end
/// at: a `;`, newline, carriage return or the first `|` of a run, that normalisation copies
/// with the plain byte before it.
pub(super) fn boundary(b: &[u8], p: usize) -> bool {
    match b[p] {
        b';' | b'\n' | b'\r' => steps_onto(b, p - 1),
        b'|' => b[p - 1] != b'|' && steps_onto(b, p - 1),
        _ => false,
    }
}

/// Farthest a spot may lie past a window's end for its statements to join that window.
const JOIN: usize = 64;

/// The first [`boundary`] at or after `p`, or the value's length.
fn next_boundary(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && !(boundary_byte(b[p]) && boundary(b, p)) {
        p += 1;
    }
    p
}

/// Whether [`boundary`] may hold at a byte (the bytes worth testing).
#[inline(always)]
fn boundary_byte(c: u8) -> bool {
    matches!(c, b';' | b'\n' | b'\r' | b'|')
}

/// The scan over the statements that hold the raw offsets `spots` (sorted): `Some(hit or
/// not)` as the whole scan would answer, `None` when the windows cannot tell. `classes` is
/// the value's byte-class mask; `norm` a buffer to normalise the windows into.
pub(super) fn scan(
    b: &[u8],
    classes: u32,
    spots: &[u32],
    norm: &mut Norm,
) -> Option<Option<(usize, usize, &'static str)>> {
    let vars = Vars::default();
    let stops = Stops::from_classes(classes);
    let mut chain = Chain::default();
    // raw offset up to which the windows have scanned the value (0 or a boundary), and
    // whether some text before it was left unscanned
    let mut covered = 0;
    let mut gap = false;
    let mut next = 0;
    while next < spots.len() {
        let q = spots[next] as usize;
        next += 1;
        if q < covered {
            continue;
        }
        // the statement's boundary before `q` (or `covered`: the value start or the boundary
        // the previous window stopped at) and the one after it
        let mut start = q;
        while start > covered && !(boundary_byte(b[start]) && boundary(b, start)) {
            start -= 1;
        }
        gap |= start > covered;
        let mut end = next_boundary(b, q + 1);
        // the statements right after that hold spots join the window (one pass for a run
        // of flagged statements)
        while end < b.len() {
            while next < spots.len() && (spots[next] as usize) < end {
                next += 1;
            }
            // (a spot further on gets its own window; joining is only cheaper)
            let Some(&q2) = spots.get(next).filter(|&&q2| q2 as usize - end <= JOIN) else {
                break;
            };
            let after = next_boundary(b, end + 1);
            if after <= q2 as usize {
                break;
            }
            end = after;
        }
        // from the plain byte before the boundary (or the value start) to the next boundary,
        // which the scan reads but does not step past
        let from = if start == 0 { 0 } else { start - 1 };
        let to = if end < b.len() { end + 1 } else { end };
        normalize_range(b, from, to, classes, &vars, norm);
        let sc = Scanner {
            n: &norm.n,
            stops,
            strict: None,
        };
        let first = usize::from(start > 0);
        let stop = if end < b.len() {
            norm.n.len() - 1
        } else {
            norm.n.len()
        };
        match sc.run_span(first, stop, &mut chain, gap) {
            Scan::Hit(Hit { rule, start, end }) => {
                let (s, e) = norm.map(start, end);
                return Some(Some((s, e, rule)));
            }
            Scan::Undecided => return None,
            Scan::Clear => {}
        }
        covered = end;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{collect_vars, normalize};
    use super::super::prefilter::byte_classes;
    use super::super::sweep::{sweep_spots, W_GATE, W_SPOTS};
    use super::super::{detect_gated, detect_ungated, detect_unwindowed};
    use super::*;

    /// Normalisation started at any offset [`steps_onto`] accepts writes what the whole pass
    /// writes from there on.
    fn pieces_agree(v: &str) {
        let b = v.as_bytes();
        let classes = byte_classes(b);
        let vars = collect_vars(b);
        let mut whole = Norm::default();
        normalize(b, classes, &vars, &mut whole);
        let mut part = Norm::default();
        for q in 0..b.len() {
            if !steps_onto(b, q) {
                continue;
            }
            // the output byte written from `q`
            let k = (0..whole.n.len())
                .find(|&k| whole.at(k) == q)
                .unwrap_or_else(|| panic!("offset {q} of {v:?} not written"));
            normalize_range(b, q, b.len(), classes, &vars, &mut part);
            assert_eq!(part.n, whole.n[k..], "from {q} of {v:?}");
            for j in 0..part.n.len() {
                assert_eq!(part.at(j), whole.at(k + j), "map from {q} of {v:?}");
            }
        }
    }

    /// The windowed analysis gives the whole one's verdict (rule and span).
    fn same_as_whole(v: &str) {
        let key = |f: Option<crate::waf::Finding>| f.map(|f| (f.rule, f.span));
        let windowed = key(detect_gated(v));
        assert_eq!(windowed, key(detect_unwindowed(v)), "on {v:?}");
        assert_eq!(windowed, key(detect_ungated(v)), "ungated, on {v:?}");
    }

    const TOKENS: &[&str] = &[
        "cat",
        "ls",
        "id",
        "wget",
        "sh",
        "nohup",
        "time",
        "ping",
        "echo",
        "whoami",
        "cmd",
        "net",
        "x",
        "the",
        "a",
        "or",
        "UPPER",
        "IFS",
        "-la",
        "/etc/passwd",
        "10.0.0.1",
        "5",
        ";",
        ";",
        "|",
        "||",
        "&",
        "&&",
        "\n",
        "\r",
        " ",
        " ",
        "  ",
        "\t",
        "'",
        "\"",
        "\\",
        "^",
        "`",
        "``",
        "```",
        "$",
        "${",
        "}",
        "$1",
        "$@",
        "$x",
        "${x}",
        "$IFS",
        "${IFS;",
        "$(",
        "$()",
        "$(CC)",
        "$'",
        "(",
        ")",
        "<",
        ">",
        ">&",
        "<()",
        "&amp;",
        "&#59;",
        "=",
        "a=",
        "x=cat",
        "+",
        "#",
        "é",
        ".txt",
        "' or <a on=../;|${ ",
    ];

    #[test]
    fn normalisation_in_pieces_is_the_whole_pass() {
        for v in crate::waf::tests::token_sequences(0x9e37_79b9_7f4a_7c15, TOKENS, 3000, 24) {
            pieces_agree(&v);
        }
        if let Some(values) = crate::waf::tests::corpus_values(false) {
            for v in values.iter().step_by(7) {
                pieces_agree(v);
            }
        }
    }

    #[test]
    fn windows_give_the_whole_verdict_on_the_corpus() {
        let Some(values) = crate::waf::tests::corpus_values(true) else {
            return;
        };
        for v in &values {
            for (pre, post) in [("", ""), ("x ;", ";cat y"), ("a | b;", "\n;id")] {
                same_as_whole(&format!("{pre}{v}{post}"));
            }
        }
    }

    #[test]
    fn windows_give_the_whole_verdict_on_random_token_sequences() {
        for v in crate::waf::tests::token_sequences(0x2545_f491_4f6c_dd1d, TOKENS, 30_000, 32) {
            same_as_whole(&v);
        }
    }

    /// Whether the windows answer on `v` (rather than leave it to the whole scan).
    fn windows_answer(v: &str) -> bool {
        let b = v.as_bytes();
        let classes = byte_classes(b);
        let mut spots = Vec::new();
        let sw = sweep_spots(b, classes, W_GATE | W_SPOTS, &mut spots);
        if !sw.windowable {
            return false;
        }
        spots.sort_unstable();
        scan(b, classes, &spots, &mut Norm::default()).is_some()
    }

    #[test]
    fn commands_after_separators_are_scanned_in_windows() {
        let near = "' or <a on=../;|${ ".repeat(13);
        for unit in [
            ";cat x ", "|cat x ", "&&cat x ", "\ncat x ", "; ls x ", ";cat x;",
        ] {
            let padded = format!("{near}{unit}").repeat(8);
            assert!(windows_answer(&padded), "{unit:?}");
            assert_eq!(detect_gated(&padded), None, "{unit:?}");
        }
        // what the windows leave to the whole scan
        for v in [
            "a=cat;$a /etc/passwd",
            "x;iex y",
            "x | sh",
            "x;/bin/ls",
            "c:x;ls",
        ] {
            assert!(!windows_answer(v), "{v:?}");
        }
    }

    #[test]
    fn windows_give_the_whole_verdict_on_padded_values() {
        let near = "' or <a on=../;|${ ".repeat(13);
        for unit in [
            ";cat x ",
            "|cat x ",
            "&&cat x ",
            "\ncat x ",
            "||ls x ",
            "$(cat x ",
            "`cat x ",
            ";cat x;",
            "x;cat;x ",
            ";cat -la ",
            "; ping x ",
            "a | b ;cat x ",
            "'x;cat x ",
        ] {
            let padded = format!("{near}{unit}").repeat(8);
            for tail in [
                "",
                ";id",
                "|sh",
                "; cat /etc/passwd",
                ";x=1;$x",
                "a=b;cat x",
            ] {
                same_as_whole(&format!("{padded}{tail}"));
                same_as_whole(&format!("{tail}{padded}"));
            }
        }
    }
}
