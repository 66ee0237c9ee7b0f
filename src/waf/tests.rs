use std::time::{Duration, Instant};

use super::*;

const XSS: &str = "<script>alert(1)</script>";
const SQLI: &str = "1' OR '1'='1";

fn scan(disabled: &[String], stop_at_first: bool) -> Scan<'_> {
    Scan::new(
        disabled,
        stop_at_first,
        Duration::from_secs(10),
        Duration::ZERO,
    )
}

#[test]
fn a_value_is_checked_by_the_detectors_of_its_source() {
    let mut s = scan(&[], false);
    s.value(Source::Query, &"query.q", XSS).unwrap();
    assert_eq!(s.hits.len(), 1);
    assert_eq!(s.hits[0].category, AttackCategory::Xss);
    assert_eq!(s.hits[0].input, "query.q");
    assert!(XSS.contains(&s.hits[0].fragment), "{}", s.hits[0].fragment);
    // SSRF does not run on headers: a Referer naming localhost is ordinary
    let mut s = scan(&[], false);
    s.value(
        Source::Header,
        &"header.referer",
        "http://localhost:3000/cart",
    )
    .unwrap();
    assert!(s.hits.is_empty(), "{:?}", s.hits);
    let mut s = scan(&[], false);
    s.value(
        Source::Query,
        &"query.url",
        "http://169.254.169.254/latest/meta-data/",
    )
    .unwrap();
    assert_eq!(s.hits[0].category, AttackCategory::Ssrf);
}

#[test]
fn one_hit_per_category_and_block_mode_stops_at_the_first() {
    let mut s = scan(&[], false);
    for _ in 0..3 {
        s.value(Source::Query, &"query.q", XSS).unwrap();
    }
    s.value(Source::Query, &"query.s", SQLI).unwrap();
    let cats: Vec<_> = s.hits.iter().map(|h| h.category).collect();
    assert_eq!(cats, [AttackCategory::Xss, AttackCategory::Sqli]);

    let mut s = scan(&[], true);
    assert_eq!(s.value(Source::Query, &"query.q", XSS), Err(Stop::Hit));
    assert_eq!(s.hits.len(), 1);
}

#[test]
fn a_disabled_rule_does_not_report() {
    let mut s = scan(&[], false);
    s.value(Source::Query, &"query.q", XSS).unwrap();
    let rule = s.hits[0].rule.to_owned();
    assert!(is_rule(&rule));
    let disabled = vec![rule];
    let mut s = scan(&disabled, false);
    s.value(Source::Query, &"query.q", XSS).unwrap();
    assert!(s.hits.iter().all(|h| h.rule != disabled[0]), "{:?}", s.hits);
}

#[test]
fn long_values_are_scanned_in_chunks_with_offsets_kept() {
    for at in [10, CHUNK - 10, CHUNK + 100, 5 * CHUNK + 3, 100_000] {
        let mut value = "é".repeat(at / 2); // two bytes a char: chunk edges fall inside chars
        value.push_str(XSS);
        value.push_str(&"a".repeat(20_000));
        let mut s = scan(&[], false);
        s.value(Source::Body, &"body", &value).unwrap();
        assert_eq!(s.hits.len(), 1, "attack at {at}");
        assert!(
            XSS.contains(&s.hits[0].fragment),
            "at {at}: {}",
            s.hits[0].fragment
        );
    }
}

#[test]
fn a_spent_budget_stops_the_scan_and_is_reported() {
    let mut s = Scan::new(&[], false, Duration::ZERO, Duration::ZERO);
    assert!(s.overrun, "nothing left to spend");
    assert_eq!(s.value(Source::Query, &"query.q", XSS), Err(Stop::Budget));
    assert!(s.hits.is_empty());
    // the head's time counts against the body's scan
    let s = Scan::new(
        &[],
        false,
        Duration::from_millis(1),
        Duration::from_millis(2),
    );
    assert!(s.overrun);
}

