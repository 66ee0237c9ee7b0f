//! The tokenizer's boundaries per dialect, the verdict on classic exploits and on the same
//! strings handled safely, the edge cases the module docs decide, and never-panic properties.
//! The corpus figures are in `corpus_tests.rs`.

use std::cell::Cell;

use proptest::prelude::*;

use super::*;

thread_local! {
    /// How many times this thread's checks tokenized a query (the laziness tests read it).
    pub(super) static TOKENIZED: Cell<usize> = const { Cell::new(0) };
}

const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

/// The app's query with a value concatenated into a quoted literal.
pub(super) fn quoted(input: &str) -> String {
    format!("SELECT name, price FROM products WHERE category = '{input}' ORDER BY name")
}

/// The app's query with a value concatenated in numeric position.
fn numeric(input: &str) -> String {
    format!("SELECT name, price FROM products WHERE id = {input} ORDER BY name")
}

/// The kinds and texts of `query`'s tokens.
fn lex(query: &str, d: Dialect) -> Vec<(Kind, &str)> {
    tokenize(query, d)
        .into_iter()
        .map(|t| (t.kind, &query[t.span]))
        .collect()
}

fn detected(query: &str, d: Dialect, input: &str) -> bool {
    injection(query, d, input).is_some()
}

#[test]
fn tokens_of_a_plain_query() {
    use Kind::*;
    let q = "SELECT a.b, 1.5e-3 FROM t WHERE x <= ? AND y <> $1 OR z::int ->> :n";
    assert_eq!(
        lex(q, Dialect::Postgres),
        [
            (Keyword, "SELECT"),
            (Word, "a"),
            (Punct, "."),
            (Word, "b"),
            (Punct, ","),
            (Number, "1.5e-3"),
            (Keyword, "FROM"),
            (Word, "t"),
            (Keyword, "WHERE"),
            (Word, "x"),
            (Operator, "<="),
            (Placeholder, "?"),
            (Keyword, "AND"),
            (Word, "y"),
            (Operator, "<>"),
            (Placeholder, "$1"),
            (Keyword, "OR"),
            (Word, "z"),
            (Operator, "::"),
            (Word, "int"),
            (Operator, "->>"),
            (Placeholder, ":n"),
        ]
    );
    assert_eq!(lex("0x1F .5 0b10 ?3 @v", Dialect::Sqlite).len(), 5);
    assert!(lex("0x1F .5 0b10 ?3 @v", Dialect::Sqlite)
        .iter()
        .take(3)
        .all(|(k, _)| *k == Number));
}

#[test]
fn comments_per_dialect() {
    use Kind::*;
    // `--` needs a space (or control byte, or the end) after it in MySQL only
    assert_eq!(
        lex("1--x", Dialect::Sqlite),
        [(Number, "1"), (Comment, "--x")]
    );
    assert_eq!(
        lex("1--x", Dialect::MySql),
        [(Number, "1"), (Operator, "-"), (Operator, "-"), (Word, "x")]
    );
    assert_eq!(lex("1-- x\n2", Dialect::MySql)[1], (Comment, "-- x"));
    assert_eq!(lex("1--", Dialect::MySql)[1], (Comment, "--"));
    // `#` is a comment in MySQL only
    assert_eq!(lex("1 # x", Dialect::MySql)[1], (Comment, "# x"));
    assert_eq!(lex("1 # x", Dialect::Postgres)[1], (Operator, "#"));
    // PostgreSQL nests block comments; the others end at the first `*/`
    let nested = "/* a /* b */ c */ 1";
    assert_eq!(
        lex(nested, Dialect::Postgres)[0],
        (Comment, "/* a /* b */ c */")
    );
    assert_eq!(lex(nested, Dialect::Sqlite)[0], (Comment, "/* a /* b */"));
    // unterminated comments run to the end, with no closer
    let t = &tokenize("1 /* open", Dialect::Sqlite)[1];
    assert_eq!(
        (t.kind, t.span.clone(), t.open, t.close),
        (Comment, 2..9, 2, 0)
    );
}

