//! Stream wrappers and local-file schemes (`lfi-wrapper`) and NUL truncation
//! (`lfi-null-byte`).

use super::flags::positions;
use crate::waf::Finding;

/// Stream wrappers and local-file schemes: every `:` is checked against the scheme word
/// before it (at most 16 bytes back), so the cost is linear.
pub(super) fn wrapper(input: &str) -> Option<Finding> {
    #[derive(Clone, Copy)]
    enum W {
        DoubleSlash,
        File,
        Jar,
        Slash,
    }
    fn lookup(word: &[u8]) -> Option<W> {
        // every wrapper name starts with one of these letters (not 'h': http/https are the
        // common case and exit here)
        if word.len() < 3
            || word.len() > 14
            || !matches!(
                word[0] | 0x20,
                b'p' | b'z'
                    | b'e'
                    | b'g'
                    | b'd'
                    | b'r'
                    | b'o'
                    | b'c'
                    | b's'
                    | b'f'
                    | b'j'
                    | b'n'
                    | b'l'
            )
        {
            return None;
        }
        let mut buf = [0u8; 14];
        for (d, s) in buf.iter_mut().zip(word) {
            *d = s.to_ascii_lowercase();
        }
        match &buf[..word.len()] {
            b"php" | b"phar" | b"zip" | b"expect" | b"glob" | b"data" | b"rar" | b"ogg"
            | b"compress.zlib" | b"compress.bzip2" | b"ssh2.shell" | b"ssh2.exec"
            | b"ssh2.tunnel" | b"ssh2.sftp" | b"ssh2.scp" => Some(W::DoubleSlash),
            b"file" => Some(W::File),
            b"jar" => Some(W::Jar),
            b"netdoc" | b"local_file" => Some(W::Slash),
            _ => None,
        }
    }
    let b = input.as_bytes();
    for p in positions(b':', b) {
        // the last letter of every wrapper name (`https:` exits here)
        if p == 0
            || !matches!(
                b[p - 1] | 0x20,
                b'p' | b'r' | b't' | b'b' | b'a' | b'g' | b'2' | b'l' | b'c' | b'e'
            )
        {
            continue;
        }
        let mut s = p;
        while s > 0 && p - s < 16 && {
            let c = b[s - 1];
            c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
        } {
            s -= 1;
        }
        if s == p || (s > 0 && b[s - 1].is_ascii_alphanumeric()) {
            continue;
        }
        // "x.php://": the part after the last '.' counts too (as a word boundary would)
        let (w, s) = match lookup(&b[s..p]) {
            Some(w) => (w, s),
            None => match b[s..p].iter().rposition(|&c| c == b'.') {
                Some(d) => match lookup(&b[s + d + 1..p]) {
                    Some(w) => (w, s + d + 1),
                    None => continue,
                },
                None => continue,
            },
        };
        let rest = &b[p + 1..];
        let end = match w {
            W::DoubleSlash => rest.starts_with(b"//").then_some(p + 3),
            W::File => {
                let n = rest.iter().take(4).take_while(|&&c| c == b'/').count();
                rest.get(n)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || b"~.%$_\\-".contains(&c))
                    .then_some(p + 1 + n + 1)
            }
            W::Jar => {
                let n = rest
                    .iter()
                    .take(17)
                    .take_while(|&&c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
                    .count();
                (n > 0 && rest[0].is_ascii_alphabetic() && rest.get(n) == Some(&b':'))
                    .then_some(p + 2 + n)
            }
            W::Slash => (rest.first() == Some(&b'/')).then_some(p + 2),
        };
        if let Some(e) = end {
            return Some(Finding {
                rule: "lfi-wrapper",
                span: s..e.min(b.len()),
            });
        }
    }
    None
}

pub(super) fn null_byte(input: &str) -> Option<Finding> {
    let b = input.as_bytes();
    for p in positions(0, b).take(16) {
        // the token before the NUL, back to a blank or another NUL (at most 256 bytes)
        let lo = p.saturating_sub(256);
        let mut s = p;
        while s > lo && !matches!(b[s - 1], 0 | b' ' | b'\t' | b'\n' | b'\r') {
            s -= 1;
        }
        let tok = &b[s..p];
        let has_sep = tok.iter().any(|&c| c == b'/' || c == b'\\');
        let ext = {
            let mut k = tok.len();
            while k > 0 && tok[k - 1].is_ascii_alphanumeric() {
                k -= 1;
            }
            let n = tok.len() - k;
            k > 1 && tok[k - 1] == b'.' && (1..=8).contains(&n) && tok[k - 2] != b'.'
        };
        if has_sep || ext {
            // s may sit inside a multibyte char only if lo cut it; move to a boundary
            let mut s = s;
            while !input.is_char_boundary(s) {
                s += 1;
            }
            return Some(Finding {
                rule: "lfi-null-byte",
                span: s..p + 1,
            });
        }
    }
    None
}
