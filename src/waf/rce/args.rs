//! Argument classification: what the words after a command look like (flags, system paths,
//! URLs, IP addresses, redirections, Windows switches, prose). The scanner asks whether
//! they are technical enough for a command word that is also English.

use super::commands::lookup;

/// What the argument scan found after a command word.
#[derive(Default, Clone, Copy)]
pub(super) struct Args {
    pub(super) count: usize,
    pub(super) flag_short: bool,
    pub(super) flag_any: bool,
    pub(super) numflag: bool,
    pub(super) root_path: bool,
    pub(super) any_path: bool,
    pub(super) url: bool,
    pub(super) ip: bool,
    pub(super) host: bool,
    pub(super) port: bool,
    pub(super) redirect: bool,
    pub(super) win: bool,
    pub(super) time: bool,
    pub(super) file_ext: bool,
    pub(super) script: bool,
    pub(super) path_ext: bool,
    pub(super) bang_cmd: bool,
    pub(super) sensitive: bool,
    pub(super) last_number: bool,
    pub(super) prose: bool,
    pub(super) first: (usize, usize),
}

/// Words that mark running prose rather than command arguments.
pub(super) const STOPWORDS: &[&[u8]] = &[
    b"a", b"an", b"the", b"is", b"are", b"was", b"were", b"be", b"to", b"of", b"and", b"or", b"in",
    b"on", b"for", b"with", b"it", b"its", b"this", b"that", b"too", b"very", b"not", b"but",
    b"so", b"as", b"i", b"you", b"we", b"they", b"he", b"she", b"my", b"your", b"our", b"has",
    b"have", b"had", b"will", b"can", b"just", b"also", b"more", b"than", b"if",
];

pub(super) const ROOTS: &[&[u8]] = &[
    b"etc", b"bin", b"sbin", b"usr", b"var", b"tmp", b"dev", b"proc", b"sys", b"home", b"root",
    b"opt", b"boot", b"lib", b"srv", b"mnt", b"run",
];

pub(super) fn is_ipv4(t: &[u8]) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for &c in t {
        if c.is_ascii_digit() {
            digits += 1;
            if digits > 3 {
                return false;
            }
        } else if c == b'.' && digits > 0 {
            dots += 1;
            digits = 0;
        } else if c == b':' || c == b'/' {
            break;
        } else {
            return false;
        }
    }
    dots == 3 && digits > 0
}

pub(super) fn is_hostname(t: &[u8]) -> bool {
    // label(.label)+ with an alphabetic TLD, optional :port or /path
    let end = t
        .iter()
        .position(|&c| c == b':' || c == b'/')
        .unwrap_or(t.len());
    let h = &t[..end];
    if h.len() < 4 || !h.contains(&b'.') {
        return false;
    }
    if !h
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
    {
        return false;
    }
    let tld = h.rsplit(|&c| c == b'.').next().unwrap_or(b"");
    tld.len() >= 2 && tld.iter().all(|c| c.is_ascii_alphabetic()) && !h.starts_with(b".")
}