#[test]
fn strings_and_identifiers_per_dialect() {
    use Kind::*;
    // doubled quotes everywhere; backslash escapes in MySQL only
    assert_eq!(
        lex(r"'a''b' 'c\'d'", Dialect::Sqlite)[..2],
        [(String, "'a''b'"), (String, r"'c\'")]
    );
    assert_eq!(lex(r"'c\'d' x", Dialect::MySql)[0], (String, r"'c\'d'"));
    assert_eq!(lex(r#""c\"d" x"#, Dialect::MySql)[0], (String, r#""c\"d""#));
    // `"..."` is an identifier in SQLite and PostgreSQL
    assert_eq!(
        lex(r#""a""b""#, Dialect::Postgres),
        [(QuotedIdent, r#""a""b""#)]
    );
    assert_eq!(
        lex("`a` [b c]", Dialect::Sqlite),
        [(QuotedIdent, "`a`"), (QuotedIdent, "[b c]")]
    );
    assert_eq!(lex("`a`", Dialect::MySql), [(QuotedIdent, "`a`")]);
    // prefixes; E'' escapes in PostgreSQL
    assert_eq!(
        lex(r"E'a\'b' x", Dialect::Postgres)[0],
        (String, r"E'a\'b'")
    );
    assert_eq!(
        lex(r"X'4F' n'é'", Dialect::Sqlite),
        [(String, "X'4F'"), (String, "n'é'")]
    );
    let t = &tokenize("E'a'", Dialect::Postgres)[0];
    assert_eq!((t.open, t.close, t.backslash), (2, 1, true));
    // dollar quotes
    assert_eq!(
        lex("$$a'b$$ $x$ $$ $x$ $1", Dialect::Postgres),
        [
            (String, "$$a'b$$"),
            (String, "$x$ $$ $x$"),
            (Placeholder, "$1")
        ]
    );
    let t = &tokenize("$tag$ unterminated", Dialect::Postgres)[0];
    assert_eq!((t.open, t.close, t.span.end), (5, 0, 18));
    // an unterminated string runs to the end
    assert_eq!(
        lex("'abc ORDER BY x", Dialect::Sqlite),
        [(String, "'abc ORDER BY x")]
    );
}

/// The exploits of each dialect: those made for a quoted literal, and those for a number.
fn exploits(d: Dialect) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut quoted_ones = vec![
        "' UNION SELECT username, password FROM users -- ",
        "' UNION ALL SELECT NULL, NULL --",
        "' OR '1'='1",
        "x' OR 1=1 -- ",
        "'; DROP TABLE products; -- ",
        "admin'-- ",
        "admin'--",
        "admin'/*",
        "' AND 1=(SELECT COUNT(*) FROM users) AND '1'='1",
        "books' OR '1'='1",
    ];
    let mut numeric_ones = vec![
        "1 UNION SELECT username, password FROM users",
        "1 OR 1=1",
        "1; DROP TABLE products",
        "1 -- ",
        "1/*",
        "1 AND SLEEP(5)",
        "-1 OR 1=1",
        "(SELECT 1)",
    ];
    match d {
        Dialect::MySql => {
            quoted_ones.extend(["admin'#", "' AND SLEEP(5) AND '1'='1", "' OR 1=1#"]);
            numeric_ones.extend(["1#", "1 AND BENCHMARK(1000000, MD5(1))"]);
        }
        Dialect::Postgres => {
            quoted_ones.extend(["'; SELECT pg_sleep(5); --", "' || (SELECT $$x$$) || '"]);
            numeric_ones.extend(["1; SELECT pg_sleep(5)", "1 OR $$a$$ = $$a$$"]);
        }
        _ => {
            quoted_ones.push("' AND randomblob(1000000000) AND '1'='1");
            numeric_ones.push("1 AND 1=randomblob(1000000000)");
        }
    }
    (quoted_ones, numeric_ones)
}

#[test]
fn classic_exploits_are_detected_in_every_dialect() {
    for d in ALL {
        let (in_literal, as_number) = exploits(d);
        let cases = in_literal.iter().map(|i| (quoted(i), i));
        for (query, input) in cases.chain(as_number.iter().map(|i| (numeric(i), i))) {
            let at = injection(&query, d, input);
            assert!(at.is_some(), "{d:?} missed {input:?} in {query:?}");
            assert_eq!(&query[at.unwrap()], *input);
        }
    }
}

#[test]
fn the_same_strings_handled_safely_pass() {
    for d in ALL {
        let placeholder = if d == Dialect::Postgres { "$1" } else { "?" };
        let (in_literal, as_number) = exploits(d);
        for input in in_literal.into_iter().chain(as_number) {
            // bound as a parameter, the input is not in the query
            let bound = format!("SELECT name FROM products WHERE category = {placeholder}");
            assert_eq!(injection(&bound, d, input), None, "{d:?} {input:?}");
            // escaped as the dialect requires, it stays inside its literal
            let escaped = match d {
                Dialect::MySql => input.replace('\\', "\\\\").replace('\'', "\\'"),
                _ => input.replace('\'', "''"),
            };
            assert_eq!(
                injection(&quoted(&escaped), d, input),
                None,
                "{d:?} {input:?}"
            );
        }
    }
}

#[test]
fn postgres_dollar_quotes() {
    let d = Dialect::Postgres;
    // the app dollar-quotes the value; the input closes the quote
    for (open, input) in [
        ("$$", "x$$ OR 1=1 --"),
        ("$t$", "x$t$ OR 1=1 --"),
        ("$$", "$$;DROP TABLE t;--"),
    ] {
        let q = format!("SELECT * FROM t WHERE a = {open}{input}{open}");
        assert!(detected(&q, d, input), "{q}");
    }
    // an input that is harmless inside the app's dollar quotes, a tag that does not close it
    let q = "SELECT * FROM t WHERE a = $t$it's $$ fine$t$";
    assert!(!detected(q, d, "it's $$ fine"));
    // and the same value in a plain literal: `$$` is text there
    assert!(!detected(&quoted("$$ OR 1=1 --"), d, "$$ OR 1=1 --"));
}

#[test]
fn mysql_backslash_tricks() {
    let d = Dialect::MySql;
    let input = r"\' OR 1=1 -- ";
    // the app escapes `'` as `\'` but leaves `\`: `\\'` closes the literal
    let q = quoted(&input.replace('\'', r"\'"));
    assert!(q.contains(r"'\\' OR 1=1"));
    assert!(detected(&q, d, input), "{q}");
    // the app doubles `'` (right for SQLite, wrong for MySQL): `\''` closes it too; the raw input
    // is not in the query, its escaped form is
    let q = quoted(&input.replace('\'', "''"));
    assert!(!q.contains(input));
    assert!(detected(&q, d, input), "{q}");
    assert!(
        !detected(&q, Dialect::Sqlite, input),
        "correct escaping for SQLite"
    );
    // escaped as MySQL wants: inside the literal
    let q = quoted(&input.replace('\\', r"\\").replace('\'', r"\'"));
    assert!(!detected(&q, d, input), "{q}");
    // a trailing backslash eats the app's closing quote, and the next field is code
    let (a, b) = ("foo\\", " OR 1=1 -- ");
    let q = format!("SELECT * FROM users WHERE name = '{a}' AND pass = '{b}'");
    assert_eq!(injection(&q, d, a), Some(34..38));
    assert!(detected(&q, d, b));
    assert!(
        !detected(&q, Dialect::Sqlite, a),
        "no backslash escapes in SQLite"
    );
    // an even run of backslashes is text
    assert!(!detected(&quoted(r"foo\\"), d, r"foo\\"));
}

#[test]
fn a_quote_that_pairs_with_the_apps_closing_quote_breaks_out() {
    // `'abc''`: the input's quote and the app's make an escaped quote, the literal runs on
    for d in ALL {
        assert!(detected(&quoted("abc'"), d, "abc'"), "{d:?}");
        assert!(
            !detected(&quoted("abc''"), d, "abc''"),
            "{d:?}: an escaped quote is text"
        );
        // the app doubled the input's trailing quote: the raw input occurs, ending mid-pair,
        // and the literal closes right after the pair
        assert!(!detected(&quoted("abc''"), d, "abc'"), "{d:?}");
        assert!(
            !detected(&quoted("'' || x || ''"), d, "' || x || '"),
            "{d:?}"
        );
    }
    // a backslash the app escaped is the input's own text
    assert!(!detected(&quoted(r"C:\\"), Dialect::MySql, r"C:\"));
    assert!(detected(&quoted(r"C:\"), Dialect::MySql, r"C:\"));
}

#[test]
fn o_brien() {
    for d in ALL {
        // concatenated raw, the name splits the literal: an injection (harmless this time)
        assert_eq!(
            injection(&quoted("O'Brien"), d, "O'Brien"),
            Some(51..58),
            "{d:?}"
        );
        // escaped as the dialect wants, it is inside one literal
        assert!(!detected(&quoted("O''Brien"), d, "O'Brien"), "{d:?}");
    }
    assert!(!detected(&quoted(r"O\'Brien"), Dialect::MySql, "O'Brien"));
    // a backslash escape is no escape in SQLite: `'O\'` ends there
    assert!(detected(&quoted(r"O\'Brien"), Dialect::Sqlite, "O'Brien"));
}

#[test]
fn whole_literal_carried_by_the_input() {
    for d in ALL {
        // the input brought its own quotes and is the whole literal: one value where one goes
        let q = "SELECT * FROM t WHERE x = 'abc' ORDER BY name";
        assert_eq!(injection(q, d, "'abc'"), None, "{d:?}");
        // quoted by the app as well: `''abc''` is three tokens
        assert!(detected(&quoted("'abc'"), d, "'abc'"), "{d:?}");
        // half a literal: the input opened it
        assert!(detected(
            "SELECT * FROM t WHERE x = 'abc' AND y = 1",
            d,
            "'abc' AND"
        ));
        assert!(
            detected("SELECT * FROM t WHERE x = 'abc", d, "'abc"),
            "{d:?}"
        );
    }
    assert_eq!(
        injection("SELECT `name` FROM t", Dialect::MySql, "`name`"),
        None
    );
}

#[test]
fn inside_one_token_is_not_an_injection() {
    for d in ALL {
        let q = quoted("shoes");
        assert_eq!(injection(&q, d, "shoes"), None);
        assert_eq!(
            injection(&q, d, "name"),
            None,
            "ORDER BY name: a word the app could write"
        );
        assert_eq!(injection(&q, d, "price"), None);
        assert_eq!(injection(&q, d, "ORDER"), None);
        assert_eq!(injection(&numeric("1"), d, "1"), None);
        assert_eq!(injection(&numeric("12345"), d, "234"), None);
        assert_eq!(injection("SELECT * FROM t WHERE a <> 1", d, "<>"), None);
        assert_eq!(injection("SELECT * FROM t WHERE a = ?", d, "?"), None);
        // inside a comment the app wrote
        assert_eq!(injection("SELECT 1 /* shoes */", d, "shoes"), None);
    }
}

#[test]
fn comments_the_input_opens_truncate() {
    for d in ALL {
        let q = "SELECT * FROM t WHERE a = 1 /* AND b = 2 */";
        assert!(detected(q, d, "/* AND"), "{d:?}");
        assert!(detected(
            "SELECT * FROM t WHERE a = 1 -- AND b = 2",
            d,
            "-- AND"
        ));
        // the input ends a comment the app opened
        assert!(detected("SELECT 1 /* x */ */", d, "x */"), "{d:?}");
    }
    assert!(detected(
        "SELECT * FROM t WHERE a = 1 # AND b",
        Dialect::MySql,
        "# AND"
    ));
}

#[test]
fn plain_data_and_sort_lists_are_values_not_code() {
    for d in ALL {
        assert_eq!(injection(&numeric("-1"), d, "-1"), None, "{d:?}");
        assert_eq!(
            injection("SELECT * FROM t WHERE id IN (1,2, 3)", d, "1,2, 3"),
            None
        );
        let q = "SELECT * FROM t ORDER BY price DESC, t.name ASC";
        assert_eq!(injection(q, d, "price DESC, t.name ASC"), None, "{d:?}");
        assert_eq!(injection("SELECT * FROM t ORDER BY 2, 1", d, "2, 1"), None);
        // but not with code in it, and not anywhere but after ORDER BY
        let q = "SELECT * FROM t ORDER BY price, (SELECT 1)";
        assert!(detected(q, d, "price, (SELECT 1)"), "{d:?}");
        assert!(detected(
            "SELECT * FROM t ORDER BY price LIMIT 1",
            d,
            "price LIMIT 1"
        ));
        assert!(detected("SELECT * FROM t WHERE a = b DESC", d, "b DESC"));
        assert!(detected("SELECT * FROM t WHERE id IN (1,2)", d, "1,2)"));
        // a dotted name is one name, wherever it is; with code after it, it is not
        let q = "SELECT p.id, p.price FROM products p ORDER BY p.price";
        assert_eq!(injection(q, d, "p.price"), None, "{d:?}");
        let name = if d == Dialect::MySql {
            "`s`.`t`.c"
        } else {
            r#""s"."t".c"#
        };
        let q = format!("SELECT {name} FROM x");
        assert_eq!(injection(&q, d, name), None, "{d:?}");
        assert!(detected("SELECT p.price FROM p WHERE 1", d, "p.price FROM"));
        assert!(detected("SELECT p.price. FROM p", d, "p.price."));
    }
}

#[test]
fn short_inputs() {
    for d in ALL {
        // a lone quote that leaves a literal open is the classic probe
        assert!(detected(&quoted("'"), d, "'"), "{d:?}");
        assert!(detected(&numeric("'"), d, "'"), "{d:?}");
        // a lone quote in a query whose literals all close: the app's own quotes
        assert!(!detected(&quoted("shoes"), d, "'"), "{d:?}");
        assert!(
            !detected(&quoted("it''s'' ''"), d, "'"),
            "{d:?}: nor the app's escaped quotes"
        );
        assert!(!detected(&quoted("shoes"), d, "a"), "{d:?}");
        assert!(!detected(&quoted("shoes"), d, ","), "{d:?}");
        // empty and whitespace inputs never match
        assert!(!detected(&quoted(""), d, ""));
        assert!(!detected(&quoted("  "), d, " \t"));
        // two bytes are enough to break out
        assert!(detected(&numeric("1'"), d, "1'"), "{d:?}");
    }
}

#[test]
fn every_occurrence_is_judged() {
    for d in ALL {
        // first inside the literal (harmless), then as code: the second is reported
        let q = "SELECT * FROM t WHERE a = 'x OR 1=1' AND b = x OR 1=1";
        assert_eq!(injection(q, d, "x OR 1=1"), Some(45..53), "{d:?}");
        // overlapping occurrences: `' '` at 7 is one whole literal, at 9 it spans two tokens
        assert_eq!(injection("SELECT ' ' '", d, "' '"), Some(9..12), "{d:?}");
    }
}

#[test]
fn first_injection_reports_the_first_injected_input_and_tokenizes_lazily() {
    let d = Dialect::Sqlite;
    let inputs = ["absent", "shoes", "1 OR 1=1", "' OR '1'='1"];
    let q = format!("SELECT * FROM t WHERE c = 'shoes' AND id = {}", inputs[2]);
    assert_eq!(first_injection(&q, d, inputs), Some((2, 43..51)));

    let tokenized = || TOKENIZED.with(Cell::get);
    let before = tokenized();
    assert_eq!(
        first_injection(&q, d, ["absent", "nowhere", "", "  "]),
        None
    );
    assert_eq!(tokenized(), before, "no input occurs: no tokenization");
    assert_eq!(
        first_injection(&q, d, ["shoes", "SELECT", "c", "1 OR 1=1"]),
        Some((3, 43..51))
    );
    assert_eq!(
        tokenized(),
        before + 1,
        "several occurrences: one tokenization"
    );
}

/// Random query-like text: SQL fragments and special bytes glued at random.
fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "'", "\"", "`", "[", "]", "$", "$$", "$t$", "--", "-- ", "#", "/*", "*/", "\\", "E'", "X'",
        "?", "?1", ":n", "@v", "::", "->>", " ", "\n", "1", "0x", ".5e", "SELECT", "OR", "a", "é",
        "(", ")", ",", ";", "=", "''", "\\'", "\0",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn check_tokens(query: &str, d: Dialect) {
    let tokens = tokenize(query, d);
    let mut last = 0;
    for t in &tokens {
        assert!(
            t.span.start >= last && t.span.start < t.span.end,
            "{t:?} in {query:?}"
        );
        assert!(t.span.end <= query.len() && t.open + t.close <= t.span.len());
        assert!(query.is_char_boundary(t.span.start) && query.is_char_boundary(t.span.end));
        last = t.span.end;
    }
    assert!(tokens.len() <= query.len());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200),
                                cut in 0usize..200, len in 1usize..12) {
        let query = String::from_utf8_lossy(&bytes);
        let cut = cut.min(query.len());
        let input = query.get(cut..(cut + len).min(query.len())).unwrap_or("'");
        for d in ALL {
            check_tokens(&query, d);
            let _ = injection(&query, d, input);
        }
    }

    #[test]
    fn token_soups_never_panic(query in token_soup(), input in token_soup()) {
        for d in ALL {
            check_tokens(&query, d);
            if let Some(at) = injection(&query, d, &input) {
                prop_assert!(at.end <= query.len());
            }
            let injected = format!("SELECT * FROM t WHERE a = '{input}' AND b = 1");
            let _ = injection(&injected, d, &input);
        }
    }

    /// The lazy, shared-token path agrees with checking every input on its own.
    #[test]
    fn first_injection_agrees_with_injection(query in token_soup(),
                                             inputs in prop::collection::vec(token_soup(), 0..5)) {
        for d in ALL {
            let one_by_one = inputs
                .iter()
                .enumerate()
                .find_map(|(i, input)| injection(&query, d, input).map(|at| (i, at)));
            prop_assert_eq!(first_injection(&query, d, inputs.iter().map(String::as_str)), one_by_one);
        }
    }
}

/// The shapes `first_injection` skips without tokenizing are never injections by the full
/// verdict, wherever they land: in the quoted and numeric queries, in a comment, in a dollar
/// quote, beside the app's words and numbers, in every dialect (random letters, digits and
/// keywords; the corpus values of that shape are checked in `corpus_tests.rs`).
#[test]
fn one_token_shapes_are_never_injections() {
    let mut seen = 0;
    let mut check = |input: &str| {
        assert!(one_token_shape(input), "{input}");
        for d in ALL {
            for query in [
                quoted(input),
                numeric(input),
                format!("SELECT a{input}b, 1{input}2 FROM t -- {input}"),
                format!("SELECT $q${input}$q$, x.{input} /* {input} */"),
                format!("SELECT {input}1, N'{input}', {input}'x'"),
            ] {
                let tokens = tokenize(&query, d);
                let hay = query.as_bytes();
                let mut from = 0;
                while let Some(k) = memchr::memmem::find(&hay[from..], input.as_bytes()) {
                    let at = from + k..from + k + input.len();
                    assert!(
                        !is_injection(hay, &tokens, at.clone()),
                        "{input:?} at {at:?} in {query:?} ({d:?})"
                    );
                    seen += 1;
                    from = at.start + 1;
                }
            }
        }
    };
    for word in [
        "OR", "UNION", "select", "sleep", "a", "x_y", "_", "N", "E", "X", "q", "AND",
    ] {
        check(word);
    }
    for n in ["1", "0", "12", "0001", "4294967296"] {
        check(n);
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = 1 + (state % 6) as usize;
        let digits = state & 1 == 0;
        let s: String = (0..len)
            .map(|i| {
                let r = (state >> (8 + i * 5)) as u8;
                if digits {
                    (b'0' + r % 10) as char
                } else {
                    [b'a', b'Z', b'_', b'q', b'N', b'e'][(r % 6) as usize] as char
                }
            })
            .collect();
        check(&s);
    }
    assert!(seen > 10_000, "{seen}");
}

#[test]
fn inputs_of_one_token_shape_do_not_make_the_query_tokenized() {
    let query = "SELECT p.price FROM products p WHERE p.page = 2 AND p.lang = 'en' LIMIT 24";
    let before = TOKENIZED.with(Cell::get);
    assert_eq!(
        first_injection(query, Dialect::Postgres, ["price", "2", "en", "24"]),
        None
    );
    assert_eq!(
        TOKENIZED.with(Cell::get),
        before,
        "skipped without tokenizing"
    );
    // an input of another shape occurring in the query is judged
    assert_eq!(first_injection(query, Dialect::Postgres, ["p.page"]), None);
    assert_eq!(TOKENIZED.with(Cell::get), before + 1);
}

/// A verdict on tokens lexed only up to the occurrence's end is the verdict on all of them.
#[test]
fn lexing_up_to_the_occurrence_gives_the_whole_query_verdict() {
    let inputs = [
        "books' OR '1'='1",
        "1 OR 1=1",
        "x'--",
        "a\\",
        "abc'",
        "'",
        "p.price DESC, name",
        "$$ OR 1=1 --",
        "1,2,3",
        "O'Brien",
        "*/ UNION SELECT 1 /*",
        "\" OR \"\"=\"",
    ];
    let mut compared = 0;
    for d in ALL {
        for input in inputs {
            for query in [
                quoted(input),
                numeric(input),
                format!("SELECT * FROM t WHERE a = \"{input}\" ORDER BY {input} -- {input}"),
                format!("SELECT $x${input}$x$, E'{input}', `{input}` /* {input}"),
            ] {
                let all = tokenize(&query, d);
                let hay = query.as_bytes();
                let mut from = 0;
                while let Some(k) = memchr::memmem::find(&hay[from..], input.as_bytes()) {
                    let at = from + k..from + k + input.len();
                    let mut stream = TokenStream::new(&query, d);
                    assert_eq!(
                        is_injection(hay, stream.upto(at.end), at.clone()),
                        is_injection(hay, &all, at.clone()),
                        "{input:?} at {at:?} in {query:?} ({d:?})"
                    );
                    compared += 1;
                    from = at.start + 1;
                }
            }
        }
    }
    assert!(compared > 100, "{compared}");
}
