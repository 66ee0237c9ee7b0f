//! The in-app WAF's cost.
//!
//! - `waf/typical`: what the WAF adds to a typical request — 10 query parameters, a 2 KiB JSON
//!   body, the headers a browser sends (cookies included) — measured as the layer with the WAF
//!   in monitor mode minus the same layer with the WAF off, in alternating chunks in one run (the
//!   body is read by the layer in both, so only the inspection differs).
//! - `waf/body_64k`: the worst case the budget allows for: a 64 KiB JSON body of near-attacks
//!   for every detector, budget raised so the whole body is inspected.
//! - `waf/body_64k_spots`: the same with another padding, the near-attacks with a spot every
//!   259 bytes where a rule could fire in a tag (`> x onabc=1 `): where the cheap passes let
//!   the expensive part run most.
//! - `waf/body_64k_pad/<name>`: the same with each of the worst paddings found per detector
//!   (`typical::paddings`: a trigger word, a command, an escape, a non-ASCII letter, a call, dense
//!   handler-like names, dense tag names), none an attack.
//! - `waf/body_64k_many`: 64 KiB of JSON as an array of short distinct strings (`"a_0"`,
//!   `"a_1"`, ...): the body that costs the scan most outside the detectors (every string read,
//!   classed and handed to every detector).
//! - `exclusions/*`: the typical request (`POST /api/orders`) through three agents in monitor
//!   mode, in alternating chunks in one run, each row timing its own agent: `none` (no
//!   exclusions or routes), `other_routes` (100 exclusions and 10 routes, none naming
//!   `/api/...`: the cost must be nil) and `this_route` (the same plus one input-scoped exclusion
//!   for `/api/orders`, which applies). With `WAF_EXCLUSIONS_ONLY=i,n` the group instead sends
//!   `n` requests through the `i`th agent alone, for instruction counts under callgrind.
//! - `detector/<category>/<input>`: one detector on one decoded value (`scanner`: the
//!   user-agent list).
//! - `corpus/sqli_*`: the SQLi detector over libinjection's SQLi values and over the benign
//!   values (inputs per second, to set beside libinjection's published figures); read from the
//!   development corpus (`tests/support/corpus.rs`), skipped without it.
//!
//! Run: `cargo bench --bench waf`.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use http::{Request, Response};
use http_body_util::Full;
use sqreen::rules::WafMode;
use sqreen::waf::AttackCategory;
use sqreen::Agent;
use tower::Layer;

#[path = "support/mod.rs"]
mod support;
#[path = "support/typical.rs"]
mod typical;
use support::{added_time, Layered};
use typical::{
    json_body, many_strings_body, padded_body, paddings, spotted_body, spotted_unit, typical,
    worst_body, NEAR_ATTACKS,
};

