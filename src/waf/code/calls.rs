//! Calls: at each `(`, the callee before it — an identifier (with its qualifier:
//! `os.popen`, `Runtime.getRuntime`), a quoted string (`"system"(`), or a parenthesised or
//! bracketed expression (`(sy.(st).em)(`, `[system][0](`) — looked up in per-language tables.

use super::{
    code_position, ident_end, ident_start, is_ident, skip_blanks, skip_blanks_back, Hit,
    R_JAVA_CLASS, R_NODE, R_PHP_FUNCTION, R_PHP_VARIABLE, R_PL2_FUNCTION, R_PYTHON, R_RUBY,
};

/// How much context a function name needs to be reported.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// Any call: names no prose uses (`shell_exec`, `gzinflate`).
    Call,
    /// A call where code can start (see [`code_position`]): short names of code
    /// (`chr(123)`, `substr(`) that prose mentions only in passing.
    Position,
    /// A call where code can start, with arguments that read as code (see [`codey_args`]):
    /// names that are English words (`system`, `exec`, `eval`).
    Args,
}

/// PHP functions that run code or commands, reach files, sockets and settings, or decode
/// payloads (written for this crate from the PHP manual's function groups).
const PHP: &[(&str, Need)] = &[
    ("shell_exec", Need::Call),
    ("passthru", Need::Call),
    ("proc_open", Need::Call),
    ("proc_close", Need::Call),
    ("pcntl_exec", Need::Call),
    ("pcntl_fork", Need::Call),
    ("phpinfo", Need::Call),
    ("php_uname", Need::Call),
    ("phpversion", Need::Call),
    ("get_defined_vars", Need::Call),
    ("get_defined_functions", Need::Call),
    ("get_defined_constants", Need::Call),
    ("call_user_func", Need::Call),
    ("call_user_func_array", Need::Call),
    ("create_function", Need::Call),
    ("func_get_args", Need::Call),
    ("base64_decode", Need::Call),
    ("str_rot13", Need::Call),
    ("gzinflate", Need::Call),
    ("gzuncompress", Need::Call),
    ("gzdecode", Need::Call),
    ("bzdecompress", Need::Call),
    ("zlib_decode", Need::Call),
    ("convert_uudecode", Need::Call),
    ("hex2bin", Need::Call),
    ("file_get_contents", Need::Call),
    ("file_put_contents", Need::Call),
    ("fsockopen", Need::Call),
    ("pfsockopen", Need::Call),
    ("stream_socket_client", Need::Call),
    ("move_uploaded_file", Need::Call),
    ("preg_replace", Need::Call),
    ("escapeshellcmd", Need::Call),
    ("escapeshellarg", Need::Call),
    ("posix_getpwuid", Need::Call),
    ("posix_uname", Need::Call),
    ("posix_kill", Need::Call),
    ("posix_setuid", Need::Call),
    ("ini_set", Need::Call),
    ("ini_get", Need::Call),
    ("ini_get_all", Need::Call),
    ("ini_restore", Need::Call),
    ("set_time_limit", Need::Call),
    ("ignore_user_abort", Need::Call),
    ("assert_options", Need::Call),
    ("highlight_file", Need::Call),
    ("show_source", Need::Call),
    ("parse_ini_file", Need::Call),
    ("fpassthru", Need::Call),
    ("fputcsv", Need::Call),
    ("register_shutdown_function", Need::Call),
    ("register_tick_function", Need::Call),
    ("ob_start", Need::Call),
    ("ob_end_flush", Need::Call),
    ("get_cfg_var", Need::Call),
    ("getmypid", Need::Call),
    ("getmyuid", Need::Call),
    ("get_current_user", Need::Call),
    ("disk_free_space", Need::Call),
    ("mb_ereg_replace", Need::Call),
    ("curl_exec", Need::Call),
    ("apache_setenv", Need::Call),
    ("include_once", Need::Call),
    ("require_once", Need::Call),
    ("array_map", Need::Position),
    ("array_filter", Need::Position),
    ("array_walk", Need::Position),
    ("strip_tags", Need::Position),
    ("var_dump", Need::Position),
    ("print_r", Need::Position),
    ("var_export", Need::Position),
    ("unserialize", Need::Position),
    ("serialize", Need::Position),
    ("parse_str", Need::Position),
    ("extract", Need::Position),
    ("putenv", Need::Position),
    ("getenv", Need::Position),
    ("readfile", Need::Position),
    ("fopen", Need::Position),
    ("fwrite", Need::Position),
    ("fputs", Need::Position),
    ("fread", Need::Position),
    ("fgets", Need::Position),
    ("unlink", Need::Position),
    ("filegroup", Need::Position),
    ("fileowner", Need::Position),
    ("chr", Need::Position),
    ("substr", Need::Position),
    ("strrev", Need::Position),
    ("intval", Need::Position),
    ("unpack", Need::Position),
    ("printf", Need::Position),
    ("sprintf", Need::Position),
    ("opendir", Need::Position),
    ("scandir", Need::Position),
    ("system", Need::Args),
    ("exec", Need::Args),
    ("eval", Need::Args),
    ("assert", Need::Args),
    ("include", Need::Args),
    ("require", Need::Args),
    ("define", Need::Args),
    ("popen", Need::Args),
    ("file", Need::Args),
    ("copy", Need::Args),
    ("mail", Need::Args),
    ("print", Need::Args),
];

