//! Normalisation: the decoded copy of a value (entities, escapes, UTF-7, fullwidth forms)
//! with a map of every decoded byte back to its offset in the input.

use super::bytes::{eq_ci, lc_at};
use crate::waf::entity::parse as parse_entity;

pub(super) struct Norm {
    pub(super) buf: Vec<u8>,
    /// `map[i]`: offset in the original input of the unit that produced `buf[i]`.
    pub(super) map: Vec<u32>,
}

impl Norm {
    pub(super) fn new(raw: &[u8]) -> Norm {
        let mut first = Norm {
            buf: Vec::with_capacity(raw.len()),
            map: Vec::with_capacity(raw.len()),
        };
        let again = decode_into(raw, None, &mut first);
        if !again {
            return first;
        }
        // One more round for double-encoded entities (`&amp;lt;`); never more.
        let mut second = Norm {
            buf: Vec::with_capacity(first.buf.len()),
            map: Vec::with_capacity(first.buf.len()),
        };
        decode_into(&first.buf, Some(&first.map), &mut second);
        second
    }

    /// Maps a span of the decoded buffer back to the original input.
    pub(super) fn orig_span(&self, s: usize, e: usize, len: usize) -> (usize, usize) {
        let start = self.map.get(s).map_or(len, |&m| m as usize);
        let last = if e > s { e - 1 } else { s };
        let last_orig = self.map.get(last).map_or(len, |&m| m as usize);
        let mut end = len;
        for &m in self.map.iter().skip(last + 1).take(64) {
            if m as usize > last_orig {
                end = m as usize;
                break;
            }
        }
        (start, end.max(start))
    }
}

/// Decodes `src` into `out` (lowercased). `srcmap` maps `src` offsets to original ones.
/// Returns true when the output still holds something a second round could decode.
pub(super) fn decode_into(src: &[u8], srcmap: Option<&[u32]>, out: &mut Norm) -> bool {
    let orig = |i: usize| -> u32 {
        match srcmap {
            Some(m) => m.get(i).copied().unwrap_or(u32::MAX),
            None => i as u32,
        }
    };
    let mut again = false;
    let mut i = 0;
    let n = src.len();
    while i < n {
        let c = src[i];
        let o = orig(i);
        match c {
            0 => {
                i += 1;
            }
            b'&' => {
                if let Some((cp, len)) = parse_entity(src, i) {
                    let from_amp = cp == u32::from(b'&');
                    push_cp(out, cp, o);
                    if from_amp {
                        if let Some(&nx) = src.get(i + len) {
                            if nx == b'#' || nx.is_ascii_alphabetic() {
                                again = true;
                            }
                        }
                    }
                    i += len;
                } else {
                    push(out, b'&', o);
                    i += 1;
                }
            }
            b'\\' => {
                if let Some((cp, len)) = parse_backslash(src, i) {
                    push_cp(out, cp, o);
                    i += len;
                } else {
                    push(out, b'\\', o);
                    i += 1;
                }
            }
            b'%' => {
                if lc_at(src, i + 1) == b'u' {
                    if let Some(cp) = hex_n(src, i + 2, 4) {
                        push_cp(out, cp, o);
                        i += 6;
                        continue;
                    }
                }
                // Left-over percent-encoding (e.g. cookie names are not URL-decoded).
                if let Some(v) = hex_n(src, i + 1, 2) {
                    // `%26lt;`, `%2525`, `%2bADw-`: a second round finishes the job.
                    if v == u32::from(b'&')
                        || v == u32::from(b'%')
                        || (v == u32::from(b'+')
                            && (eq_ci(src, i + 3, b"ad") || eq_ci(src, i + 3, b"ac")))
                    {
                        again = true;
                    }
                    if v < 0x80 {
                        push_cp(out, v, o);
                        i += 3;
                        continue;
                    }
                }
                push(out, b'%', o);
                i += 1;
            }
            b'+' => {
                // UTF-7 encoded markup characters.
                let rep = if eq_ci(src, i + 1, b"adw") {
                    Some(b'<')
                } else if eq_ci(src, i + 1, b"ad4") {
                    Some(b'>')
                } else if eq_ci(src, i + 1, b"aci") {
                    Some(b'"')
                } else if eq_ci(src, i + 1, b"acc") {
                    Some(b'\'')
                } else {
                    None
                };
                if let Some(r) = rep {
                    push(out, r, o);
                    i += 4;
                    if src.get(i) == Some(&b'-') {
                        i += 1;
                    }
                } else {
                    push(out, b'+', o);
                    i += 1;
                }
            }
            0xEF if src.get(i + 1) == Some(&0xBC) => {
                // U+FF02 ＂, U+FF07 ＇, U+FF1C ＜, U+FF1E ＞
                let rep = match src.get(i + 2) {
                    Some(0x82) => Some(b'"'),
                    Some(0x87) => Some(b'\''),
                    Some(0x9C) => Some(b'<'),
                    Some(0x9E) => Some(b'>'),
                    _ => None,
                };
                if let Some(r) = rep {
                    push(out, r, o);
                    i += 3;
                } else {
                    push(out, c, o);
                    i += 1;
                }
            }
            _ => {
                push(out, c.to_ascii_lowercase(), o);
                i += 1;
            }
        }
    }
    again
}