async fn bare<B>(_req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

fn agent(mode: WafMode, budget: Duration) -> Agent {
    Agent::builder()
        .waf_mode(mode)
        .configure(|c| {
            c.waf_budget = budget;
            c.max_body_bytes = 1 << 20;
        })
        .build()
        .unwrap()
}

fn bench_waf(c: &mut Criterion) {
    let mut group = c.benchmark_group("waf");
    let body = Bytes::from(json_body());
    assert!((1900..=2048).contains(&body.len()), "{}", body.len());
    // An unoptimised build (`cargo test --all-targets` runs each bench once) is ~20x slower: give
    // it room.
    let budget = Duration::from_millis(if cfg!(debug_assertions) { 100 } else { 1 });
    let off = agent(WafMode::Off, budget);
    let on = agent(WafMode::Monitor, budget);
    let mut without = off.layer().layer(tower::service_fn(bare::<Layered>));
    let mut with = on.layer().layer(tower::service_fn(bare::<Layered>));
    group.bench_function("typical", |b| {
        b.iter_custom(|iters| added_time(iters, |_| typical(&body), &mut without, &mut with))
    });
    let stats = on.stats().waf;
    assert_eq!(
        (
            stats.sqli,
            stats.xss,
            stats.lfi,
            stats.rce,
            stats.ssrf,
            stats.scanner,
            stats.code_injection
        ),
        (0, 0, 0, 0, 0, 0, 0),
        "a typical request is benign"
    );
    // The first request builds the detectors' tables (regexes, automata), which takes more
    // than the 1 ms budget, and on a shared machine a request descheduled mid-scan overruns
    // it too: counted, not fatal (a few dozen in several hundred thousand requests).
    if stats.budget_overruns > 0 {
        eprintln!(
            "waf/typical: {} budget overruns (first request, preemption)",
            stats.budget_overruns
        );
    }

    let big = Bytes::from(worst_body());
    let worst = agent(WafMode::Monitor, Duration::from_secs(10));
    let mut with = worst.layer().layer(tower::service_fn(bare::<Layered>));
    group.sample_size(20);
    group.bench_function("body_64k", |b| {
        b.iter_custom(|iters| added_time(iters, |_| typical(&big), &mut without, &mut with))
    });
    let spots = Bytes::from(spotted_body());
    group.bench_function("body_64k_spots", |b| {
        b.iter_custom(|iters| added_time(iters, |_| typical(&spots), &mut without, &mut with))
    });
    for (name, unit) in paddings() {
        let padded = Bytes::from(padded_body(&unit));
        group.bench_function(format!("body_64k_pad/{name}"), |b| {
            b.iter_custom(|iters| added_time(iters, |_| typical(&padded), &mut without, &mut with))
        });
    }
    let many = Bytes::from(many_strings_body("a_"));
    group.bench_function("body_64k_many", |b| {
        b.iter_custom(|iters| added_time(iters, |_| typical(&many), &mut without, &mut with))
    });
    group.finish();
}

/// The free-text comment of [`json_body`]: 1.2 KB of prose.
fn prose() -> String {
    let body: serde_json::Value = serde_json::from_str(&json_body()).unwrap();
    body["comment"].as_str().unwrap().to_owned()
}

fn bench_detectors(c: &mut Criterion) {
    let prose = prose();
    // one 2 KiB chunk of `waf/body_64k`'s value: times 32, a detector's share of the worst case
    let near = NEAR_ATTACKS.repeat(2048 / NEAR_ATTACKS.len());
    // the same chunk with, every 256 bytes, a spot where an XSS rule could fire in a tag but
    // does not in text (`> x onabc=1 `): the worst case of a cheap pass that lets the
    // tokenizer read the whole value as soon as one spot may fire
    let spotted = spotted_unit().repeat(8);
    // the worst paddings found per detector (`typical::paddings`), 2 KiB each
    let pads: Vec<(String, String)> = paddings()
        .into_iter()
        .map(|(name, unit)| (format!("pad_{name}_2k"), unit.repeat(2048 / unit.len())))
        .collect();
    let inputs = [
        ("word", "headphones"),
        ("email", "jane.oconnor@example.com"),
        (
            "sentence",
            "Please leave the parcel at the front desk if nobody answers.",
        ),
        (
            "user_agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/131.0.0.0 Safari/537.36",
        ),
        ("sqli", "1' OR '1'='1' -- "),
        ("xss", "<img src=x onerror=alert(1)>"),
        ("prose_1k", &prose),
        ("near_attacks_2k", &near),
        ("near_spots_2k", &spotted),
    ]
    .into_iter()
    .chain(
        pads.iter()
            .map(|(name, chunk)| (name.as_str(), chunk.as_str())),
    )
    .collect::<Vec<_>>();
    let mut group = c.benchmark_group("detector");
    for category in [
        AttackCategory::Sqli,
        AttackCategory::Xss,
        AttackCategory::Rce,
        AttackCategory::Lfi,
        AttackCategory::Ssrf,
        AttackCategory::CodeInjection,
        AttackCategory::Scanner,
    ] {
        for &(name, input) in &inputs {
            group.bench_function(format!("{category}/{name}"), |b| {
                b.iter(|| sqreen::waf::detect(category, black_box(input)))
            });
        }
    }
    group.finish();
}

#[path = "../tests/support/corpus.rs"]
mod corpus;

/// The corpus values `pick` keeps (an empty set, after a line saying so, without the corpus).
fn values(pick: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let text = corpus::read("values.jsonl", "corpus/* benchmarks").unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| pick(v))
        .map(|v| v["value"].as_str().unwrap().to_owned())
        .collect()
}

fn bench_corpus(c: &mut Criterion) {
    let attacks = values(|v| v["source"] == "libinjection" && v["category"] == "sqli");
    if attacks.is_empty() {
        return;
    }
    let benign = values(|v| v["expect"] == "benign");
    let mut group = c.benchmark_group("corpus");
    group.sample_size(10);
    for (name, set) in [("sqli_attacks", &attacks), ("sqli_benign", &benign)] {
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                set.iter()
                    .filter(|v| sqreen::waf::detect(AttackCategory::Sqli, v).is_some())
                    .count()
            })
        });
    }
    group.finish();
}