/// Node.js, Python, Ruby and Java calls that run code or commands without a qualifier.
const OTHER: &[(&str, Need, &str)] = &[
    ("execsync", Need::Call, R_NODE),
    ("spawnsync", Need::Call, R_NODE),
    ("execfilesync", Need::Call, R_NODE),
    ("check_output", Need::Call, R_PYTHON),
    ("getoutput", Need::Call, R_PYTHON),
    ("getstatusoutput", Need::Call, R_PYTHON),
    ("instance_eval", Need::Call, R_RUBY),
    ("class_eval", Need::Call, R_RUBY),
    ("module_eval", Need::Call, R_RUBY),
    ("getruntime", Need::Call, R_JAVA_CLASS),
    ("scriptenginemanager", Need::Call, R_JAVA_CLASS),
    ("getenginebyname", Need::Call, R_JAVA_CLASS),
    ("getdeclaredmethod", Need::Call, R_JAVA_CLASS),
    ("processbuilder", Need::Call, R_JAVA_CLASS),
    ("compile", Need::Args, R_PYTHON),
];

/// Qualified calls: `qualifier.name(` (qualifier compared case-insensitively; `*`: any name).
const QUALIFIED: &[(&str, &str, &str)] = &[
    ("os", "system", R_PYTHON),
    ("os", "popen", R_PYTHON),
    ("os", "execv", R_PYTHON),
    ("os", "execl", R_PYTHON),
    ("os", "spawnl", R_PYTHON),
    ("subprocess", "*", R_PYTHON),
    ("pty", "spawn", R_PYTHON),
    ("pickle", "loads", R_PYTHON),
    ("marshal", "loads", R_PYTHON),
    ("builtins", "*", R_PYTHON),
    ("process", "spawn", R_RUBY),
    ("process", "exec", R_RUBY),
    ("kernel", "*", R_RUBY),
    ("io", "popen", R_RUBY),
    ("open3", "*", R_RUBY),
    ("process", "binding", R_NODE),
    ("process", "dlopen", R_NODE),
    ("console", "*", R_NODE),
    ("class", "forname", R_JAVA_CLASS),
    ("runtime", "exec", R_JAVA_CLASS),
    ("string", "fromcharcode", R_NODE),
];

/// Node.js modules whose loading an injected `require(...)` is after.
const NODE_MODULES: &[&str] = &[
    "child_process",
    "fs",
    "net",
    "vm",
    "os",
    "dgram",
    "worker_threads",
    "cluster",
    "process",
    "http",
    "https",
];

/// The first call in `t` whose callee the tables report.
///
/// `FAST` skips the tables for a callee with no letter and no `_` (a number: `537.36 (KHTML`),
/// which only a qualifier's `*` can match.
pub(super) fn calls<const FAST: bool>(t: &[u8], strict: bool) -> Option<Hit> {
    for p in memchr::memchr_iter(b'(', t) {
        let k = skip_blanks_back(t, p);
        if k == 0 {
            continue;
        }
        let hit = match t[k - 1] {
            c if is_ident(c) => named::<FAST>(t, ident_start(t, k), k, p, strict),
            b'"' | b'\'' => quoted(t, k, p),
            b')' | b']' | b'}' => grouped(t, k, p),
            _ => None,
        };
        if hit.is_some() {
            return hit;
        }
    }
    None
}

