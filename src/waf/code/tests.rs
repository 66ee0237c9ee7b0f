//! Code injection rules: attacks of each family (written for these tests, in several
//! spellings each) and near-miss benign values that quote the same words.

use super::{detect, detect_strict, RULES};

fn rule(v: &str) -> Option<&'static str> {
    detect(v).map(|f| f.rule)
}

#[track_caller]
fn fires(rule_id: &str, values: &[&str]) {
    assert!(RULES.contains(&rule_id), "{rule_id}");
    for v in values {
        assert_eq!(rule(v), Some(rule_id), "{v:?}");
    }
}

#[track_caller]
fn quiet(values: &[&str]) {
    for v in values {
        assert_eq!(detect(v), None, "{v:?}");
    }
}

#[test]
fn php_open_tags() {
    fires(
        "code_injection-php-tag",
        &[
            "<?php echo shell_exec($_GET['c']); ?>",
            "<?PHP\nphpinfo();",
            "<?= `id` ?>",
            "<? passthru('uname -a');",
            "<?\tsystem('ls');?>",
            "<?xml :system('id');",
            "name=x<?",
            "[php]print 'hi';[/php]",
            "{php}echo 1;{/php}",
        ],
    );
    quiet(&[
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>",
        "is <? valid in html? no, it is not",
        "a < b ? c : d",
    ]);
}

#[test]
fn php_calls() {
    fires(
        "code_injection-php-function",
        &[
            "passthru('uname -a');",
            "x=proc_open('sh', $d, $p)",
            "@system('id')",
            "exec  (whoami)",
            "eval(base64_decode('ZWNobyAxOw=='))",
            "exec /* c */ ('id')",
            "exec #c\n ('id')",
            "assert(\"phpinfo()\")",
            "(system)('uname');",
            "(sy.(st).em)('id');",
            "[system][0]('ls');",
            "(\"sys\".\"tem\")(\"id\");",
            "\"\\x73ystem\"('id');",
            "'system'('id')",
            "gzinflate(str_rot13($x))",
            "FOOcall_user_func()",
            "chr(112).chr(104)",
            "include('/tmp/shell.php');",
            "file_put_contents('a.php', $_POST['x'])",
        ],
    );
    quiet(&[
        "system of record",
        "the system (see above) is slow",
        "we should exec the plan (carefully)",
        "Please include (if possible) a photo",
        "call the file (the big one) tomorrow",
        "use substr() to cut a string",
        "T(n) = O(n log n)",
        "f(a)(b) is a curried call",
        "print (the second page) in colour",
        "Copy (or move) the files",
        "In C, printf(\"%d\", count) prints it",
    ]);
}

#[test]
fn php_variables_and_data() {
    fires(
        "code_injection-php-variable",
        &[
            "$_GET['cmd']",
            "echo $GLOBALS['x'];",
            "$a(1)",
            "$__['o'](5)",
            "${'a'}(11)",
            "$ {'fdf'}",
            "$foo->$bar()",
            "Foo::$fn()",
            "($y)('uname');",
        ],
    );
    fires(
        "code_injection-php-serialized",
        &[
            "O:8:\"stdClass\":0:{}",
            "x=O:21:\"JDatabaseDriverMysqli\":3:{s:2:\"fc\";",
            "a:2:{i:0;s:1:\"a\";i:1;s:1:\"b\";}",
        ],
    );
    fires(
        "code_injection-php-config",
        &[
            "allow_url_include=On",
            "auto_prepend_file = /tmp/x.php",
            "opcache.jit_buffer_size=1",
            "engine=true",
        ],
    );
    fires(
        "code_injection-php-session-file",
        &[
            "sess_d8ew88tqmabdcokhumchy8htqm",
            "/var/lib/php/sessions/sess_abcdefghijklmnopqrst1",
        ],
    );
    quiet(&[
        "$5 (five dollars) per seat",
        "pay in $USD (United States dollars)",
        "jQuery: $('#menu').show()",
        "${name}",
        "Hello ${user.name}",
        "the engine=diesel option and more",
        "session id sess_abc",
        "ratio a:2 and b:3",
    ]);
}

