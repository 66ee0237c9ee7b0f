//! Normalisation: one bounded pass that undoes shell quoting and obfuscation (quotes and
//! backslashes inside words, carets, empty constructs, special parameters, unset and
//! assigned variables, `$IFS`) into a lower-case view, with a map back to input offsets.
//! It never decides anything; the rules run on its output.

use super::prefilter::NOT_IDENT;
use crate::waf::entity;

/// Normalised view of the input with a map from each output byte to an input offset.
///
/// While every output byte `k` came from input offset `base + k` (`ident`), the map is
/// implicit and `m` stays empty; the first byte that breaks this fills `m` in. (`base` is the
/// input offset the pass started from: 0 for the whole value, a window's start otherwise.)
#[derive(Default)]
pub(super) struct Norm {
    pub(super) n: Vec<u8>,
    pub(super) m: Vec<u32>,
    pub(super) ident: bool,
    pub(super) base: usize,
}

impl Norm {
    pub(super) fn push(&mut self, b: u8, at: usize) {
        if self.ident {
            if at == self.base + self.n.len() {
                self.n.push(b);
                return;
            }
            self.break_ident();
        }
        self.n.push(b);
        self.m.push(at as u32);
    }

    pub(super) fn break_ident(&mut self) {
        self.ident = false;
        self.m
            .extend(self.base as u32..(self.base + self.n.len()) as u32);
    }

    /// Input offset of output byte `k` (`k < n.len()`).
    pub(super) fn at(&self, k: usize) -> usize {
        if self.ident {
            self.base + k
        } else {
            self.m[k] as usize
        }
    }

    /// Maps the output range `[s, e)` back to the input (non-empty, clamped).
    pub(super) fn map(&self, s: usize, e: usize) -> (usize, usize) {
        let len = self.n.len();
        if len == 0 || s >= len {
            return (0, 0);
        }
        let e = e.clamp(s + 1, len);
        (self.at(s), self.at(e - 1) + 1)
    }
}

/// Variables assigned in the value (`a=cat;`), substituted once during normalisation.
#[derive(Default)]
pub(super) struct Vars {
    pub(super) names: Vec<Vec<u8>>,
    pub(super) values: Vec<Vec<u8>>,
}

impl Vars {
    pub(super) fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| self.values[i].as_slice())
    }
}

pub(super) fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}
pub(super) fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Collects `name=value` assignments that sit in command position.
pub(super) fn collect_vars(b: &[u8]) -> Vars {
    let mut vars = Vars::default();
    let mut i = 0;
    let mut at_start = true;
    while i < b.len() && vars.names.len() < 16 {
        let c = b[i];
        if matches!(c, b';' | b'&' | b'|' | b'\n' | b'(') {
            at_start = true;
            i += 1;
            continue;
        }
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        if at_start && is_name_start(c) {
            let s = i;
            while i < b.len() && is_name(b[i]) && i - s < 32 {
                i += 1;
            }
            if i < b.len() && b[i] == b'=' {
                let name = b[s..i].to_vec();
                i += 1;
                let mut val = Vec::new();
                let mut quote = 0u8;
                while i < b.len() && val.len() < 64 {
                    let d = b[i];
                    if quote != 0 {
                        if d == quote {
                            quote = 0;
                        } else {
                            val.push(d.to_ascii_lowercase());
                        }
                        i += 1;
                        continue;
                    }
                    match d {
                        b'\'' | b'"' => quote = d,
                        b'\\' if i + 1 < b.len() => {
                            val.push(b[i + 1].to_ascii_lowercase());
                            i += 1;
                        }
                        b' ' | b'\t' | b';' | b'&' | b'|' | b'\n' | b')' => break,
                        _ => val.push(d.to_ascii_lowercase()),
                    }
                    i += 1;
                }
                vars.names.push(name);
                vars.values.push(val);
            }
            at_start = false;
            continue;
        }
        at_start = false;
        i += 1;
    }
    vars
}

