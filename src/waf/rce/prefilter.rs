//! The byte-class prefilter: one bit per byte the rules care about ([`CLASS`], shared with
//! the scan's pass), and [`worth_looking`], the cheap test that lets most values stop before
//! any normalisation.

use super::commands::{lookup, COMMAND_TABLE};

/// Byte classes seen in the raw input: one bit per byte the rules care about, so that a
/// single pass answers every "does the value contain X" question.
pub(super) const B_SEMI: u32 = 1;
pub(super) const B_PIPE: u32 = 1 << 1;
pub(super) const B_AMP: u32 = 1 << 2;
pub(super) const B_LF: u32 = 1 << 3;
pub(super) const B_CR: u32 = 1 << 4;
pub(super) const B_DOLLAR: u32 = 1 << 5;
pub(super) const B_TICK: u32 = 1 << 6;
pub(super) const B_LT: u32 = 1 << 7;
pub(super) const B_GT: u32 = 1 << 8;
pub(super) const B_LBRACE: u32 = 1 << 9;
pub(super) const B_TILDE: u32 = 1 << 10;
pub(super) const B_BANG: u32 = 1 << 11;
pub(super) const B_BSLASH: u32 = 1 << 12;
pub(super) const B_CARET: u32 = 1 << 13;
pub(super) const B_EQ: u32 = 1 << 14;
pub(super) const B_LPAREN: u32 = 1 << 15;
pub(super) const B_GLOB: u32 = 1 << 16;
pub(super) const B_QUOTE: u32 = 1 << 17;
/// Bytes that make the full analysis worthwhile.
pub(super) const TRIGGER: u32 = (1 << 15) - 1;
/// Bytes after which [`normalize`] may no longer map output offsets 1:1 to input offsets.
pub(super) const NOT_IDENT: u32 =
    B_QUOTE | B_BSLASH | B_CARET | B_TICK | B_AMP | B_LT | B_GT | B_DOLLAR;

pub(in crate::waf) static CLASS: [u32; 256] = {
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
pub(super) fn byte_classes(b: &[u8]) -> u32 {
    crate::waf::classes::or_over(&CLASS, b)
}

/// Bytes collected into the first word by [`worth_looking`].
#[inline]
pub(super) fn first_word_byte(c: u8) -> bool {
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
pub(super) fn worth_looking(b: &[u8], classes: u32) -> bool {
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