#[test]
fn java() {
    fires(
        "code_injection-java-class",
        &[
            "java.lang.Runtime",
            "java.io.PrintStream",
            "\"javax.naming.InitialContext\"",
            "x java.lang.ProcessBuilder y",
            "Runtime.getRuntime().exec('id')",
            "new ProcessBuilder(\"sh\")",
            "org.apache.commons.collections.functors.InvokerTransformer",
        ],
    );
    fires(
        "code_injection-java-gadget",
        &["ProcessBuilder.evil.forclosure", "runtime.whileclosure"],
    );
    fires(
        "code_injection-expression",
        &[
            "${T(java.lang.Runtime).getRuntime().exec('id')}",
            "%{(#_memberAccess['allowStaticMethodAccess']=true)}",
            "#{7*7}",
            "${7*7}",
            "*{T(java.lang.System).getenv()}",
            "${''.getClass().forName('java.lang.Runtime')}",
        ],
    );
    quiet(&[
        "the method returns a java.lang.String, not a char[]",
        "see com.example.shop.Order for details",
        "download it from http://java.sun.com/ (old link)",
        "Hello #{name}, welcome",
        "${user.firstName} ${user.lastName}",
    ]);
    assert_eq!(
        detect_strict("the method returns a java.lang.String").map(|f| f.rule),
        Some("code_injection-pl2-java-class")
    );
}

#[test]
fn templates() {
    fires(
        "code_injection-template",
        &[
            "{{7*7}}",
            "{{ 7 * '7' }}",
            "{{''.__class__.__mro__[1].__subclasses__()}}",
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}",
            "<%= 7*7 %>",
            "<% system('id') %>",
            "{% if True %}49{% endif %}",
            "<%@ page import=\"java.io.*\" %>",
        ],
    );
    quiet(&[
        "In a Jinja template write {{ name }} to print a variable",
        "{{ user.name|upper }} and {{ loop.index }}",
        "{{ url_for('static', filename='app.css') }}",
        "{% for item in items %}{{ item }}{% endfor %}",
        "<% if logged_in %>Hi<% end %>",
        "Handlebars loops with {{#each posts}}{{title}}{{/each}}",
        "ERB prints with <%= @user.name %>",
    ]);
    assert_eq!(
        detect_strict("{% for item in items %}{{ item }}{% endfor %}").map(|f| f.rule),
        Some("code_injection-pl2-template-statement")
    );
}

#[test]
fn python_node_ruby_perl() {
    fires(
        "code_injection-python",
        &[
            "__import__('os').system('id')",
            "__import__(\"subprocess\").check_output(['id'])",
            "os.popen('id').read()",
            "subprocess.Popen(['sh'])",
            "().__class__.__bases__[0]",
        ],
    );
    fires(
        "code_injection-node",
        &[
            "require('child_process').exec('id')",
            "process.mainModule.constructor._load(\"child_process\")",
            "this.constructor.constructor('return process')()",
            "_$$ND_FUNC$$_function(){}",
            "while(true);",
            "while(!0)",
            "new Function('return 1')",
            "process.env",
            "cmVxdWlyZSgiY2hpbGRfcHJvY2VzcyIpLmV4ZWMoJ2lkJyk=",
            "r\\u0065quire('child_process')",
        ],
    );
    fires(
        "code_injection-ruby",
        &[
            "Process.spawn(\"id\")",
            "Kernel.exec('id')",
            "IO.popen('id')",
        ],
    );
    fires(
        "code_injection-perl",
        &["@{[system 'id']}", "@{[ CORE::time() ]}"],
    );
    fires(
        "code_injection-prototype-pollution",
        &[
            "__proto__[admin]",
            "__proto__.polluted",
            "constructor.prototype.x",
            "constructor[prototype][x]",
        ],
    );
    quiet(&[
        "require('lodash') is fine here, see the review comment",
        "const fs = await import('node:fs/promises') // later",
        "the while (loop) keeps going",
        "Array.prototype.map is handy",
        "read process.env.PORT at start-up",
        "def __init__(self): pass",
        "in Python, __init__ runs first",
        "the subprocess module has helpers",
    ]);
}

#[test]
fn every_rule_id_is_listed_once() {
    let mut ids = RULES.to_vec();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    assert!(RULES.iter().all(|r| r.starts_with("code_injection-")));
}

#[test]
fn odd_input_never_panics() {
    for v in [
        "",
        "<",
        "<?",
        "${",
        "$",
        "(",
        ")(",
        "](",
        "\"(",
        "$ {",
        "{{",
        "{%",
        "<%",
        "\\u",
        "\\x4",
        "O:",
        "O:1:\"",
        "a:1:{",
        "__",
        "[php",
        "sess_",
        "é(",
        "$é(",
        "(é)(",
        "\"é\"(",
        "é.é[é",
        "{{é",
        "%{é}",
        "while(",
        "require(",
        "require('",
        "x.",
        "[",
        "java.",
    ] {
        let _ = detect(v);
        let _ = detect_strict(v);
        let padded = format!("ab{v}cd{v}");
        let _ = detect(&padded);
        let _ = detect_strict(&padded);
    }
}

