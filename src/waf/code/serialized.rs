//! Java serialization streams sent as base64: what deserialization endpoints (`ViewState`-like
//! fields, remember-me cookies, RMI and JMX bridges over HTTP) receive, and what gadget-chain
//! exploits are made of.
//!
//! Every stream opens with the magic `AC ED` and the version `00 05`. In base64 those four
//! bytes read differently at each of the three byte alignments a stream can have inside a
//! base64 run (`rO0AB...` when it opens the run, and two other spellings after one or two
//! bytes of something else), so the rule does not look for strings: it decodes every run of
//! base64 letters that could hold the magic and compares 32 bits at each even bit offset,
//! which covers the three alignments. The magic's zero byte and the five zero bits that
//! follow it make at least one `A` (six zero bits) in the run at every alignment, so only
//! the few characters around each `A` are decoded.
//!
//! The magic alone is reported, with or without an object after it: it is what a client
//! that is not a Java program has no reason to send.

use super::{Hit, R_JAVA_SERIALIZED};

/// `AC ED 00 05`: the stream magic and version.
const MAGIC: u32 = 0xACED_0005;

/// The six-bit value of a base64 letter (standard and URL-safe alphabets), `None` otherwise.
fn sextet(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    }))
}

/// The base64 of a Java serialization stream's header in `t`, at any alignment: the range of
/// the base64 letters that hold it.
pub(crate) fn java_serialized(t: &[u8]) -> Option<Hit> {
    // the characters around each `A` that can share 32 bits with it: the magic spans six
    // characters at most (32 bits and up to four of alignment), and its `A` is at most the
    // fifth of them
    let mut checked_to = 0;
    for a in memchr::memchr_iter(b'A', t) {
        let from = a.saturating_sub(5).max(checked_to);
        let to = (a + 6).min(t.len());
        // the magic needs six base64 letters in a row, and any six of the window hold its
        // `A` (five on each side of it): fewer around it, nothing to decode
        let left = t[from..a]
            .iter()
            .rev()
            .take_while(|&&c| sextet(c).is_some())
            .count();
        let right = t[a + 1..to]
            .iter()
            .take_while(|&&c| sextet(c).is_some())
            .count();
        if left + 1 + right < 6 {
            checked_to = to.saturating_sub(5);
            continue;
        }
        if let Some((s, e)) = magic_in(t, from, to) {
            return Some((R_JAVA_SERIALIZED, s, e));
        }
        checked_to = to.saturating_sub(5);
    }
    None
}

/// The magic in the base64 letters of `t[from..to]`: its character range.
fn magic_in(t: &[u8], from: usize, to: usize) -> Option<(usize, usize)> {
    let mut acc: u64 = 0;
    // characters read since the last byte that is not a base64 letter
    let mut run = 0usize;
    for (i, &c) in t.iter().enumerate().take(to).skip(from) {
        let Some(v) = sextet(c) else {
            run = 0;
            acc = 0;
            continue;
        };
        acc = (acc << 6) | u64::from(v);
        run += 1;
        if run * 6 < 32 {
            continue;
        }
        // the magic ends in the last character read: 0, 2 or 4 of its bits come after it
        for shift in [0u32, 2, 4] {
            if run * 6 >= 32 + shift as usize && (acc >> shift) as u32 == MAGIC {
                let chars = (32 + shift as usize).div_ceil(6);
                return Some((i + 1 - chars, i + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::java_serialized;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn found(v: &str) -> bool {
        java_serialized(v.as_bytes()).is_some()
    }

    #[test]
    fn the_header_at_every_alignment_and_in_every_alphabet() {
        // a stream, with 0, 1 and 2 bytes of something before it in the encoded data
        let stream: &[u8] = b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap";
        for prefix in [&b""[..], b"\x01", b"\xff\xfe", b"\x00", b"ab"] {
            let mut data = prefix.to_vec();
            data.extend_from_slice(stream);
            let b64 = STANDARD.encode(&data);
            assert!(found(&b64), "{prefix:?}: {b64}");
            // inside a value, a JSON string, a cookie
            assert!(found(&format!("state={b64}; path=/")), "{b64}");
            assert!(found(&format!("{{\"s\":\"{b64}\"}}")), "{b64}");
            // the header alone, cut where its last bits end
            let head = STANDARD.encode(&data[..prefix.len() + 4]);
            assert!(found(head.trim_end_matches('=')), "{head}");
        }
        // URL-safe alphabet: the letters around the magic that differ are `+`/`-`, `/`/`_`
        let b64 = base64::engine::general_purpose::URL_SAFE.encode(b"\xfb\xef\xac\xed\x00\x05x");
        assert!(b64.contains(['-', '_']), "{b64}");
        assert!(found(&b64), "{b64}");
    }

    #[test]
    fn near_misses_are_quiet() {
        for v in [
            "",
            "A",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
            // other magic numbers and version bytes: gzip, PNG, a version-4 stream
            &STANDARD.encode(b"\x1f\x8b\x08\x00\x00\x00"),
            &STANDARD.encode(b"\x89PNG\r\n\x1a\n\x00\x00"),
            &STANDARD.encode(b"\xac\xed\x00\x04sr"),
            // the magic split by a byte that is not a base64 letter
            "rO0.ABQ",
            "rO0 ABQ",
            // words and ids
            "Amazon ABQ Albuquerque",
            "ROOABQ",
            "r00ABQ",
            "6f1c2b7e9a4d4e0b8c3f2a1d5e6b7c8d",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBQUFBQSJ9.c2lnbmF0dXJl",
        ] {
            assert!(!found(v), "{v:?}");
        }
    }

    #[test]
    fn every_alignment_of_every_cut_is_bounded_and_safe() {
        // the check never reads past the value, whatever the cut
        let b64 = STANDARD.encode(b"\x00\xac\xed\x00\x05sr");
        for s in 0..b64.len() {
            for e in s..=b64.len() {
                let _ = java_serialized(&b64.as_bytes()[s..e]);
            }
        }
    }
}