#[test]
fn the_clock_is_read_only_once_a_check_is_due() {
    // a request with a few short values never reads the clock
    let mut s = Scan::new(
        &[],
        false,
        Duration::from_millis(1),
        Duration::from_micros(7),
    );
    for value in ["/search", "shoes & socks", "a.b", "x_y"] {
        assert_eq!(s.value(Source::Query, &"query.q", value), Ok(()));
    }
    assert!(s.started.is_none(), "no check was due");
    assert_eq!(
        s.spent(),
        Duration::from_micros(7),
        "only the time spent before"
    );
    // many short values: the clock starts at the first check and the budget still holds
    let mut s = Scan::new(&[], false, Duration::from_nanos(1), Duration::ZERO);
    let mut stopped = None;
    for i in 0..CHECK_EVERY_VALUES * 4 {
        if let Err(stop) = s.value(Source::Query, &"query.q", &format!("v.{i}")) {
            stopped = Some((i, stop));
            break;
        }
    }
    assert!(s.started.is_some());
    let (at, stop) = stopped.expect("the budget stops the scan");
    assert_eq!(stop, Stop::Budget);
    assert!(at < CHECK_EVERY_VALUES * 2, "stopped at value {at}");
    assert!(s.overrun && s.spent() > Duration::ZERO);
}

#[test]
fn a_pathological_megabyte_stops_within_the_budget() {
    let unit = "' or <a on=../;|${ ";
    let big = unit.repeat((1 << 20) / unit.len());
    let budget = Duration::from_micros(1000);
    let started = Instant::now();
    let mut s = Scan::new(&[], false, budget, Duration::ZERO);
    let out = s.value(Source::Body, &"body.q", &big);
    let took = started.elapsed();
    // either the whole megabyte fit in the budget or the scan stopped and said so
    assert!(out.is_ok() || s.overrun, "{out:?}");
    // one chunk past the budget at most: generous slack for unoptimised builds and noisy CI
    assert!(
        took < budget + Duration::from_millis(50),
        "took {took:?} for a budget of {budget:?}"
    );
}

#[test]
fn fragments_are_cut_on_char_boundaries() {
    let long = "ü".repeat(100);
    let f = fragment(&long, 0..long.len());
    assert_eq!(f.chars().count(), MAX_FRAGMENT + 1);
    assert!(f.ends_with('…'));
    // a span off the boundaries (never from our detectors, but never a panic)
    let f = fragment("aü", 0..2);
    assert_eq!(f, "a");
    assert_eq!(fragment("abc", 5..9), "");
}

#[test]
fn every_category_has_rules_and_names_its_event() {
    for c in AttackCategory::ALL {
        assert!(!c.rules().is_empty(), "{c}");
        for rule in c.rules() {
            assert!(rule.starts_with(c.as_str()), "{rule} in {c}");
        }
        assert!(c.event_name().starts_with("app.sqreen."));
    }
    assert!(!is_rule("sqli-no-such-rule"));
}

#[test]
fn short_plain_tokens_are_not_inspected_but_identifiers_with_underscores_are() {
    assert!(
        detect(AttackCategory::Rce, "whoami").is_some(),
        "the detector alone fires"
    );
    let mut s = scan(&[], false);
    s.value(Source::Query, &"query.q", "whoami").unwrap();
    assert!(s.hits.is_empty(), "a lone word is not inspected");
    assert!(plain("SKU-00042") && plain("en-US") && !plain("xp_cmdshell"));
    assert!(!plain("document.cookie") && !plain(&"a".repeat(65)));
}

