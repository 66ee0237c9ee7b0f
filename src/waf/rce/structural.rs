//! Structural rules: shapes that are attacks whatever the command word (Shellshock,
//! Log4Shell lookups, bash expansions, brace expansion, glob-obfuscated system paths, fork
//! bombs, batch, PowerShell, mail and SQLite commands), with their regexes and finders.
//! Each rule is bounded (budgets on the per-input loops) and sits behind a byte test.

use super::commands::{lookup, COMMAND_TABLE};
use super::scanner::{find_sub, is_space};
use regex::bytes::Regex as BRegex;
use regex::Regex;
use std::sync::LazyLock;

pub(super) static RE_SHELLSHOCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*\(\s*\)\s*\{|\(\s*\)\s*\{\s*:?\s*;\s*\}\s*;").expect("valid regex")
});

pub(super) static RE_BATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)(?:^|[;&|(\n])\s*@?(?:"#,
        r#"for(?:\s*/[a-z](?:\s+(?:"[^"]*"|\\"[^"]*\\"|[^%\s"/][^\s]*))?)*\s+%%?[^\s]+\s+in\s*\(.*\)\s*do\b"#,
        r#"|if(?:\s*/i)?(?:\s+not)?\s+(?:exist\s+\S|defined\s+\S|errorlevel\s+\d|cmdextversion\s+\d|(?:"[^"]*"|\([^()\s]*\)|[^\s(]\S*)\s*==\s*(?:"[^"]*"|\S+)(?:\s+[^\s{]|\s*$)|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s))"#
    ))
    .expect("valid regex")
});

pub(super) static RE_ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[;&|\n`(])\s*alias(?:\s+[-+]\S*)*\s+[^\s=;&|]+=").expect("valid regex")
});

pub(super) static RE_POWERSHELL: LazyLock<BRegex> = LazyLock::new(|| {
    BRegex::new(concat!(
        r"\b(?:invoke-(?:expression|webrequest|restmethod|command|wmimethod|item|shellcode|mimikatz|obfuscation|psremoting)\b",
        r"|new-object\s+(?:-typename\s+)?(?:system\.)?(?:net\.webclient|net\.sockets|io\.|diagnostics\.process|management\.automation)",
        r"|start-process\b|start-bitstransfer\b|set-mppreference\b|add-mppreference\b|set-executionpolicy\b",
        r"|get-wmiobject\b|frombase64string\s*\(|download(?:string|file|data)\s*\(|-encodedcommand\b",
        r"|\biex\s*[($]|powershell(?:\.exe)?\s+(?:-\w+\s+)*-(?:e|en|enc|encodedcommand|ec|nop|noprofile|w|windowstyle|ep|exec|executionpolicy|c|command|noni|noninteractive|file)\b)"
    ))
    .expect("valid regex")
});

pub(super) static F_PARENS: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"()"));
pub(super) static F_SEMIDOT: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b";."));
pub(super) static F_ALIAS: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"alias"));
pub(super) static F_DEV: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(b"/dev/"));

pub(super) static RE_MAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?im)\n[ \t]*(?:",
        r"(?:mail\s+from|rcpt\s+to)\s*:\s*<",
        r"|(?:ehlo|helo)\s+[\w.\-\[\]:]+[ \t]*\r?$",
        r"|vrfy\s+\S+[ \t]*\r?$",
        r"|[a-z]+\d+\s+(?:append|authenticate|status|uid|login|select|examine|fetch|store|copy|search|lsub|create|delete|rename|subscribe|capability|logout|starttls|expunge)\b",
        r"|(?:retr|dele|list|uidl)\s+\d+[ \t]*\r?$",
        r"|top\s+\d+\s+\d+[ \t]*\r?$",
        r"|apop\s+\S+\s+[0-9a-f]{32}",
        r"|auth\s+\S+\s+[a-z0-9+/]{8,}={0,2}[ \t]*\r?$",
        r")"
    ))
    .expect("valid regex")
});

pub(super) static RE_SQLITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i);\s*(?:\\[nr]|\s)*\.\s*[\\"']*\s*(?:shell|system|sh|databases|tables|dump|import|output|once|load|schema|open|backup|restore)\b"#)
        .expect("valid regex")
});

pub(super) static RE_PIPE_SHELL: LazyLock<BRegex> = LazyLock::new(|| {
    BRegex::new(r"\|\s*(?:sh|bash|zsh|ksh|dash|csh|tcsh|python[23]?|perl|php|ruby|node)(?:\s*$|\s*[;&|#`)]|\s+-)")
        .expect("valid regex")
});

