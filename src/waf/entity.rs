//! Character references (`&lt;`, `&#60;`, `&#x3C;`), in one place for every detector and body
//! reader: [`parse`] decodes one as leniently as a browser does (the XSS normalizer),
//! [`decode_terminated`] decodes every `;`-terminated one in a text (XML values: a reference
//! there always ends in `;`), and [`reference_len`] only measures one (the command detector steps
//! over them).

use std::borrow::Cow;

/// Named entities worth knowing (case-insensitive here, on purpose: browsers are lenient).
const ENTITIES: &[(&[u8], u8)] = &[
    (b"amp", b'&'),
    (b"apos", b'\''),
    (b"ast", b'*'),
    (b"bsol", b'\\'),
    (b"colon", b':'),
    (b"comma", b','),
    (b"dollar", b'$'),
    (b"equals", b'='),
    (b"excl", b'!'),
    (b"grave", b'`'),
    (b"gt", b'>'),
    (b"lbrack", b'['),
    (b"lbrace", b'{'),
    (b"lcub", b'{'),
    (b"lowbar", b'_'),
    (b"lpar", b'('),
    (b"lsqb", b'['),
    (b"lt", b'<'),
    (b"nbsp", b' '),
    (b"newline", b'\n'),
    (b"num", b'#'),
    (b"percnt", b'%'),
    (b"period", b'.'),
    (b"plus", b'+'),
    (b"quest", b'?'),
    (b"quot", b'"'),
    (b"rbrack", b']'),
    (b"rbrace", b'}'),
    (b"rcub", b'}'),
    (b"rpar", b')'),
    (b"rsqb", b']'),
    (b"semi", b';'),
    (b"sol", b'/'),
    (b"tab", b'\t'),
    (b"verbar", b'|'),
    (b"vert", b'|'),
];

/// Parses an entity at `src[i] == '&'`, as leniently as browsers do (a numeric reference or
/// a legacy name without its `;`). Returns (code point, length consumed); a code point past
/// Unicode is U+FFFD.
pub(crate) fn parse(src: &[u8], i: usize) -> Option<(u32, usize)> {
    let mut j = i + 1;
    if src.get(j) == Some(&b'#') {
        j += 1;
        let hex = matches!(src.get(j), Some(b'x') | Some(b'X'));
        if hex {
            j += 1;
        }
        let start = j;
        let mut v: u32 = 0;
        while let Some(&c) = src.get(j) {
            let d = if hex {
                (c as char).to_digit(16)
            } else {
                (c as char).to_digit(10)
            };
            match d {
                Some(d) => {
                    v = v
                        .saturating_mul(if hex { 16 } else { 10 })
                        .saturating_add(d);
                    j += 1;
                }
                None => break,
            }
            if j - start > 32 {
                break;
            }
        }
        if j == start {
            return None;
        }
        if src.get(j) == Some(&b';') {
            j += 1;
        }
        let v = if v > 0x10FFFF { 0xFFFD } else { v };
        return Some((v, j - i));
    }
    let start = j;
    while j < src.len() && j - start < 10 && src[j].is_ascii_alphabetic() {
        j += 1;
    }
    if j == start {
        return None;
    }
    let name = &src[start..j];
    let lookup = |nm: &[u8]| {
        ENTITIES
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(nm))
            .map(|&(_, v)| v)
    };
    if let Some(v) = lookup(name) {
        let mut len = j - i;
        if src.get(j) == Some(&b';') {
            len += 1;
        }
        return Some((u32::from(v), len));
    }
    // Legacy entities decoded without `;` even when glued to letters (`&ltscript`).
    for (k, v) in [
        (&b"quot"[..], b'"'),
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
    ] {
        if name.len() > k.len() && name[..k.len()].eq_ignore_ascii_case(k) {
            return Some((u32::from(v), 1 + k.len()));
        }
    }
    None
}

/// `s` with every `;`-terminated character reference [`parse`] knows decoded, once; anything
/// else stays as it is. Borrowed when there is no `&`.
pub(crate) fn decode_terminated(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for amp in memchr::memchr_iter(b'&', b) {
        if amp < copied {
            continue; // inside a reference already decoded
        }
        let Some((cp, len)) = parse(b, amp).filter(|&(_, len)| b[amp + len - 1] == b';') else {
            continue;
        };
        out.push_str(&s[copied..amp]);
        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
        copied = amp + len;
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// The length of a `;`-terminated character reference (`&#59;`, `&#x3b;`, `&lt;`, any name of
/// up to 10 letters and digits) at the start of `b`, 0 when there is none: its syntax only,
/// for detectors that step over references rather than decode them.
pub(crate) fn reference_len(b: &[u8]) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminated_references_are_decoded_once() {
        assert_eq!(
            decode_terminated("a &lt;b&gt; &amp;lt; &#60;&#x3C; &nope; & &lt &#1114112; &#xD800;"),
            "a <b> &lt; << &nope; & &lt \u{FFFD} \u{FFFD}"
        );
        assert!(matches!(decode_terminated("plain"), Cow::Borrowed(_)));
        // multi-byte text around references stays whole
        assert_eq!(decode_terminated("é&amp;€&#233;"), "é&€é");
    }

    #[test]
    fn lenient_parsing_as_browsers_do() {
        assert_eq!(parse(b"&lt;", 0), Some((u32::from(b'<'), 4)));
        assert_eq!(parse(b"&LT", 0), Some((u32::from(b'<'), 3)));
        assert_eq!(parse(b"&ltscript", 0), Some((u32::from(b'<'), 3)));
        assert_eq!(parse(b"&#x3c", 0), Some((0x3c, 5)));
        assert_eq!(parse(b"&#60;x", 0), Some((60, 5)));
        assert_eq!(parse(b"&nope;", 0), None);
        assert_eq!(parse(b"&#;", 0), None);
    }

    #[test]
    fn reference_lengths() {
        assert_eq!(reference_len(b"&#59;ls"), 5);
        assert_eq!(reference_len(b"&#x3b;"), 6);
        assert_eq!(reference_len(b"&anything;"), 10);
        assert_eq!(reference_len(b"&lt"), 0);
        assert_eq!(reference_len(b"& ls"), 0);
    }
}