#[test]
fn plain_values_are_looked_at_for_base64_java_serialization_in_every_carrier() {
    // the header alone, at its three alignments, as a query value and name, a JSON key and
    // string, a cookie's name and value, a header value
    for magic in [
        "rO0ABQ",
        "KztAAU",
        "Cs7QAF",
        "rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA",
    ] {
        let query = format!("page=2&state={magic}&{magic}=x");
        let mut s = scan(&[], false);
        inputs::scan_head(
            &mut s,
            &format!("/a?{query}").parse().unwrap(),
            &http::HeaderMap::new(),
        )
        .unwrap();
        assert_eq!(s.hits.len(), 1, "{magic}: {:?}", s.hits);
        assert_eq!(s.hits[0].rule, "code_injection-java-serialized");
        assert_eq!(s.hits[0].input, "query.state");
        for (source, name, value) in [
            (Source::Cookie, "cookie.s", magic),
            (Source::Header, "header.x-state", magic),
            (Source::Body, "body.state", magic),
        ] {
            let mut s = scan(&[], false);
            s.value(source, &name, value).unwrap();
            assert_eq!(s.hits.len(), 1, "{magic} in {name}");
        }
        let mut s = scan(&[], false);
        json::scan_json(
            &mut s,
            format!(r#"{{"{magic}":"x","y":"{magic}"}}"#).as_bytes(),
        )
        .unwrap();
        // (one hit per category and request)
        assert_eq!(s.hits.len(), 1, "{magic}: {:?}", s.hits);
        assert_eq!(s.hits[0].rule, "code_injection-java-serialized");
    }
    // plain words, ids and codes with an `A`, and a plain query: nothing
    let mut s = scan(&[], false);
    inputs::scan_head(
        &mut s,
        &"/a?city=ALBUQUERQUE&sku=SKU-A0042&code=AAAAAA&lang=en-US&q=Amazon"
            .parse()
            .unwrap(),
        &http::HeaderMap::new(),
    )
    .unwrap();
    for v in [
        "ABQ-2026",
        "SANTA-CLARA",
        "A1B2C3D4E5F6",
        "AbCdEfGhIjKlMnOp",
    ] {
        s.value(Source::Cookie, &"cookie.c", v).unwrap();
        json::scan_json(&mut s, format!(r#"{{"{v}":"{v}"}}"#).as_bytes()).unwrap();
    }
    assert!(s.hits.is_empty(), "{:?}", s.hits);
}

#[test]
fn fixed_syntax_headers_are_not_inspected() {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "accept",
        http::HeaderValue::from_static("<script>alert(1)</script>"),
    );
    headers.insert(
        "sec-ch-ua",
        http::HeaderValue::from_static("<script>alert(1)</script>"),
    );
    let uri: http::Uri = "/".parse().unwrap();
    let mut s = scan(&[], false);
    inputs::scan_head(&mut s, &uri, &headers).unwrap();
    assert!(s.hits.is_empty(), "{:?}", s.hits);
    headers.insert(
        "x-comment",
        http::HeaderValue::from_static("<script>alert(1)</script>"),
    );
    inputs::scan_head(&mut s, &uri, &headers).unwrap();
    assert_eq!(s.hits[0].input, "header.x-comment");
}

/// Every string of the development corpus (values, and the URIs, header values and bodies of
/// the CRS requests), each also glued to the next one, plus every one- and two-character
/// string over ASCII and a few multi-byte characters.
fn corpus_strings() -> Vec<String> {
    let mut out = corpus_values(true).unwrap_or_default();
    let glued: Vec<String> = out
        .windows(2)
        .map(|w| format!("{} {}", w[0], w[1]))
        .collect();
    out.extend(glued);
    let chars: Vec<char> = (0u8..128)
        .map(char::from)
        .chain(['é', '＜', '\u{a0}'])
        .collect();
    for &a in &chars {
        out.push(a.to_string());
        for &b in &chars {
            out.push(format!("{a}{b}"));
        }
    }
    out
}

#[test]
fn the_shared_byte_classes_change_no_detector_verdict() {
    let sources = [
        Source::Path,
        Source::Query,
        Source::Header,
        Source::Cookie,
        Source::Body,
        Source::Upload,
    ];
    let mut compared = 0usize;
    for value in corpus_strings() {
        // the scan hands detectors values of at most CHUNK bytes
        let mut end = value.len().min(CHUNK);
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        let part = &value[..end];
        let classes = Classes::of(part.as_bytes());
        assert_eq!(
            classes.only_plain_bytes() && part.len() <= PLAIN_MAX,
            plain(part),
            "{part:?}"
        );
        for source in sources {
            for &category in source.categories() {
                let gated = run_detector(category, source, part, classes, "localhost");
                let alone = run_detector_alone(category, source, part, "localhost");
                assert_eq!(gated, alone, "{category} on {source:?} {part:?}");
                compared += 1;
            }
        }
    }
    let floor = if corpus::expected_dir().is_dir() {
        1_000_000
    } else {
        100_000
    };
    assert!(compared > floor, "{compared}");
}

#[test]
fn a_json_body_cut_at_the_limit_has_the_strings_before_the_cut_inspected() {
    let body = format!(r#"{{"q":"{}","pad":"{}"}}"#, SQLI, "a".repeat(4000));
    let mut s = scan(&[], true);
    let r = json::scan_json(&mut s, &body.as_bytes()[..1024]);
    assert_eq!(r, Err(Stop::Hit), "{:?}", s.hits);
    assert_eq!(s.hits[0].input, "body.q");
}

#[test]
fn clean_header_values_are_remembered_and_only_they() {
    use memo::{is_clean, Kind};
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let mut s = scan(&[], false);
    assert!(!is_clean(Kind::Header, ua));
    s.value(Source::Header, &"header.user-agent", ua).unwrap();
    s.user_agent(ua).unwrap();
    assert!(s.hits.is_empty(), "{:?}", s.hits);
    assert!(is_clean(Kind::Header, ua) && is_clean(Kind::UserAgent, ua));
    // a query value is not remembered (other detectors run there)
    s.value(Source::Query, &"query.q", "it's a plan").unwrap();
    assert!(!is_clean(Kind::Header, "it's a plan"));

    // an attack is not remembered, even when its rule is disabled
    let mut s = scan(&[], false);
    s.value(Source::Header, &"header.referer", SQLI).unwrap();
    assert_eq!(s.hits.len(), 1);
    assert!(!is_clean(Kind::Header, SQLI));
    let rule = s.hits[0].rule.to_owned();
    let disabled = [rule];
    let mut s = scan(&disabled, false);
    s.value(Source::Header, &"header.x-note", SQLI).unwrap();
    assert!(s.hits.is_empty());
    assert!(
        !is_clean(Kind::Header, SQLI),
        "a disabled rule's match stays unknown"
    );
    let mut s = scan(&[], false);
    s.value(Source::Header, &"header.x-note", SQLI).unwrap();
    assert_eq!(s.hits.len(), 1, "re-enabled, it is found again");

    // a value scanned after its request already matched a category is not known clean
    let mut s = scan(&[], false);
    s.value(Source::Header, &"header.referer", SQLI).unwrap();
    let benign = "shop.example/cart?step=2 and more";
    s.value(Source::Header, &"header.x-origin", benign).unwrap();
    assert!(!is_clean(Kind::Header, benign));

    // scanner user agents are not remembered
    let mut s = scan(&[], false);
    s.user_agent("sqlmap/1.7.2#stable (https://sqlmap.org)")
        .unwrap();
    assert_eq!(s.hits.len(), 1);
    assert!(!is_clean(
        Kind::UserAgent,
        "sqlmap/1.7.2#stable (https://sqlmap.org)"
    ));
}

#[test]
fn clean_paths_are_remembered_per_paranoia_level() {
    use memo::{is_clean, Kind};
    let path = "/api/v2/orders/4711/items";
    let mut s = scan(&[], false);
    s.value(Source::Path, &"path", path).unwrap();
    assert!(is_clean(Kind::Path, path));
    assert!(!is_clean(Kind::Header, path), "kinds are kept apart");
    assert!(
        !is_clean(Kind::PathStrict, path),
        "level 2 has rules of its own"
    );
    // a path a rule matches is not remembered, and is found every time
    for _ in 0..2 {
        let mut s = scan(&[], false);
        s.value(Source::Path, &"path", "/static/../../etc/passwd")
            .unwrap();
        assert_eq!(s.hits.len(), 1, "{:?}", s.hits);
        assert!(!is_clean(Kind::Path, "/static/../../etc/passwd"));
    }
    let mut s = scan(&[], false).with_paranoia(Paranoia::Level2);
    s.value(Source::Path, &"path", path).unwrap();
    assert!(is_clean(Kind::PathStrict, path));
}

#[test]
fn clean_parameter_names_are_remembered_and_not_their_values() {
    use memo::{is_clean, Kind};
    // a query, then a JSON body: names seen clean are remembered, values are not
    let mut s = scan(&[], false);
    inputs::scan_head(
        &mut s,
        &"/search?per_page=50&sort=created_at".parse().unwrap(),
        &http::HeaderMap::new(),
    )
    .unwrap();
    assert!(s.hits.is_empty(), "{:?}", s.hits);
    assert!(is_clean(Kind::Name, "per_page"));
    assert!(!is_clean(Kind::Name, "created_at"), "a value");
    json::scan_json(&mut s, br#"{"shipping_address": {"zip_code": "94103"}}"#).unwrap();
    assert!(is_clean(Kind::Name, "shipping_address") && is_clean(Kind::Name, "zip_code"));
    assert!(
        !is_clean(Kind::NameStrict, "per_page"),
        "level 2 has rules of its own"
    );

    // a name with `:`, `/` or `\` is not remembered: the off-site inclusion rules compare a
    // URL in it with the request's host
    let url = "http://shop.example/x";
    let mut s = scan(&[], false);
    s.param_name(Source::Query, &"query", url).unwrap();
    assert!(!is_clean(Kind::Name, url));

    // an attack in a name is found every time, and never remembered
    for _ in 0..2 {
        let mut s = scan(&[], false);
        s.param_name(Source::Query, &"query", SQLI).unwrap();
        assert_eq!(s.hits.len(), 1, "{:?}", s.hits);
        assert!(!is_clean(Kind::Name, SQLI));
    }
    // a remembered name is skipped: its detectors do not run again
    let mut s = scan(&[], false);
    s.param_name(Source::Body, &"body", "per_page").unwrap();
    assert_eq!(s.values_since_check, 0, "not scanned");
}

#[test]
fn the_memo_keeps_the_most_recent_values_only() {
    use memo::{is_clean, Kind};
    let values: Vec<String> = (0..20)
        .map(|i| format!("Agent/{i}.0 (clean; test)"))
        .collect();
    let mut s = scan(&[], false);
    for v in &values {
        s.value(Source::Header, &"header.user-agent", v).unwrap();
    }
    assert!(is_clean(Kind::Header, &values[19]));
    assert!(!is_clean(Kind::Header, &values[0]));
    let long = "a b ".repeat(200);
    s.value(Source::Header, &"header.x-long", &long).unwrap();
    assert!(!is_clean(Kind::Header, &long), "longer than the memo keeps");
}

/// Everyday values that look a little like attacks (the issue's `O'Brien`, `select a plan`,
/// `1 or 2 bedrooms`, `a<b && c>d`, and more): every detector's `benign` test passes them, then
/// its own near misses.
pub(super) const NEAR_MISSES: &[&str] = &[
    "O'Brien",
    "select a plan",
    "1 or 2 bedrooms",
    "a<b && c>d",
    "I'm 5'10\"",
    "rock & roll",
    "/home/user/docs",
    "https://example.com/a?b=c",
    "john.doe@example.com",
    "C:\\Program Files",
    "Mozilla/5.0",
];

#[path = "../../tests/support/corpus.rs"]
pub(super) mod corpus;

/// The corpus's strings: each record's `value`, `uri` and `body`, and with `headers` its header
/// values too; `None` (after a line saying so) when the corpus is not there.
pub(super) fn corpus_values(headers: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for file in ["values.jsonl", "crs-requests.jsonl"] {
        let text = corpus::read(file, "the WAF's unit tests on corpus strings")?;
        for line in text.lines() {
            let rec: serde_json::Value = serde_json::from_str(line).unwrap();
            for key in ["value", "uri", "body"] {
                if let Some(v) = rec[key].as_str() {
                    out.push(v.to_owned());
                }
            }
            if let Some(map) = rec["headers"].as_object().filter(|_| headers) {
                out.extend(map.values().filter_map(|v| v.as_str().map(str::to_owned)));
            }
        }
    }
    Some(out)
}

/// A long value is scanned in overlapping chunks: a chunk's first bytes are cut anywhere in
/// the value, and must not be read as a value's start; what lies past them, or straddles a
/// cut, is still found.
#[test]
fn a_long_values_chunks_are_not_read_as_value_starts() {
    // the one hit of a body value, its category and fragment
    let only_hit = |value: &str| {
        let mut s = scan(&[], false);
        s.value(Source::Body, &"body.q", value).unwrap();
        assert_eq!(s.hits.len(), 1, "{:?}", s.hits);
        (s.hits[0].category, s.hits[0].fragment.clone())
    };
    let second = CHUNK - OVERLAP;
    let unit = "' or <a on=../;|${ ";
    // the second chunk opens with a `../` (at 11 in the unit)
    let pad = (second - 11) % unit.len();
    let value = format!("{}{}", "x".repeat(pad), unit.repeat(300));
    assert_eq!(&value[second..second + 3], "../");
    // the chunk alone, read as a value, is a path traversal; so is none of the value
    assert!(detect(AttackCategory::Lfi, &value[second..second + CHUNK]).is_some());
    let mut s = scan(&[], false);
    s.value(Source::Body, &"body.q", &value).unwrap();
    assert!(s.hits.is_empty(), "{:?}", s.hits);
    // a cut-made finding does not hide one of the same kind further on in that chunk
    let mut hiding = value.clone();
    hiding.insert_str(CHUNK + 300, " ../../../../etc/passwd ");
    let (category, fragment) = only_hit(&hiding);
    assert_eq!(category, AttackCategory::Lfi);
    assert!(fragment.starts_with("../../"), "{fragment}");

    // an attack wholly inside the overlap is found by the first chunk, one straddling the
    // first chunk's end by the second, one past the overlap by the second
    let filler = "lorem ipsum dolor sit amet ".repeat(200);
    for at in [second + 20, CHUNK - 8, CHUNK + 40] {
        let mut v = filler.clone();
        v.insert_str(at, " 1' UNION SELECT password FROM users -- ");
        let (category, fragment) = only_hit(&v);
        assert_eq!(category, AttackCategory::Sqli, "at {at}");
        assert!(fragment.contains("UNION"), "at {at}: {fragment}");
    }
}

#[test]
fn categories_serialize_as_their_names() {
    for category in AttackCategory::ALL {
        assert_eq!(
            serde_json::to_value(category).unwrap(),
            serde_json::Value::String(category.as_str().to_owned()),
        );
    }
}

/// A seeded xorshift generator (Marsaglia's 13/7/17): the differential tests' random input,
/// the same on every run.
pub(super) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// `count` random sequences of `tokens` ([`xorshift`] from `seed`), each of fewer than
/// `max_len` tokens: the differential tests' near-attack values.
pub(super) fn token_sequences<'t>(
    seed: u64,
    tokens: &'t [&'t str],
    count: usize,
    max_len: u64,
) -> impl Iterator<Item = String> + 't {
    let mut next = xorshift(seed);
    (0..count).map(move |_| {
        let len = (next() % max_len) as usize;
        let mut v = String::new();
        for _ in 0..len {
            v.push_str(tokens[(next() % tokens.len() as u64) as usize]);
        }
        v
    })
}