/// 100 exclusions and 10 routes for routes other than `/api/...` (every scope kind), plus
/// `extra`.
fn other_routes(extra: &str) -> String {
    let mut exclusions: Vec<String> = (0..100)
        .map(|i| match i % 4 {
            0 => format!(r#"{{"path": "/forum{i}/*", "categories": ["xss"]}}"#),
            1 => format!(
                r#"{{"path": "/shop{i}/**", "method": "POST", "inputs": ["body.items[*].note"], "rules": ["sqli-*"]}}"#
            ),
            2 => format!(r#"{{"path": "/blog/{i}/*", "inputs": ["body.content"]}}"#),
            _ => format!(r#"{{"path": "/docs{i}/**/edit", "rules": ["xss-script-tag"]}}"#),
        })
        .collect();
    if !extra.is_empty() {
        exclusions.push(extra.to_owned());
    }
    let routes: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"path": "/admin{i}/**", "mode": "monitor"}}"#))
        .collect();
    format!(
        r#"{{"waf": {{"exclusions": [{}], "routes": [{}]}}}}"#,
        exclusions.join(","),
        routes.join(",")
    )
}

fn bench_exclusions(c: &mut Criterion) {
    let body = Bytes::from(json_body());
    let budget = Duration::from_millis(if cfg!(debug_assertions) { 100 } else { 1 });
    let with_rules = |rules: Option<String>| {
        let builder = Agent::builder().waf_mode(WafMode::Monitor).configure(|c| {
            c.waf_budget = budget;
            c.max_body_bytes = 1 << 20;
        });
        let builder = match rules {
            Some(rules) => builder.rules_json(&rules),
            None => builder,
        };
        builder.build().unwrap()
    };
    let agents = [
        with_rules(None),
        with_rules(Some(other_routes(""))),
        with_rules(Some(other_routes(
            r#"{"path": "/api/*", "method": "POST", "inputs": ["body.comment"], "categories": ["xss"]}"#,
        ))),
    ];
    let mut services = agents
        .each_ref()
        .map(|a| a.layer().layer(tower::service_fn(bare::<Layered>)));
    // `WAF_EXCLUSIONS_ONLY=i,n`: n requests through service i alone, then return (for
    // instruction counts under callgrind, which do not depend on the machine's load)
    if let Ok(only) = std::env::var("WAF_EXCLUSIONS_ONLY") {
        let (i, n) = only.split_once(',').expect("WAF_EXCLUSIONS_ONLY=i,n");
        let (i, n): (usize, u64) = (i.parse().unwrap(), n.parse().unwrap());
        for k in 0..n {
            support::call(&mut services[i], typical(&body));
            black_box(k);
        }
        return;
    }
    let mut group = c.benchmark_group("exclusions");
    group.measurement_time(Duration::from_secs(10));
    for (i, name) in ["none", "other_routes", "this_route"]
        .into_iter()
        .enumerate()
    {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                support::alternating_times(iters, |_| typical(&body), &mut services)[i]
            })
        });
    }
    group.finish();
    for agent in &agents {
        let waf = agent.stats().waf;
        assert_eq!(
            (waf.sqli, waf.xss, waf.lfi, waf.rce, waf.ssrf, waf.scanner),
            (0, 0, 0, 0, 0, 0),
            "a typical request is benign"
        );
    }
}

/// The SQL injection detector on 2 KiB chunks of `waf/body_64k`'s near-attack unit padded with
/// other words an attacker reading its cheap passes might choose (one chunk ×32 is the
/// detector's share of a 64 KiB body): a four-letter word no trigger opens with, one that opens
/// like a trigger (`selx`), long runs of letters and one 2 KiB word (a real trigger word is
/// `detector/sqli/pad_select_2k`).
fn bench_sqli_padding(c: &mut Criterion) {
    let unit = NEAR_ATTACKS;
    let chunks = [
        ("pad_abcd_2k", format!("{unit}abcd ").repeat(85)),
        ("pad_selx_2k", format!("{unit}selx ").repeat(85)),
        (
            "pad_letters_2k",
            format!("{unit}{} ", "abcdefghijklmnopqrstuvwxyz".repeat(2)).repeat(30),
        ),
        ("long_word_2k", "selselsel".repeat(230)),
    ];
    let mut group = c.benchmark_group("detector");
    for (name, input) in &chunks {
        group.bench_function(format!("sqli/{name}"), |b| {
            b.iter(|| sqreen::waf::detect(AttackCategory::Sqli, black_box(input)))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_waf,
    bench_exclusions,
    bench_detectors,
    bench_sqli_padding,
    bench_corpus
);
criterion_main!(benches);