pub(super) static RE_EXPANSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\$\(\(|\$\[[\d\s+\-*/%()$a-z]*\]",
        r"|\$\{[!#]?[a-z_][a-z0-9_]*(?:#|%|:[-=?+]|\^\^|,,|/)",
        r"|\$\{\s*`",
        r"|(?:^|[\s;&|])![-]\d+(?:$|[\s;&|!])",
    ))
    .expect("valid regex")
});

pub(super) static RE_TILDE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*~(?:[+-]\d*|\d+)\s*$").expect("valid regex"));

/// `/dev/tcp/` reverse shells and similar device paths.
pub(super) static RE_DEVTCP: LazyLock<BRegex> =
    LazyLock::new(|| BRegex::new(r"/dev/(?:tcp|udp)/[\w.\-]+/\d").expect("valid regex"));

/// Builds this detector's tables now (command table, regexes and finders), so that the first request to need
/// them does not spend its time budget on it.
pub(super) fn warm_up() {
    LazyLock::force(&COMMAND_TABLE);
    LazyLock::force(&RE_SHELLSHOCK);
    LazyLock::force(&RE_BATCH);
    LazyLock::force(&RE_ALIAS);
    LazyLock::force(&RE_POWERSHELL);
    LazyLock::force(&F_PARENS);
    LazyLock::force(&F_SEMIDOT);
    LazyLock::force(&F_ALIAS);
    LazyLock::force(&F_DEV);
    LazyLock::force(&RE_MAIL);
    LazyLock::force(&RE_SQLITE);
    LazyLock::force(&RE_PIPE_SHELL);
    LazyLock::force(&RE_EXPANSION);
    LazyLock::force(&RE_TILDE);
    LazyLock::force(&RE_DEVTCP);
}

/// Log4j lookups: resolves `${...}` innermost-first with a stack, bounded depth.
pub(super) fn log4shell(b: &[u8]) -> Option<(usize, usize)> {
    // every byte of the resolved text is a byte of the input: without a `j` it cannot read
    // `${jndi:` (a test checks it against the resolution on the corpus)
    memchr::memchr2(b'j', b'J', b)?;
    resolve_lookups(b)
}

/// [`log4shell`] without its `j` test.
pub(super) fn resolve_lookups(b: &[u8]) -> Option<(usize, usize)> {
    let first = memchr::memmem::find(b, b"${")?;
    let mut out: Vec<u8> = Vec::with_capacity(b.len() - first);
    let mut map: Vec<usize> = Vec::with_capacity(b.len() - first);
    let mut stack: Vec<usize> = Vec::new();
    let mut i = first;
    while i < b.len() {
        let c = b[i];
        if c == b'$' && b.get(i + 1) == Some(&b'{') && stack.len() < 16 {
            stack.push(out.len());
            out.push(b'$');
            out.push(b'{');
            map.push(i);
            map.push(i);
            i += 2;
            continue;
        }
        if c == b'}' {
            if let Some(st) = stack.pop() {
                let content: Vec<u8> = out[st + 2..].to_vec();
                let at = map[st];
                let lower = content.to_ascii_lowercase();
                let repl: Option<Vec<u8>> = if let Some(p) = find_sub(&content, b":-") {
                    Some(content[p + 2..].to_vec())
                } else if lower.starts_with(b"lower:") || lower.starts_with(b"upper:") {
                    Some(content[6..].to_vec())
                } else {
                    None
                };
                if let Some(r) = repl {
                    out.truncate(st);
                    map.truncate(st);
                    for x in r {
                        out.push(x);
                        map.push(at);
                    }
                    i += 1;
                    continue;
                }
                if lower.starts_with(b"jndi:") {
                    return Some((at, i + 1));
                }
            }
        }
        out.push(c);
        map.push(i);
        i += 1;
        if out.len() > 8192 {
            break;
        }
    }
    // unterminated or resolved text
    let lower = out.to_ascii_lowercase();
    find_sub(&lower, b"${jndi:").map(|p| (map[p], b.len().min(map[p] + 64)))
}