/// The end of the call that opens at `p` (its `)`, or the value's end, at most 256 bytes on).
fn call_end(t: &[u8], p: usize) -> usize {
    let limit = (p + 256).min(t.len());
    memchr::memchr(b')', &t[p..limit]).map_or(limit, |q| p + q + 1)
}

/// A call of the identifier `t[s..k]` whose `(` is at `p`.
fn named<const FAST: bool>(t: &[u8], s: usize, k: usize, p: usize, strict: bool) -> Option<Hit> {
    let name = &t[s..k];
    if name.len() < 2 || name.len() > 64 || name[0] == b'$' {
        // `$f(` is PHP's (see `php::dollars`)
        return None;
    }
    let mut buf = [0u8; 64];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let lower = &*lower;
    let end = call_end(t, p);
    let fire = |need: Need| match need {
        Need::Call => true,
        Need::Position => code_position(t, s),
        Need::Args => code_position(t, s) && codey_args(t, p + 1),
    };
    // the qualifier: `os.popen(`, `Runtime.getRuntime().exec(`
    let qual = qualifier(t, s);
    if FAST && !name.iter().any(|&c| c.is_ascii_alphabetic() || c == b'_') {
        // every other name below holds a letter, and the `snake_case` ones a `_`
        let q = qual?;
        return QUALIFIED
            .iter()
            .find(|&&(qn, n, _)| n == "*" && q.eq_ignore_ascii_case(qn.as_bytes()))
            .map(|&(_, _, rule)| (rule, ident_start(t, s.saturating_sub(1)).min(s), end));
    }
    if let Some(q) = qual {
        for &(qn, n, rule) in QUALIFIED {
            if q.eq_ignore_ascii_case(qn.as_bytes()) && (n == "*" || lower == n.as_bytes()) {
                return Some((rule, ident_start(t, s.saturating_sub(1)).min(s), end));
            }
        }
    }
    for &(n, need, rule) in OTHER {
        if lower == n.as_bytes() && fire(need) {
            return Some((rule, s, end));
        }
    }
    if name == b"Function" && qual.is_none() {
        let before = skip_blanks_back(t, s);
        if before >= 3 && t[before - 3..before].eq_ignore_ascii_case(b"new") {
            return Some((R_NODE, before - 3, end));
        }
    }
    match lower {
        b"require" => {
            let a = skip_blanks(t, p + 1);
            if matches!(t.get(a), Some(b'"' | b'\'' | b'`')) {
                let m = a + 1;
                let me = ident_end(t, m);
                if NODE_MODULES
                    .iter()
                    .any(|n| t[m..me].eq_ignore_ascii_case(n.as_bytes()))
                    && t.get(me) == t.get(a)
                {
                    return Some((R_NODE, s, end));
                }
            }
        }
        b"while" if endless(t, p + 1) => return Some((R_NODE, s, end)),
        b"function" => {
            // an anonymous function opening the value: `function() {`
            let c = skip_blanks(t, p + 1);
            if code_position(t, s) && t.get(c) == Some(&b')') {
                let b = skip_blanks(t, c + 1);
                if t.get(b) == Some(&b'{') {
                    return Some((R_NODE, s, b + 1));
                }
            }
            return None;
        }
        _ => {}
    }
    if qual.is_some() && !matches!(lower, b"system" | b"exec" | b"eval" | b"assert") {
        // `x.copy(`, `s.print(`: methods, not PHP's functions
        return php_suffix(t, s, k, end, lower);
    }
    if matches!(
        lower,
        b"include" | b"require" | b"include_once" | b"require_once"
    ) {
        // PHP's includes take a path or a variable (`require('lodash')` is Node's loader)
        let args = &t[p..end];
        let path = args.iter().any(|&c| matches!(c, b'$' | b'/' | b'\\'))
            || super::contains_ci(args, b".php")
            || super::contains_ci(args, b".inc");
        if !(path && code_position(t, s)) {
            return None;
        }
        return Some((R_PHP_FUNCTION, s, end));
    }
    for &(n, need) in PHP {
        if lower == n.as_bytes() && fire(need) {
            return Some((R_PHP_FUNCTION, s, end));
        }
    }
    if let Some(h) = php_suffix(t, s, k, end, lower) {
        return Some(h);
    }
    if let Some(h) = super::openers::lone_opener(t, s, k, p) {
        return Some(h);
    }
    // a `snake_case` call opening the value, with no arguments or cut after its `(`
    // (`curl_init()`, `is_array()`, `ldap_get_entries(`); at paranoia 2 also with a variable
    // or string argument
    if s == skip_blanks(t, 0) && lower.contains(&b'_') && lower[0] != b'_' {
        let a = skip_blanks(t, p + 1);
        let c = t.get(a).copied();
        if matches!(c, None | Some(b')')) && t[a..].trim_ascii().len() <= 1 {
            return Some((R_PHP_FUNCTION, s, end));
        }
        if strict && matches!(c, Some(b'$' | b'\'' | b'"')) {
            return Some((R_PL2_FUNCTION, s, end));
        }
    }
    None
}