/// Bytes the normaliser treats specially; everything else is copied (lower-cased).
pub(super) static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b"'\"\\^\t\x0b\x0c+`<>$&";
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
};

/// One bounded pass that undoes shell quoting/escaping tricks (see module docs).
pub(super) fn normalize(b: &[u8], classes: u32, vars: &Vars, out: &mut Norm) {
    normalize_range(b, 0, b.len(), classes, vars, out);
}

/// [`normalize`] from input offset `from` until the pass reaches `to` (a construct that opens
/// before `to` is read whole; everything after `to` is still read as lookahead). From a
/// `from` that the whole pass steps onto with a plain byte (not in [`SPECIAL`]) at `from`,
/// the output is the whole pass's output from there on (the pass carries no state past a
/// plain byte but the previous output byte, which is that byte): what the statement windows
/// (`windows`) rely on.
pub(super) fn normalize_range(
    b: &[u8],
    from: usize,
    to: usize,
    classes: u32,
    vars: &Vars,
    out: &mut Norm,
) {
    out.n.clear();
    out.m.clear();
    out.ident = true;
    out.base = from;
    out.n.reserve(to - from);
    if classes & NOT_IDENT == 0 {
        // only case, blanks and `+` to handle: one byte out per byte in
        normalize_plain(b, from, to, &mut out.n);
        return;
    }
    let len = b.len();
    let mut i = from;
    // whether the previous emitted bytes came from a variable expansion
    let mut after_var = false;
    while i < to {
        // fast path: copy a run of ordinary bytes (lower-cased)
        let mut j = i;
        while j < to && !SPECIAL[b[j] as usize] {
            j += 1;
        }
        if j > i {
            if out.ident && i != out.base + out.n.len() {
                out.break_ident();
            }
            let at = out.n.len();
            out.n.extend_from_slice(&b[i..j]);
            out.n[at..].make_ascii_lowercase();
            if !out.ident {
                out.m.extend((i as u32)..(j as u32));
            }
            after_var = false;
            i = j;
            continue;
        }
        let c = b[i];
        let was_var = after_var;
        after_var = false;
        match c {
            b'\'' | b'"' | b'\\' | b'^' => {
                i += 1;
                after_var = was_var;
            }
            b'\t' | 0x0b | 0x0c => {
                out.push(b' ', i);
                i += 1;
            }
            b'+' => {
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                let prev = out.n.last().copied().unwrap_or(b' ');
                if matches!(next, b'/' | b'-' | b'$' | b'.')
                    || matches!(prev, b' ' | b';' | b'|' | b'&')
                {
                    out.push(b' ', i);
                } else {
                    out.push(b'+', i);
                }
                i += 1;
            }
            b'`' if b.get(i + 1) == Some(&b'`') && b.get(i + 2) == Some(&b'`') => {
                // markdown code fence
                while i < len && b[i] == b'`' {
                    i += 1;
                }
                out.push(b' ', i - 1);
            }
            b'`' if b.get(i + 1) == Some(&b'`') => i += 2,
            b'&' if entity::reference_len(&b[i..]) > 0 => {
                out.push(b' ', i);
                i += entity::reference_len(&b[i..]);
            }
            b'<' | b'>' if b.get(i + 1) == Some(&b'(') && b.get(i + 2) == Some(&b')') => i += 3,
            b'$' => {
                let next = b.get(i + 1).copied().unwrap_or(0);
                match next {
                    b'(' if b.get(i + 2) == Some(&b')') => i += 3,
                    // `$(CC)`, `$(BUILD_DIR)`: a Make (or CI) variable; as a command
                    // substitution, an upper-case name runs nothing on a case-sensitive system
                    b'(' if upper_name_len(&b[i + 2..])
                        .is_some_and(|n| b.get(i + 2 + n) == Some(&b')')) =>
                    {
                        i += 3 + upper_name_len(&b[i + 2..]).unwrap_or(0);
                    }
                    b'@' | b'*' | b'!' | b'?' | b'-' | b'_' | b'$' | b'#' | b'1'..=b'9' => {
                        i += 2;
                        after_var = was_var;
                    }
                    b'0' => {
                        out.push(b's', i);
                        out.push(b'h', i);
                        i += 2;
                    }
                    b'\'' | b'"' => i += 1,
                    b'{' => {
                        // ${name} / ${IFS...}
                        let s = i + 2;
                        let mut e = s;
                        while e < len && e - s < 64 && b[e] != b'}' && b[e] != b'{' && b[e] != b'$'
                        {
                            e += 1;
                        }
                        if e < len && b[e] == b'}' {
                            let content = &b[s..e];
                            let mut ne = 0;
                            while ne < content.len() && is_name(content[ne]) {
                                ne += 1;
                            }
                            let name = &content[..ne];
                            if name.eq_ignore_ascii_case(b"IFS") {
                                out.push(b' ', i);
                                i = e + 1;
                                continue;
                            }
                            if ne == content.len() && ne > 0 && is_name_start(content[0]) {
                                if name.eq_ignore_ascii_case(b"SHELL")
                                    || name.eq_ignore_ascii_case(b"BASH")
                                {
                                    out.push(b's', i);
                                    out.push(b'h', i);
                                } else if let Some(v) = vars.get(name) {
                                    for &x in v {
                                        out.push(x, i);
                                    }
                                    after_var = true;
                                }
                                i = e + 1;
                                continue;
                            }
                        }
                        out.push(b'$', i);
                        i += 1;
                    }
                    _ if is_name_start(next) => {
                        let s = i + 1;
                        let mut e = s;
                        while e < len && is_name(b[e]) && e - s < 32 {
                            e += 1;
                        }
                        let name = &b[s..e];
                        let prev = out.n.last().copied().unwrap_or(b' ');
                        let at_word_start = was_var || !(prev.is_ascii_alphanumeric());
                        if name.eq_ignore_ascii_case(b"IFS") {
                            out.push(b' ', i);
                        } else if name.eq_ignore_ascii_case(b"SHELL")
                            || name.eq_ignore_ascii_case(b"BASH")
                        {
                            out.push(b's', i);
                            out.push(b'h', i);
                        } else if let Some(v) = vars.get(name) {
                            if at_word_start {
                                for &x in v {
                                    out.push(x, i);
                                }
                                after_var = true;
                            }
                        }
                        i = e;
                    }
                    _ => {
                        out.push(b'$', i);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c.to_ascii_lowercase(), i);
                i += 1;
            }
        }
    }
}

/// The length of the upper-case name (`[A-Z_][A-Z0-9_]*`, at least one letter, at most 32
/// bytes) that opens `b`, if one does.
pub(super) fn upper_name_len(b: &[u8]) -> Option<usize> {
    let n = b
        .iter()
        .take(33)
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_')
        .count();
    let ok =
        n > 0 && n <= 32 && !b[0].is_ascii_digit() && b[..n].iter().any(u8::is_ascii_uppercase);
    ok.then_some(n)
}

/// [`normalize`] for values without quotes, escapes, `$`, `&`, `<`, `>` or backticks:
/// lower-cases, turns tabs/VT/FF into spaces and `+` into a space where the full pass
/// would (next byte `/ - $ .` or previous output byte a blank or separator).
pub(super) fn normalize_plain(b: &[u8], from: usize, to: usize, n: &mut Vec<u8>) {
    n.resize(to - from, 0);
    for (o, &c) in n.iter_mut().zip(&b[from..to]) {
        let l = c.to_ascii_lowercase();
        *o = if matches!(c, b'\t' | 0x0b | 0x0c) {
            b' '
        } else {
            l
        };
    }
    if memchr::memchr(b'+', &b[from..to]).is_none() {
        return;
    }
    for i in memchr::memchr_iter(b'+', &b[from..to]).map(|k| from + k) {
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        let prev = if i > from { n[i - 1 - from] } else { b' ' };
        if matches!(next, b'/' | b'-' | b'$' | b'.') || matches!(prev, b' ' | b';' | b'|' | b'&') {
            n[i - from] = b' ';
        }
    }
}