#[test]
fn base64_words_are_read_decoded() {
    fires(
        "code_injection-node",
        &["XyQkTkRfRlVOQyQkX2Z1bmN0aW9uKCkK", "d2hpbGUodHJ1ZSk7Cg=="],
    );
    quiet(&[
        "SGVsbG8gd29ybGQsIGhvdyBhcmUgeW91Pw==",
        "dGhpcyBpcyBqdXN0IHRleHQ=",
    ]);
}

#[test]
fn script_file_names_in_headers() {
    use super::script_file_name;
    for v in [
        "a.php",
        "fda.php5...",
        "photo. php",
        "shell.jsp ",
        "x/y.phtml",
        "up.aspx",
    ] {
        assert!(script_file_name(v).is_some(), "{v:?}");
    }
    for v in [
        "/index.php",
        "https://example.com/a.php",
        "photo.png",
        "report.pdf",
        "php",
    ] {
        assert!(script_file_name(v).is_none(), "{v:?}");
    }
}

/// The detector's verdict (rule and span, at both levels) is the plain reading's
/// ([`super::detect_plain`]: every rule reading its input without the scan's skips) on `v`,
/// and on `v` behind and before a few texts that change what the skips see (a chain before
/// it, an opener or a closer around it). Returns how many readings found something.
fn same_as_plain(v: &str) -> usize {
    same_as_plain_padded(v, true)
}

/// [`same_as_plain`], between two spotted units ([`spotted_unit`]) too only when `pad` is set
/// (the padded readings are the slow ones: the corpus test pads a sample).
fn same_as_plain_padded(v: &str, pad: bool) -> usize {
    let mut found = 0;
    let spotted = spotted_unit();
    for (pre, post) in [
        ("", ""),
        ("x", ""),
        ("a.b.", " }"),
        ("${ ", ""),
        ("", " java.lang.Runtime"),
        ("{{ ", "}} "),
        (&spotted[..], &spotted[..]),
    ] {
        if pre.len() > 100 && !pad {
            continue;
        }
        let v = format!("{pre}{v}{post}");
        // (the long padding with the value's own mask only: the other masks read it alike)
        let padded = pre.len() > 100;
        for strict in [false, true] {
            let fast = if strict {
                detect_strict(&v)
            } else {
                detect(&v)
            };
            let plain = super::detect_plain(&v, strict);
            assert_eq!(fast, plain, "strict={strict} {v:?}");
            // as the scan runs it: with the value's class mask, with none (its plain values),
            // and with more trigger bits than the value holds
            let mask = crate::waf::classes::or_over(&super::CLASS, v.as_bytes());
            let masks = if padded {
                &[mask][..]
            } else {
                &[mask, 0, mask | super::TRIGGERS]
            };
            for &m in masks {
                let classified = super::detect_classified(&v, m, strict)
                    .or_else(|| strict.then(|| super::orm_lookup(&v)).flatten());
                assert_eq!(classified, plain, "strict={strict} mask={m:#x} {v:?}");
            }
            found += usize::from(fast.is_some());
        }
    }
    found
}

/// The near-attack unit of a padded body, 13 times, and a spot of words (`> x onabc=1 `): a
/// padding where the openers' windows hold words every 259 bytes.
fn spotted_unit() -> String {
    format!("{}> x onabc=1 ", "' or <a on=../;|${ ".repeat(13))
}

/// Every string the corpus holds for the WAF's tests, the CRS code-injection requests (URI,
/// percent-decoded URI and each of its parameters, body, header values) and the crate's own
/// technical prose.
fn corpus_strings() -> Option<Vec<String>> {
    use crate::waf::inputs::decode_once;
    let mut out = crate::waf::tests::corpus_values(true)?;
    let code = crate::waf::tests::corpus::read("crs-code-requests.jsonl", "code differential")?;
    let prose = include_str!("../../../tests/data/technical-prose.jsonl");
    for line in code.lines().chain(prose.lines()) {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in ["uri", "body", "text"] {
            let Some(v) = rec[key].as_str() else { continue };
            let decoded = String::from_utf8_lossy(&decode_once(v.as_bytes(), true)).into_owned();
            for part in decoded.split(['&', '?']) {
                out.push(part.split_once('=').map_or(part, |(_, v)| v).to_owned());
            }
            out.push(decoded);
            out.push(v.to_owned());
        }
        if let Some(map) = rec["headers"].as_object() {
            out.extend(map.values().filter_map(|v| v.as_str().map(str::to_owned)));
        }
    }
    Some(out)
}