/// How much context the PHP function `lower` (lower case) needs to be reported, if it is one
/// of the table's.
pub(super) fn php_need(lower: &[u8]) -> Option<Need> {
    PHP.iter()
        .find(|(n, _)| n.as_bytes() == lower)
        .map(|&(_, need)| need)
}

/// A PHP function name with `_` that ends an identifier (`FOOcall_user_func()`: CRS reads
/// names as substrings).
fn php_suffix(_t: &[u8], s: usize, k: usize, end: usize, lower: &[u8]) -> Option<Hit> {
    PHP.iter()
        .filter(|(n, need)| *need == Need::Call && (n.contains('_') || n.len() >= 8))
        .find(|(n, _)| lower.len() > n.len() && lower.ends_with(n.as_bytes()))
        .map(|(n, _)| (R_PHP_FUNCTION, k - n.len(), end.max(s)))
}

/// The qualifier of the callee starting at `s`: the identifier before a `.`, `->` or `::`
/// (or the callee of a call before it: `getRuntime().exec(`).
fn qualifier(t: &[u8], s: usize) -> Option<&[u8]> {
    let mut q = s;
    if q >= 1 && t[q - 1] == b'.' {
        q -= 1;
    } else if q >= 2 && (&t[q - 2..q] == b"->" || &t[q - 2..q] == b"::") {
        q -= 2;
    } else {
        return None;
    }
    // `getRuntime().exec(`: the callee of the call just before
    if q >= 2 && t[q - 1] == b')' {
        let open = t[..q - 1].iter().rposition(|&c| c == b'(')?;
        let qs = ident_start(t, open);
        return Some(&t[qs..open]);
    }
    // `require("child_process").exec(`: the string
    let qs = ident_start(t, q);
    (qs < q).then(|| &t[qs..q])
}

/// True when the arguments starting at `a` read as code: none (`)`), a string, a variable, a
/// number, a backtick command, an array, or an identifier followed by `(`, `)`, `,`, `.`,
/// `[` or `->`.
fn codey_args(t: &[u8], a: usize) -> bool {
    let a = skip_blanks(t, a);
    match t.get(a) {
        None => true,
        Some(b')' | b'"' | b'\'' | b'$' | b'`' | b'[' | b'@') => true,
        Some(c) if c.is_ascii_digit() => true,
        Some(c) if is_ident(*c) => {
            let e = ident_end(t, a);
            let n = skip_blanks(t, e);
            matches!(
                t.get(n),
                None | Some(b'(' | b')' | b',' | b'.' | b'[' | b'-' | b';')
            )
        }
        _ => false,
    }
}

