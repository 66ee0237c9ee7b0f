//! Which values the rules that read the whole token stream can fire on at all, so that the
//! others are run on the first folded tokens only (see [`super::run`]).
//!
//! The "anywhere" rules ([`super::anywhere`]) each start at a token that only some bytes can
//! make: a UNION-like or statement keyword, HAVING, VALUES, OUTFILE/ANALYSE, AS (with FROM
//! after it), `when`, a catalog name, a glued `unionselect`, a called function name (with a
//! `(` in the value), `@@`, `::`, MySQL's `1.e(`, a `/* */` comment used as a space and a
//! `)` followed by `AS` or `WHERE` (`) AS x WHERE 1=1`). A
//! word token is a run of the value's bytes whose ASCII-lowercase form is the table word (or
//! holds it, for catalog names read by their dotted parts and glued `unionselect`), so a value
//! that contains none of these words (ASCII case-insensitively, anywhere, even inside other
//! words) and none of those byte pairs gives no such token in any quote context. The
//! rest of [`super::rules::analyze`] reads a bounded prefix of the stream (checked as it reads:
//! [`super::rules::View`] notes a read past the tokens known final), except `paren_comment`,
//! which needs the value to open with `(`.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use std::sync::LazyLock;

use super::token::*;
use super::words::{CATALOG, FUNCS, KEYWORDS, NILADIC, PACKAGES};

/// The trigger words: (automaton, pattern kinds).
struct Triggers {
    ac: AhoCorasick,
    /// Per pattern: [`FUNC`], [`AS`], [`FROM`] or 0 (a trigger on its own).
    kind: Vec<u8>,
}

const FUNC: u8 = 1;
const AS: u8 = 2;
const FROM: u8 = 4;
const ALONE: u8 = 8;

static TRIGGERS: LazyLock<Triggers> = LazyLock::new(|| {
    let mut words: Vec<(&str, u8)> = Vec::new();
    for &(w, ty, a) in KEYWORDS {
        let alone = matches!(ty, T_UNION | T_STMT)
            || (ty == T_KW && matches!(a, K_HAVING | K_VALUES | K_OUTFILE))
            || (ty == T_WORD && a == W_ANALYSE);
        if alone {
            words.push((w, ALONE));
        } else if ty == T_KW && a == K_AS {
            words.push((w, AS));
        } else if ty == T_KW && a == K_FROM {
            words.push((w, FROM));
        }
    }
    for w in [
        "outfile",
        "dumpfile",
        "analyse",
        "analyze",
        "when",
        "unionselect",
    ] {
        words.push((w, ALONE));
    }
    for &w in CATALOG.iter().chain(PACKAGES) {
        words.push((w, ALONE));
    }
    for &(w, _) in FUNCS {
        words.push((w, FUNC));
    }
    for &w in NILADIC {
        words.push((w, FUNC));
    }
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(words.iter().map(|(w, _)| w))
        .expect("trigger automaton");
    Triggers {
        ac,
        kind: words.iter().map(|&(_, k)| k).collect(),
    }
});

/// Builds the automaton now (see [`super::warm_up`]).
pub(super) fn warm_up() {
    LazyLock::force(&TRIGGERS);
}

/// False when no token the "anywhere" rules start from can occur in any tokenization of
/// `b` (`paren`: `b` holds a `(`, without which no function name is called). True is no
/// promise of a match.
pub(super) fn anywhere_reachable(b: &[u8], paren: bool) -> bool {
    // `/*` (comment as a space, `/*!` bodies), `@@`, `::`, `.e(` / `.e.`
    for p in memchr::memchr3_iter(b'/', b'@', b':', b) {
        let next = b.get(p + 1).copied();
        if matches!(
            (b[p], next),
            (b'/', Some(b'*')) | (b'@', Some(b'@')) | (b':', Some(b':'))
        ) {
            return true;
        }
    }
    // `) AS x WHERE`, `) WHERE`: a WHERE right after a closing parenthesis (`closed_where`)
    if memchr::memchr_iter(b')', b).any(|p| closes_into_where(&b[p + 1..])) {
        return true;
    }
    if memchr::memmem::find_iter(b, b".e")
        .chain(memchr::memmem::find_iter(b, b".E"))
        .any(|p| matches!(b.get(p + 2), Some(b'(' | b'.')))
    {
        return true;
    }
    let t = &*TRIGGERS;
    let mut seen = 0u8;
    for m in t.ac.find_overlapping_iter(b) {
        let k = t.kind[m.pattern().as_usize()];
        if k == FUNC && !paren {
            continue;
        }
        seen |= if k == FUNC { ALONE } else { k };
        if seen & ALONE != 0 || seen & (AS | FROM) == AS | FROM {
            return true;
        }
    }
    false
}

/// Whether `rest` (what follows a `)`) opens with `AS` or `WHERE` as a word, after blanks or
/// inline comments: the start of [`super::rules::closed_where`]'s shape.
fn closes_into_where(rest: &[u8]) -> bool {
    let i = super::tokenizer::skip_ws_comments(rest, 0);
    let word = |w: &[u8]| {
        rest.get(i..i + w.len())
            .is_some_and(|x| x.eq_ignore_ascii_case(w))
            && rest
                .get(i + w.len())
                .is_none_or(|&c| !super::tokenizer::is_word_char(c))
    };
    word(b"as") || word(b"where")
}