/// ... on every corpus string.
#[test]
fn the_scan_gives_the_plain_readings_verdicts_on_the_corpus() {
    let Some(values) = corpus_strings() else {
        return;
    };
    assert!(values.len() > 30_000, "{}", values.len());
    // one value in four is also read padded (7,500 and more)
    let found: usize = values
        .iter()
        .enumerate()
        .map(|(i, v)| same_as_plain_padded(v, i % 4 == 0))
        .sum();
    // the corpus reaches the rules, not only "nothing found"
    assert!(found > 5_000, "{found}");
}

/// ... and on random sequences of the tokens the rules look at (openers, closers, dotted
/// names, dunders, calls, escapes, comments, near-attack filler), up to a few hundred bytes.
#[test]
fn the_scan_gives_the_plain_readings_verdicts_on_random_token_sequences() {
    const TOKENS: &[&str] = &[
        "${",
        "#{",
        "%{",
        "*{",
        "~{",
        "@{",
        "{{",
        "{%",
        "{",
        "}",
        "}}",
        "%}",
        "<%",
        "<%=",
        "%>",
        "<?",
        "<?php",
        "?>",
        "[",
        "]",
        "[php]",
        "(",
        ")",
        "'",
        "\"",
        "`",
        " ",
        "  ",
        "\n",
        ".",
        ". ",
        "..",
        "../",
        "a.",
        ".a",
        "$",
        "$_GET",
        "$x",
        "$ {",
        "@",
        "#",
        "//",
        "/*",
        "*/",
        "\\u0024",
        "\\x7b",
        "&#36;",
        "&lbrace;",
        "__",
        "__class__",
        "__proto__",
        "__globals__",
        "java",
        "javax",
        "lang",
        "Runtime",
        "ProcessBuilder",
        "com",
        "org",
        "apache",
        "sun",
        "process",
        "mainModule",
        "env",
        "require",
        "main",
        "constructor",
        "prototype",
        "this",
        "module",
        "exports",
        "console",
        "log",
        "os",
        "popen",
        "system",
        "exec",
        "eval",
        "getClass",
        "forName",
        "T(",
        "7*7",
        "7",
        "49",
        "if",
        "endif",
        "import",
        "child_process",
        "cycler",
        "self",
        "_self",
        "env",
        "new",
        "Function",
        "O:8:",
        ":",
        "=",
        "sess_",
        "data:",
        "php",
        "x",
        "abc",
        "the",
        "box",
        "great",
        "' or ",
        "<a ",
        "on=",
        ";",
        "|",
        "1",
        "2.5",
        "0",
        "_",
        "-",
        ",",
        "[\"",
        "\"]",
        "a[b]",
        "x.y.z",
    ];
    let mut next = crate::waf::tests::xorshift(0x2545_f491_4f6c_dd1du64);
    let mut found = 0;
    for _ in 0..10_000 {
        let len = (next() % 150) as usize;
        let mut v = String::new();
        for _ in 0..len {
            v.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
            if next() % 4 == 0 {
                v.push(' ');
            }
        }
        found += same_as_plain(&v);
    }
    // the sequences reach the rules, not only "nothing found"
    assert!(found > 10_000, "{found}");
}