/// Known system files and binary directories used by the glob rule.
pub(super) const GLOB_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/hosts",
    "/etc/issue",
    "/etc/sudoers",
    "/etc/crontab",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/proc/self/environ",
    "/proc/self/cmdline",
    "/proc/version",
    "/root/.bash_history",
    "/root/.ssh/id_rsa",
    "/etc",
    "/bin",
    "/usr/bin",
    "/tmp",
];
pub(super) const BIN_DIRS: &[&str] = &["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

/// Shell glob match (`?`, `*`, `[...]`, `[!...]`, ranges); `*` and `?` do not match `/`.
/// Iterative with one backtrack point: O(len(p) * len(s)), both bounded by the caller.
pub(super) fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' if s[si] != b'/' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, np)) = class_match(p, pi, s[si]) {
                        if ok {
                            pi = np;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                c if c == s[si] && c != b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) if s[ss] != b'/' => {
                star = Some((sp, ss + 1));
                pi = sp + 1;
                si = ss + 1;
            }
            _ => return false,
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Matches a bracket expression starting at `p[pi] == '['`; returns (matched, next index).
pub(super) fn class_match(p: &[u8], pi: usize, c: u8) -> Option<(bool, usize)> {
    let mut j = pi + 1;
    let neg = j < p.len() && (p[j] == b'!' || p[j] == b'^');
    if neg {
        j += 1;
    }
    let start = j;
    let mut found = false;
    while j < p.len() && (p[j] != b']' || j == start) {
        if j + 2 < p.len() && p[j + 1] == b'-' && p[j + 2] != b']' {
            if p[j] <= c && c <= p[j + 2] {
                found = true;
            }
            j += 3;
        } else {
            if p[j] == c || (p[j] == b'?' && c != b'/') {
                found = true;
            }
            j += 1;
        }
    }
    if j >= p.len() {
        return None;
    }
    Some((found != neg, j + 1))
}

/// Glob-obfuscated path token (starting with `/`) in the normalised text.
pub(super) fn glob_rule(n: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    let mut budget = 8; // glob tokens examined per input
    while i < n.len() {
        // only a `/` can start a token: jump to the next one
        match memchr::memchr(b'/', &n[i..]) {
            Some(p) => i += p,
            None => break,
        }
        if n[i] == b'/'
            && (i == 0
                || !n[i - 1].is_ascii_alphanumeric()
                    && n[i - 1] != b'/'
                    && n[i - 1] != b'.'
                    && n[i - 1] != b':')
        {
            let s = i;
            let mut e = i;
            while e < n.len()
                && !is_space(n[e])
                && !matches!(
                    n[e],
                    b';' | b'|' | b'&' | b'\n' | b'`' | b',' | b'}' | b')' | b'<' | b'>'
                )
            {
                e += 1;
            }
            let t = &n[s..e];
            if t.len() <= 128
                && t.iter().any(|c| matches!(c, b'?' | b'*' | b'['))
                && !t.contains(&b'=')
            {
                if budget == 0 {
                    return None;
                }
                budget -= 1;
                if glob_token(t) {
                    return Some((s, e));
                }
            }
            i = e.max(i + 1);
            continue;
        }
        i += 1;
    }
    None
}

pub(super) fn glob_token(t: &[u8]) -> bool {
    // a bracket expression holding a slash (`/[e//]tc`) only makes sense to a shell
    let mut k = 0;
    while let Some(p) = t[k..].iter().position(|&c| c == b'[') {
        let o = k + p;
        if let Some(q) = t[o..].iter().position(|&c| c == b']') {
            let inner = &t[o + 1..o + q];
            if inner.contains(&b'/') && inner.len() <= 16 && !inner.contains(&b':') {
                return true;
            }
            k = o + q;
        } else {
            break;
        }
    }
    // a bare `/*` or `/?` matches too much to mean anything
    if t.iter().any(|c| c.is_ascii_alphabetic()) || t.len() >= 6 {
        for f in GLOB_FILES {
            if glob_match(t, f.as_bytes())
                || (t.ends_with(b"/") && glob_match(&t[..t.len() - 1], f.as_bytes()))
            {
                return true;
            }
        }
    }
    // dir/base split at the last '/' outside brackets
    let mut depth = 0;
    let mut last = None;
    for (j, &c) in t.iter().enumerate() {
        match c {
            b'[' => depth += 1,
            b']' if depth > 0 => depth -= 1,
            b'/' if depth == 0 => last = Some(j),
            _ => {}
        }
    }
    if let Some(l) = last {
        let (dir, base) = (&t[..l], &t[l + 1..]);
        if l > 0 && !base.is_empty() && BIN_DIRS.iter().any(|d| glob_match(dir, d.as_bytes())) {
            return COMMAND_TABLE
                .keys
                .iter()
                .any(|k| k.0.len() >= 2 && glob_match(base, k.0));
        }
    }
    false
}

/// Brace expansion `{cmd,arg}` / `c{a,oun}t` whose first expansion is a command.
pub(super) fn brace_rule(n: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut budget = 64; // brace groups examined per input
    while let Some(p) = memchr::memchr(b'{', &n[from..]) {
        let o = from + p;
        from = o + 1;
        let Some(q) = memchr::memchr2(b'}', b'{', &n[o + 1..n.len().min(o + 257)]) else {
            continue;
        };
        if n[o + 1 + q] == b'{' {
            from = o + 1 + q;
            continue;
        }
        let q = q + 1;
        let inner = &n[o + 1..o + q];
        if budget == 0 {
            return None;
        }
        budget -= 1;
        if !inner.contains(&b',')
            || inner
                .iter()
                .any(|&c| c == b' ' || c == b':' || c == b'{' || c == b'"' || c >= 0x80)
        {
            continue;
        }
        // glued prefix/suffix letters
        let mut ps = o;
        while ps > 0 && n[ps - 1].is_ascii_alphanumeric() {
            ps -= 1;
        }
        let prefix = &n[ps..o];
        let mut se = o + q + 1;
        while se < n.len() && n[se].is_ascii_alphanumeric() {
            se += 1;
        }
        let suffix = &n[o + q + 1..se];
        let Some(first) = inner
            .split(|&c| c == b',')
            .find(|x| !x.is_empty() || !prefix.is_empty())
        else {
            continue;
        };
        let mut w = Vec::with_capacity(prefix.len() + first.len() + suffix.len());
        w.extend_from_slice(prefix);
        w.extend_from_slice(first);
        w.extend_from_slice(suffix);
        if lookup(&w).is_some() {
            return Some((ps, se));
        }
        if (w.starts_with(b"/") && glob_token(&w))
            || BIN_DIRS
                .iter()
                .any(|d| w.starts_with(d.as_bytes()) && w.get(d.len()) == Some(&b'/'))
        {
            return Some((ps, se));
        }
    }
    None
}

/// Fork bomb: `name(){ ... name | name & ... }`.
pub(super) fn fork_bomb(n: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut budget = 16; // candidate definitions examined per input
    while let Some(p) = F_PARENS.find(&n[from..]) {
        let o = from + p;
        from = o + 2;
        let mut j = o + 2;
        while j < n.len() && n[j] == b' ' {
            j += 1;
        }
        if j >= n.len() || n[j] != b'{' {
            continue;
        }
        let mut ns = o;
        while ns > 0
            && (n[ns - 1].is_ascii_alphanumeric() || matches!(n[ns - 1], b'_' | b':' | b'.' | b'-'))
        {
            ns -= 1;
        }
        let name = &n[ns..o];
        if name.is_empty() || name.len() > 32 {
            continue;
        }
        if budget == 0 {
            return None;
        }
        budget -= 1;
        let Some(close) = n[j..].iter().take(512).position(|&c| c == b'}') else {
            continue;
        };
        let body = &n[j + 1..j + close];
        // body must call the function and background or pipe it
        let mut k = 0;
        let mut calls = 0;
        let mut ops = false;
        while k + name.len() <= body.len() {
            if &body[k..k + name.len()] == name
                && (k == 0 || !body[k - 1].is_ascii_alphanumeric())
                && body
                    .get(k + name.len())
                    .is_none_or(|c| !c.is_ascii_alphanumeric())
            {
                calls += 1;
                k += name.len();
                continue;
            }
            if body[k] == b'|' || body[k] == b'&' {
                ops = true;
            }
            k += 1;
        }
        if calls >= 2 && ops {
            return Some((ns, j + close + 1));
        }
    }
    None
}