/// `while(...)` with an argument that is always true (JavaScript's endless loop): `true`,
/// `1`, `!0`, `!""`, `Infinity`, `!!{}`, `new Date`, `this`, `String`...
fn endless(t: &[u8], a: usize) -> bool {
    let close = match memchr::memchr(b')', &t[a..(a + 24).min(t.len())]) {
        Some(c) => a + c,
        None => return false,
    };
    let mut arg = &t[a..close];
    while let [b'(' | b' ', rest @ ..] = arg {
        arg = rest;
    }
    let negated = arg.first() == Some(&b'!');
    while let [b'!' | b'+' | b'-', rest @ ..] = arg {
        arg = rest;
    }
    let word = arg.trim_ascii();
    let truthy_word = [
        &b"true"[..],
        b"infinity",
        b"this",
        b"string",
        b"new date",
        b"{}",
        b"[]",
    ]
    .iter()
    .any(|w| word.eq_ignore_ascii_case(w));
    let falsy_word = [
        &b"false"[..],
        b"0",
        b"\"\"",
        b"''",
        b"``",
        b"null",
        b"undefined",
        b"nan",
    ]
    .iter()
    .any(|w| word.eq_ignore_ascii_case(w));
    let number = !word.is_empty() && word.iter().all(u8::is_ascii_digit) && word != b"0";
    (truthy_word || number || (negated && falsy_word)) && !word.is_empty()
}

/// A quoted string called as a function: `"system"(`, `('system')(`, `"sys" . "tem"(`.
fn quoted(t: &[u8], k: usize, p: usize) -> Option<Hit> {
    let q = t[k - 1];
    let mut open = t[..k - 1].iter().rposition(|&c| c == q)?;
    if k - 1 - open > 40 {
        return None;
    }
    // `"sys"."t"."em"(`: strings joined with `.`
    for _ in 0..8 {
        let d = skip_blanks_back(t, open);
        if d < 2 || t[d - 1] != b'.' {
            break;
        }
        let e = skip_blanks_back(t, d - 1);
        if e < 2 || !matches!(t[e - 1], b'"' | b'\'') {
            break;
        }
        match t[..e - 1].iter().rposition(|&c| c == t[e - 1]) {
            Some(o) if e - 1 - o <= 40 => open = o,
            _ => break,
        }
    }
    let letters = letters_of(&t[open..k]);
    php_named(&letters).then(|| (R_PHP_FUNCTION, open, call_end(t, p)))
}

/// A parenthesised or bracketed expression called as a function: `(system)(`,
/// `(sy.(st).em)(`, `[system][0](`, `($y)(`; or `console["info"](`.
fn grouped(t: &[u8], k: usize, p: usize) -> Option<Hit> {
    // back to the start of the called expression: brackets balanced, at most 128 bytes
    let mut depth = 0i32;
    let mut i = k;
    let floor = k.saturating_sub(128);
    let mut start = None;
    while i > floor {
        i -= 1;
        match t[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' => {
                depth -= 1;
                if depth == 0 {
                    // groups chained before it: `[system][0]`, `(x)[0][0]`
                    let j = skip_blanks_back(t, i);
                    if j > 0 && matches!(t[j - 1], b')' | b']' | b'}') {
                        i = j;
                        continue;
                    }
                    start = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let start = start?;
    let group = &t[start..k];
    // `console["info"](`, `process["env"](`
    let before = ident_start(t, start);
    if before < start
        && [
            &b"console"[..],
            b"process",
            b"require",
            b"global",
            b"globalthis",
        ]
        .iter()
        .any(|w| t[before..start].eq_ignore_ascii_case(w))
    {
        return Some((R_NODE, before, call_end(t, p)));
    }
    // only a group that opens a statement: `(system)(` and not `f(a)(b)`
    if before < start {
        return None;
    }
    if group.contains(&b'$') && group.len() <= 32 {
        return Some((R_PHP_VARIABLE, start, call_end(t, p)));
    }
    let letters = letters_of(group);
    php_named(&letters).then(|| (R_PHP_FUNCTION, start, call_end(t, p)))
}

/// The ASCII letters of `b`, lower-cased (at most 40).
fn letters_of(b: &[u8]) -> Vec<u8> {
    b.iter()
        .filter(|c| c.is_ascii_alphabetic() || **c == b'_')
        .take(40)
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// True when `letters` is a PHP function of the tables (`string` casts dropped).
fn php_named(letters: &[u8]) -> bool {
    let l = letters.strip_prefix(b"string").unwrap_or(letters);
    !l.is_empty() && PHP.iter().any(|(n, _)| l == n.as_bytes())
}