/// ... and on long values made of one near-attack unit repeated (what a padded body's chunks
/// hold), where the skips and the kept searches matter most.
#[test]
fn the_scan_gives_the_plain_readings_verdicts_on_repeated_units() {
    for unit in [
        "' or <a on=../;|${ ",
        "${ ",
        "${x} ",
        "{{ a }} ",
        "a.b.",
        "a.",
        "java.",
        "x[y].",
        "$x{ ",
        "$a[",
        "<% a ",
        "{% x ",
        "7*7 ",
        // paddings with words, calls, closers and names between the openers
        spotted_unit().as_str(),
        "${ onabc ",
        "${ x ${ getclass",
        "' or <a on=../;|${ } ",
        "' or <a on=../;|${ ( ",
        "$x ${ $_ (",
        "$ GLOBALS ${ ",
        "' or <a on=../;| $GLOBALS ",
        "' or <a on=../;| $$HTTP_GET_VARS ",
        "../ a.b ",
        "../ a[\"b\"] ",
        "{{ x onabc ",
        "<% x onabc ",
        "${ java. ",
        // the `$` rules where a call or a closer is near (`php::live_runs`)
        "' or <a on=../;|${ f(x) ",
        "' or <a on=../;|${ {x} ",
        "' or <a on=../;|${ x} ",
        "$a->",
        "$a->$b->",
        "$$a ",
        "$ {x} ",
        "${'a'} ",
        "} { $x } (",
        "$a[{]} ",
        "$\t{",
    ] {
        for n in [1, 3, 20, 200] {
            let v = unit.repeat(n);
            same_as_plain(&v);
            same_as_plain(&format!("{v}${{T(java.lang.Runtime)}}"));
            same_as_plain(&format!("{v}}} java.lang.Runtime.getRuntime"));
            same_as_plain(&format!("{v}x[\"constructor\"][\"prototype\"]"));
        }
    }
}

/// The searches and block masks give the offsets `memchr` gives, on random texts of every
/// length up to a few blocks (and on every byte value), sparse and dense.
#[test]
fn positions_are_memchrs() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..3000 {
        let len = round % 300;
        let t: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // few distinct bytes, so that each occurs often
                if round % 2 == 0 {
                    seed as u8
                } else {
                    b"{$.[ a"[(seed % 6) as usize]
                }
            })
            .collect();
        for (a, b) in [(b'{', b'{'), (b'$', b'$'), (b'.', b'['), (0, 0xff)] {
            let got: Vec<usize> = super::positions(&t, a, b).collect();
            assert_eq!(
                got,
                memchr::memchr2_iter(a, b, &t).collect::<Vec<_>>(),
                "{t:?}"
            );
        }
    }
}

/// What the scan's skips rely on (`first_run`): every name the gated rules look for holds
/// three ASCII letters in a row or `__` — the template openers' words, the first and
/// anywhere segments of the dotted names' rules, PHP's superglobals (a name without them
/// would need the skip changed).
#[test]
fn gated_names_hold_three_letters_or_a_dunder() {
    let names = super::template::REACH
        .iter()
        .chain(super::script::FIRST_SEGMENTS)
        .chain(super::script::ANY_SEGMENTS)
        .chain(super::php::SUPERGLOBALS);
    for w in names {
        let letters = w.windows(3).any(|x| x.iter().all(u8::is_ascii_alphabetic));
        assert!(
            letters || w.windows(2).any(|x| x == b"__"),
            "{}",
            String::from_utf8_lossy(w)
        );
    }
}

/// What `php::config` relies on to skip its tables for a name with neither: every directive
/// and every directive family it looks for holds a `_` or a `.`.
#[test]
fn php_directives_hold_an_underscore_or_a_dot() {
    for d in super::php::DIRECTIVES.iter().chain(super::php::FAMILIES) {
        assert!(d.contains(['_', '.']), "{d}");
    }
}

/// What `template::Reader::next_reach` relies on to run the automaton only around the text's
/// words: every word the openers look for has three ASCII letters in a row or `__` starting
/// in its first three bytes.
#[test]
fn reach_words_open_with_a_run_of_letters() {
    for w in super::template::REACH {
        let run = (0..3).any(|j| {
            w.get(j..j + 3)
                .is_some_and(|x| x.iter().all(u8::is_ascii_alphabetic))
                || w.get(j..j + 2) == Some(b"__")
        });
        assert!(run, "{}", String::from_utf8_lossy(w));
    }
}

/// The bracket matching by block masks (`php::matching`) finds the closer the byte loop finds,
/// on random texts dense with brackets of the three kinds.
#[test]
fn bracket_matching_agrees_with_the_byte_loop() {
    let mut next = crate::waf::tests::xorshift(0x5851_f42d_4c95_7f2du64);
    const BYTES: &[u8] = b"{}[]()a $";
    for _ in 0..20_000 {
        let len = 1 + (next() % 150) as usize;
        let t: Vec<u8> = (0..len)
            .map(|_| BYTES[(next() % BYTES.len() as u64) as usize])
            .collect();
        for open in 0..len {
            if matches!(t[open], b'{' | b'[' | b'(') {
                assert_eq!(
                    super::php::matching_masks(&t, open),
                    super::php::matching_bytes(&t, open),
                    "{open} {:?}",
                    String::from_utf8_lossy(&t)
                );
            }
        }
    }
}