pub(super) fn push(out: &mut Norm, b: u8, o: u32) {
    out.buf.push(b);
    out.map.push(o);
}

pub(super) fn push_cp(out: &mut Norm, cp: u32, o: u32) {
    match cp {
        0 => {}
        1..=0x7F => push(out, (cp as u8).to_ascii_lowercase(), o),
        0xFF02 => push(out, b'"', o),
        0xFF07 => push(out, b'\'', o),
        0xFF1C => push(out, b'<', o),
        0xFF1E => push(out, b'>', o),
        _ => {
            let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
            let mut tmp = [0u8; 4];
            for &b in ch.encode_utf8(&mut tmp).as_bytes() {
                push(out, b, o);
            }
        }
    }
}

/// Parses `\xHH`, `\uHHHH`, `\u{H..}` at `src[i] == '\\'`.
pub(super) fn parse_backslash(src: &[u8], i: usize) -> Option<(u32, usize)> {
    match src.get(i + 1) {
        Some(b'x') | Some(b'X') => {
            let v = hex_n(src, i + 2, 2)?;
            // A US-ASCII reader drops the high bit: \xbc becomes '<'.
            let v = if v >= 0x80 { v & 0x7F } else { v };
            Some((v, 4))
        }
        Some(b'u') | Some(b'U') => {
            if src.get(i + 2) == Some(&b'{') {
                let mut j = i + 3;
                let mut v: u32 = 0;
                while let Some(d) = src.get(j).and_then(|&c| (c as char).to_digit(16)) {
                    v = v.saturating_mul(16).saturating_add(d);
                    j += 1;
                    if j - i > 12 {
                        return None;
                    }
                }
                if src.get(j) != Some(&b'}') || j == i + 3 {
                    return None;
                }
                Some((v.min(0x10FFFF), j + 1 - i))
            } else {
                Some((hex_n(src, i + 2, 4)?, 6))
            }
        }
        Some(c) if c.is_ascii_hexdigit() => {
            // CSS escape: 1-6 hex digits and an optional space; only ASCII results are kept.
            let mut j = i + 1;
            let mut v: u32 = 0;
            while j < src.len() && j - i <= 6 && src[j].is_ascii_hexdigit() {
                v = v * 16 + (src[j] as char).to_digit(16).unwrap_or(0);
                j += 1;
            }
            if j - i < 3 || !(0x20..0x7F).contains(&v) {
                return None;
            }
            if src.get(j) == Some(&b' ') {
                j += 1;
            }
            Some((v, j - i))
        }
        _ => None,
    }
}

pub(super) fn hex_n(src: &[u8], i: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for k in 0..n {
        let d = (*src.get(i + k)? as char).to_digit(16)?;
        v = v * 16 + d;
    }
    Some(v)
}