pub(super) fn classify_arg(t: &[u8], a: &mut Args) {
    a.count += 1;
    // (no stop word is longer than four bytes)
    if t.len() <= 4 && STOPWORDS.contains(&t) {
        a.prose = true;
    }
    a.last_number = !t.is_empty() && t.iter().all(|c| c.is_ascii_digit());
    if t.is_empty() {
        return;
    }
    let c0 = t[0];
    if c0 == b'-' && t.len() >= 2 {
        if t[1].is_ascii_alphabetic() {
            a.flag_any = true;
            if t.len() <= 4
                && t[1..]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b':')
            {
                a.flag_short = true;
            }
        } else if t[1] == b'-' && t.len() > 2 && t[2].is_ascii_alphabetic() {
            a.flag_any = true;
            a.flag_short = true;
        } else if t[1].is_ascii_digit() {
            a.numflag = true;
        }
    }
    if c0 == b'+' && t.len() >= 2 && t[1..].iter().all(|c| b"rwxstugoa".contains(c)) {
        a.flag_short = true;
        a.flag_any = true;
    }
    // paths (also `if=/etc/passwd`)
    let p = match t.iter().position(|&c| c == b'=') {
        Some(eq) if t.get(eq + 1) == Some(&b'/') => &t[eq + 1..],
        _ => t,
    };
    if p.first() == Some(&b'/') && p.len() > 1 && p[1] != b'/' {
        a.any_path = true;
        let seg_end = p[1..]
            .iter()
            .position(|&c| c == b'/')
            .map(|x| x + 1)
            .unwrap_or(p.len());
        let seg = &p[1..seg_end];
        if ROOTS.contains(&seg) || seg.contains(&b'?') || seg.contains(&b'*') || seg.contains(&b'[')
        {
            a.root_path = true;
        }
    }
    if p.starts_with(b"~/") || p.starts_with(b"./") || p.starts_with(b"../") {
        a.root_path = true;
        a.any_path = true;
    }
    if memchr::memchr(b':', t).is_some() && t.windows(3).any(|w| w == b"://") {
        a.url = true;
    }
    if is_ipv4(t) {
        a.ip = true;
    } else if is_hostname(t) {
        a.host = true;
    }
    if t.len() >= 2 && t.len() <= 5 && t.iter().all(|c| c.is_ascii_digit()) {
        a.port = true;
    }
    // windows switches, drive paths, %VAR%
    if c0 == b'/' && t.len() <= 3 && t[1..].iter().all(|c| c.is_ascii_alphabetic() || *c == b'?') {
        a.win = true;
    }
    if t.len() >= 2 && c0.is_ascii_alphabetic() && t[1] == b':' {
        a.win = true;
    }
    if t.starts_with(b"hklm") || t.starts_with(b"hkcu") || t.starts_with(b"hkey_") {
        a.win = true;
    }
    if c0 == b'%' && t.len() > 2 && t[1..].contains(&b'%') {
        a.win = true;
    }
    if t.len() >= 4
        && t[0].is_ascii_digit()
        && (t[1] == b':' || (t[1].is_ascii_digit() && t[2] == b':'))
    {
        a.time = true;
    }
    // file names with script/config extensions, sensitive names
    if let Some(dot) = t.iter().rposition(|&c| c == b'.') {
        let ext = &t[dot + 1..];
        if dot > 0
            && matches!(
                ext,
                b"sh"
                    | b"py"
                    | b"pl"
                    | b"php"
                    | b"rb"
                    | b"exe"
                    | b"ps1"
                    | b"bat"
                    | b"txt"
                    | b"gz"
                    | b"log"
                    | b"conf"
                    | b"ini"
                    | b"yml"
                    | b"reg"
                    | b"jpg"
                    | b"png"
                    | b"js"
                    | b"jsp"
                    | b"asp"
                    | b"aspx"
                    | b"zst"
                    | b"xz"
                    | b"tar"
                    | b"zip"
            )
        {
            a.file_ext = true;
            if matches!(
                ext,
                b"sh" | b"py" | b"pl" | b"php" | b"rb" | b"ps1" | b"bat" | b"exe"
            ) {
                a.script = true;
            }
            if t[0] == b'/' {
                a.path_ext = true;
            }
        }
    }
    if t.len() > 2 && t[0] == b'!' && lookup(&t[1..]).is_some() {
        a.bang_cmd = true;
    }
    if matches!(t, b"passwd" | b"shadow" | b"/etc/passwd" | b"/etc/shadow")
        || t.ends_with(b"/passwd")
        || t.ends_with(b"/shadow")
    {
        a.sensitive = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_at_most_four_bytes() {
        // `classify_arg` tests the length before the list
        assert!(STOPWORDS.iter().all(|w| w.len() <= 4));
    }
}
